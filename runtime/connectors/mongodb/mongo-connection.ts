/** A MongoDB database reached through the official driver: count, find and aggregate, with a time limit. */
import { MongoClient, type Document } from 'mongodb';
import type { MongoQuery } from '../../tool/mongo-query.js';

export interface MongoConnectionOptions {
  url: string;
  /** Database name; default: the one in the URL. */
  database?: string;
  /** How long to look for a reachable server before a run fails as "database unavailable". Default 3000 ms. */
  serverSelectionTimeoutMs?: number;
}

export class MongoConnection {
  private readonly client: MongoClient;
  private readonly databaseName: string | undefined;

  constructor(options: MongoConnectionOptions) {
    const timeout = options.serverSelectionTimeoutMs ?? 3_000;
    this.client = new MongoClient(options.url, { serverSelectionTimeoutMS: timeout, connectTimeoutMS: timeout, appName: 'toolshed' });
    this.databaseName = options.database;
  }

  /** Runs a query whose placeholders are already bound; returns plain rows. */
  async run(query: MongoQuery, maxTimeMs: number, limit: number): Promise<Record<string, unknown>[]> {
    const collection = this.client.db(this.databaseName).collection(query.collection);
    if (query.operation === 'count') {
      const count = await collection.countDocuments((query.body ?? {}) as Document, { maxTimeMS: maxTimeMs });
      return [{ count }];
    }
    if (query.operation === 'find') {
      const find = (query.body ?? {}) as { filter?: Document; projection?: Document; sort?: Document };
      const documents = await collection
        .find(find.filter ?? {}, { projection: find.projection, sort: find.sort as Record<string, 1 | -1> | undefined, limit, maxTimeMS: maxTimeMs })
        .toArray();
      return documents.map(plainDocument);
    }
    const pipeline = [...(query.body as Document[]), { $limit: limit }];
    const documents = await collection.aggregate(pipeline, { maxTimeMS: maxTimeMs }).toArray();
    return documents.map(plainDocument);
  }

  async ping(): Promise<void> {
    await this.client.db(this.databaseName).command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Converts BSON values that do not serialise to JSON well (ObjectId, Long, Decimal128) to strings or numbers. */
function plainDocument(document: Document): Record<string, unknown> {
  return plainValue(document) as Record<string, unknown>;
}

function plainValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainValue);
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  const bsonType = (value as { _bsontype?: string })._bsontype;
  if (bsonType === 'ObjectId' || bsonType === 'Decimal128' || bsonType === 'UUID') return String(value);
  if (bsonType === 'Long' || bsonType === 'Int32' || bsonType === 'Double') return Number(value);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plainValue(item)]));
}

/** In-memory databases and collections behind the wire server, with a unique `_id` per collection. */

import { deserialize, EJSON, ObjectId, serialize, type Document } from 'bson';
import { ERROR_CODES } from './errors.js';

/** One document that could not be inserted, in the shape of a `writeErrors` entry. */
export interface InsertWriteError {
  index: number;
  code: number;
  errmsg: string;
}

export interface InsertResult {
  insertedCount: number;
  writeErrors: InsertWriteError[];
}

/** A collection's documents in insertion order, which is the order a find without sort returns. */
export class Collection {
  readonly database: string;
  readonly name: string;
  #documents: Document[] = [];
  #idKeys = new Set<string>();

  constructor(database: string, name: string) {
    this.database = database;
    this.name = name;
  }

  get namespace(): string {
    return `${this.database}.${this.name}`;
  }

  /** The stored documents. Callers must not modify them: every insert stores a private copy. */
  get documents(): readonly Document[] {
    return this.#documents;
  }

  count(): number {
    return this.#documents.length;
  }

  /**
   * Inserts copies of `documents`, adding an ObjectId `_id` where it is missing.
   * When `ordered` is true the first failure stops the batch, as in MongoDB.
   */
  insert(documents: readonly Document[], ordered: boolean): InsertResult {
    const writeErrors: InsertWriteError[] = [];
    let insertedCount = 0;

    for (const [index, input] of documents.entries()) {
      const document = copyWithId(input);
      const id: unknown = document['_id'];
      const failure = Array.isArray(id)
        ? { code: ERROR_CODES.BadValue, errmsg: "can't use an array for _id" }
        : this.#idKeys.has(idKey(id))
          ? { code: ERROR_CODES.DuplicateKey, errmsg: `E11000 duplicate key error collection: ${this.namespace} index: _id_ dup key: { _id: ${EJSON.stringify(id)} }` }
          : undefined;

      if (failure) {
        writeErrors.push({ index, ...failure });
        if (ordered) break;
        continue;
      }

      this.#idKeys.add(idKey(id));
      this.#documents.push(document);
      insertedCount += 1;
    }

    return { insertedCount, writeErrors };
  }

  /** Deletes the documents that match, at most one when `limit` is 1 and all when it is 0. Returns how many were deleted. */
  deleteMatching(matches: (document: Document) => boolean, limit: 0 | 1): number {
    const kept: Document[] = [];
    let deleted = 0;
    for (const document of this.#documents) {
      if ((limit === 0 || deleted < limit) && matches(document)) {
        this.#idKeys.delete(idKey(document['_id']));
        deleted += 1;
      } else {
        kept.push(document);
      }
    }
    this.#documents = kept;
    return deleted;
  }

  deleteAll(): void {
    this.#documents = [];
    this.#idKeys.clear();
  }
}

/** All databases of one server. A database exists while it has at least one collection. */
export class Store {
  #databases = new Map<string, Map<string, Collection>>();

  getCollection(database: string, name: string): Collection | undefined {
    return this.#databases.get(database)?.get(name);
  }

  /** Returns the collection, creating it (and its database) on first use, as an insert does in MongoDB. */
  ensureCollection(database: string, name: string): Collection {
    let collections = this.#databases.get(database);
    if (!collections) {
      collections = new Map();
      this.#databases.set(database, collections);
    }
    let collection = collections.get(name);
    if (!collection) {
      collection = new Collection(database, name);
      collections.set(name, collection);
    }
    return collection;
  }

  /** Removes a collection. Returns false when it did not exist. */
  dropCollection(database: string, name: string): boolean {
    const collections = this.#databases.get(database);
    if (!collections?.delete(name)) return false;
    if (collections.size === 0) this.#databases.delete(database);
    return true;
  }

  dropDatabase(database: string): void {
    this.#databases.delete(database);
  }

  listCollections(database: string): Collection[] {
    return [...(this.#databases.get(database)?.values() ?? [])];
  }

  listDatabases(): string[] {
    return [...this.#databases.keys()];
  }
}

/**
 * Copies a document through BSON, so the stored copy shares nothing with the caller and holds
 * only BSON types. A generated `_id` goes first, where mongod puts it.
 */
function copyWithId(input: Document): Document {
  const copy = deserialize(serialize(input));
  if ('_id' in copy) return copy;
  return { _id: new ObjectId(), ...copy };
}

/**
 * Returns a string that is equal for two `_id` values that MongoDB's unique `_id` index treats as equal.
 * Numbers compare by value because deserialization turns int32, int64 and double into JS numbers.
 * NOTE: a Decimal128 and a number of the same value get different keys, unlike in mongod.
 */
function idKey(id: unknown): string {
  return EJSON.stringify({ id }, { relaxed: false });
}

/** Write commands: insert, delete, create, drop and dropDatabase. Every write is acknowledged at once. */

import type { Document } from 'bson';
import { optionalBoolean, rejectScriptOperators, requireArrayOfDocuments, requireCollectionName } from './arguments.js';
import type { CommandHandler } from './context.js';
import { CommandError } from './errors.js';
import { createMatcher } from './query.js';

/** Maximum statements in one insert or delete command, reported to the driver as `maxWriteBatchSize`. */
export const MAX_WRITE_BATCH_SIZE = 100_000;

const insert: CommandHandler = (body, context) => {
  const collectionName = requireCollectionName(body, 'insert');
  const documents = requireArrayOfDocuments(body, 'documents');
  const ordered = optionalBoolean(body, 'ordered') ?? true;
  requireBatchSize(documents.length);

  const collection = context.store.ensureCollection(context.database, collectionName);
  const result = collection.insert(documents, ordered);
  const reply: Document = { n: result.insertedCount };
  if (result.writeErrors.length > 0) reply['writeErrors'] = result.writeErrors;
  return reply;
};

const deleteCommand: CommandHandler = (body, context) => {
  const collectionName = requireCollectionName(body, 'delete');
  const statements = requireArrayOfDocuments(body, 'deletes');
  const ordered = optionalBoolean(body, 'ordered') ?? true;
  requireBatchSize(statements.length);

  const collection = context.store.getCollection(context.database, collectionName);
  const writeErrors: Document[] = [];
  let n = 0;

  for (const [index, statement] of statements.entries()) {
    try {
      const filter: unknown = statement['q'];
      const limit: unknown = statement['limit'];
      if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
        throw new CommandError('TypeMismatch', `BSON field 'deletes.${index}.q' must be an object`);
      }
      if (limit !== 0 && limit !== 1) {
        throw new CommandError('BadValue', `BSON field 'deletes.${index}.limit' must be 0 (delete all matches) or 1 (delete one), got ${String(limit)}`);
      }
      rejectScriptOperators(filter, `deletes.${index}.q`);
      const matches = createMatcher(filter as Document);
      n += collection?.deleteMatching(matches, limit) ?? 0;
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      writeErrors.push({ index, code: error.code, codeName: error.codeName, errmsg: error.message });
      if (ordered) break;
    }
  }

  const reply: Document = { n };
  if (writeErrors.length > 0) reply['writeErrors'] = writeErrors;
  return reply;
};

/** Creates an empty collection. Like mongod 7.0, creating one that already exists succeeds. Options are ignored. */
const create: CommandHandler = (body, context) => {
  const collectionName = requireCollectionName(body, 'create');
  context.store.ensureCollection(context.database, collectionName);
  return {};
};

const drop: CommandHandler = (body, context) => {
  const collectionName = requireCollectionName(body, 'drop');
  if (!context.store.dropCollection(context.database, collectionName)) {
    throw new CommandError('NamespaceNotFound', 'ns not found');
  }
  return { ns: `${context.database}.${collectionName}`, nIndexesWas: 1 };
};

const dropDatabase: CommandHandler = (_body, context) => {
  context.store.dropDatabase(context.database);
  return { dropped: context.database };
};

export const WRITE_COMMANDS: Record<string, CommandHandler> = {
  insert,
  delete: deleteCommand,
  create,
  drop,
  dropDatabase,
};

function requireBatchSize(size: number): void {
  if (size < 1 || size > MAX_WRITE_BATCH_SIZE) {
    throw new CommandError('InvalidLength', `Write batch sizes must be between 1 and ${MAX_WRITE_BATCH_SIZE}. Got ${size} operations.`);
  }
}

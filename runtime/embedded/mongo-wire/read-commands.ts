/** Read commands: find, getMore, killCursors, aggregate, count and listCollections. */

import type { Document } from 'bson';
import {
  optionalBoolean,
  optionalDocument,
  optionalNonNegativeInteger,
  rejectScriptOperators,
  requireArrayOfDocuments,
  requireCollectionName,
  requireCursorCollectionName,
  requireCursorId,
} from './arguments.js';
import { runWithTimeLimit, type CommandContext, type CommandHandler } from './context.js';
import { CommandError } from './errors.js';
import { aggregateDocuments, createMatcher, findDocuments, type CollectionResolver } from './query.js';

/** Stages that write to a collection, which this server does not support in aggregate. */
const WRITING_STAGES = new Set(['$out', '$merge']);

const find: CommandHandler = async (body, context) => {
  const collectionName = requireCollectionName(body, 'find');
  const filter = optionalDocument(body, 'filter') ?? {};
  const projection = optionalDocument(body, 'projection');
  const sort = optionalDocument(body, 'sort');
  const skip = optionalNonNegativeInteger(body, 'skip') ?? 0;
  const { limit, singleBatch } = readFindLimit(body);
  const batchSize = optionalNonNegativeInteger(body, 'batchSize');
  const maxTimeMS = optionalNonNegativeInteger(body, 'maxTimeMS');
  rejectScriptOperators(filter, 'filter');
  rejectScriptOperators(projection, 'projection');

  const documents = await runWithTimeLimit(context, maxTimeMS, () =>
    findDocuments(storedDocuments(context, collectionName), { filter, projection, sort, skip, limit }, resolverFor(context)),
  );
  const namespace = `${context.database}.${collectionName}`;
  return { cursor: context.cursors.open(namespace, documents, batchSize, singleBatch) };
};

const getMore: CommandHandler = (body, context) => {
  const id = requireCursorId(body['getMore'], 'getMore');
  const collectionName = requireCursorCollectionName(body, 'collection');
  const batchSize = optionalNonNegativeInteger(body, 'batchSize');
  return { cursor: context.cursors.getMore(id, `${context.database}.${collectionName}`, batchSize) };
};

const killCursors: CommandHandler = (body, context) => {
  requireCursorCollectionName(body, 'killCursors');
  const ids: unknown = body['cursors'];
  if (!Array.isArray(ids)) throw new CommandError('TypeMismatch', "BSON field 'cursors' must be an array of cursor ids");
  const result = context.cursors.kill(ids.map((id: unknown) => requireCursorId(id, 'cursors')));
  return { ...result, cursorsAlive: [], cursorsUnknown: [] };
};

const aggregate: CommandHandler = async (body, context) => {
  // `aggregate: 1` runs a pipeline that starts without a collection, such as one opening with $documents.
  const collectionName = body['aggregate'] === 1 ? undefined : requireCollectionName(body, 'aggregate');
  const pipeline = requireArrayOfDocuments(body, 'pipeline');
  const cursorOptions = optionalDocument(body, 'cursor');
  if (cursorOptions === undefined) {
    throw new CommandError('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  const batchSize = optionalNonNegativeInteger(cursorOptions, 'batchSize');
  const maxTimeMS = optionalNonNegativeInteger(body, 'maxTimeMS');
  if (body['explain'] !== undefined) throw new CommandError('CommandNotSupported', 'explain is not supported by this server');
  rejectScriptOperators(pipeline, 'pipeline');
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0] ?? '';
    if (WRITING_STAGES.has(name)) throw new CommandError('CommandNotSupported', `${name} is not supported by this server`);
  }

  const source = collectionName === undefined ? [] : storedDocuments(context, collectionName);
  const documents = await runWithTimeLimit(context, maxTimeMS, () => aggregateDocuments(source, pipeline, resolverFor(context)));
  const namespace = `${context.database}.${collectionName ?? '$cmd.aggregate'}`;
  return { cursor: context.cursors.open(namespace, documents, batchSize, false) };
};

const count: CommandHandler = async (body, context) => {
  const collectionName = requireCollectionName(body, 'count');
  const filter = optionalDocument(body, 'query') ?? {};
  const skip = optionalNonNegativeInteger(body, 'skip') ?? 0;
  const limit = Math.abs(readNumber(body, 'limit') ?? 0);
  const maxTimeMS = optionalNonNegativeInteger(body, 'maxTimeMS');
  rejectScriptOperators(filter, 'query');

  const n = await runWithTimeLimit(context, maxTimeMS, () => {
    const matches = createMatcher(filter);
    const matched = storedDocuments(context, collectionName).filter((document) => matches(document)).length;
    const afterSkip = Math.max(0, matched - skip);
    return limit > 0 ? Math.min(afterSkip, limit) : afterSkip;
  });
  return { n };
};

const listCollections: CommandHandler = (body, context) => {
  const filter = optionalDocument(body, 'filter') ?? {};
  const nameOnly = optionalBoolean(body, 'nameOnly') ?? false;
  const batchSize = optionalNonNegativeInteger(optionalDocument(body, 'cursor') ?? {}, 'batchSize');
  rejectScriptOperators(filter, 'filter');

  const descriptions = context.store.listCollections(context.database).map((collection) => ({
    name: collection.name,
    type: 'collection',
    options: {},
    info: { readOnly: false },
    idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
  }));
  const matches = createMatcher(filter);
  const listed = descriptions
    .filter((description) => matches(description))
    .map((description): Document => (nameOnly ? { name: description.name, type: description.type } : description));

  const namespace = `${context.database}.$cmd.listCollections`;
  return { cursor: context.cursors.open(namespace, listed, batchSize, false) };
};

export const READ_COMMANDS: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  aggregate,
  count,
  listCollections,
};

/**
 * Reads `limit` and `singleBatch` from a find command. A negative limit is the legacy form of
 * "at most this many, in one batch", so it becomes its absolute value with `singleBatch`.
 */
function readFindLimit(body: Document): { limit: number; singleBatch: boolean } {
  const limit = readNumber(body, 'limit') ?? 0;
  if (!Number.isInteger(limit)) throw new CommandError('BadValue', `BSON field 'limit' value must be an integer, got ${limit}`);
  const singleBatch = optionalBoolean(body, 'singleBatch') ?? false;
  return { limit: Math.abs(limit), singleBatch: singleBatch || limit < 0 };
}

function readNumber(body: Document, field: string): number | undefined {
  const value: unknown = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw new CommandError('TypeMismatch', `BSON field '${field}' must be a number`);
  return value;
}

function storedDocuments(context: CommandContext, collectionName: string): readonly Document[] {
  return context.store.getCollection(context.database, collectionName)?.documents ?? [];
}

function resolverFor(context: CommandContext): CollectionResolver {
  return (name) => storedDocuments(context, name);
}

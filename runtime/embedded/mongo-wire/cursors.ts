/** Server-side cursors: splits a result into batches for find, aggregate, listCollections and getMore. */

import { calculateObjectSize, Long, type Document } from 'bson';
import { CommandError } from './errors.js';
import { MAX_BSON_OBJECT_SIZE } from './protocol.js';

/** Documents in a first batch when the command sets no batchSize, as in mongod. */
export const DEFAULT_FIRST_BATCH_SIZE = 101;

/** Idle time after which a cursor closes: mongod's default `cursorTimeoutMillis` of 10 minutes. */
const CURSOR_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

interface OpenCursor {
  namespace: string;
  documents: Document[];
  position: number;
  lastUsed: number;
}

export interface KillCursorsResult {
  cursorsKilled: Long[];
  cursorsNotFound: Long[];
}

export class CursorRegistry {
  #cursors = new Map<bigint, OpenCursor>();
  #nextId = 1n;

  /**
   * Returns the `cursor` field of a find or aggregate reply. The documents that do not fit the
   * first batch stay on the server under a new cursor id, unless `singleBatch` is set.
   * Without `batchSize` the first batch has up to 101 documents, and with 0 it is empty.
   */
  open(namespace: string, documents: Document[], batchSize: number | undefined, singleBatch: boolean): Document {
    this.#closeIdleCursors();
    const firstBatch = takeBatch(documents, 0, batchSize ?? DEFAULT_FIRST_BATCH_SIZE);

    let id = 0n;
    if (!singleBatch && firstBatch.length < documents.length) {
      id = this.#nextId;
      this.#nextId += 1n;
      this.#cursors.set(id, { namespace, documents, position: firstBatch.length, lastUsed: Date.now() });
    }

    return { firstBatch, id: Long.fromBigInt(id), ns: namespace };
  }

  /**
   * Returns the `cursor` field of a getMore reply. With no batchSize (or 0) the batch contains every
   * remaining document that fits in 16 MiB. The cursor is closed once it is exhausted.
   */
  getMore(id: bigint, namespace: string, batchSize: number | undefined): Document {
    const cursor = this.#cursors.get(id);
    if (!cursor) throw new CommandError('CursorNotFound', `cursor id ${id} not found`);
    if (cursor.namespace !== namespace) {
      throw new CommandError('Unauthorized', `cursor id ${id} belongs to namespace ${cursor.namespace}, not ${namespace}`);
    }

    const limit = batchSize === undefined || batchSize === 0 ? Number.POSITIVE_INFINITY : batchSize;
    const nextBatch = takeBatch(cursor.documents, cursor.position, limit);
    cursor.position += nextBatch.length;
    cursor.lastUsed = Date.now();

    let replyId = id;
    if (cursor.position >= cursor.documents.length) {
      this.#cursors.delete(id);
      replyId = 0n;
    }
    return { nextBatch, id: Long.fromBigInt(replyId), ns: namespace };
  }

  kill(ids: readonly bigint[]): KillCursorsResult {
    const result: KillCursorsResult = { cursorsKilled: [], cursorsNotFound: [] };
    for (const id of ids) {
      const list = this.#cursors.delete(id) ? result.cursorsKilled : result.cursorsNotFound;
      list.push(Long.fromBigInt(id));
    }
    return result;
  }

  clear(): void {
    this.#cursors.clear();
  }

  #closeIdleCursors(): void {
    const cutoff = Date.now() - CURSOR_IDLE_TIMEOUT_MS;
    for (const [id, cursor] of this.#cursors) {
      if (cursor.lastUsed < cutoff) this.#cursors.delete(id);
    }
  }
}

/**
 * Takes up to `count` documents from `start`, stopping early when the batch would pass 16 MiB.
 * A batch always contains at least one document when any remain and `count` is positive.
 */
function takeBatch(documents: readonly Document[], start: number, count: number): Document[] {
  const batch: Document[] = [];
  let bytes = 0;
  for (let index = start; index < documents.length && batch.length < count; index++) {
    const document = documents[index] as Document;
    const size = calculateObjectSize(document);
    if (batch.length > 0 && bytes + size > MAX_BSON_OBJECT_SIZE) break;
    batch.push(document);
    bytes += size;
  }
  return batch;
}

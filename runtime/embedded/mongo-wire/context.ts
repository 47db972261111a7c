/** Command context (store, cursors, database, delay) and the delay and maxTimeMS rules for reads. */

import type { Document } from 'bson';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CursorRegistry } from './cursors.js';
import { CommandError } from './errors.js';
import type { Store } from './store.js';

export interface CommandContext {
  store: Store;
  cursors: CursorRegistry;
  /** The database named by `$db` (or by the OP_QUERY namespace). */
  database: string;
  /** Server-wide connection number, reported as `connectionId` by hello. */
  connectionId: number;
  /** Milliseconds to wait before replying to find, aggregate and count, so tests can trigger timeouts. */
  commandDelayMs: number;
  /** Aborted when the server stops, so a delayed command stops waiting. */
  signal: AbortSignal;
}

export type CommandHandler = (body: Document, context: CommandContext) => Document | Promise<Document>;

/**
 * Waits for the configured delay, then runs `compute`. With a positive `maxTimeMS`, fails with
 * MaxTimeMSExpired once that much time has passed, as mongod does: a delay of at least
 * `maxTimeMS` fails after `maxTimeMS` without running `compute`.
 */
export async function runWithTimeLimit<T>(context: CommandContext, maxTimeMS: number | undefined, compute: () => T): Promise<T> {
  const started = performance.now();
  const limit = maxTimeMS !== undefined && maxTimeMS > 0 ? maxTimeMS : undefined;
  const delay = context.commandDelayMs;

  if (delay > 0) {
    if (limit !== undefined && delay >= limit) {
      await sleep(limit, undefined, { signal: context.signal });
      throw timeLimitExceeded();
    }
    await sleep(delay, undefined, { signal: context.signal });
  }

  const result = compute();
  if (limit !== undefined && performance.now() - started > limit) throw timeLimitExceeded();
  return result;
}

function timeLimitExceeded(): CommandError {
  return new CommandError('MaxTimeMSExpired', 'operation exceeded time limit');
}

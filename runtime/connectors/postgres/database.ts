/** A PostgreSQL database as the engine sees it: transactions with a mode and a statement timeout. */
import type { Queryable } from './queryable.js';

export interface TransactionOptions {
  /** Runs the transaction as READ ONLY, so PostgreSQL rejects any write. */
  readOnly: boolean;
  /** statement_timeout for every statement in the transaction, in milliseconds. */
  timeoutMs: number;
  /** Rolls back even when the work succeeds (dry runs and previews). */
  rollback?: boolean;
}

export interface Database {
  /** `server` for a PostgreSQL server over the network, `embedded` for PGlite in this process. */
  readonly kind: 'server' | 'embedded';
  transaction<T>(options: TransactionOptions, work: (client: Queryable) => Promise<T>): Promise<T>;
  /** Runs `select 1`; rejects when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Converts a result value PostgreSQL sent as text for types where JavaScript's defaults mislead. */
export const valueParsers = {
  /** A `date` has no time zone, so it stays the string PostgreSQL sent (2026-10-02). */
  date: (text: string): string => text,
  /** `bigint` and `numeric` become numbers when that loses nothing, and stay strings otherwise. */
  exactNumber: (text: string): number | string => {
    const value = Number(text);
    return Number.isSafeInteger(value) || (Number.isFinite(value) && String(value) === text) ? value : text;
  },
};

export const TYPE_OIDS = { INT8: 20, NUMERIC: 1700, DATE: 1082 } as const;

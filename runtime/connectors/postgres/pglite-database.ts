/**
 * PGlite, PostgreSQL compiled to WebAssembly and run in this process: the embedded database of
 * the demo. It has one session, so transactions run one at a time, and it does not enforce
 * statement_timeout.
 */
import { PGlite, types } from '@electric-sql/pglite';
import type { Database, TransactionOptions } from './database.js';
import { valueParsers } from './database.js';
import type { Queryable, ScriptRunner } from './queryable.js';

export class PgliteDatabase implements Database {
  readonly kind = 'embedded' as const;

  private constructor(readonly db: PGlite) {}

  /** Opens an in-memory database, or one stored in `dataDir`. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    const parsers = { [types.DATE]: valueParsers.date, [types.INT8]: valueParsers.exactNumber, [types.NUMERIC]: valueParsers.exactNumber };
    const db = await PGlite.create({ dataDir, parsers });
    return new PgliteDatabase(db);
  }

  /** The same database as a script runner, for loading the demo schema and data. */
  get scripts(): ScriptRunner {
    return {
      query: async (text, params) => {
        const result = await this.db.query<Record<string, unknown>>(text, params as unknown[] | undefined);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      },
      exec: async (script) => {
        await this.db.exec(script);
      },
    };
  }

  async transaction<T>(options: TransactionOptions, work: (client: Queryable) => Promise<T>): Promise<T> {
    let result: T | undefined;
    await this.db.transaction(async (tx) => {
      if (options.readOnly) await tx.query('set transaction read only');
      // Accepted but not enforced by PGlite; set anyway so the SQL is the same as on a server.
      await tx.query("select set_config('statement_timeout', $1, true)", [String(options.timeoutMs)]);
      result = await work({
        query: async (text, params) => {
          const queryResult = await tx.query<Record<string, unknown>>(text, params as unknown[] | undefined);
          const changed = queryResult.affectedRows ?? 0;
          return { rows: queryResult.rows, rowCount: changed > 0 ? changed : queryResult.rows.length };
        },
      });
      if (options.rollback === true) await tx.rollback();
    });
    return result as T;
  }

  async ping(): Promise<void> {
    await this.db.query('select 1');
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** A PostgreSQL server reached through a `pg` connection pool. */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Database, TransactionOptions } from './database.js';
import { TYPE_OIDS, valueParsers } from './database.js';
import type { Queryable } from './queryable.js';

export interface PgDatabaseOptions {
  url: string;
  /** Most connections the pool opens. Default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before the run fails as "database unavailable". Default 3000 ms. */
  connectTimeoutMs?: number;
  /** Schemas searched for unqualified table names, such as the demo's toolshed_demo. */
  searchPath?: string[];
}

/** Type parsers for this pool only, so toolshed does not change `pg`'s global defaults. */
const typeOverrides: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === TYPE_OIDS.DATE) return valueParsers.date;
    if (oid === TYPE_OIDS.INT8 || oid === TYPE_OIDS.NUMERIC) return valueParsers.exactNumber;
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** A prepared statement name derived from the SQL text, so the same text reuses one statement. */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `toolshed_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (statementNames.size < MAX_STATEMENT_NAMES) statementNames.set(text, name);
  }
  return name;
}

/** Distinct statements whose names are remembered; tools have a few each. */
const MAX_STATEMENT_NAMES = 10_000;

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Extra time the client waits beyond statement_timeout before it gives up on a silent server. */
const CLIENT_TIMEOUT_MARGIN_MS = 2_000;

export class PgDatabase implements Database {
  readonly kind = 'server' as const;
  private readonly pool: pg.Pool;
  private readonly maxConnections: number;

  constructor(options: PgDatabaseOptions) {
    this.maxConnections = options.maxConnections ?? 10;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: this.maxConnections,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
      idleTimeoutMillis: 30_000,
      types: typeOverrides,
      application_name: 'toolshed',
      ...(options.searchPath === undefined ? {} : { options: `-c search_path=${options.searchPath.map(quoteIdentifier).join(',')}` }),
    });
    // An idle client that loses its connection emits here; without a listener the process exits.
    this.pool.on('error', () => undefined);
  }

  async transaction<T>(options: TransactionOptions, work: (client: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      // pg reports a full pool and an unreachable server with the same timeout; tell them apart.
      if (this.pool.totalCount >= this.maxConnections && this.pool.idleCount === 0) {
        throw Object.assign(new Error(`all ${this.maxConnections} database connections are busy`), { code: 'POOL_EXHAUSTED', cause: error });
      }
      throw error;
    }
    let broken = false;
    // A checked-out client that loses its connection emits 'error'; unheard, it would crash the process.
    const onLostConnection = (): void => {
      broken = true;
    };
    client.on('error', onLostConnection);
    const queryable: Queryable = {
      query: async (text, params) => {
        // A named statement is parsed and planned once per connection, then reused.
        const result = await client.query({ name: statementName(text), text, values: params as unknown[] | undefined, query_timeout: options.timeoutMs + CLIENT_TIMEOUT_MARGIN_MS } as pg.QueryConfig);
        return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? result.rows.length };
      },
    };
    try {
      // One round trip: the simple protocol takes several statements. The timeout is an integer
      // toolshed computed from the tool file, never a runner's value.
      const timeout = Math.max(1, Math.floor(options.timeoutMs));
      await client.query(`${options.readOnly ? 'begin transaction read only' : 'begin'}; set local statement_timeout = ${timeout}`);
      const result = await work(queryable);
      await client.query(options.rollback === true ? 'rollback' : 'commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.removeListener('error', onLostConnection);
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

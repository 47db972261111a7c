/**
 * The demo database: PGlite in this process, or a schema named toolshed_demo on a PostgreSQL
 * server, loaded with the demo schema and deterministic data.
 */
import pg from 'pg';
import { loadDemoSchema, seedDemo, type DemoSummary } from '../../examples/demo/generate.js';
import { PgDatabase } from '../connectors/postgres/pg-database.js';
import { PgliteDatabase } from '../connectors/postgres/pglite-database.js';
import type { Database } from '../connectors/postgres/database.js';
import type { ScriptRunner } from '../connectors/postgres/queryable.js';

/** Schema the demo creates on a PostgreSQL server, so it never touches the user's own tables. */
export const DEMO_SCHEMA = 'toolshed_demo';

export interface DemoDatabase {
  database: Database;
  summary: DemoSummary;
}

export async function openDemoDatabase(options: { workers: number; databaseUrl?: string }): Promise<DemoDatabase> {
  if (options.databaseUrl === undefined) {
    const database = await PgliteDatabase.open();
    const summary = await seed(database.scripts, options.workers);
    return { database, summary };
  }

  const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${DEMO_SCHEMA} cascade`);
    await client.query(`create schema ${DEMO_SCHEMA}`);
    await client.query(`set search_path = ${DEMO_SCHEMA}`);
    const runner: ScriptRunner = {
      query: async (text, params) => {
        const result = await client.query(text, params as unknown[] | undefined);
        return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
      },
      exec: async (script) => {
        await client.query(script);
      },
    };
    const summary = await seed(runner, options.workers);
    return { database: new PgDatabase({ url: options.databaseUrl, searchPath: [DEMO_SCHEMA] }), summary };
  } finally {
    await client.end();
  }
}

async function seed(runner: ScriptRunner, workers: number): Promise<DemoSummary> {
  await loadDemoSchema(runner);
  return seedDemo(runner, { workers });
}

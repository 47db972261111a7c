/** A private schema on the PostgreSQL server for one test file, loaded with demo data. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadDemoSchema, seedDemo, type DemoSummary } from '../../examples/demo/generate.js';
import { PgDatabase } from '../../runtime/connectors/postgres/pg-database.js';
import type { ScriptRunner } from '../../runtime/connectors/postgres/queryable.js';

export const SERVER_URL = process.env.TOOLSHED_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  schema: string;
  summary: DemoSummary;
  /** A pool whose search_path is the test schema. */
  database: PgDatabase;
  /** A client on the same schema for assertions and setup. */
  admin: pg.Client;
  drop(): Promise<void>;
}

export async function createTestSchema(workers = 300, url = SERVER_URL): Promise<TestSchema> {
  const schema = `toolshed_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.query(`set search_path = ${schema}`);
  const runner: ScriptRunner = {
    query: async (text, params) => {
      const result = await admin.query(text, params as unknown[] | undefined);
      return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
    },
    exec: async (script) => {
      await admin.query(script);
    },
  };
  await loadDemoSchema(runner);
  const summary = await seedDemo(runner, { workers });
  const database = new PgDatabase({ url, searchPath: [schema] });
  return {
    schema,
    summary,
    database,
    admin,
    drop: async () => {
      await database.close().catch(() => undefined);
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

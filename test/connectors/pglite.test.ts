import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDatabase } from '../../runtime/connectors/postgres/pglite-database.js';
import { loadDemoSchema, seedDemo, type DemoSummary } from '../../examples/demo/generate.js';
import { Engine } from '../../runtime/engine/engine.js';
import { memoryLogger, shippedTool, SUPPORT } from '../helpers/tools.js';

describe('embedded PGlite database', () => {
  let database: PgliteDatabase;
  let summary: DemoSummary;
  let engine: Engine;

  beforeAll(async () => {
    database = await PgliteDatabase.open();
    await loadDemoSchema(database.scripts);
    summary = await seedDemo(database.scripts, { workers: 200 });
    engine = new Engine({ tools: [shippedTool('worker-lookup')], databases: new Map([['default', database]]), logger: memoryLogger().logger });
  });

  afterAll(async () => {
    await database.close();
  });

  it('worker lookup runs on the demo data', async () => {
    const outcome = await engine.run({ tool: 'worker-lookup', inputs: { email: summary.sampleEmail.toLowerCase() }, surface: 'cli', principal: SUPPORT });
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect((outcome.data.worker as { email: string }).email).toBe(summary.sampleEmail);
    expect((outcome.data.certifications as Array<{ certified_on: unknown }>)[0]?.certified_on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('read-only transaction rejects writes', async () => {
    const write = database.transaction({ readOnly: true, timeoutMs: 1000 }, (client) => client.query("update workers set status = 'inactive'"));
    await expect(write).rejects.toThrow(/read-only transaction/);
    const rows = await database.scripts.query("select count(*)::int as n from workers where status = 'inactive'");
    expect(rows.rows[0]?.n).toBeLessThan(200);
  });

  it('rollback option discards changes', async () => {
    const before = await database.scripts.query('select count(*)::int as n from certifications');
    const changed = await database.transaction({ readOnly: false, timeoutMs: 1000, rollback: true }, (client) => client.query("insert into certifications (code, name) values ('tmp', 'Temporary')"));
    expect(changed.rowCount).toBe(1);
    const after = await database.scripts.query('select count(*)::int as n from certifications');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });
});

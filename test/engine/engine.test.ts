import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../runtime/engine/engine.js';
import { createTestSchema, type TestSchema } from '../helpers/postgres.js';
import { memoryLogger, shippedTool, SUPPORT, toolFrom } from '../helpers/tools.js';

const SEARCH_TOOL = `
name: worker-search
title: Search workers by name
inputs:
  name:
    type: string
  active_only:
    type: boolean
    default: false
steps:
  - id: matches
    limit: 3
    sql: |
      select id, full_name from workers
      where full_name = :name or (:active_only and status = 'active' and full_name ilike '%' || :name || '%')
      order by id
  - id: total
    expect: one
    sql: select count(*) as n from workers
output:
  text: "{{count matches}} of {{total.n}} for {{name}}"
`;

const SLEEP_TOOL = `
name: slow
title: Sleeps
timeout: 200ms
steps:
  - id: nap
    sql: select pg_sleep(3)
output:
  text: done
`;

const WRITE_TOOL = `
name: sneaky-write
title: Tries to write through a function
steps:
  - id: change
    sql: select nextval('workers_id_seq') as id
output:
  text: changed
`;

describe('engine on the PostgreSQL server', () => {
  let db: TestSchema;
  let engine: Engine;
  const log = memoryLogger();

  beforeAll(async () => {
    db = await createTestSchema(300);
    engine = new Engine({
      tools: [shippedTool('worker-lookup'), toolFrom(SEARCH_TOOL), toolFrom(SLEEP_TOOL), toolFrom(WRITE_TOOL)],
      databases: new Map([['default', db.database]]),
      logger: log.logger,
    });
  });

  afterAll(async () => {
    await db.drop();
  });

  const run = (tool: string, inputs: Record<string, unknown>) => engine.run({ tool, inputs, surface: 'http', principal: SUPPORT });

  it('worker lookup returns worker, certifications, applications', async () => {
    const outcome = await run('worker-lookup', { email: db.summary.sampleEmail.toUpperCase() });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const worker = outcome.data.worker as Record<string, unknown>;
    expect(worker.email).toBe(db.summary.sampleEmail);
    expect((outcome.data.certifications as unknown[]).length).toBeGreaterThanOrEqual(2);
    const applications = outcome.data.applications as Array<{ applied_at: Date }>;
    expect(applications.length).toBeGreaterThanOrEqual(3);
    const times = applications.map((row) => new Date(row.applied_at).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(outcome.text).toContain(String(worker.full_name));
    expect(outcome.text).not.toMatch(/undefined|null|\[object/);
  });

  it('worker lookup unknown email is not found', async () => {
    const outcome = await run('worker-lookup', { email: 'nobody.here@example.com' });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.notFound).toBe(true);
    expect(outcome.text).toBe('No worker has the email nobody.here@example.com. Check the spelling, or search by another address.');
    expect(outcome.data).toEqual({});
  });

  it('certification dates stay dates without time zone', async () => {
    const outcome = await run('worker-lookup', { email: db.summary.sampleEmail });
    if (!outcome.ok) throw new Error(outcome.error.message);
    const certification = (outcome.data.certifications as Array<Record<string, unknown>>)[0];
    expect(certification?.certified_on).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('many step keeps its limit and says so', async () => {
    const outcome = await run('worker-search', { name: 'a', active_only: 'yes' });
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect((outcome.data.matches as unknown[]).length).toBe(3);
    expect(outcome.truncated).toEqual([{ step: 'matches', limit: 3 }]);
    expect(outcome.text).toContain('Only the first 3 rows of matches are shown');
    expect(outcome.text.startsWith('3 of 300 for a')).toBe(true);
  });

  it('bigint count arrives as a number', async () => {
    const outcome = await run('worker-search', { name: 'x' });
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect((outcome.data.total as Record<string, unknown>).n).toBe(300);
  });

  it.each([
    "'; drop table workers; --",
    "' or '1'='1",
    'Robert"); select pg_sleep(5); --',
    ':name',
    '$1',
    'Zoë Ångström 你好 👩‍🔧',
    'x'.repeat(10_000),
  ])('hostile string is a plain value: %#', async (value) => {
    const outcome = await run('worker-search', { name: value });
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.text.startsWith(`0 of 300 for `)).toBe(true);
    const count = await db.admin.query(`select count(*)::int as n from ${db.schema}.workers`);
    expect(count.rows[0].n).toBe(300);
  });

  it('hostile value matches a row that holds it literally', async () => {
    await db.admin.query(`update ${db.schema}.workers set full_name = $1 where id = 300`, ["O'Brien'; drop table workers; --"]);
    const outcome = await run('worker-search', { name: "O'Brien'; drop table workers; --" });
    if (!outcome.ok) throw new Error(outcome.error.message);
    expect((outcome.data.matches as Array<{ id: number }>).map((row) => row.id)).toEqual([300]);
  });

  it.each([
    [{ name: 'x'.repeat(10_001) }, 'name', /10001 characters long; the limit is 10000/],
    [{ name: 'a\u0000b' }, 'name', /NUL character/],
    [{ name: ['a', 'b'] }, 'name', /single string, not a list/],
    [{ name: { $gt: '' } }, 'name', /single string, not a mapping/],
    [{ name: 42 }, 'name', /must be text/],
    [{ name: 'a', active_only: 'maybe' }, 'active_only', /must be yes or no/],
    [{ name: 'a', nmae: 'b' }, 'nmae', /did you mean name\?/],
    [{}, 'name', /name is required/],
    [{ name: '   ' }, 'name', /name is required/],
  ])('invalid input %j is rejected per field', async (inputs, field, message) => {
    const outcome = await run('worker-search', inputs);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('TOOLSHED_ERR_INVALID_INPUT');
    expect(outcome.error.status).toBe(400);
    const error = outcome.error.fields?.find((candidate) => candidate.field === field);
    expect(error?.message).toMatch(message);
  });

  it('every invalid input is reported at once', async () => {
    const outcome = await run('worker-search', { active_only: 'perhaps', extra: 1 });
    if (outcome.ok) throw new Error('expected a failure');
    expect(outcome.error.fields?.map((field) => field.field).sort()).toEqual(['active_only', 'extra', 'name']);
  });

  it('statement timeout gives a timeout error', async () => {
    const outcome = await run('slow', {});
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('TOOLSHED_ERR_TIMEOUT');
    expect(outcome.error.status).toBe(504);
    expect(outcome.error.message).toContain('200 ms');
  });

  it('write in a read tool is rejected by the read-only transaction', async () => {
    const outcome = await run('sneaky-write', {});
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('TOOLSHED_ERR_STEP_FAILED');
    expect(outcome.error.message).not.toMatch(/update|workers|read-only/i);
    const sequence = await db.admin.query(`select last_value from ${db.schema}.workers_id_seq`);
    expect(Number(sequence.rows[0].last_value)).toBe(300);
  });

  it('failure is logged with detail but not returned', async () => {
    const outcome = await run('sneaky-write', {});
    if (outcome.ok) throw new Error('expected a failure');
    const entry = log.lines().find((line) => line.run_id === outcome.runId);
    expect(entry?.error_code).toBe('TOOLSHED_ERR_STEP_FAILED');
    expect(String(entry?.detail)).toContain('read-only transaction');
    expect(JSON.stringify(outcome.error)).not.toContain('read-only');
  });

  it('every run is logged with run id and principal', async () => {
    const outcome = await run('worker-search', { name: 'nobody' });
    const entry = log.lines().find((line) => line.run_id === outcome.runId);
    expect(entry).toMatchObject({ tool: 'worker-search', surface: 'http', principal: 'key:support', outcome: 'done' });
    expect(typeof entry?.duration_ms).toBe('number');
  });

  it('unknown tool is not found', async () => {
    const outcome = await run('no-such-tool', {});
    if (outcome.ok) throw new Error('expected a failure');
    expect(outcome.error.code).toBe('TOOLSHED_ERR_TOOL_NOT_FOUND');
  });

  it('concurrent runs share the pool', async () => {
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => run('worker-lookup', { email: db.summary.sampleEmail })));
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, type RunOutcome, type RunSuccess } from '../../runtime/engine/engine.js';
import { AuditLog } from '../../runtime/audit/audit-log.js';
import { ensureRuntimeTables } from '../../runtime/audit/runtime-tables.js';
import { ConfirmationTokens } from '../../runtime/engine/confirmation-token.js';
import { PgDatabase } from '../../runtime/connectors/postgres/pg-database.js';
import { loadTool } from '../../runtime/tool/load-tool.js';
import { createTestSchema, SERVER_URL, type TestSchema } from '../helpers/postgres.js';
import { memoryLogger, shippedTool, toolFrom } from '../helpers/tools.js';

const SECRET = 'write-tools-test-secret-0123456789abcdef';
const LEAD = { id: 'key:lead', name: 'lead', roles: ['support-lead'] };
const OTHER_LEAD = { id: 'key:lead-two', name: 'lead-two', roles: ['support-lead'] };
const CSM = { id: 'key:csm', name: 'csm', roles: ['support'] };
const REASON = 'Blacklisted by mistake after a mix-up';

const APPROVAL_TOOL = `
name: approved-unblacklist
title: Lift a blacklist with a second approver
access:
  roles: [support-lead]
approval:
  roles: [support-lead]
inputs:
  email:
    type: string
    format: email
steps:
  - id: worker
    expect: one
    sql: select id from workers where lower(email) = lower(:email)
  - id: reinstated
    write: true
    expect_rows: 1
    sql: |
      update worker_applications set status = 'reinstated', reinstated_at = now(), reinstated_by = :run.principal
      where worker_id = :worker.id and status = 'blacklisted' returning id
output:
  text: "done {{#each reinstated}}#{{id}}{{/each}}"
`;

describe('write tools on the PostgreSQL server', () => {
  let db: TestSchema;
  let engine: Engine;
  let audit: AuditLog;
  const log = memoryLogger();

  beforeAll(async () => {
    db = await createTestSchema(1000);
    await ensureRuntimeTables(db.database);
    audit = new AuditLog(db.database);
    engine = new Engine({
      tools: [shippedTool('unblacklist-worker'), toolFrom(APPROVAL_TOOL)],
      databases: new Map([['default', db.database]]),
      logger: log.logger,
      audit,
      confirmationSecret: SECRET,
    });
  });

  afterAll(async () => {
    await db.drop();
  });

  /** A digest of every row of worker_applications, to compare the table before and after. */
  async function applicationsDigest(): Promise<string> {
    const result = await db.admin.query(`select md5(string_agg(a::text, '|' order by id)) as digest from ${db.schema}.worker_applications a`);
    return String(result.rows[0].digest);
  }

  async function blacklistedCount(email: string): Promise<number> {
    const result = await db.admin.query(`select count(*)::int as n from ${db.schema}.worker_applications a join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'blacklisted'`, [email]);
    return result.rows[0].n as number;
  }

  async function freshBlacklisted(): Promise<string> {
    // Each test takes its own worker, so tests do not depend on one another's changes.
    const result = await db.admin.query(
      `select w.email from ${db.schema}.workers w join ${db.schema}.worker_applications a on a.worker_id = w.id
       where not (w.email = any($1::text[]))
       group by w.id, w.email having count(*) filter (where a.status = 'blacklisted') = 1 order by w.id limit 1`,
      [[...used]],
    );
    const email = String(result.rows[0].email);
    used.add(email);
    return email;
  }
  const used = new Set<string>();

  const run = (principal = LEAD, inputs: Record<string, unknown>, extra: { dryRun?: boolean; confirmationToken?: string } = {}) =>
    engine.run({ tool: 'unblacklist-worker', inputs, surface: 'http', principal, ...extra });

  function success(outcome: RunOutcome): RunSuccess {
    if (!outcome.ok) throw new Error(`expected success, got ${outcome.error.code}: ${outcome.error.message}`);
    return outcome;
  }

  async function auditRows(runId: string): Promise<Array<Record<string, unknown>>> {
    const result = await db.admin.query(`select * from ${db.schema}.toolshed_audit where run_id = $1 order by id`, [runId]);
    return result.rows;
  }

  it('preview changes nothing and returns a token', async () => {
    const email = await freshBlacklisted();
    const before = await applicationsDigest();
    const preview = success(await run(LEAD, { email, reason: REASON }));
    expect(preview.status).toBe('confirmation_required');
    expect(preview.rowsChanged).toBe(1);
    expect(preview.text).toMatch(/Lift the blacklist on \*.+\* \(.+\)\?/);
    expect(preview.text).toContain('blacklisted on');
    expect(preview.text).toContain('(This would change 1 row.)');
    expect(preview.confirmation?.token).toBeTruthy();
    expect(await applicationsDigest()).toBe(before);
    expect((await auditRows(preview.runId)).map((row) => [row.mode, row.outcome])).toEqual([['preview', 'rolled_back']]);
  });

  it('confirmation executes exactly one change, audited', async () => {
    const email = await freshBlacklisted();
    const preview = success(await run(LEAD, { email, reason: REASON }));
    const done = success(await run(LEAD, { email, reason: REASON }, { confirmationToken: preview.confirmation?.token }));
    expect(done.status).toBe('done');
    expect(done.rowsChanged).toBe(1);
    expect(done.text).toMatch(/application #\d+ is reinstated, recorded as lifted by lead\.$/);
    expect(await blacklistedCount(email)).toBe(0);
    const row = await db.admin.query(`select reinstated_by, reinstate_reason from ${db.schema}.worker_applications where status = 'reinstated' and reinstate_reason = $1 and reinstated_by = 'key:lead' limit 1`, [REASON]);
    expect(row.rows).toHaveLength(1);
    const entries = await auditRows(done.runId);
    expect(entries.map((entry) => [entry.phase, entry.outcome])).toEqual([
      ['attempt', 'confirmed'],
      ['result', 'ok'],
    ]);
    expect(entries[1]?.rows_changed).toBe(1);
    expect(entries[1]?.tool_hash).toBe(shippedTool('unblacklist-worker').hash);
    expect(entries[1]?.inputs).toEqual({ email, reason: REASON });
  });

  it('guard exceeded at preview changes nothing', async () => {
    const before = await applicationsDigest();
    const outcome = await run(LEAD, { email: db.summary.doubleBlacklistedEmail, reason: REASON });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('TOOLSHED_ERR_ROW_GUARD');
    expect(outcome.error.status).toBe(409);
    expect(outcome.error.message).toBe('The step "reinstated" would change 2 rows; this tool must change exactly 1 row. Nothing was changed.');
    expect(await applicationsDigest()).toBe(before);
    expect((await auditRows(outcome.runId)).map((row) => row.outcome)).toEqual(['rolled_back']);
  });

  it('guard exceeded at execution rolls back byte for byte', async () => {
    const email = await freshBlacklisted();
    const preview = success(await run(LEAD, { email, reason: REASON }));
    await db.admin.query(
      `insert into ${db.schema}.worker_applications (worker_id, status, created_at, blacklisted_at, blacklisted_by, blacklist_reason)
       select id, 'blacklisted', now(), now(), 'test', 'second blacklist' from ${db.schema}.workers where lower(email) = lower($1)`,
      [email],
    );
    const before = await applicationsDigest();
    const outcome = await run(LEAD, { email, reason: REASON }, { confirmationToken: preview.confirmation?.token });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('TOOLSHED_ERR_ROW_GUARD');
    expect(await applicationsDigest()).toBe(before);
    expect((await auditRows(outcome.runId)).map((row) => [row.phase, row.outcome])).toEqual([
      ['attempt', 'confirmed'],
      ['result', 'rolled_back'],
    ]);
  });

  it('dry run changes nothing and reports counts', async () => {
    const email = await freshBlacklisted();
    const before = await applicationsDigest();
    const outcome = success(await run(LEAD, { email, reason: REASON }, { dryRun: true }));
    expect(outcome.status).toBe('dry_run');
    expect(outcome.rowsChanged).toBe(1);
    expect(outcome.confirmation).toBeUndefined();
    expect(await applicationsDigest()).toBe(before);
    expect((await auditRows(outcome.runId)).map((row) => [row.mode, row.outcome])).toEqual([['dry_run', 'rolled_back']]);
  });

  it('principal without the role is denied and audited', async () => {
    const email = await freshBlacklisted();
    const outcome = await run(CSM, { email, reason: REASON });
    if (outcome.ok) throw new Error('expected a refusal');
    expect(outcome.error.code).toBe('TOOLSHED_ERR_FORBIDDEN');
    expect(outcome.error.message).toContain('support-lead');
    const entries = await auditRows(outcome.runId);
    expect(entries.map((row) => [row.outcome, row.principal])).toEqual([['denied', 'key:csm']]);
  });

  it('invalid input is audited', async () => {
    const outcome = await run(LEAD, { email: 'not-an-email', reason: 'short' });
    if (outcome.ok) throw new Error('expected invalid input');
    expect(outcome.error.fields?.map((field) => field.field).sort()).toEqual(['email', 'reason']);
    expect((await auditRows(outcome.runId)).map((row) => row.outcome)).toEqual(['invalid']);
  });

  it('cancel is audited and voids the token', async () => {
    const email = await freshBlacklisted();
    const preview = success(await run(LEAD, { email, reason: REASON }));
    const token = preview.confirmation?.token as string;
    const cancelled = success(await engine.cancel('unblacklist-worker', token, LEAD, 'slack'));
    expect((await auditRows(cancelled.runId)).map((row) => row.outcome)).toEqual(['cancelled']);
    const later = await run(LEAD, { email, reason: REASON }, { confirmationToken: token });
    if (later.ok) throw new Error('expected the token to be void');
    expect(later.error.code).toBe('TOOLSHED_ERR_CONFIRMATION_INVALID');
    expect(await blacklistedCount(email)).toBe(1);
  });

  describe('confirmation tokens', () => {
    it.each([
      ['reused', async (token: string, email: string) => {
        success(await run(LEAD, { email, reason: REASON }, { confirmationToken: token }));
        return run(LEAD, { email, reason: REASON }, { confirmationToken: token });
      }, /already used/],
      ['tampered', async (token: string, email: string) => {
        const [payload, signature] = token.split('.');
        const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
        claims.inputs.email = db.summary.blacklistedEmail;
        const forged = `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
        return run(LEAD, { email, reason: REASON }, { confirmationToken: forged });
      }, /not valid/],
      ['used by another principal', (token: string, email: string) => run(OTHER_LEAD, { email, reason: REASON }, { confirmationToken: token }), /issued to someone else/],
      ['with changed inputs', (token: string, email: string) => run(LEAD, { email, reason: `${REASON}, edited` }, { confirmationToken: token }), /inputs differ/],
      ['truncated', (token: string, email: string) => run(LEAD, { email, reason: REASON }, { confirmationToken: token.slice(0, -3) }), /not valid|malformed/],
    ])('%s is rejected', async (_name, attempt, message) => {
      const email = await freshBlacklisted();
      const preview = success(await run(LEAD, { email, reason: REASON }));
      const outcome = await attempt(preview.confirmation?.token as string, email);
      if (outcome.ok) throw new Error('expected a rejection');
      expect(outcome.error.code).toBe('TOOLSHED_ERR_CONFIRMATION_INVALID');
      expect(outcome.error.message).toMatch(message);
    });

    it('expired token is rejected', async () => {
      const email = await freshBlacklisted();
      const tool = shippedTool('unblacklist-worker');
      const { token } = new ConfirmationTokens(SECRET).issue({ tool: tool.name, toolHash: tool.hash, inputs: { email, reason: REASON }, principal: LEAD.id, runId: crypto.randomUUID() }, Date.now() - 10 * 60_000);
      const outcome = await run(LEAD, { email, reason: REASON }, { confirmationToken: token });
      if (outcome.ok) throw new Error('expected a rejection');
      expect(outcome.error.message).toMatch(/expired/);
      expect(await blacklistedCount(email)).toBe(1);
    });

    it('concurrent confirmations execute once', async () => {
      const email = await freshBlacklisted();
      const preview = success(await run(LEAD, { email, reason: REASON }));
      const token = preview.confirmation?.token as string;
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => run(LEAD, { email, reason: REASON }, { confirmationToken: token })));
      expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
      expect(outcomes.filter((outcome) => !outcome.ok && outcome.error.code === 'TOOLSHED_ERR_CONFIRMATION_INVALID')).toHaveLength(4);
      const changed = await db.admin.query(`select count(*)::int as n from ${db.schema}.worker_applications a join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'reinstated'`, [email]);
      expect(changed.rows[0].n).toBe(1);
    });
  });

  describe('approval', () => {
    it('requester cannot approve; another lead can', async () => {
      const email = await freshBlacklisted();
      const preview = success(await engine.run({ tool: 'approved-unblacklist', inputs: { email }, surface: 'http', principal: LEAD }));
      const pending = success(await engine.run({ tool: 'approved-unblacklist', inputs: { email }, surface: 'http', principal: LEAD, confirmationToken: preview.confirmation?.token }));
      expect(pending.status).toBe('pending_approval');
      expect(await blacklistedCount(email)).toBe(1);

      const self = await engine.decide('approved-unblacklist', pending.approvalId as string, LEAD, 'http', 'approved');
      if (self.ok) throw new Error('self-approval must be refused');
      expect(self.error.code).toBe('TOOLSHED_ERR_FORBIDDEN');
      expect(await blacklistedCount(email)).toBe(1);

      const csm = await engine.decide('approved-unblacklist', pending.approvalId as string, CSM, 'http', 'approved');
      expect(csm.ok).toBe(false);

      const approved = success(await engine.decide('approved-unblacklist', pending.approvalId as string, OTHER_LEAD, 'http', 'approved'));
      expect(approved.text).toMatch(/^done #\d+$/);
      expect(await blacklistedCount(email)).toBe(0);
      const entries = await auditRows(approved.runId);
      expect(entries.at(-1)).toMatchObject({ outcome: 'ok', approver: 'key:lead-two', principal: 'key:lead' });

      const twice = await engine.decide('approved-unblacklist', pending.approvalId as string, OTHER_LEAD, 'http', 'approved');
      expect(twice.ok).toBe(false);
    });
  });

  describe('audit log that cannot be written', () => {
    it('prevents the write', async () => {
      const role = `${db.schema}_runtime`;
      await db.admin.query(`create role ${role} login`);
      try {
        await db.admin.query(`grant usage on schema ${db.schema} to ${role}`);
        await db.admin.query(`grant select, insert, update, delete on all tables in schema ${db.schema} to ${role}`);
        await db.admin.query(`grant usage on all sequences in schema ${db.schema} to ${role}`);
        await db.admin.query(`revoke insert on ${db.schema}.toolshed_audit from ${role}`);
        const url = new URL(SERVER_URL);
        url.username = role;
        const restricted = new PgDatabase({ url: url.toString(), searchPath: [db.schema] });
        const restrictedEngine = new Engine({ tools: [shippedTool('unblacklist-worker')], databases: new Map([['default', restricted]]), logger: log.logger, audit: new AuditLog(restricted), confirmationSecret: SECRET });
        try {
          const email = await freshBlacklisted();
          const preview = success(await restrictedEngine.run({ tool: 'unblacklist-worker', inputs: { email, reason: REASON }, surface: 'cli', principal: LEAD }));
          const before = await applicationsDigest();
          const outcome = await restrictedEngine.run({ tool: 'unblacklist-worker', inputs: { email, reason: REASON }, surface: 'cli', principal: LEAD, confirmationToken: preview.confirmation?.token });
          if (outcome.ok) throw new Error('expected the write to be refused');
          expect(outcome.error.code).toBe('TOOLSHED_ERR_AUDIT_UNAVAILABLE');
          expect(await applicationsDigest()).toBe(before);
          expect(await blacklistedCount(email)).toBe(1);
        } finally {
          await restricted.close();
        }
      } finally {
        await db.admin.query(`drop owned by ${role}`);
        await db.admin.query(`drop role ${role}`);
      }
    });
  });
});

describe('write tools at load time', () => {
  const base = (step: string, extra = 'access:\n  roles: [support-lead]\n') => `name: w\ntitle: W\n${extra}inputs:\n  id:\n    type: integer\nsteps:\n${step}\noutput:\n  text: ok\n`;
  const problemOf = (text: string) => loadTool('w.yaml', text, { connections: ['default'] }).problems[0];

  it.each([
    ['write SQL in a read step', "  - id: s\n    sql: update workers set status = 'inactive' where id = :id", /UPDATE statement, but this step only reads/],
    ['UPDATE without WHERE', "  - id: s\n    write: true\n    max_rows: 1\n    sql: update workers set status = 'inactive'", /without WHERE/],
    ['DELETE without WHERE', '  - id: s\n    write: true\n    max_rows: 1\n    sql: delete from workers', /without WHERE/],
    ['write without bound', "  - id: s\n    write: true\n    sql: update workers set status = 'x' where id = :id", /does not bound/],
    ['bound on a read step', '  - id: s\n    max_rows: 1\n    sql: select 1', /not a write step/],
    ['write step running SELECT', '  - id: s\n    write: true\n    max_rows: 1\n    sql: select 1', /a write step runs INSERT, UPDATE or DELETE/],
    ['TRUNCATE', '  - id: s\n    write: true\n    max_rows: 1\n    sql: truncate workers', /a write step runs INSERT, UPDATE or DELETE/],
  ])('%s is rejected', (_name, step, message) => {
    expect(problemOf(base(step))?.message).toMatch(message);
  });

  it('write tool without access roles is rejected', () => {
    const problem = problemOf(base("  - id: s\n    write: true\n    max_rows: 1\n    sql: update workers set status = 'x' where id = :id", ''));
    expect(problem?.message).toContain('must say who may run it');
  });
});

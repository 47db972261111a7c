import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../../runtime/app.js';
import { PgDatabase } from '../../../runtime/connectors/postgres/pg-database.js';
import { createTestSchema, SERVER_URL, type TestSchema } from '../../helpers/postgres.js';
import { memoryLogger } from '../../helpers/tools.js';

const LEAD_KEY = 'lead-key-0123456789abcdefghijklmn';
const CSM_KEY = 'csm-key-0123456789abcdefghijklmno';
const AUDITOR_KEY = 'auditor-key-0123456789abcdefghijk';
const CONFIRMATION_SECRET = 'write-http-test-secret-0123456789abcdef';
const REASON = 'Blacklisted by mistake after a mix-up';
const TOOL = 'unblacklist-worker';
const RUN_URL = `/tools/${TOOL}/run`;

const API_KEYS = [
  { name: 'lead', key: LEAD_KEY, roles: ['support-lead'] },
  { name: 'csm', key: CSM_KEY, roles: ['support'] },
  { name: 'auditor', key: AUDITOR_KEY, roles: ['auditor'] },
];

/** Creates a temporary directory that contains only the shipped unblacklist-worker tool. */
async function writeToolsDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'toolshed-write-http-'));
  await copyFile(new URL(`../../../tools/${TOOL}.yaml`, import.meta.url), join(directory, `${TOOL}.yaml`));
  return directory;
}

interface AuditEntry {
  run_id: string;
  phase: string;
  tool: string;
  principal: string;
  mode: string;
  outcome: string;
  rows_changed: number | null;
}

describe('write tools over HTTP', () => {
  let db: TestSchema;
  let app: App;
  let toolsDir: string;
  const log = memoryLogger();
  const used = new Set<string>();

  beforeAll(async () => {
    db = await createTestSchema(1000);
    toolsDir = await writeToolsDir();
    app = await createApp({
      toolsDir,
      databases: new Map([['default', db.database]]),
      apiKeys: API_KEYS,
      logger: log.logger,
      bodyLimit: 65536,
      confirmationSecret: CONFIRMATION_SECRET,
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const post = (url: string, payload: Record<string, unknown>, key = LEAD_KEY) =>
    app.http.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

  const get = (url: string, key = AUDITOR_KEY) => app.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  /** Returns an md5 digest over every worker_applications row, to compare the table before and after. */
  async function applicationsDigest(): Promise<string> {
    const result = await db.admin.query(`select md5(string_agg(a::text, '|' order by id)) as digest from ${db.schema}.worker_applications a`);
    return String(result.rows[0].digest);
  }

  async function applicationStatuses(email: string): Promise<string[]> {
    const result = await db.admin.query(
      `select a.status from ${db.schema}.worker_applications a join ${db.schema}.workers w on w.id = a.worker_id
       where lower(w.email) = lower($1) and a.status in ('blacklisted', 'reinstated') order by a.id`,
      [email],
    );
    return result.rows.map((row) => String(row.status));
  }

  /** Picks a worker with exactly one blacklisted application that no earlier test used. */
  async function freshBlacklisted(): Promise<string> {
    const result = await db.admin.query(
      `select w.email from ${db.schema}.workers w join ${db.schema}.worker_applications a on a.worker_id = w.id
       where not (w.email = any($1::text[]))
       group by w.id, w.email having count(*) filter (where a.status = 'blacklisted') = 1
         and count(*) filter (where a.status = 'reinstated') = 0
       order by w.id limit 1`,
      [[...used]],
    );
    const email = String(result.rows[0].email);
    used.add(email);
    return email;
  }

  async function previewToken(email: string): Promise<string> {
    const response = await post(RUN_URL, { email, reason: REASON });
    const token = response.json().confirmation?.token;
    if (response.statusCode !== 200 || typeof token !== 'string') throw new Error(`preview failed: ${response.statusCode} ${response.body}`);
    return token;
  }

  describe('preview and confirmation', () => {
    it('preview requires confirmation', async () => {
      const email = await freshBlacklisted();
      const before = await applicationsDigest();
      const response = await post(RUN_URL, { email, reason: REASON });
      const body = response.json();
      expect(response.statusCode).toBe(200);
      expect(body.status).toBe('confirmation_required');
      expect(body.rows_changed).toBe(1);
      expect(body.confirmation.token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(Number.isNaN(Date.parse(body.confirmation.expires_at))).toBe(false);
      expect(body.text).toContain('(This would change 1 row.)');
      expect(await applicationsDigest()).toBe(before);
    });

    it('confirmation token executes the change', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(email);
      const response = await post(RUN_URL, { email, reason: REASON, confirmation_token: token });
      const body = response.json();
      expect(response.statusCode).toBe(200);
      expect(body.status).toBe('done');
      expect(body.rows_changed).toBe(1);
      expect(body.text).toMatch(/^Lifted the blacklist on .+: application #\d+ is reinstated, recorded as lifted by lead\.$/);
      expect(await applicationStatuses(email)).toEqual(['reinstated']);
    });

    it('reinstated row records principal and reason', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(email);
      await post(RUN_URL, { email, reason: REASON, confirmation_token: token });
      const result = await db.admin.query(
        `select a.reinstated_by, a.reinstate_reason, a.reinstated_at from ${db.schema}.worker_applications a
         join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'reinstated'`,
        [email],
      );
      expect(result.rows).toHaveLength(1);
      expect(result.rows[0].reinstated_by).toBe('key:lead');
      expect(result.rows[0].reinstate_reason).toBe(REASON);
      expect(result.rows[0].reinstated_at).toBeInstanceOf(Date);
    });

    it('dry run changes nothing', async () => {
      const email = await freshBlacklisted();
      const before = await applicationsDigest();
      const response = await post(RUN_URL, { email, reason: REASON, dry_run: true });
      const body = response.json();
      expect(response.statusCode).toBe(200);
      expect(body.status).toBe('dry_run');
      expect(body.rows_changed).toBe(1);
      expect(body.confirmation).toBeUndefined();
      expect(await applicationsDigest()).toBe(before);
    });

    it('form body dry run changes nothing', async () => {
      const email = await freshBlacklisted();
      const before = await applicationsDigest();
      const response = await app.http.inject({
        method: 'POST',
        url: RUN_URL,
        headers: { authorization: `Bearer ${LEAD_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email, reason: REASON, dry_run: 'yes' }).toString(),
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().status).toBe('dry_run');
      expect(await applicationsDigest()).toBe(before);
    });

    it('dry run with token changes nothing', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(email);
      const response = await post(RUN_URL, { email, reason: REASON, dry_run: true, confirmation_token: token });
      expect(response.json().status).not.toBe('done');
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });

    it('token with changed inputs is 409', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(email);
      const before = await applicationsDigest();
      const response = await post(RUN_URL, { email, reason: `${REASON}, edited`, confirmation_token: token });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_CONFIRMATION_INVALID');
      expect(response.json().error.message).toContain('inputs differ');
      expect(await applicationsDigest()).toBe(before);
    });

    it('cancelled token is rejected', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(email);
      const cancelled = await post(`/tools/${TOOL}/cancel`, { confirmation_token: token });
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json().text).toBe('Cancelled. Nothing was changed.');

      const before = await applicationsDigest();
      const response = await post(RUN_URL, { email, reason: REASON, confirmation_token: token });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_CONFIRMATION_INVALID');
      expect(await applicationsDigest()).toBe(before);
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });

    it('cancel without a token is 400', async () => {
      const response = await post(`/tools/${TOOL}/cancel`, {});
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_INVALID_REQUEST');
    });
  });

  describe('refusals', () => {
    it('CSM is 403 naming support-lead', async () => {
      const email = await freshBlacklisted();
      const before = await applicationsDigest();
      const response = await post(RUN_URL, { email, reason: REASON }, CSM_KEY);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_FORBIDDEN');
      expect(response.json().error.message).toContain('support-lead');
      expect(await applicationsDigest()).toBe(before);
    });

    it('double blacklist is 409 row guard', async () => {
      const before = await applicationsDigest();
      const response = await post(RUN_URL, { email: db.summary.doubleBlacklistedEmail, reason: REASON });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_ROW_GUARD');
      expect(response.json().error.message).toContain('Nothing was changed.');
      expect(await applicationsDigest()).toBe(before);
    });
  });

  describe('audit and usage', () => {
    const runs = { preview: '', done: '', denied: '', dryRun: '', cancel: '' };
    let startedAt: string;

    beforeAll(async () => {
      startedAt = new Date(Date.now() - 1_000).toISOString();
      const email = await freshBlacklisted();
      const preview = await post(RUN_URL, { email, reason: REASON });
      runs.preview = preview.json().run_id;
      const done = await post(RUN_URL, { email, reason: REASON, confirmation_token: preview.json().confirmation.token });
      runs.done = done.json().run_id;
      const denied = await post(RUN_URL, { email: await freshBlacklisted(), reason: REASON }, CSM_KEY);
      runs.denied = denied.json().run_id;
      const dryRun = await post(RUN_URL, { email: await freshBlacklisted(), reason: REASON, dry_run: true });
      runs.dryRun = dryRun.json().run_id;
      const cancelled = await post(`/tools/${TOOL}/cancel`, { confirmation_token: await previewToken(await freshBlacklisted()) });
      runs.cancel = cancelled.json().run_id;
    });

    async function auditEntries(query: string): Promise<AuditEntry[]> {
      const response = await get(`/audit?${query}`);
      if (response.statusCode !== 200) throw new Error(`GET /audit failed: ${response.statusCode} ${response.body}`);
      return response.json().entries as AuditEntry[];
    }

    const outcomesOf = (entries: AuditEntry[], runId: string) =>
      entries.filter((entry) => entry.run_id === runId).map((entry) => [entry.phase, entry.mode, entry.outcome]);

    it('audit lists each run with its outcome', async () => {
      const entries = await auditEntries(`tool=${TOOL}&limit=1000`);
      expect(outcomesOf(entries, runs.preview)).toEqual([['result', 'preview', 'rolled_back']]);
      expect(outcomesOf(entries, runs.done)).toEqual([
        ['result', 'execute', 'ok'],
        ['attempt', 'execute', 'confirmed'],
      ]);
      expect(outcomesOf(entries, runs.denied)).toEqual([['result', 'preview', 'denied']]);
      expect(outcomesOf(entries, runs.dryRun)).toEqual([['result', 'dry_run', 'rolled_back']]);
      expect(outcomesOf(entries, runs.cancel)).toEqual([['result', 'cancel', 'cancelled']]);
    });

    it('audit records the principal', async () => {
      const entries = await auditEntries(`tool=${TOOL}&limit=1000`);
      expect(entries.find((entry) => entry.run_id === runs.done)?.principal).toBe('key:lead');
      expect(entries.find((entry) => entry.run_id === runs.denied)?.principal).toBe('key:csm');
    });

    it('audit filters by outcome', async () => {
      const entries = await auditEntries(`tool=${TOOL}&outcome=ok&limit=1000`);
      expect(entries.map((entry) => entry.run_id)).toContain(runs.done);
      expect(new Set(entries.map((entry) => entry.outcome))).toEqual(new Set(['ok']));
      expect(new Set(entries.map((entry) => entry.tool))).toEqual(new Set([TOOL]));
      expect(entries.find((entry) => entry.run_id === runs.done)?.rows_changed).toBe(1);
    });

    it('audit filters by since', async () => {
      const entries = await auditEntries(`tool=${TOOL}&since=${encodeURIComponent(startedAt)}&limit=1000`);
      expect(entries.map((entry) => entry.run_id)).toContain(runs.preview);
      const future = await auditEntries(`tool=${TOOL}&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      expect(future).toEqual([]);
    });

    it('audit is 403 for CSM', async () => {
      const response = await get('/audit', CSM_KEY);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_FORBIDDEN');
      expect(response.json().error.message).toContain('auditor');
    });

    it('audit is 403 for support lead', async () => {
      const response = await get('/audit', LEAD_KEY);
      expect(response.statusCode).toBe(403);
    });

    it('audit with bad since is 400', async () => {
      const response = await get('/audit?since=yesterday');
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_INVALID_REQUEST');
    });

    it('audit with bad limit is 400', async () => {
      const response = await get('/audit?limit=0');
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_INVALID_REQUEST');
    });

    it('usage counts the tool runs', async () => {
      await app.usage?.flush();
      const response = await get('/usage');
      expect(response.statusCode).toBe(200);
      const usage = (response.json().tools as Array<{ tool: string; runs: number; principals: number }>).find((entry) => entry.tool === TOOL);
      expect(usage?.runs).toBeGreaterThanOrEqual(4);
      expect(usage?.principals).toBeGreaterThanOrEqual(2);
    });

    it('usage is 403 for CSM', async () => {
      const response = await get('/usage', CSM_KEY);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_FORBIDDEN');
    });

    it('usage with bad since is 400', async () => {
      const response = await get('/usage?since=not-a-time');
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_INVALID_REQUEST');
    });
  });

  describe('rate limit', () => {
    let limited: App;

    beforeAll(async () => {
      const database = new PgDatabase({ url: SERVER_URL, searchPath: [db.schema] });
      limited = await createApp({
        toolsDir,
        databases: new Map([['default', database]]),
        apiKeys: API_KEYS,
        logger: log.logger,
        bodyLimit: 65536,
        confirmationSecret: CONFIRMATION_SECRET,
        rateLimits: { perMinute: 2, tools: {} },
      });
    });

    afterAll(async () => {
      await limited?.close();
    });

    const dryRun = (email: string) =>
      limited.http.inject({ method: 'POST', url: RUN_URL, headers: { authorization: `Bearer ${LEAD_KEY}`, 'content-type': 'application/json' }, payload: JSON.stringify({ email, reason: REASON, dry_run: true }) });

    it('third run in a minute is 429', async () => {
      const email = await freshBlacklisted();
      expect((await dryRun(email)).statusCode).toBe(200);
      expect((await dryRun(email)).statusCode).toBe(200);

      const response = await dryRun(email);
      expect(response.statusCode).toBe(429);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_RATE_LIMITED');
      const retryAfter = String(response.headers['retry-after']);
      expect(retryAfter).toMatch(/^[1-9]\d*$/);
      expect(response.json().error.message).toContain(`Try again in ${retryAfter} seconds`);
    });

    it('rate-limited run is audited as denied', async () => {
      const email = await freshBlacklisted();
      await dryRun(email);
      await dryRun(email);
      const response = await dryRun(email);
      expect(response.statusCode).toBe(429);
      const result = await db.admin.query(`select outcome, error_code from ${db.schema}.toolshed_audit where run_id = $1`, [response.json().run_id]);
      expect(result.rows).toEqual([{ outcome: 'denied', error_code: 'TOOLSHED_ERR_RATE_LIMITED' }]);
    });
  });
});

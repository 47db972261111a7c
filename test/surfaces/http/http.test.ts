import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../../runtime/app.js';
import { PgDatabase } from '../../../runtime/connectors/postgres/pg-database.js';
import { createTestSchema, SERVER_URL, type TestSchema } from '../../helpers/postgres.js';
import { memoryLogger } from '../../helpers/tools.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';

const SUPPORT_KEY = 'support-key-0123456789abcdefghij';
const LEAD_KEY = 'lead-key-0123456789abcdefghijklmn';
const BODY_LIMIT = 4096;

const RESTRICTED_TOOL = `
name: worker-count
title: Count workers
access:
  roles: [support-lead]
inputs:
  status:
    type: string
    enum: [active, inactive, suspended]
    default: active
steps:
  - id: total
    expect: one
    sql: select count(*) as n from workers where status = :status
output:
  text: "{{total.n}} {{status}} workers"
`;

const SLOW_TOOL = `
name: slow
title: Sleeps past its timeout
timeout: 300ms
steps:
  - id: nap
    sql: select pg_sleep(3)
output:
  text: done
`;

async function toolsDirWith(extra: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'toolshed-http-'));
  await copyFile(new URL('../../../tools/worker-lookup.yaml', import.meta.url), join(directory, 'worker-lookup.yaml'));
  for (const [name, text] of Object.entries(extra)) await writeFile(join(directory, name), text);
  return directory;
}

describe('HTTP surface', () => {
  let db: TestSchema;
  let app: App;
  let proxy: TcpProxy;
  const log = memoryLogger();

  beforeAll(async () => {
    db = await createTestSchema(300);
    proxy = new TcpProxy(Number(new URL(SERVER_URL).port || 5432));
    const port = await proxy.start();
    const proxied = new URL(SERVER_URL);
    proxied.port = String(port);
    const database = new PgDatabase({ url: proxied.toString(), searchPath: [db.schema], connectTimeoutMs: 1_000 });
    app = await createApp({
      toolsDir: await toolsDirWith({ 'worker-count.yaml': RESTRICTED_TOOL, 'slow.yaml': SLOW_TOOL, 'broken.yaml': 'name: broken\n' }),
      databases: new Map([['default', database]]),
      apiKeys: [
        { name: 'support', key: SUPPORT_KEY, roles: ['support'] },
        { name: 'lead', key: LEAD_KEY, roles: ['support-lead'] },
      ],
      logger: log.logger,
      bodyLimit: BODY_LIMIT,
    });
  });

  afterAll(async () => {
    await app.close();
    await proxy.stop();
    await db.drop();
  });

  const post = (url: string, payload: unknown, key = SUPPORT_KEY, contentType = 'application/json') =>
    app.http.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  describe('health', () => {
    it('healthz answers without a key', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/healthz' });
      expect(response.statusCode).toBe(200);
    });

    it('readyz checks the database', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ ok: true, connections: [{ name: 'default', ok: true }] });
    });
  });

  describe('authentication', () => {
    it('missing key is 401 with a challenge', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/tools' });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="toolshed"');
      expect(response.json().error.code).toBe('TOOLSHED_ERR_UNAUTHORIZED');
    });

    it('wrong key is 401', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/tools', headers: { authorization: `Bearer ${SUPPORT_KEY}x` } });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toContain('invalid_token');
    });

    it.each(['Basic abc', 'Bearer', 'Bearer a b', `Bearer ${'a'.repeat(600)}`, 'bearer\u0000x'])('malformed header %# is 401', async (authorization) => {
      const response = await app.http.inject({ method: 'GET', url: '/tools', headers: { authorization } });
      expect(response.statusCode).toBe(401);
    });

    it('key is never logged', async () => {
      await app.http.inject({ method: 'GET', url: '/tools', headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
      expect(JSON.stringify(log.lines())).not.toContain(SUPPORT_KEY);
    });

    it('tool needing a role is 403 for others', async () => {
      const response = await post('/tools/worker-count/run', {});
      expect(response.statusCode).toBe(403);
      expect(response.json().error.message).toContain('support-lead');
    });

    it('tool needing a role runs for its role', async () => {
      const response = await post('/tools/worker-count/run', { status: 'active' }, LEAD_KEY);
      expect(response.statusCode).toBe(200);
      expect(response.json().text).toMatch(/^\d+ active workers$/);
    });
  });

  describe('listing', () => {
    it('lists only tools the key may run', async () => {
      const support = await app.http.inject({ method: 'GET', url: '/tools', headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
      const names = support.json().tools.map((tool: { name: string }) => tool.name);
      expect(names).toEqual(['slow', 'worker-lookup']);
      const lead = await app.http.inject({ method: 'GET', url: '/tools', headers: { authorization: `Bearer ${LEAD_KEY}` } });
      expect(lead.json().tools.map((tool: { name: string }) => tool.name)).toContain('worker-count');
    });

    it('invalid tool files are not served', async () => {
      const response = await post('/tools/broken/run', {});
      expect(response.statusCode).toBe(404);
      expect(response.json().error.message).toMatch(/^The tool file .*broken\.yaml has problems, so broken is not served\. Run toolshed validate/);
      expect(log.lines().some((line) => String(line.msg).includes('not served'))).toBe(true);
    });

    it('describes a tool with schema and example', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/tools/worker-lookup', headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.inputs.properties.email.format).toBe('email');
      expect(body.inputs.required).toEqual(['email']);
      expect(body.example.curl).toContain('/tools/worker-lookup/run');
    });

    it('unknown tool is 404', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/tools/nope', headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_TOOL_NOT_FOUND');
    });

    it('restricted tool looks absent to others', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/tools/worker-count', headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
      expect(response.statusCode).toBe(404);
    });
  });

  describe('running', () => {
    it('JSON body runs the lookup', async () => {
      const response = await post('/tools/worker-lookup/run', { email: db.summary.sampleEmail });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ ok: true, tool: 'worker-lookup', not_found: false });
      expect(body.run_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.data.worker.email).toBe(db.summary.sampleEmail);
      expect(body.text).toContain('Certifications');
    });

    it('form body runs the lookup', async () => {
      const response = await post('/tools/worker-lookup/run', `email=${encodeURIComponent(db.summary.sampleEmail)}`, SUPPORT_KEY, 'application/x-www-form-urlencoded');
      expect(response.statusCode).toBe(200);
      expect(response.json().data.worker.email).toBe(db.summary.sampleEmail);
    });

    it('unknown email is 200 not found', async () => {
      const response = await post('/tools/worker-lookup/run', { email: 'nobody.at.all@example.com' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ ok: true, not_found: true });
      expect(response.json().text).toContain('No worker has the email nobody.at.all@example.com');
    });

    it('invalid input is 400 with fields', async () => {
      const response = await post('/tools/worker-lookup/run', { email: 'not-an-email', extra: 1 });
      expect(response.statusCode).toBe(400);
      const error = response.json().error;
      expect(error.code).toBe('TOOLSHED_ERR_INVALID_INPUT');
      expect(error.fields.map((field: { field: string }) => field.field).sort()).toEqual(['email', 'extra']);
    });

    it('query string inputs are ignored', async () => {
      const response = await app.http.inject({
        method: 'POST',
        url: `/tools/worker-lookup/run?email=${encodeURIComponent(db.summary.sampleEmail)}`,
        headers: { authorization: `Bearer ${SUPPORT_KEY}`, 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.fields[0].message).toMatch(/^email is required/);
    });

    it('unknown tool run is 404', async () => {
      const response = await post('/tools/no-such-tool/run', {});
      expect(response.statusCode).toBe(404);
    });

    it('malformed JSON is 400', async () => {
      const response = await post('/tools/worker-lookup/run', '{"email": ');
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_INVALID_REQUEST');
    });

    it.each(['[1,2]', '"text"', '42', 'null'])('non-object JSON body %s is 400', async (payload) => {
      const response = await post('/tools/worker-lookup/run', payload);
      expect(response.statusCode).toBe(400);
    });

    it('oversized body is 413', async () => {
      const response = await post('/tools/worker-lookup/run', { email: 'a'.repeat(BODY_LIMIT * 2) });
      expect(response.statusCode).toBe(413);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_BODY_TOO_LARGE');
    });

    it('unsupported media type is 415', async () => {
      const response = await post('/tools/worker-lookup/run', '<email>x</email>', SUPPORT_KEY, 'application/xml');
      expect(response.statusCode).toBe(415);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_UNSUPPORTED_MEDIA_TYPE');
    });

    it('GET on run is 405', async () => {
      const response = await app.http.inject({ method: 'GET', url: '/tools/worker-lookup/run', headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('POST');
    });

    it('timeout is 504', async () => {
      const response = await post('/tools/slow/run', {});
      expect(response.statusCode).toBe(504);
      expect(response.json().error.code).toBe('TOOLSHED_ERR_TIMEOUT');
    });

    it('errors carry no stack or SQL', async () => {
      const responses = await Promise.all([post('/tools/slow/run', {}), post('/tools/worker-lookup/run', '{'), post('/tools/worker-lookup/run', { email: 'x' })]);
      for (const response of responses) {
        expect(response.body).not.toMatch(/\bat .*\.(ts|js):\d+|select |pg_sleep|stack/i);
      }
    });
  });

  describe('database down and back', () => {
    it('answers 503 while down and recovers', async () => {
      await proxy.stop();
      const down = await post('/tools/worker-lookup/run', { email: db.summary.sampleEmail });
      expect(down.statusCode).toBe(503);
      expect(down.json().error.code).toBe('TOOLSHED_ERR_DB_UNAVAILABLE');
      const notReady = await app.http.inject({ method: 'GET', url: '/readyz' });
      expect(notReady.statusCode).toBe(503);
      const health = await app.http.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);

      await proxy.start();
      const back = await post('/tools/worker-lookup/run', { email: db.summary.sampleEmail });
      expect(back.statusCode).toBe(200);
      const ready = await app.http.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
    });
  });

  it('unknown route is 404 JSON', async () => {
    const response = await app.http.inject({ method: 'GET', url: '/nothing-here', headers: { authorization: `Bearer ${SUPPORT_KEY}` } });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('TOOLSHED_ERR_ROUTE_NOT_FOUND');
  });
});

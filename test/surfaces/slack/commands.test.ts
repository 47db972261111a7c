import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createApp, type App } from '../../../runtime/app.js';
import type { SlackConfig } from '../../../runtime/config/load-config.js';
import { signSlackRequest } from '../../../runtime/surfaces/slack/signature.js';
import { lambdaHandlerFor } from '../../../runtime/surfaces/lambda/lambda-adapter.js';
import { createTestSchema, type TestSchema } from '../../helpers/postgres.js';
import { memoryLogger } from '../../helpers/tools.js';
import { Recorder } from '../../helpers/recorder.js';

const SECRET = 'test-signing-secret-8f742231b10e8888';
const OLD_SECRET = 'old-signing-secret-0000000000000000';
const TEAM = 'T0TEAM';
const USER = 'U0USER';
const LEAD = 'U0LEAD';
const GROUP_MEMBER = 'U0GROUP';

const HELD_TOOL = `
name: held-count
title: Count held rows
slack:
  progress: Counting held rows...
steps:
  - id: total
    expect: one
    sql: select count(*) as n from held_rows
output:
  text: "{{total.n}} held rows"
`;

const NAMES_TOOL = `
name: all-names
title: Every worker's name
slack:
  command: /names
  response_type: in_channel
steps:
  - id: workers
    limit: 1000
    sql: select id, full_name, repeat('x', 60) as filler from workers order by id
output:
  text: |
    {{#each workers}}
    {{id}} {{full_name}} {{filler}}
    {{/each}}
`;

const LEAD_TOOL = `
name: lead-only
title: For support leads
access:
  roles: [support-lead]
steps:
  - id: one
    expect: one
    sql: select 1 as n
output:
  text: "lead says {{one.n}}"
`;

describe('Slack slash commands', () => {
  let db: TestSchema;
  let app: App;
  let recorder: Recorder;
  const log = memoryLogger();
  let responseUrl: string;
  let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<{ statusCode: number; body: string }>;

  beforeAll(async () => {
    db = await createTestSchema(300);
    await db.admin.query(`create table ${db.schema}.held_rows (id int); insert into ${db.schema}.held_rows values (1), (2)`);
    recorder = new Recorder();
    const host = await recorder.start();
    responseUrl = `http://${host}/response`;
    recorder.answers.set('/api/usergroups.users.list', { ok: true, users: [GROUP_MEMBER] });

    const tools = await mkdtemp(join(tmpdir(), 'toolshed-slack-'));
    await copyFile(new URL('../../../tools/worker-lookup.yaml', import.meta.url), join(tools, 'worker-lookup.yaml'));
    await writeFile(join(tools, 'held-count.yaml'), HELD_TOOL);
    await writeFile(join(tools, 'all-names.yaml'), NAMES_TOOL);
    await writeFile(join(tools, 'lead-only.yaml'), LEAD_TOOL);

    const slack: SlackConfig = {
      signingSecrets: [SECRET, OLD_SECRET],
      command: '/toolshed',
      ackBudgetMs: 1_000,
      responseUrlHosts: [host],
      botToken: 'xoxb-test-token',
      apiUrl: `http://${host}/api`,
      defaultRoles: ['support'],
      users: { [`${TEAM}/${LEAD}`]: ['support-lead'] },
      userGroups: { S0LEADS: ['support-lead'] },
    };
    app = await createApp({ toolsDir: tools, databases: new Map([['default', db.database]]), apiKeys: [], logger: log.logger, bodyLimit: 65536, slack });
    // The adapter decorates the app, which Fastify allows only before the first request.
    handler = lambdaHandlerFor(app.http) as unknown as typeof handler;
  });

  afterAll(async () => {
    await app.close();
    await recorder.stop();
    await db.drop();
  });

  beforeEach(() => {
    recorder.posts.length = 0;
  });

  function form(text: string, fields: Record<string, string> = {}): string {
    return new URLSearchParams({ token: 'unused', team_id: TEAM, user_id: USER, user_name: 'ana', command: '/toolshed', text, response_url: responseUrl, channel_id: 'C0CHAN', ...fields }).toString();
  }

  function signedHeaders(body: string | Buffer, options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    return {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signSlackRequest(options.secret ?? SECRET, timestamp, body),
    };
  }

  async function command(text: string, fields: Record<string, string> = {}, extraHeaders: Record<string, string> = {}) {
    const body = form(text, fields);
    return app.http.inject({ method: 'POST', url: '/slack/commands', headers: { ...signedHeaders(body), ...extraHeaders }, payload: body });
  }

  const runCount = (): number => log.lines().filter((line) => line.msg === 'tool run' || line.msg === 'tool run failed' || line.msg === 'tool run rejected').length;
  const messageText = (message: { blocks?: Array<{ text?: { text: string }; elements?: Array<{ text: string }> }> }): string =>
    (message.blocks ?? []).map((block) => block.text?.text ?? block.elements?.map((element) => element.text).join(' ') ?? '').join('\n');

  describe('verification', () => {
    const cases: Array<[string, () => { headers: Record<string, string>; payload: string | Buffer }]> = [
      ['wrong secret', () => ({ headers: signedHeaders(form('worker-lookup a@example.com'), { secret: 'not-the-secret' }), payload: form('worker-lookup a@example.com') })],
      ['stale timestamp', () => ({ headers: signedHeaders(form('help'), { timestamp: Math.floor(Date.now() / 1000) - 301 }), payload: form('help') })],
      ['future timestamp', () => ({ headers: signedHeaders(form('help'), { timestamp: Math.floor(Date.now() / 1000) + 301 }), payload: form('help') })],
      ['missing headers', () => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form('help') })],
      [
        'body altered by one byte',
        () => {
          const body = form('worker-lookup a@example.com');
          return { headers: signedHeaders(body), payload: body.replace('a%40example', 'b%40example') };
        },
      ],
      [
        'body re-encoded, + for %20',
        () => {
          const body = form('worker-lookup sarah.le1@example.com extra words');
          return { headers: signedHeaders(body), payload: body.replace(/\+/g, '%20') };
        },
      ],
    ];

    it.each(cases)('%s is 401 and runs nothing', async (_name, build) => {
      const before = runCount();
      const { headers, payload } = build();
      const response = await app.http.inject({ method: 'POST', url: '/slack/commands', headers, payload });
      expect(response.statusCode).toBe(401);
      expect(runCount()).toBe(before);
      expect(recorder.posts).toHaveLength(0);
    });

    it('rejection is logged without the secret', async () => {
      const body = form('help');
      await app.http.inject({ method: 'POST', url: '/slack/commands', headers: signedHeaders(body, { secret: 'wrong' }), payload: body });
      const logged = JSON.stringify(log.lines());
      expect(logged).toContain('signature not verified');
      expect(logged).not.toContain(SECRET);
    });

    it('old secret works during rotation', async () => {
      const body = form('help');
      const response = await app.http.inject({ method: 'POST', url: '/slack/commands', headers: signedHeaders(body, { secret: OLD_SECRET }), payload: body });
      expect(response.statusCode).toBe(200);
    });

    it('API Gateway base64 body is verified', async () => {
      const body = form(`worker-lookup ${db.summary.sampleEmail}`);
      const event = (payload: string, headers: Record<string, string>) =>
        ({
          httpMethod: 'POST',
          path: '/slack/commands',
          resource: '/{proxy+}',
          headers,
          multiValueHeaders: {},
          queryStringParameters: null,
          multiValueQueryStringParameters: null,
          pathParameters: null,
          stageVariables: null,
          requestContext: { httpMethod: 'POST', path: '/slack/commands', identity: { sourceIp: '127.0.0.1' } },
          body: Buffer.from(payload).toString('base64'),
          isBase64Encoded: true,
        }) as unknown as APIGatewayProxyEvent;
      const context = {} as Context;

      const good = await handler(event(body, signedHeaders(body)), context);
      expect(good.statusCode).toBe(200);
      expect(messageText(JSON.parse(good.body))).toContain(db.summary.sampleEmail);

      const before = runCount();
      const altered = await handler(event(`${body}x`, signedHeaders(body)), context);
      expect(altered.statusCode).toBe(401);
      expect(runCount()).toBe(before);
    });
  });

  describe('answers', () => {
    it('worker lookup answers in the response', async () => {
      const response = await command(`worker-lookup ${db.summary.sampleEmail}`);
      expect(response.statusCode).toBe(200);
      const message = response.json();
      expect(message.response_type).toBe('ephemeral');
      expect(message.text).toContain(db.summary.sampleEmail);
      expect(message.blocks[0].type).toBe('section');
    });

    it('Slack-wrapped email is unwrapped', async () => {
      const email = db.summary.sampleEmail;
      const response = await command(`worker-lookup <mailto:${email}|${email}>`);
      expect(response.json().text).toContain('Certifications');
    });

    it('named input works', async () => {
      const response = await command(`worker-lookup email=${db.summary.sampleEmail}`);
      expect(response.json().text).toContain('Certifications');
    });

    it('unknown email gives the friendly message', async () => {
      const response = await command('worker-lookup nobody.here@example.com');
      expect(response.json().text).toContain('No worker has the email nobody.here@example.com');
    });

    it('invalid input lists problems and usage', async () => {
      const response = await command('worker-lookup not-an-email');
      const message = response.json();
      expect(message.response_type).toBe('ephemeral');
      const text = messageText(message);
      expect(text).toContain('must be an email address');
      expect(text).toContain('/toolshed worker-lookup EMAIL');
      expect(text).toMatch(/Run id/);
    });

    it('unterminated quote is reported', async () => {
      const response = await command('worker-lookup "sarah');
      expect(messageText(response.json())).toContain('never closed');
    });

    it('help lists the tools this user may run', async () => {
      const text = messageText((await command('help')).json());
      expect(text).toContain('worker-lookup');
      expect(text).toContain('/names');
      expect(text).not.toContain('lead-only');
    });

    it('help TOOL shows usage and example', async () => {
      const text = messageText((await command('help worker-lookup')).json());
      expect(text).toContain('Usage: `/toolshed worker-lookup EMAIL`');
      expect(text).toContain('Example: `/toolshed worker-lookup sarah.le1@example.com`');
    });

    it('restricted tool is refused naming the role', async () => {
      const message = (await command('lead-only')).json();
      expect(message.response_type).toBe('ephemeral');
      expect(messageText(message)).toContain('needs the role support-lead');
    });

    it('mapped user holds the role', async () => {
      const message = (await command('lead-only', { user_id: LEAD })).json();
      expect(message.text).toBe('lead says 1');
    });

    it('user group member holds the role', async () => {
      const message = (await command('lead-only', { user_id: GROUP_MEMBER })).json();
      expect(message.text).toBe('lead says 1');
    });

    it('unknown tool is explained', async () => {
      expect(messageText((await command('no-such-tool')).json())).toContain('There is no tool named "no-such-tool"');
    });
  });

  describe('escaping and limits', () => {
    it('hostile database values cannot ping or hide links', async () => {
      const hostile = '<!channel> <@U999> <https://evil.example|click me> a/b & "c"';
      await db.admin.query(`update ${db.schema}.workers set full_name = $1 where lower(email) = lower($2)`, [hostile, db.summary.sampleEmail]);
      const message = (await command(`worker-lookup ${db.summary.sampleEmail}`)).json();
      const text = messageText(message);
      expect(text).toContain('&lt;!channel&gt; &lt;@U999&gt; &lt;https://evil.example|click me&gt; a/b &amp; "c"');
      expect(text).not.toMatch(/<!channel>|<@U999>|<https:/);
      expect(message.text).not.toMatch(/<!channel>|<@U999>|<https:/);
      expect(text).not.toContain('&quot;');
    });

    it('long results stay within Slack limits', async () => {
      const message = (await command('', { command: '/names' })).json();
      expect(message.response_type).toBe('in_channel');
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      const sections = message.blocks.filter((block: { type: string }) => block.type === 'section');
      for (const section of sections) expect(section.text.text.length).toBeLessThanOrEqual(3000);
      const total = message.blocks.reduce((sum: number, block: { text?: { text: string }; elements?: Array<{ text: string }> }) => sum + (block.text?.text.length ?? 0) + (block.elements ?? []).reduce((inner, element) => inner + element.text.length, 0), 0);
      expect(total).toBeLessThanOrEqual(12_000);
      expect(message.text.length).toBeLessThanOrEqual(40_000);
      expect(messageText(message)).toMatch(/Showing the first \d+ of 300 lines/);
      expect(messageText(message)).toContain('POST /tools/all-names/run');
    });
  });

  describe('slow tools', () => {
    it('acknowledges before the tool finishes and posts the answer once', async () => {
      const holder = db.admin;
      await holder.query('begin');
      await holder.query(`lock table ${db.schema}.held_rows in access exclusive mode`);
      let acknowledged: { response_type: string; text: string } | undefined;
      try {
        const response = await command('held-count');
        acknowledged = response.json();
        expect(recorder.posts).toHaveLength(0);
      } finally {
        await holder.query('commit');
      }
      expect(acknowledged?.response_type).toBe('ephemeral');
      expect(acknowledged?.text).toBe('Counting held rows...');

      const posts = await recorder.waitForPosts(1);
      expect(posts).toHaveLength(1);
      expect(posts[0]?.path).toBe('/response');
      expect(posts[0]?.body.response_type).toBe('ephemeral');
      expect(posts[0]?.body.text).toBe('2 held rows');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(recorder.posts).toHaveLength(1);
    });

    it('Slack retry does not run the tool again', async () => {
      await db.admin.query('begin');
      await db.admin.query(`lock table ${db.schema}.held_rows in access exclusive mode`);
      const before = runCount();
      try {
        await command('held-count', { trigger_id: 'same' });
        const retry = await command('held-count', { trigger_id: 'same' }, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
        expect(retry.statusCode).toBe(200);
      } finally {
        await db.admin.query('commit');
      }
      await recorder.waitForPosts(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(runCount() - before).toBe(1);
      expect(recorder.posts).toHaveLength(1);
    });

    it('response_url outside the allowed hosts gets nothing', async () => {
      await db.admin.query('begin');
      await db.admin.query(`lock table ${db.schema}.held_rows in access exclusive mode`);
      try {
        await command('held-count', { response_url: 'http://localhost:1/elsewhere' });
      } finally {
        await db.admin.query('commit');
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(recorder.posts).toHaveLength(0);
      expect(log.lines().some((line) => String(line.msg).includes('not in slack.response_url_hosts'))).toBe(true);
    });
  });
});

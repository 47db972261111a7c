import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../../runtime/app.js';
import type { SlackConfig } from '../../../runtime/config/load-config.js';
import { signSlackRequest } from '../../../runtime/surfaces/slack/signature.js';
import { createTestSchema, type TestSchema } from '../../helpers/postgres.js';
import { memoryLogger } from '../../helpers/tools.js';
import { Recorder, type Recorded } from '../../helpers/recorder.js';

const SECRET = 'approvals-signing-secret-7c2d9e41';
const TEAM = 'T0TEAM';
const REQUESTER = 'U0LEAD';
const APPROVER = 'U0APPROVER';
const TOOL = 'approved-unblacklist';

const APPROVAL_TOOL = `
name: ${TOOL}
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
preview: "Lift the blacklist on {{email}}?"
output:
  text: "Reinstated application #{{#each reinstated}}{{id}}{{/each}}."
`;

interface Block {
  type: string;
  text?: { text: string };
  elements?: Array<{ action_id?: string; value?: string; text?: unknown }>;
}

interface Message {
  response_type?: string;
  replace_original?: boolean;
  text?: string;
  blocks?: Block[];
}

describe('Slack approval buttons', () => {
  let db: TestSchema;
  let app: App;
  let recorder: Recorder;
  let host: string;
  let urls = 0;

  beforeAll(async () => {
    db = await createTestSchema(300);
    recorder = new Recorder();
    host = await recorder.start();
    const tools = await mkdtemp(join(tmpdir(), 'toolshed-approvals-'));
    await writeFile(join(tools, `${TOOL}.yaml`), APPROVAL_TOOL);
    const slack: SlackConfig = {
      signingSecrets: [SECRET],
      command: '/toolshed',
      ackBudgetMs: 2_000,
      responseUrlHosts: [host],
      botToken: undefined,
      apiUrl: `http://${host}/api`,
      defaultRoles: [],
      users: { [`${TEAM}/${REQUESTER}`]: ['support-lead'], [`${TEAM}/${APPROVER}`]: ['support-lead'] },
      userGroups: {},
    };
    app = await createApp({ toolsDir: tools, databases: new Map([['default', db.database]]), apiKeys: [], logger: memoryLogger().logger, bodyLimit: 65536, slack, confirmationSecret: 'approvals-confirmation-secret-0123456789' });
  });

  afterAll(async () => {
    await app?.close();
    await recorder?.stop();
    await db?.drop();
  });

  const newResponseUrl = (): string => `http://${host}/response/${++urls}`;

  function signed(body: string): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signSlackRequest(SECRET, timestamp, body) };
  }

  async function command(userId: string, text: string): Promise<Message> {
    const body = new URLSearchParams({ team_id: TEAM, user_id: userId, user_name: userId.toLowerCase(), command: '/toolshed', text, response_url: newResponseUrl() }).toString();
    return (await app.http.inject({ method: 'POST', url: '/slack/commands', headers: signed(body), payload: body })).json() as Message;
  }

  /** Presses a button and returns the message posted to the response URL. */
  async function press(userId: string, actionId: string, value: string): Promise<Message> {
    const responseUrl = newResponseUrl();
    const payload = { type: 'block_actions', user: { id: userId, username: userId.toLowerCase(), team_id: TEAM }, team: { id: TEAM }, response_url: responseUrl, actions: [{ action_id: actionId, block_id: `toolshed:${TOOL}`, value }] };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const response = await app.http.inject({ method: 'POST', url: '/slack/interactions', headers: signed(body), payload: body });
    expect(response.statusCode).toBe(200);
    const path = new URL(responseUrl).pathname;
    let posts: Recorded[] = [];
    while (posts.length === 0) {
      await recorder.waitForPosts(recorder.posts.length + 1);
      posts = recorder.posts.filter((post) => post.path === path);
    }
    return posts[0]?.body as Message;
  }

  const button = (message: Message, actionId: string): string | undefined =>
    message.blocks?.find((block) => block.type === 'actions')?.elements?.find((element) => element.action_id === actionId)?.value;

  const textOf = (message: Message): string => (message.blocks ?? []).map((block) => block.text?.text ?? '').join('\n') + (message.text ?? '');

  async function blacklisted(email: string): Promise<number> {
    const result = await db.admin.query(`select count(*)::int as n from ${db.schema}.worker_applications a join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'blacklisted'`, [email]);
    return result.rows[0].n as number;
  }

  it('second lead approves; requester cannot', async () => {
    const email = db.summary.blacklistedEmail;
    const preview = await command(REQUESTER, `${TOOL} ${email}`);
    const token = button(preview, 'toolshed_confirm');
    expect(token).toBeDefined();

    const pending = await press(REQUESTER, 'toolshed_confirm', token as string);
    expect(pending.response_type).toBe('in_channel');
    expect(textOf(pending)).toContain('waits for approval');
    const approvalId = button(pending, 'toolshed_approve');
    expect(approvalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(button(pending, 'toolshed_reject')).toBe(approvalId);
    expect(await blacklisted(email)).toBe(1);

    const self = await press(REQUESTER, 'toolshed_approve', approvalId as string);
    expect(textOf(self)).toContain('someone else must approve it');
    expect(await blacklisted(email)).toBe(1);

    const approved = await press(APPROVER, 'toolshed_approve', approvalId as string);
    expect(textOf(approved)).toMatch(/Reinstated application #\d+\./);
    expect(await blacklisted(email)).toBe(0);
    const row = await db.admin.query(`select reinstated_by from ${db.schema}.worker_applications a join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'reinstated'`, [email]);
    expect(row.rows[0].reinstated_by).toBe(`slack:${TEAM}/${REQUESTER}`);
  });

  it('reject changes nothing', async () => {
    const email = db.summary.doubleBlacklistedEmail;
    await db.admin.query(`update ${db.schema}.worker_applications set status = 'approved' where id = (select min(a.id) from ${db.schema}.worker_applications a join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'blacklisted')`, [email]);
    const preview = await command(REQUESTER, `${TOOL} ${email}`);
    const pending = await press(REQUESTER, 'toolshed_confirm', button(preview, 'toolshed_confirm') as string);
    const rejected = await press(APPROVER, 'toolshed_reject', button(pending, 'toolshed_approve') as string);
    expect(textOf(rejected)).toContain('Rejected. Nothing was changed.');
    expect(await blacklisted(email)).toBe(1);
  });
});

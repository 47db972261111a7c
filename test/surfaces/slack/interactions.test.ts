import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../../runtime/app.js';
import type { SlackConfig } from '../../../runtime/config/load-config.js';
import { signSlackRequest } from '../../../runtime/surfaces/slack/signature.js';
import { createTestSchema, type TestSchema } from '../../helpers/postgres.js';
import { memoryLogger } from '../../helpers/tools.js';
import { Recorder, type Recorded } from '../../helpers/recorder.js';

const SECRET = 'interactions-signing-secret-5b1e0c9d';
const CONFIRMATION_SECRET = 'interactions-confirmation-secret-0123456789';
const TEAM = 'T0TEAM';
const CSM = 'U0CSM';
const LEAD = 'U0LEAD';
const OTHER_LEAD = 'U0LEADTWO';
const REASON = 'Blacklisted by mistake after a mix-up';
const TOOL = 'unblacklist-worker';

/** A block element: a context block's text, or a button with its action id and value. */
interface BlockElement {
  type?: string;
  text?: unknown;
  action_id?: string;
  value?: string;
}

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  elements?: BlockElement[];
}

interface SlackMessage {
  response_type?: string;
  replace_original?: boolean;
  text?: string;
  blocks?: Block[];
}

describe('Slack buttons of write tools', () => {
  let db: TestSchema;
  let app: App;
  let recorder: Recorder;
  let host: string;
  const log = memoryLogger();
  const used = new Set<string>();
  let responsePathCount = 0;

  beforeAll(async () => {
    db = await createTestSchema(1000);
    recorder = new Recorder();
    host = await recorder.start();

    const tools = await mkdtemp(join(tmpdir(), 'toolshed-interactions-'));
    await copyFile(new URL(`../../../tools/${TOOL}.yaml`, import.meta.url), join(tools, `${TOOL}.yaml`));

    const slack: SlackConfig = {
      signingSecrets: [SECRET],
      command: '/toolshed',
      ackBudgetMs: 2_000,
      responseUrlHosts: [host],
      botToken: undefined,
      apiUrl: `http://${host}/api`,
      defaultRoles: ['support'],
      users: { [`${TEAM}/${LEAD}`]: ['support-lead'], [`${TEAM}/${OTHER_LEAD}`]: ['support-lead'] },
      userGroups: {},
    };
    app = await createApp({
      toolsDir: tools,
      databases: new Map([['default', db.database]]),
      apiKeys: [],
      logger: log.logger,
      bodyLimit: 65536,
      slack,
      confirmationSecret: CONFIRMATION_SECRET,
    });
  });

  afterAll(async () => {
    await app?.close();
    await recorder?.stop();
    await db?.drop();
  });

  /** Returns a new response_url for each request, so Slack's limit of five posts per URL never applies. */
  function newResponseUrl(): string {
    responsePathCount += 1;
    return `http://${host}/response/${responsePathCount}`;
  }

  function signedHeaders(body: string, secret = SECRET): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signSlackRequest(secret, timestamp, body),
    };
  }

  async function slashCommand(userId: string, text: string): Promise<SlackMessage> {
    const body = new URLSearchParams({ token: 'unused', team_id: TEAM, user_id: userId, user_name: userId.toLowerCase(), command: '/toolshed', text, response_url: newResponseUrl(), channel_id: 'C0CHAN' }).toString();
    const response = await app.http.inject({ method: 'POST', url: '/slack/commands', headers: signedHeaders(body), payload: body });
    if (response.statusCode !== 200) throw new Error(`slash command failed: ${response.statusCode} ${response.body}`);
    return response.json() as SlackMessage;
  }

  function interactionBody(userId: string, actionId: string, token: string, responseUrl: string): string {
    const payload = {
      type: 'block_actions',
      user: { id: userId, username: userId.toLowerCase(), team_id: TEAM },
      team: { id: TEAM },
      response_url: responseUrl,
      actions: [{ action_id: actionId, block_id: `toolshed:${TOOL}`, value: token }],
    };
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  const sendInteraction = (body: string, headers: Record<string, string> = signedHeaders(body)) =>
    app.http.inject({ method: 'POST', url: '/slack/interactions', headers, payload: body });

  async function postsTo(responseUrl: string, count: number): Promise<Recorded[]> {
    const path = new URL(responseUrl).pathname;
    for (;;) {
      const posts = recorder.posts.filter((post) => post.path === path);
      if (posts.length >= count) return posts;
      await recorder.waitForPosts(recorder.posts.length + 1);
    }
  }

  const messageText = (message: SlackMessage): string =>
    (message.blocks ?? []).map((block) => block.text?.text ?? block.elements?.map((element) => (typeof element.text === 'string' ? element.text : '')).join(' ') ?? '').join('\n');

  const actionsBlock = (message: SlackMessage): Block | undefined => message.blocks?.find((block) => block.type === 'actions');

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

  /** Runs the slash command as `userId` and returns the token on its Confirm button. */
  async function previewToken(userId: string, email: string): Promise<string> {
    const message = await slashCommand(userId, `${TOOL} ${email} "${REASON}"`);
    const confirm = actionsBlock(message)?.elements?.find((element) => element.action_id === 'toolshed_confirm');
    if (typeof confirm?.value !== 'string') throw new Error(`no Confirm button in ${JSON.stringify(message)}`);
    return confirm.value;
  }

  async function quietPeriod(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  describe('preview', () => {
    it('preview has Confirm and Cancel', async () => {
      const email = await freshBlacklisted();
      const message = await slashCommand(LEAD, `${TOOL} ${email} "${REASON}"`);
      const actions = actionsBlock(message);
      expect(actions?.block_id).toBe(`toolshed:${TOOL}`);
      expect(actions?.elements?.map((element) => [element.action_id, element.text])).toEqual([
        ['toolshed_confirm', { type: 'plain_text', text: 'Confirm' }],
        ['toolshed_cancel', { type: 'plain_text', text: 'Cancel' }],
      ]);
      const [confirm, cancel] = actions?.elements ?? [];
      expect(confirm?.value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(cancel?.value).toBe(confirm?.value);
    });

    it('preview describes the change', async () => {
      const email = await freshBlacklisted();
      const message = await slashCommand(LEAD, `${TOOL} ${email} "${REASON}"`);
      expect(message.response_type).toBe('ephemeral');
      expect(messageText(message)).toContain(`(${email})?`);
      expect(messageText(message)).toContain(`Reason to record: ${REASON}`);
      expect(messageText(message)).toContain('(This would change 1 row.)');
    });

    it('preview changes nothing', async () => {
      const email = await freshBlacklisted();
      await slashCommand(LEAD, `${TOOL} ${email} "${REASON}"`);
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });

    it('reason cannot ping the channel', async () => {
      const email = await freshBlacklisted();
      const message = await slashCommand(LEAD, `${TOOL} ${email} "Mix-up, see &lt;!channel&gt; thread"`);
      expect(messageText(message)).toContain('Reason to record: Mix-up, see &lt;!channel&gt; thread');
      expect(messageText(message)).not.toContain('<!channel>');
      expect(message.text).not.toContain('<!channel>');
    });

    it('user without the role is rejected', async () => {
      const email = await freshBlacklisted();
      const message = await slashCommand(CSM, `${TOOL} ${email} "${REASON}"`);
      expect(message.response_type).toBe('ephemeral');
      expect(messageText(message)).toContain('needs the role support-lead');
      expect(actionsBlock(message)).toBeUndefined();
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });
  });

  describe('buttons', () => {
    it('Confirm is acknowledged before the change', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      const body = interactionBody(LEAD, 'toolshed_confirm', token, responseUrl);

      // While the table is locked the write cannot finish, so the 200 must come first.
      await db.admin.query('begin');
      await db.admin.query(`lock table ${db.schema}.worker_applications in access exclusive mode`);
      try {
        const response = await sendInteraction(body);
        expect(response.statusCode).toBe(200);
        expect(recorder.posts.filter((post) => post.path === new URL(responseUrl).pathname)).toHaveLength(0);
      } finally {
        await db.admin.query('commit');
      }

      const posts = await postsTo(responseUrl, 1);
      expect(posts[0]?.body.replace_original).toBe(true);
      expect(posts[0]?.body.text).toMatch(/^Lifted the blacklist on .+: application #\d+ is reinstated, recorded as lifted by u0lead\.$/);
      expect(await applicationStatuses(email)).toEqual(['reinstated']);
    });

    it('Confirm posts the outcome once', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      await sendInteraction(interactionBody(LEAD, 'toolshed_confirm', token, responseUrl));
      await postsTo(responseUrl, 1);
      await quietPeriod();
      expect(recorder.posts.filter((post) => post.path === new URL(responseUrl).pathname)).toHaveLength(1);
    });

    it('reinstated row records the Slack user', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      await sendInteraction(interactionBody(LEAD, 'toolshed_confirm', token, responseUrl));
      await postsTo(responseUrl, 1);
      const result = await db.admin.query(
        `select a.reinstated_by, a.reinstate_reason from ${db.schema}.worker_applications a
         join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'reinstated'`,
        [email],
      );
      expect(result.rows).toEqual([{ reinstated_by: `slack:${TEAM}/${LEAD}`, reinstate_reason: REASON }]);
    });

    it('Confirm audits the Slack user', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      await sendInteraction(interactionBody(LEAD, 'toolshed_confirm', token, responseUrl));
      await postsTo(responseUrl, 1);
      const result = await db.admin.query(
        `select phase, mode, outcome, surface, principal from ${db.schema}.toolshed_audit where tool = $1 and inputs->>'email' = $2 order by id`,
        [TOOL, email],
      );
      expect(result.rows.map((row) => [row.phase, row.mode, row.outcome])).toEqual([
        ['result', 'preview', 'rolled_back'],
        ['attempt', 'execute', 'confirmed'],
        ['result', 'execute', 'ok'],
      ]);
      expect(new Set(result.rows.map((row) => `${row.surface} ${row.principal}`))).toEqual(new Set([`slack slack:${TEAM}/${LEAD}`]));
    });

    it('Cancel posts Cancelled and changes nothing', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      const response = await sendInteraction(interactionBody(LEAD, 'toolshed_cancel', token, responseUrl));
      expect(response.statusCode).toBe(200);

      const posts = await postsTo(responseUrl, 1);
      expect(posts[0]?.body.replace_original).toBe(true);
      expect(posts[0]?.body.text).toContain('Cancelled');
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });

    it('Confirm after Cancel changes nothing', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const cancelUrl = newResponseUrl();
      await sendInteraction(interactionBody(LEAD, 'toolshed_cancel', token, cancelUrl));
      await postsTo(cancelUrl, 1);

      const confirmUrl = newResponseUrl();
      await sendInteraction(interactionBody(LEAD, 'toolshed_confirm', token, confirmUrl));
      const posts = await postsTo(confirmUrl, 1);
      expect(posts[0]?.body.text).toContain('already used');
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });

    it('Confirm by another user changes nothing', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      const response = await sendInteraction(interactionBody(OTHER_LEAD, 'toolshed_confirm', token, responseUrl));
      expect(response.statusCode).toBe(200);

      const posts = await postsTo(responseUrl, 1);
      expect(posts[0]?.body.text).toContain('issued to someone else');
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });

    it('Confirm without the role is rejected', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      await sendInteraction(interactionBody(CSM, 'toolshed_confirm', token, responseUrl));
      const posts = await postsTo(responseUrl, 1);
      expect(posts[0]?.body.text).toContain('needs the role support-lead');
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });
  });

  describe('verification', () => {
    const forgeries: Array<[string, (body: string) => { headers: Record<string, string>; payload: string }]> = [
      ['wrong secret', (body) => ({ headers: signedHeaders(body, 'not-the-signing-secret'), payload: body })],
      ['altered body', (body) => ({ headers: signedHeaders(body), payload: body.replace('toolshed_cancel', 'toolshed_confirm') })],
      ['missing signature', (body) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body })],
    ];

    it.each(forgeries)('%s is 401 and changes nothing', async (_name, forge) => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const responseUrl = newResponseUrl();
      const { headers, payload } = forge(interactionBody(LEAD, 'toolshed_cancel', token, responseUrl));

      const response = await sendInteraction(payload, headers);
      expect(response.statusCode).toBe(401);
      await quietPeriod();
      expect(recorder.posts.filter((post) => post.path === new URL(responseUrl).pathname)).toHaveLength(0);
      expect(await applicationStatuses(email)).toEqual(['blacklisted']);
    });

    it('token survives a forged Cancel', async () => {
      const email = await freshBlacklisted();
      const token = await previewToken(LEAD, email);
      const forged = interactionBody(LEAD, 'toolshed_cancel', token, newResponseUrl());
      await sendInteraction(forged, signedHeaders(forged, 'not-the-signing-secret'));

      const responseUrl = newResponseUrl();
      await sendInteraction(interactionBody(LEAD, 'toolshed_confirm', token, responseUrl));
      const posts = await postsTo(responseUrl, 1);
      expect(posts[0]?.body.text).toContain('Lifted the blacklist');
      expect(await applicationStatuses(email)).toEqual(['reinstated']);
    });
  });
});

/**
 * The queue-backlog check evaluated by CheckRunner end to end. The engine counts a queue on the
 * in-process MongoDB wire server, and state and evaluations live in a private schema on the
 * PostgreSQL server. Alerts go to the local SNS server and to a local Slack webhook receiver.
 */
import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckRunner, type CheckReport } from '../../runtime/checks/check-runner.js';
import { CheckStore } from '../../runtime/checks/check-store.js';
import { MongoConnection } from '../../runtime/connectors/mongodb/mongo-connection.js';
import { PgDatabase } from '../../runtime/connectors/postgres/pg-database.js';
import { MongoWireServer } from '../../runtime/embedded/mongo-wire/server.js';
import { Engine } from '../../runtime/engine/engine.js';
import { createNotifier } from '../../runtime/notify/create-notifier.js';
import { LocalSnsServer, type LocalSnsPublish } from '../../runtime/notify/local-sns-server.js';
import { SnsClientCache } from '../../runtime/notify/sns-clients.js';
import type { Notifier, NotifierSpec } from '../../runtime/notify/types.js';
import { loadTool } from '../../runtime/tool/load-tool.js';
import { formatProblem } from '../../runtime/tool/problem.js';
import type { Tool } from '../../runtime/tool/types.js';
import { createTestSchema, SERVER_URL, type TestSchema } from '../helpers/postgres.js';
import { Recorder, type Recorded } from '../helpers/recorder.js';
import { memoryLogger } from '../helpers/tools.js';

const QUEUE_DATABASE = 'app';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:queue-alerts';
const SNS_NAME = `sns:${TOPIC_ARN}`;
const MINUTE_MS = 60_000;
/** queue-backlog runs every 20 minutes. */
const SLOT_MS = 20 * MINUTE_MS;
const FIRST_SLOT = Date.parse('2026-03-02T09:00:00.000Z');
/** Static credentials, so the SDK never looks for real ones. */
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

const QUEUE_BACKLOG_TEXT = readFileSync(new URL('../../tools/queue-backlog.yaml', import.meta.url), 'utf8');

/** Loads tools/queue-backlog.yaml, under another name and collection when given, so scenarios keep separate state. */
function queueBacklog(name = 'queue-backlog', collection = 'search_sync_queue'): Tool {
  const text = QUEUE_BACKLOG_TEXT.replace('name: queue-backlog', `name: ${name}`).replace('collection: search_sync_queue', `collection: ${collection}`);
  const { tool, problems } = loadTool('tools/queue-backlog.yaml', text, { connections: ['default', 'queue'], connectionTypes: { default: 'postgres', queue: 'mongodb' } });
  if (tool === undefined) throw new Error(`queue-backlog is invalid:\n${problems.map(formatProblem).join('\n')}`);
  return tool;
}

function collectionOf(tool: Tool): string {
  const collection = tool.steps[0]?.mongo?.collection;
  if (collection === undefined) throw new Error(`${tool.name} has no MongoDB step`);
  return collection;
}

function slot(index: number): Date {
  return new Date(FIRST_SLOT + index * SLOT_MS);
}

/** Replaces every `${env:NAME}` in a notifier spec, as ChecksService does. */
function resolveEnv(spec: NotifierSpec, env: Record<string, string>): NotifierSpec {
  return JSON.parse(JSON.stringify(spec).replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '')) as NotifierSpec;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** One toolshed process as far as checks go: its own pool, MongoDB client, engine, store, notifiers and runner. */
interface Runtime {
  runner: CheckRunner;
  store: CheckStore;
  /** The time the runner uses as now. Tests move it to each slot. */
  clock: { now: Date };
  close(): Promise<void>;
}

/** The servers every runtime in this file shares. */
interface Shared {
  db: TestSchema;
  mongo: MongoWireServer;
  mongoUri: string;
  sns: LocalSnsServer;
  snsEndpoint: string;
  slack: Recorder;
  slackBase: string;
  logger: Logger;
}

const WEBHOOK_PREFIX = '/services/T0000/B0000/';

async function startRuntime(shared: Shared, tools: readonly Tool[], instanceId: string): Promise<Runtime> {
  const database = new PgDatabase({ url: SERVER_URL, searchPath: [shared.db.schema] });
  const connection = new MongoConnection({ url: shared.mongoUri, database: QUEUE_DATABASE, serverSelectionTimeoutMs: 500 });
  const engine = new Engine({ tools, databases: new Map([['default', database]]), logger: shared.logger, mongo: new Map([['queue', connection]]) });
  const store = new CheckStore(database);
  await store.migrate();

  const clients = new SnsClientCache({ credentials: CREDENTIALS });
  const notifiers = new Map<string, Notifier[]>();
  for (const tool of tools) {
    const env = { TOOLSHED_ALERT_TOPIC_ARN: TOPIC_ARN, TOOLSHED_ALERT_SLACK_WEBHOOK: `${shared.slackBase}${WEBHOOK_PREFIX}${tool.name}` };
    const specs = (tool.check?.notify ?? []).map((spec) => resolveEnv(spec, env));
    notifiers.set(tool.name, specs.map((spec) => createNotifier(spec, { sns: { clients, env: { TOOLSHED_SNS_ENDPOINT: shared.snsEndpoint } }, slack: { allowInsecureLocal: true } })));
  }

  const clock = { now: slot(0) };
  const runner = new CheckRunner({ engine, store, logger: shared.logger, notifiers, instanceId, now: () => clock.now, deliver: { sleep: async () => undefined } });
  return {
    runner,
    store,
    clock,
    close: async () => {
      clients.destroy();
      await connection.close();
      await database.close();
    },
  };
}

/** Evaluates a slot at the slot's time, as the scheduler would. */
async function evaluateSlot(runtime: Runtime, tool: Tool, index: number, settings = { claim: true, dryRun: false }): Promise<CheckReport> {
  runtime.clock.now = slot(index);
  return runtime.runner.evaluate(tool, slot(index), settings);
}

function setPending(shared: Shared, tool: Tool, pending: number): void {
  const queue = shared.mongo.collection(QUEUE_DATABASE, collectionOf(tool));
  queue.deleteAll();
  const documents = Array.from({ length: pending }, (_, index) => ({ entity: 'worker', entity_id: index + 1, status: 'pending' }));
  queue.insertMany([...documents, { entity: 'ticket', entity_id: 1, status: 'done' }]);
}

function publishesFor(shared: Shared, tool: Tool): LocalSnsPublish[] {
  return shared.sns.published.filter((publish) => publish.attributes.tool?.value === tool.name);
}

function slackPostsFor(shared: Shared, tool: Tool): Recorded[] {
  return shared.slack.posts.filter((post) => post.path === `${WEBHOOK_PREFIX}${tool.name}`);
}

async function evaluationRows(shared: Shared, tool: Tool, index: number): Promise<Array<Record<string, unknown>>> {
  const result = await shared.db.admin.query('select status, level, value, error, notifications, deliveries from toolshed_check_evaluations where tool = $1 and slot = $2 order by id', [tool.name, slot(index).toISOString()]);
  return result.rows as Array<Record<string, unknown>>;
}

function kinds(report: CheckReport): string[] {
  return report.notifications.map((notification) => notification.kind);
}

describe('CheckRunner with queue-backlog', () => {
  const log = memoryLogger();
  const shared = {} as Shared;
  let mongoPort: number;

  beforeAll(async () => {
    shared.db = await createTestSchema(20);
    mongoPort = await freePort();
    shared.mongo = new MongoWireServer({ port: mongoPort });
    shared.mongoUri = (await shared.mongo.start()).uri;
    shared.sns = new LocalSnsServer();
    shared.snsEndpoint = (await shared.sns.start()).endpoint;
    shared.slack = new Recorder();
    shared.slackBase = `http://${await shared.slack.start()}`;
    shared.logger = log.logger;
  });

  afterAll(async () => {
    await shared.slack?.stop();
    await shared.sns?.stop();
    await shared.mongo?.stop();
    await shared.db?.drop();
  });

  describe('one runtime through a whole alert', () => {
    const tool = queueBacklog();
    let runtime: Runtime;

    beforeAll(async () => {
      runtime = await startRuntime(shared, [tool], 'lifecycle');
    });

    afterAll(async () => {
      await runtime?.close();
    });

    it('healthy queue sends nothing', async () => {
      setPending(shared, tool, 400);

      const report = await evaluateSlot(runtime, tool, 0);

      expect(report.skipped).toBeUndefined();
      expect(report.evaluation).toEqual({ kind: 'value', value: 400 });
      expect(report.state?.status).toBe('ok');
      expect(report.notifications).toEqual([]);
      expect(report.deliveries).toEqual([]);
      expect(publishesFor(shared, tool)).toHaveLength(0);
      expect(slackPostsFor(shared, tool)).toHaveLength(0);
      const rows = await evaluationRows(shared, tool, 0);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'ok', value: 400, error: null });
    });

    it('queue past 10,000 alerts once on SNS and Slack', async () => {
      setPending(shared, tool, 10_050);

      const report = await evaluateSlot(runtime, tool, 1);

      expect(kinds(report)).toEqual(['alert']);
      expect(report.notifications[0]).toMatchObject({ level: 'critical', value: 10_050, threshold: 'above 10,000' });
      expect(report.deliveries.map((delivery) => [delivery.notifier, delivery.ok, delivery.attempts])).toEqual([
        [SNS_NAME, true, 1],
        ['slack', true, 1],
      ]);

      const publishes = publishesFor(shared, tool);
      expect(publishes).toHaveLength(1);
      const [publish] = publishes;
      expect(publish?.topicArn).toBe(TOPIC_ARN);
      expect(publish?.subject?.length).toBeLessThanOrEqual(99);
      expect(publish?.subject).toContain('CRITICAL');
      expect(publish?.attributes.severity?.value).toBe('critical');
      expect(publish?.attributes.kind?.value).toBe('alert');
      expect(publish?.message).toContain('10,050 pending documents');
      expect(publish?.message).toContain('above 10,000');

      const posts = slackPostsFor(shared, tool);
      expect(posts).toHaveLength(1);
      expect(posts[0]?.body.text).toContain('10,050 pending documents');
      expect(posts[0]?.body.text).toContain('above 10,000');
      expect(posts[0]?.body.text).toContain(':rotating_light:');
    });

    it('check evaluated log keeps the numeric level', () => {
      const entries = log.lines().filter((entry) => entry.msg === 'check evaluated' && entry.tool === tool.name && entry.slot === slot(1).toISOString());

      expect(entries).toHaveLength(1);
      // pino writes its own numeric level first. A field named `level` in the entry repeats the
      // key, and JSON readers keep the last one.
      expect(entries[0]?.level).toBe(30);
    });

    it('records the alert and its deliveries', async () => {
      const rows = await evaluationRows(shared, tool, 1);

      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'alerting', level: 'critical', value: 10_050 });
      expect((rows[0]?.notifications as Array<{ kind: string }>).map((notification) => notification.kind)).toEqual(['alert']);
      expect((rows[0]?.deliveries as Array<{ notifier: string; ok: boolean }>).map((delivery) => [delivery.notifier, delivery.ok])).toEqual([
        [SNS_NAME, true],
        ['slack', true],
      ]);
    });

    it('same slot again with claim is skipped', async () => {
      const report = await evaluateSlot(runtime, tool, 1);

      expect(report.skipped).toBe('slot_taken');
      expect(report.evaluation).toBeUndefined();
      expect(await evaluationRows(shared, tool, 1)).toHaveLength(1);
      expect(publishesFor(shared, tool)).toHaveLength(1);
      expect(slackPostsFor(shared, tool)).toHaveLength(1);
    });

    it('still high before the repeat interval sends nothing', async () => {
      for (const index of [2, 3]) {
        const report = await evaluateSlot(runtime, tool, index);

        expect(report.state?.status).toBe('alerting');
        expect(report.notifications).toEqual([]);
        expect(report.deliveries).toEqual([]);
      }
      expect(publishesFor(shared, tool)).toHaveLength(1);
      expect(slackPostsFor(shared, tool)).toHaveLength(1);
    });

    it('still high after the repeat interval sends a reminder', async () => {
      const report = await evaluateSlot(runtime, tool, 4);

      expect(kinds(report)).toEqual(['reminder']);
      const publishes = publishesFor(shared, tool);
      expect(publishes).toHaveLength(2);
      expect(publishes[1]?.attributes.kind?.value).toBe('reminder');
      expect(publishes[1]?.attributes.severity?.value).toBe('critical');
      expect(publishes[1]?.message).toContain('still CRITICAL');
      const posts = slackPostsFor(shared, tool);
      expect(posts).toHaveLength(2);
      expect(posts[1]?.body.text).toContain(':hourglass:');
    });

    it('first healthy evaluation does not recover yet', async () => {
      setPending(shared, tool, 5);

      const report = await evaluateSlot(runtime, tool, 5);

      expect(report.state).toMatchObject({ status: 'alerting', recoveries: 1 });
      expect(report.notifications).toEqual([]);
      expect(publishesFor(shared, tool)).toHaveLength(2);
    });

    it('second healthy evaluation sends one recovery', async () => {
      const report = await evaluateSlot(runtime, tool, 6);

      expect(kinds(report)).toEqual(['recovery']);
      expect(report.state?.status).toBe('ok');
      const publishes = publishesFor(shared, tool);
      expect(publishes).toHaveLength(3);
      expect(publishes[2]?.attributes.kind?.value).toBe('recovery');
      expect(publishes[2]?.attributes.severity?.value).toBe('info');
      expect(publishes[2]?.message).toContain('recovered');
      const posts = slackPostsFor(shared, tool);
      expect(posts).toHaveLength(3);
      expect(posts[2]?.body.text).toContain('recovered');
    });

    it('stopped MongoDB sends one error', async () => {
      await shared.mongo.stop();

      const report = await evaluateSlot(runtime, tool, 7);

      expect(report.evaluation?.kind).toBe('error');
      expect(kinds(report)).toEqual(['error']);
      expect(report.notifications[0]?.error).toContain('TOOLSHED_ERR_DB_UNAVAILABLE');
      const publishes = publishesFor(shared, tool);
      expect(publishes).toHaveLength(4);
      expect(publishes[3]?.attributes.kind?.value).toBe('error');
      expect(publishes[3]?.attributes.severity?.value).toBe('warning');
      expect(publishes[3]?.message).toContain('check failed');
      expect(slackPostsFor(shared, tool)).toHaveLength(4);
      const rows = await evaluationRows(shared, tool, 7);
      expect(rows[0]).toMatchObject({ status: 'error', value: null });
      expect(rows[0]?.error).toContain('TOOLSHED_ERR_DB_UNAVAILABLE');
    });

    it('repeated errors send nothing but are recorded', async () => {
      const report = await evaluateSlot(runtime, tool, 8);

      expect(report.state?.status).toBe('error');
      expect(report.notifications).toEqual([]);
      expect(publishesFor(shared, tool)).toHaveLength(4);
      expect(slackPostsFor(shared, tool)).toHaveLength(4);
      const rows = await evaluationRows(shared, tool, 8);
      expect(rows[0]?.status).toBe('error');
      expect(rows[0]?.error).toContain('TOOLSHED_ERR_DB_UNAVAILABLE');
    });

    it('MongoDB back sends error_cleared', async () => {
      const { port } = await shared.mongo.start();
      expect(port).toBe(mongoPort);

      const report = await evaluateSlot(runtime, tool, 9);

      expect(kinds(report)).toEqual(['error_cleared']);
      expect(report.evaluation).toEqual({ kind: 'value', value: 5 });
      expect(report.state?.status).toBe('ok');
      const publishes = publishesFor(shared, tool);
      expect(publishes).toHaveLength(5);
      expect(publishes[4]?.attributes.kind?.value).toBe('error_cleared');
      expect(publishes[4]?.attributes.severity?.value).toBe('info');
      expect(slackPostsFor(shared, tool)).toHaveLength(5);
    });
  });

  describe('dry run', () => {
    const tool = queueBacklog('queue-backlog-dry-run', 'queue_dry_run');
    let runtime: Runtime;

    beforeAll(async () => {
      runtime = await startRuntime(shared, [tool], 'dry-run');
      setPending(shared, tool, 10);
      await evaluateSlot(runtime, tool, 0);
    });

    afterAll(async () => {
      await runtime?.close();
    });

    it('reports the alert but sends and stores nothing', async () => {
      const before = await runtime.store.loadState(tool.name);
      setPending(shared, tool, 20_000);

      const report = await evaluateSlot(runtime, tool, 1, { claim: true, dryRun: true });

      expect(report.dryRun).toBe(true);
      expect(kinds(report)).toEqual(['alert']);
      expect(report.state?.status).toBe('alerting');
      expect(report.deliveries).toEqual([]);
      expect(publishesFor(shared, tool)).toHaveLength(0);
      expect(slackPostsFor(shared, tool)).toHaveLength(0);
      expect(await runtime.store.loadState(tool.name)).toEqual(before);
      expect(await evaluationRows(shared, tool, 1)).toHaveLength(0);
    });

    it('leaves the slot free for the real evaluation', async () => {
      const report = await evaluateSlot(runtime, tool, 1);

      expect(report.skipped).toBeUndefined();
      expect(kinds(report)).toEqual(['alert']);
      expect(publishesFor(shared, tool)).toHaveLength(1);
      expect(slackPostsFor(shared, tool)).toHaveLength(1);
    });
  });

  describe('failing SNS', () => {
    it('failed SNS alert is redelivered next evaluation', async () => {
      const tool = queueBacklog('queue-backlog-sns-down', 'queue_sns_down');
      const runtime = await startRuntime(shared, [tool], 'sns-down');
      try {
        setPending(shared, tool, 12_000);
        // Three attempts fail at the first evaluation, two more at the redelivery, which then succeeds.
        shared.sns.failNext(5, 500);

        const first = await evaluateSlot(runtime, tool, 0);

        expect(kinds(first)).toEqual(['alert']);
        const snsDelivery = first.deliveries.find((delivery) => delivery.notifier === SNS_NAME);
        expect(snsDelivery).toMatchObject({ ok: false, attempts: 3 });
        expect(snsDelivery?.error).toContain('HTTP 500');
        expect(first.deliveries.find((delivery) => delivery.notifier === 'slack')).toMatchObject({ ok: true, attempts: 1 });
        expect(publishesFor(shared, tool)).toHaveLength(0);
        expect(slackPostsFor(shared, tool)).toHaveLength(1);
        const stored = (await evaluationRows(shared, tool, 0))[0]?.deliveries as Array<{ notifier: string; ok: boolean; kind: string }>;
        expect(stored.map((delivery) => [delivery.notifier, delivery.kind, delivery.ok])).toEqual([
          [SNS_NAME, 'alert', false],
          ['slack', 'alert', true],
        ]);

        const second = await evaluateSlot(runtime, tool, 1);

        expect(second.notifications).toEqual([]);
        expect(second.deliveries).toHaveLength(1);
        expect(second.deliveries[0]).toMatchObject({ notifier: SNS_NAME, kind: 'alert', ok: true, attempts: 3, redelivery: true });
        const publishes = publishesFor(shared, tool);
        expect(publishes).toHaveLength(1);
        expect(publishes[0]?.attributes.kind?.value).toBe('alert');
        expect(publishes[0]?.message).toContain('12,000 pending documents');
        expect(slackPostsFor(shared, tool)).toHaveLength(1);

        const third = await evaluateSlot(runtime, tool, 2);

        expect(third.deliveries).toEqual([]);
        expect(publishesFor(shared, tool)).toHaveLength(1);
      } finally {
        await runtime.close();
      }
    });

    it('keeps sending a failed alert until SNS accepts it', async () => {
      const tool = queueBacklog('queue-backlog-sns-outage', 'queue_sns_outage');
      const runtime = await startRuntime(shared, [tool], 'sns-outage');
      try {
        setPending(shared, tool, 12_000);
        // Every attempt at the first evaluation and at the first redelivery fails.
        shared.sns.failNext(6, 500);

        const first = await evaluateSlot(runtime, tool, 0);
        const second = await evaluateSlot(runtime, tool, 1);

        expect(first.deliveries.find((delivery) => delivery.notifier === SNS_NAME)?.ok).toBe(false);
        expect(second.deliveries).toHaveLength(1);
        expect(second.deliveries[0]).toMatchObject({ notifier: SNS_NAME, kind: 'alert', ok: false, attempts: 3 });
        expect(publishesFor(shared, tool)).toHaveLength(0);

        const third = await evaluateSlot(runtime, tool, 2);

        expect(third.deliveries).toHaveLength(1);
        expect(third.deliveries[0]).toMatchObject({ notifier: SNS_NAME, kind: 'alert', ok: true });
        expect(publishesFor(shared, tool)).toHaveLength(1);
        expect(slackPostsFor(shared, tool)).toHaveLength(1);
      } finally {
        await runtime.close();
      }
    });
  });

  describe('restarted runtime', () => {
    const tool = queueBacklog('queue-backlog-restart', 'queue_restart');

    it('keeps the alert state and reminds only when due', async () => {
      setPending(shared, tool, 15_000);
      const before = await startRuntime(shared, [tool], 'before-restart');
      let after: Runtime | undefined;
      try {
        const alert = await evaluateSlot(before, tool, 0);
        expect(kinds(alert)).toEqual(['alert']);
        await before.close();

        after = await startRuntime(shared, [tool], 'after-restart');

        const sameSlot = await evaluateSlot(after, tool, 0);
        expect(sameSlot.skipped).toBe('slot_taken');

        for (const index of [1, 2]) {
          const report = await evaluateSlot(after, tool, index);
          expect(report.state?.status).toBe('alerting');
          expect(report.notifications).toEqual([]);
        }
        expect(publishesFor(shared, tool)).toHaveLength(1);

        const due = await evaluateSlot(after, tool, 3);
        expect(kinds(due)).toEqual(['reminder']);
        expect(due.state?.since).toBe(slot(0).toISOString());
        expect(publishesFor(shared, tool).map((publish) => publish.attributes.kind?.value)).toEqual(['alert', 'reminder']);
        expect(slackPostsFor(shared, tool)).toHaveLength(2);
      } finally {
        await before.close().catch(() => undefined);
        await after?.close();
      }
    });
  });

  describe('three replicas', () => {
    const tool = queueBacklog('queue-backlog-replicas', 'queue_replicas');
    const replicas: Runtime[] = [];

    beforeAll(async () => {
      for (const instanceId of ['replica-1', 'replica-2', 'replica-3']) replicas.push(await startRuntime(shared, [tool], instanceId));
      setPending(shared, tool, 11_000);
    });

    afterAll(async () => {
      await Promise.all(replicas.map((replica) => replica.close()));
    });

    it('evaluate each slot once and publish the alert once', async () => {
      for (const index of [0, 1, 2]) {
        const reports = await Promise.all(replicas.map((replica) => evaluateSlot(replica, tool, index)));

        const evaluated = reports.filter((report) => report.skipped === undefined);
        expect(evaluated).toHaveLength(1);
        expect(reports.filter((report) => report.skipped === 'slot_taken')).toHaveLength(2);
        expect(await evaluationRows(shared, tool, index)).toHaveLength(1);
        const claims = await shared.db.admin.query('select claimed_by from toolshed_check_slots where tool = $1 and slot = $2', [tool.name, slot(index).toISOString()]);
        expect(claims.rows).toHaveLength(1);
        expect(['replica-1', 'replica-2', 'replica-3']).toContain(claims.rows[0]?.claimed_by);
      }

      const publishes = publishesFor(shared, tool);
      expect(publishes).toHaveLength(1);
      expect(publishes[0]?.attributes.kind?.value).toBe('alert');
      expect(slackPostsFor(shared, tool)).toHaveLength(1);
    });
  });
});

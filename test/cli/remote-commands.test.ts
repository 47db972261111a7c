import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../runtime/app.js';
import { main, type CliIo } from '../../runtime/cli/main.js';
import { MongoWireServer } from '../../runtime/embedded/mongo-wire/server.js';
import { MongoConnection } from '../../runtime/connectors/mongodb/mongo-connection.js';
import { LocalSnsServer } from '../../runtime/notify/local-sns-server.js';
import { SnsClientCache } from '../../runtime/notify/sns-clients.js';
import { createTestSchema, type TestSchema } from '../helpers/postgres.js';
import { memoryLogger } from '../helpers/tools.js';

const AUDITOR_KEY = 'auditor-key-0123456789abcdefghijkl';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:remote-commands';

function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('CLI commands that call a running toolshed', () => {
  let db: TestSchema;
  let app: App;
  let mongo: MongoWireServer;
  let sns: LocalSnsServer;
  let url: string;
  const savedKey = process.env.TOOLSHED_API_KEY;

  beforeAll(async () => {
    db = await createTestSchema(50);
    mongo = new MongoWireServer();
    const { uri } = await mongo.start();
    mongo.collection('queue', 'search_sync_queue').insertMany(Array.from({ length: 1500 }, (_, index) => ({ status: 'pending', index })));
    sns = new LocalSnsServer();
    const { endpoint } = await sns.start();

    const tools = await mkdtemp(join(tmpdir(), 'toolshed-remote-'));
    for (const name of ['queue-backlog', 'worker-lookup']) await copyFile(new URL(`../../tools/${name}.yaml`, import.meta.url), join(tools, `${name}.yaml`));
    app = await createApp({
      toolsDir: tools,
      databases: new Map([['default', db.database]]),
      mongo: new Map([['queue', new MongoConnection({ url: uri, database: 'queue' })]]),
      apiKeys: [{ name: 'auditor', key: AUDITOR_KEY, roles: ['auditor'] }],
      logger: memoryLogger().logger,
      bodyLimit: 65536,
      schedule: false,
      notifierEnv: { TOOLSHED_ALERT_TOPIC_ARN: TOPIC },
      notifierOptions: { sns: { clients: new SnsClientCache({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }), env: { TOOLSHED_SNS_ENDPOINT: endpoint } } },
    });
    url = await app.http.listen({ host: '127.0.0.1', port: 0 });
    process.env.TOOLSHED_API_KEY = AUDITOR_KEY;
  });

  afterAll(async () => {
    process.env.TOOLSHED_API_KEY = savedKey;
    await app.close();
    await mongo.stop();
    await sns.stop();
    await db.drop();
  });

  it('check --dry-run sends nothing', async () => {
    const io = captureIo();
    expect(await main(['check', 'queue-backlog', '--dry-run', '--url', url], io)).toBe(0);
    expect(io.stderr).toEqual(['Dry run: nothing was sent and the state was not changed.']);
    expect(io.stdout).toContain('value: 1,500');
    expect(io.stdout).toContain('state: alerting (warning)');
    expect(io.stdout.join('\n')).toContain('would notify: ');
    expect(sns.published).toHaveLength(0);
  });

  it('check alerts through SNS', async () => {
    const io = captureIo();
    expect(await main(['check', 'queue-backlog', '--url', url], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('notified: ');
    expect(sns.published).toHaveLength(1);
    expect(sns.published[0]?.topicArn).toBe(TOPIC);
  });

  it('checks lists the state', async () => {
    const io = captureIo();
    expect(await main(['checks', '--url', url], io)).toBe(0);
    expect(io.stdout[1]).toMatch(/^queue-backlog\talerting \(warning\)\t1500\t/);
  });

  it('usage counts the runs', async () => {
    const io = captureIo();
    expect(await main(['usage', '--url', url, '--json'], io)).toBe(0);
    const usage = JSON.parse(io.stdout.join('\n')) as Array<{ tool: string; runs: number }>;
    expect(usage.find((row) => row.tool === 'queue-backlog')?.runs).toBe(2);
  });

  it('audit needs nothing audited to answer', async () => {
    const io = captureIo();
    expect(await main(['audit', '--url', url], io)).toBe(0);
    expect(io.stderr).toContain('No audit entries match.');
  });

  it('missing key exits 2 with a hint', async () => {
    const io = captureIo();
    delete process.env.TOOLSHED_API_KEY;
    try {
      expect(await main(['checks', '--url', url], io)).toBe(2);
    } finally {
      process.env.TOOLSHED_API_KEY = AUDITOR_KEY;
    }
    expect(io.stderr.join('\n')).toContain('Set TOOLSHED_API_KEY');
  });

  it('unreachable toolshed exits 1', async () => {
    const io = captureIo();
    expect(await main(['checks', '--url', 'http://127.0.0.1:1'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('Cannot reach toolshed at http://127.0.0.1:1');
  });
});

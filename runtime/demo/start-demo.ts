/** `toolshed demo`: the shipped tools served on demo data, with lines to try printed. */
import type { Logger } from 'pino';
import { createApp, type App } from '../app.js';
import { resolvePackagePath } from '../package-root.js';
import { DEFAULT_BODY_LIMIT, DEFAULT_RATE_PER_MINUTE, SLACK_DEFAULTS, type SlackConfig } from '../config/load-config.js';
import { openDemoDatabase } from './demo-database.js';
import { startDemoQueue } from './demo-queue.js';
import { startDemoAlerts } from './demo-alerts.js';
import { demoKeys, DEMO_KEYS_FILE } from './demo-keys.js';
import type { DemoSummary } from '../../examples/demo/generate.js';

export interface DemoOptions {
  workers: number;
  databaseUrl?: string;
  host: string;
  port: number;
  logger: Logger;
  /** Output function for the instructions; the CLI passes one that writes to stdout. */
  print: (line: string) => void;
}

/**
 * Slack settings of the demo when SLACK_SIGNING_SECRET is set: every verified Slack user has the
 * demo roles, so a workspace connected through a tunnel can try every tool.
 */
function demoSlackConfig(): SlackConfig | undefined {
  const secret = process.env.SLACK_SIGNING_SECRET;
  if (secret === undefined || secret === '') return undefined;
  return { signingSecrets: [secret], command: SLACK_DEFAULTS.command, ackBudgetMs: SLACK_DEFAULTS.ackBudgetMs, responseUrlHosts: [...SLACK_DEFAULTS.responseUrlHosts], botToken: undefined, apiUrl: SLACK_DEFAULTS.apiUrl, defaultRoles: DEMO_ROLES, users: {}, userGroups: {} };
}

/** Roles the demo key holds, so that every shipped tool can be tried. */
const DEMO_ROLES = ['support', 'support-lead', 'auditor', 'marketing'];

export async function startDemo(options: DemoOptions): Promise<{ app: App; url: string; apiKey: string; summary: DemoSummary }> {
  const where = options.databaseUrl === undefined ? 'an embedded PostgreSQL (PGlite)' : 'the PostgreSQL server, schema toolshed_demo';
  options.print(`Loading ${options.workers.toLocaleString('en-US')} demo workers into ${where}...`);
  const { database, summary } = await openDemoDatabase({ workers: options.workers, databaseUrl: options.databaseUrl });

  const queue = await startDemoQueue();
  const alerts = await startDemoAlerts(options.print);
  const { lead: apiKey, csm: csmKey } = await demoKeys();
  const app = await createApp({
    toolsDir: resolvePackagePath('tools'),
    databases: new Map([['default', database]]),
    apiKeys: [
      { name: 'demo-lead', key: apiKey, roles: DEMO_ROLES },
      { name: 'demo-csm', key: csmKey, roles: ['support'] },
    ],
    logger: options.logger,
    bodyLimit: DEFAULT_BODY_LIMIT,
    rateLimits: { perMinute: DEFAULT_RATE_PER_MINUTE, tools: {} },
    mongo: new Map([['queue', queue.connection]]),
    notifierOptions: alerts.notifierOptions,
    notifierEnv: alerts.env,
    routes: [queue.plugin],
    slack: demoSlackConfig(),
  });
  const close = app.close;
  app.close = async () => {
    await close();
    await queue.stop();
    await alerts.stop();
  };
  const address = await app.http.listen({ host: options.host, port: options.port });
  const url = address.replace('://[::1]', '://localhost');

  printInstructions(options.print, url, { apiKey, csmKey }, summary, app);
  return { app, url, apiKey, summary };
}

function printInstructions(print: (line: string) => void, url: string, keys: { apiKey: string; csmKey: string }, summary: DemoSummary, app: App): void {
  const { apiKey, csmKey } = keys;
  const tools = [...app.engine.tools.keys()].sort().join(', ');
  print('');
  print(`toolshed demo is serving ${app.engine.tools.size} tool(s) on ${url}: ${tools}`);
  print(`Demo data: ${summary.workers} workers, ${summary.tickets} tickets, ${summary.applications} ticket applications, ${summary.devices} devices.`);
  print('');
  print(`Try it (the API keys stay the same across restarts; delete ${DEMO_KEYS_FILE} for new ones):`);
  print(`  export TOOLSHED_API_KEY=${apiKey}`);
  print(`  curl -s -X POST ${url}/tools/worker-lookup/run -H "Authorization: Bearer $TOOLSHED_API_KEY" -H 'content-type: application/json' -d '{"email": "${summary.sampleEmail}"}'`);
  print(`  curl -s -X POST ${url}/tools/worker-lookup/run -H "Authorization: Bearer $TOOLSHED_API_KEY" -d 'email=nobody@example.com'`);
  print(`  curl -s ${url}/tools -H "Authorization: Bearer $TOOLSHED_API_KEY"`);
  print('');
  print('Lift a blacklist (role support-lead): the first call previews and returns a confirmation token, the second executes.');
  print(`  curl -s -X POST ${url}/tools/unblacklist-worker/run -H "Authorization: Bearer $TOOLSHED_API_KEY" -H 'content-type: application/json' -d '{"email": "${summary.blacklistedEmail}", "reason": "Blacklisted by mistake"}'`);
  print(`  curl -s -X POST ${url}/tools/unblacklist-worker/run -H "Authorization: Bearer $TOOLSHED_API_KEY" -H 'content-type: application/json' -d '{"email": "${summary.blacklistedEmail}", "reason": "Blacklisted by mistake", "confirmation_token": "TOKEN"}'`);
  print(`  ${summary.doubleBlacklistedEmail} has two blacklisted applications, so the tool refuses to change anything.`);
  print(`  A CSM key without the role is refused: export TOOLSHED_CSM_KEY=${csmKey}`);
  print(`  The audit log: TOOLSHED_API_KEY=$TOOLSHED_API_KEY npx toolshed audit --url ${url}   and   npx toolshed usage --url ${url}`);
  print('');
  print(`Scheduled check queue-backlog (every 20 minutes; warning above 1,000 pending, critical above 10,000). Grow the queue, then evaluate now:`);
  print(`  curl -s -X POST ${url}/demo/queue -H "Authorization: Bearer $TOOLSHED_API_KEY" -H 'content-type: application/json' -d '{"pending": 12000}'`);
  print(`  curl -s -X POST ${url}/checks/queue-backlog/evaluate -H "Authorization: Bearer $TOOLSHED_API_KEY"`);
  print(`  curl -s ${url}/checks -H "Authorization: Bearer $TOOLSHED_API_KEY"`);
  print('  Alerts print here as they reach the local SNS endpoint and Slack webhook.');
  print('');
  print('From the CLI, in another terminal (it uses its own copy of the demo data):');
  print(`  npx toolshed run worker-lookup ${summary.sampleEmail}`);
  print(`  npx toolshed list`);
  print('');
  if (demoSlackConfig() !== undefined) {
    print('Slack: SLACK_SIGNING_SECRET is set, so POST /slack/commands and /slack/interactions answer; every verified Slack user has the demo roles.');
    print('');
  }
  print('Press Ctrl+C to stop.');
}

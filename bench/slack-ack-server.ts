/**
 * toolshed as bench/slack-ack.ts measures it: createApp with the benchmark's tool directory, the
 * PostgreSQL connection "default" (a pool of BENCH_MAX_CONNECTIONS) and POST /slack/commands. The logger is at level warn, so failed
 * response_url posts and engine errors are printed but the per-request log is not.
 *
 * Runs as a child process of bench/slack-ack.ts, which sets these environment variables:
 * BENCH_DATABASE_URL, BENCH_TOOLS_DIR, BENCH_SLACK_SIGNING_SECRET, BENCH_ACK_BUDGET_MS
 * (slack.ack_budget_ms), BENCH_RESPONSE_URL_HOST (host:port of the response_url recorder) and
 * BENCH_MAX_CONNECTIONS (the PostgreSQL pool size).
 */
import { createApp } from '../runtime/app.js';
import { DEFAULT_BODY_LIMIT, SLACK_DEFAULTS, type SlackConfig } from '../runtime/config/load-config.js';
import { PgDatabase } from '../runtime/connectors/postgres/pg-database.js';
import { createLogger } from '../runtime/logger.js';
import { serveForParent } from './child-server.js';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`the environment variable ${name} is not set; start this server through bench/slack-ack.ts`);
  return value;
}

function wholeNumberEnv(name: string): number {
  const text = requiredEnv(name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`the environment variable ${name} must be a whole number of at least 0, got "${text}"`);
  return value;
}

const slack: SlackConfig = {
  signingSecrets: [requiredEnv('BENCH_SLACK_SIGNING_SECRET')],
  command: SLACK_DEFAULTS.command,
  ackBudgetMs: wholeNumberEnv('BENCH_ACK_BUDGET_MS'),
  responseUrlHosts: [requiredEnv('BENCH_RESPONSE_URL_HOST')],
  botToken: undefined,
  apiUrl: SLACK_DEFAULTS.apiUrl,
  defaultRoles: [],
  users: {},
  userGroups: {},
};

const database = new PgDatabase({ url: requiredEnv('BENCH_DATABASE_URL'), maxConnections: wholeNumberEnv('BENCH_MAX_CONNECTIONS') });

const app = await createApp({
  toolsDir: requiredEnv('BENCH_TOOLS_DIR'),
  databases: new Map([['default', database]]),
  apiKeys: [],
  logger: createLogger({ level: 'warn' }),
  bodyLimit: DEFAULT_BODY_LIMIT,
  strict: true,
  slack,
});

await serveForParent(app.http, () => app.close());

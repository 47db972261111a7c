/**
 * Assembles a running toolshed from its parts: tool files, databases, the audit log, the engine
 * and the HTTP server. `toolshed serve` and `toolshed demo` both start through here.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Engine, type RateLimits } from './engine/engine.js';
import type { Database } from './connectors/postgres/database.js';
import { loadToolDir, type LoadedTools } from './tool/load-dir.js';
import { formatProblem } from './tool/problem.js';
import { buildHttpServer } from './surfaces/http/server.js';
import { ApiKeys } from './surfaces/http/api-keys.js';
import type { ApiKeyConfig, SlackConfig } from './config/load-config.js';
import { slackCommandsPlugin } from './surfaces/slack/commands-route.js';
import { slackInteractionsPlugin } from './surfaces/slack/interactions-route.js';
import { AuditLog } from './audit/audit-log.js';
import { UsageLog } from './audit/usage-log.js';
import { ensureRuntimeTables } from './audit/runtime-tables.js';
import type { ChecksService } from './checks/checks-service.js';
import type { MongoConnection } from './connectors/mongodb/mongo-connection.js';
import type { NotifierOptions } from './notify/create-notifier.js';

export interface AppOptions {
  toolsDir: string;
  databases: ReadonlyMap<string, Database>;
  apiKeys: readonly ApiKeyConfig[];
  logger: Logger;
  bodyLimit: number;
  /** Refuse to start when any tool file has problems, instead of serving the valid ones. */
  strict?: boolean;
  /** Serves POST /slack/commands and /slack/interactions when set. */
  slack?: SlackConfig;
  /** Connection whose database contains the audit log and the other toolshed_* tables. Default: default. */
  auditConnection?: string;
  confirmationSecret?: string;
  rateLimits?: RateLimits;
  /** MongoDB connections by name. */
  mongo?: ReadonlyMap<string, MongoConnection>;
  /** Starts the scheduler of checks; tests evaluate checks themselves. Default true. */
  schedule?: boolean;
  notifierOptions?: NotifierOptions;
  /** Environment that `${env:NAME}` in notifier settings is read from. Default: process.env. */
  notifierEnv?: NodeJS.ProcessEnv;
  /** More authenticated routes, such as the demo's. */
  routes?: Array<(app: FastifyInstance) => void>;
}

export interface App {
  engine: Engine;
  http: FastifyInstance;
  loaded: LoadedTools;
  audit: AuditLog | undefined;
  usage: UsageLog | undefined;
  checks: ChecksService | undefined;
  close(): Promise<void>;
}

export class StartupError extends Error {
  constructor(message: string, readonly problems: string[] = []) {
    super(message);
    this.name = 'StartupError';
  }
}

export async function createApp(options: AppOptions): Promise<App> {
  const mongo = options.mongo ?? new Map<string, MongoConnection>();
  const connectionTypes: Record<string, 'postgres' | 'mongodb'> = Object.fromEntries([...[...options.databases.keys()].map((name) => [name, 'postgres'] as const), ...[...mongo.keys()].map((name) => [name, 'mongodb'] as const)]);
  const loaded = await loadToolDir(options.toolsDir, { connections: Object.keys(connectionTypes), connectionTypes });
  const problems = loaded.problems.map(formatProblem);
  if (problems.length > 0) {
    if (options.strict === true) throw new StartupError(`${problems.length} problem(s) in tool files; --strict refuses to start`, problems);
    const invalidFiles = new Set(loaded.problems.map((problem) => problem.file));
    options.logger.warn({ problems, excluded_files: [...invalidFiles] }, `${invalidFiles.size} tool file(s) have problems and are not served; run toolshed validate for details`);
  }

  const { audit, usage } = await openAuditLog(options);
  if (options.confirmationSecret === undefined && loaded.tools.some((tool) => tool.writes)) {
    options.logger.warn('confirmation_secret is not set, so a write tool preview can be confirmed only on the process that made it');
  }
  const engine = new Engine({ tools: loaded.tools, databases: options.databases, logger: options.logger, audit, usage, confirmationSecret: options.confirmationSecret, rateLimits: options.rateLimits, mongo, excluded: loaded.excluded });
  // Loaded only when a tool has a check, so a server without checks does not load the AWS SDK and the scheduler.
  const hasChecks = loaded.tools.some((tool) => tool.check !== undefined);
  const checks = audit === undefined || !hasChecks ? undefined : new (await import('./checks/checks-service.js')).ChecksService({ engine, database: audit.database, logger: options.logger, notifierOptions: options.notifierOptions, env: options.notifierEnv });
  if (checks !== undefined && checks.size > 0 && options.schedule !== false) {
    await checks.start().catch((error: unknown) => options.logger.error({ detail: (error as Error).message }, 'starting scheduled checks failed; they do not run until toolshed restarts'));
  }
  const plugins: Array<(app: FastifyInstance) => Promise<void> | void> = [...(options.routes ?? [])];
  if (options.slack !== undefined) plugins.push(slackCommandsPlugin({ engine, config: options.slack, logger: options.logger }), slackInteractionsPlugin({ engine, config: options.slack, logger: options.logger }));
  const http = await buildHttpServer({ engine, apiKeys: new ApiKeys(options.apiKeys), logger: options.logger, bodyLimit: options.bodyLimit, plugins, audit, usage, checks: checks !== undefined && checks.size > 0 ? checks : undefined });
  return {
    engine,
    http,
    loaded,
    audit,
    usage,
    checks,
    close: async () => {
      await checks?.stop();
      await http.close();
      await Promise.all([...mongo.values()].map((connection) => connection.close()));
      await usage?.flush();
      await Promise.all([...options.databases.values()].map((database) => database.close()));
    },
  };
}

async function openAuditLog(options: AppOptions): Promise<{ audit: AuditLog | undefined; usage: UsageLog | undefined }> {
  const name = options.auditConnection ?? 'default';
  const database = options.databases.get(name);
  if (database === undefined) {
    options.logger.warn({ connection: name }, 'no connection for the audit log, so write tools and audited tools cannot run');
    return { audit: undefined, usage: undefined };
  }
  try {
    await ensureRuntimeTables(database);
  } catch (error) {
    // The database may be down at startup; reads still work once it is back, writes fail safely.
    options.logger.error({ connection: name, detail: (error as Error).message }, 'creating the audit tables failed; write tools will fail until they exist');
  }
  return { audit: new AuditLog(database), usage: new UsageLog(database, options.logger) };
}

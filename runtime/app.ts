/**
 * Assembles a running toolshed from its parts: tool files, databases, the engine and the HTTP
 * server. `toolshed serve` and `toolshed demo` both start through here.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Engine } from './engine/engine.js';
import type { Database } from './connectors/postgres/database.js';
import { loadToolDir, type LoadedTools } from './tool/load-dir.js';
import { formatProblem } from './tool/problem.js';
import { buildHttpServer } from './surfaces/http/server.js';
import { ApiKeys } from './surfaces/http/api-keys.js';
import type { ApiKeyConfig, SlackConfig } from './config/load-config.js';
import { slackCommandsPlugin } from './surfaces/slack/commands-route.js';

export interface AppOptions {
  toolsDir: string;
  databases: ReadonlyMap<string, Database>;
  apiKeys: readonly ApiKeyConfig[];
  logger: Logger;
  bodyLimit: number;
  /** Refuse to start when any tool file has problems, instead of serving the valid ones. */
  strict?: boolean;
  /** Serves POST /slack/commands when set. */
  slack?: SlackConfig;
}

export interface App {
  engine: Engine;
  http: FastifyInstance;
  loaded: LoadedTools;
  close(): Promise<void>;
}

export class StartupError extends Error {
  constructor(message: string, readonly problems: string[] = []) {
    super(message);
    this.name = 'StartupError';
  }
}

export async function createApp(options: AppOptions): Promise<App> {
  const loaded = await loadToolDir(options.toolsDir, { connections: [...options.databases.keys()] });
  const problems = loaded.problems.map(formatProblem);
  if (problems.length > 0) {
    if (options.strict === true) throw new StartupError(`${problems.length} problem(s) in tool files; --strict refuses to start`, problems);
    const invalidFiles = new Set(loaded.problems.map((problem) => problem.file));
    options.logger.warn({ problems, excluded_files: [...invalidFiles] }, `${invalidFiles.size} tool file(s) have problems and are not served; run toolshed validate for details`);
  }

  const engine = new Engine({ tools: loaded.tools, databases: options.databases, logger: options.logger });
  const plugins = options.slack === undefined ? [] : [slackCommandsPlugin({ engine, config: options.slack, logger: options.logger })];
  const http = await buildHttpServer({ engine, apiKeys: new ApiKeys(options.apiKeys), logger: options.logger, bodyLimit: options.bodyLimit, plugins });
  return {
    engine,
    http,
    loaded,
    close: async () => {
      await http.close();
      await Promise.all([...options.databases.values()].map((database) => database.close()));
    },
  };
}

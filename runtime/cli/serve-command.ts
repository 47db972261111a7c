/** `toolshed serve`: the HTTP server with toolshed.yaml's databases and keys, until a signal stops it. */
import { createApp, StartupError, type App } from '../app.js';
import { createLogger } from '../logger.js';
import { CONFIG_FILE, openDatabases, openMongoConnections, readConfig, toolsDirectory, type CommonOptions } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './main.js';

interface ServeOptions extends CommonOptions {
  host?: string;
  port?: number;
  strict?: boolean;
}

export async function runServe(options: ServeOptions, io: CliIo): Promise<number> {
  const config = await readConfig(options);
  if (config === undefined) throw new CliError(`serve needs a configuration file: create ${CONFIG_FILE} (see the README) or pass --config FILE. To try toolshed without one, run: toolshed demo`);
  if (Object.keys(config.connections).length === 0) throw new CliError(`${config.file} declares no connections; add one under connections: (see the README)`);
  if (config.apiKeys.length === 0) io.err(`${config.file} declares no api_keys, so every /tools request will be rejected with 401.`);

  const logger = createLogger();
  let app: App;
  try {
    app = await createApp({ toolsDir: toolsDirectory(options, config), databases: openDatabases(config), mongo: await openMongoConnections(config), apiKeys: config.apiKeys, logger, bodyLimit: config.server.bodyLimit, strict: options.strict, slack: config.slack, auditConnection: config.auditConnection, confirmationSecret: config.confirmationSecret, rateLimits: config.rateLimits });
  } catch (error) {
    if (error instanceof StartupError) throw new CliError([...error.problems, error.message].join('\n'));
    throw error;
  }
  await app.http.listen({ host: options.host ?? config.server.host, port: options.port ?? config.server.port });
  stopOnSignal(app, logger.info.bind(logger));
  return EXIT.OK;
}

/** Closes the server and the database pools on SIGINT or SIGTERM, letting running requests finish. */
export function stopOnSignal(app: App, log: (message: string) => void): void {
  const stop = (signal: string): void => {
    log(`received ${signal}, stopping`);
    app.close().then(
      () => process.exit(EXIT.OK),
      () => process.exit(EXIT.TOOL_FAILED),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

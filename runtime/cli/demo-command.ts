/** `toolshed demo`: demo data in an embedded PostgreSQL, the shipped tools served on it. */
import { startDemo } from '../demo/start-demo.js';
import { createLogger } from '../logger.js';
import { EXIT } from './exit-codes.js';
import { stopOnSignal } from './serve-command.js';
import type { CliIo } from './main.js';

interface DemoCommandOptions {
  workers: number;
  databaseUrl?: string;
  host: string;
  port: number;
}

export async function runDemo(options: DemoCommandOptions, io: CliIo): Promise<number> {
  const logger = createLogger();
  const demo = await startDemo({ ...options, logger, print: io.out });
  stopOnSignal(demo.app, logger.info.bind(logger));
  return EXIT.OK;
}

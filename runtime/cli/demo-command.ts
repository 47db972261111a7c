/** `toolshed demo`: demo data in an embedded PostgreSQL, the shipped tools served on it. */
import { startDemo } from '../demo/start-demo.js';
import { createLogger } from '../logger.js';
import { EXIT } from './exit-codes.js';
import { stopOnSignal } from './serve-command.js';
import type { CliIo } from './main.js';
import { CliError } from './exit-codes.js';
import net from 'node:net';

/** Fails fast when the port is taken, before minutes of loading demo data. */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new CliError(`Port ${port} on ${host} is already in use. Stop what uses it, or pick another port: npm start -- --port ${port + 1}`) : error);
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

interface DemoCommandOptions {
  workers: number;
  databaseUrl?: string;
  host: string;
  port: number;
}

export async function runDemo(options: DemoCommandOptions, io: CliIo): Promise<number> {
  await assertPortFree(options.host, options.port);
  const logger = createLogger();
  const demo = await startDemo({ ...options, logger, print: io.out });
  stopOnSignal(demo.app, logger.info.bind(logger));
  return EXIT.OK;
}

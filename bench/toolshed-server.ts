/**
 * toolshed as bench/lookup.ts measures it: createApp with the repository's tools/ directory, one
 * PostgreSQL connection (a pool of 10, search_path toolshed_demo) and one API key. The logger is
 * at level warn, so neither Fastify's request log nor the engine's "tool run" entries are written.
 *
 * Runs as a child process of bench/lookup.ts, which sets BENCH_DATABASE_URL and BENCH_API_KEY.
 */
import { fileURLToPath } from 'node:url';
import { createApp } from '../runtime/app.js';
import { DEFAULT_BODY_LIMIT } from '../runtime/config/load-config.js';
import { PgDatabase } from '../runtime/connectors/postgres/pg-database.js';
import { DEMO_SCHEMA } from '../runtime/demo/demo-database.js';
import { createLogger } from '../runtime/logger.js';
import { requireEnv, serveForParent } from './child-server.js';

const toolsDir = fileURLToPath(new URL('../tools', import.meta.url));
const database = new PgDatabase({ url: requireEnv('BENCH_DATABASE_URL'), searchPath: [DEMO_SCHEMA] });

const app = await createApp({
  toolsDir,
  databases: new Map([['default', database]]),
  apiKeys: [{ name: 'bench', key: requireEnv('BENCH_API_KEY'), roles: [] }],
  logger: createLogger({ level: 'warn' }),
  bodyLimit: DEFAULT_BODY_LIMIT,
});

await serveForParent(app.http, () => app.close());

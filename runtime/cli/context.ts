/**
 * What a CLI command runs against: toolshed.yaml when there is one, otherwise the shipped tools
 * and the embedded demo database.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { loadConfig, ConfigError, type Config } from '../config/load-config.js';
import { PgDatabase } from '../connectors/postgres/pg-database.js';
import type { MongoConnection } from '../connectors/mongodb/mongo-connection.js';
import type { Database } from '../connectors/postgres/database.js';
import { resolvePackagePath } from '../package-root.js';
import type { Principal } from '../engine/principal.js';
import { CliError } from './exit-codes.js';

export const CONFIG_FILE = 'toolshed.yaml';
import { CLI_DEMO_WORKERS } from './defaults.js';

export interface CommonOptions {
  config?: string;
  tools?: string;
}

/** Connections toolshed has without a configuration: the demo's PostgreSQL and its MongoDB queue. */
export const DEMO_CONNECTIONS: Readonly<Record<string, 'postgres' | 'mongodb'>> = { default: 'postgres', queue: 'mongodb' };

/** Returns the connection names and kinds the loader checks steps against. */
export function loadContext(config: Config | undefined): { connections: string[]; connectionTypes: Record<string, 'postgres' | 'mongodb'> } {
  const types = config === undefined ? { ...DEMO_CONNECTIONS } : Object.fromEntries(Object.entries(config.connections).map(([name, connection]) => [name, connection.type]));
  return { connections: Object.keys(types), connectionTypes: types };
}

/** Reads --config, or ./toolshed.yaml when present; undefined means demo mode. */
export async function readConfig(options: CommonOptions): Promise<Config | undefined> {
  const file = options.config ?? (existsSync(CONFIG_FILE) ? CONFIG_FILE : undefined);
  if (file === undefined) return undefined;
  try {
    return await loadConfig(resolve(file));
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** --tools, else the config's tools_dir, else ./tools, else the tools shipped with toolshed. */
export function toolsDirectory(options: CommonOptions, config: Config | undefined): string {
  if (options.tools !== undefined) return resolve(options.tools);
  if (config !== undefined) return config.toolsDir;
  return existsSync('tools') ? resolve('tools') : resolvePackagePath('tools');
}

/** Opens the PostgreSQL connections of the configuration. */
export function openDatabases(config: Config): Map<string, Database> {
  const postgres = Object.entries(config.connections).filter(([, connection]) => connection.type === 'postgres');
  return new Map(postgres.map(([name, connection]) => [name, new PgDatabase({ url: connection.url, maxConnections: connection.maxConnections })]));
}

/** Opens the MongoDB connections of the configuration. */
export async function openMongoConnections(config: Config): Promise<Map<string, MongoConnection>> {
  const mongo = Object.entries(config.connections).filter(([, connection]) => connection.type === 'mongodb');
  if (mongo.length === 0) return new Map();
  // The driver loads only when a MongoDB connection is configured.
  const { MongoConnection: Connection } = await import('../connectors/mongodb/mongo-connection.js');
  return new Map(mongo.map(([name, connection]) => [name, new Connection({ url: connection.url, database: connection.database })]));
}

/** Databases for a one-off command: configured ones, a --database-url, or the demo data. */
export async function databasesForRun(config: Config | undefined, databaseUrl: string | undefined, print: (line: string) => void): Promise<Map<string, Database>> {
  if (config !== undefined && databaseUrl === undefined) return openDatabases(config);
  if (databaseUrl !== undefined) return new Map([['default', new PgDatabase({ url: databaseUrl })]]);
  print(`No ${CONFIG_FILE} here, so this runs on a fresh embedded demo database of ${CLI_DEMO_WORKERS.toLocaleString('en-US')} workers. The demo server has more, so its tickets and applications differ; use --database-url or a toolshed.yaml to run against the same data.`);
  const { openDemoDatabase } = await import('../demo/demo-database.js');
  const demo = await openDemoDatabase({ workers: CLI_DEMO_WORKERS });
  return new Map([['default', demo.database]]);
}

/** Returns the operator running the CLI: their login name, with the roles the configuration grants. */
export function cliPrincipal(config: Config | undefined): Principal {
  const name = safeUserName();
  const roles = config === undefined ? ['support', 'support-lead', 'auditor', 'marketing'] : config.cliRoles;
  return { id: `cli:${name}`, name, roles };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'operator';
  }
}

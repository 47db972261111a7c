/**
 * Reads toolshed.yaml: connections, API keys and server settings. String values may be
 * `${env:NAME}`. A variable that is not set is a startup error that names the variable. No value
 * is ever printed, because values here are usually secrets.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { YamlSource } from '../tool/yaml-source.js';
import { checkAgainstSchema } from '../tool/schema-check.js';
import { formatProblem } from '../tool/problem.js';

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Shortest API key accepted: about 128 bits of randomness in base64. */
export const MIN_API_KEY_LENGTH = 24;
/** Runs per minute per principal and tool when toolshed.yaml sets no rate_limits. */
export const DEFAULT_RATE_PER_MINUTE = 120;

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface ConnectionConfig {
  type: 'postgres' | 'mongodb';
  url: string;
  maxConnections: number | undefined;
  /** For mongodb: the database name. */
  database: string | undefined;
}

export interface ApiKeyConfig {
  name: string;
  key: string;
  roles: string[];
}

export interface SlackConfig {
  signingSecrets: string[];
  command: string;
  ackBudgetMs: number;
  responseUrlHosts: string[];
  botToken: string | undefined;
  apiUrl: string;
  defaultRoles: string[];
  /** Roles by `TEAM_ID/USER_ID`. */
  users: Record<string, string[]>;
  /** Roles by user group id. */
  userGroups: Record<string, string[]>;
}

export const SLACK_DEFAULTS = {
  command: '/toolshed',
  ackBudgetMs: 50,
  responseUrlHosts: ['hooks.slack.com'],
  apiUrl: 'https://slack.com/api',
} as const;

export interface Config {
  /** The file read, or undefined when toolshed runs without one. */
  file: string | undefined;
  toolsDir: string;
  connections: Record<string, ConnectionConfig>;
  server: { host: string; port: number; bodyLimit: number };
  apiKeys: ApiKeyConfig[];
  /** Roles of the operator who runs the CLI with this file. */
  cliRoles: string[];
  slack: SlackConfig | undefined;
  confirmationSecret: string | undefined;
  auditConnection: string;
  rateLimits: { perMinute: number; tools: Record<string, number> };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

interface ConfigFile {
  tools_dir?: string;
  connections?: Record<string, { type: 'postgres' | 'mongodb'; url: string; max_connections?: number; database?: string }>;
  server?: { host?: string; port?: number | string; body_limit?: number };
  api_keys?: Array<{ name: string; key: string; roles?: string[] }>;
  cli?: { roles?: string[] };
  confirmation_secret?: string;
  audit?: { connection?: string };
  rate_limits?: { per_minute?: number; tools?: Record<string, number> };
  slack?: {
    signing_secrets: string[];
    command?: string;
    ack_budget_ms?: number;
    response_url_hosts?: string[];
    bot_token?: string;
    api_url?: string;
    default_roles?: string[];
    users?: Record<string, string[]>;
    user_groups?: Record<string, string[]>;
  };
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: cannot read the configuration file (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path given with --config`]);
  }
  return parseConfig(file, text, env);
}

export function parseConfig(file: string, text: string, env: NodeJS.ProcessEnv = process.env): Config {
  const source = new YamlSource(file, text);
  const syntax = source.syntaxProblems();
  if (syntax.length > 0) throw new ConfigError(syntax.map(formatProblem));

  const raw: unknown = source.document.toJS() ?? {};
  const missing = new Set<string>();
  const value = substituteEnv(raw, env, missing);
  if (missing.size > 0) {
    const names = [...missing].sort();
    throw new ConfigError([`${file}: the environment variable${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} not set; set ${names.length > 1 ? 'them' : 'it'} before starting toolshed`]);
  }

  const problems = checkAgainstSchema(source, value, 'config').map(formatProblem);
  const config = value as ConfigFile;
  for (const [index, entry] of (Array.isArray(config.api_keys) ? config.api_keys : []).entries()) {
    if (typeof entry?.key === 'string' && entry.key.length < MIN_API_KEY_LENGTH) {
      const position = source.locate(['api_keys', index, 'key']);
      problems.push(`${file}:${position.line}:${position.column}: api_keys[${index}].key is too short (${entry.key.length} characters); use at least ${MIN_API_KEY_LENGTH} random characters, for example from: openssl rand -base64 24`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const port = Number(config.server?.port ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError([`${file}: server.port must be a whole number from 0 to 65535`]);

  return {
    file,
    toolsDir: resolve(dirname(file), config.tools_dir ?? 'tools'),
    connections: Object.fromEntries(Object.entries(config.connections ?? {}).map(([name, connection]) => [name, { type: connection.type, url: connection.url, maxConnections: connection.max_connections, database: connection.database }])),
    server: { host: config.server?.host ?? DEFAULT_HOST, port, bodyLimit: config.server?.body_limit ?? DEFAULT_BODY_LIMIT },
    apiKeys: (config.api_keys ?? []).map((entry) => ({ name: entry.name, key: entry.key, roles: entry.roles ?? [] })),
    cliRoles: config.cli?.roles ?? [],
    slack: config.slack === undefined ? undefined : slackConfig(config.slack),
    confirmationSecret: config.confirmation_secret,
    auditConnection: config.audit?.connection ?? 'default',
    rateLimits: { perMinute: config.rate_limits?.per_minute ?? DEFAULT_RATE_PER_MINUTE, tools: config.rate_limits?.tools ?? {} },
  };
}

function slackConfig(slack: NonNullable<ConfigFile['slack']>): SlackConfig {
  return {
    signingSecrets: slack.signing_secrets,
    command: slack.command ?? SLACK_DEFAULTS.command,
    ackBudgetMs: slack.ack_budget_ms ?? SLACK_DEFAULTS.ackBudgetMs,
    responseUrlHosts: slack.response_url_hosts ?? [...SLACK_DEFAULTS.responseUrlHosts],
    botToken: slack.bot_token,
    apiUrl: slack.api_url ?? SLACK_DEFAULTS.apiUrl,
    defaultRoles: slack.default_roles ?? [],
    users: slack.users ?? {},
    userGroups: slack.user_groups ?? {},
  };
}

/** Replaces `${env:NAME}` in every string; collects the names that are not set. */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_, name: string) => {
      const replacement = env[name];
      if (replacement === undefined || replacement === '') {
        missing.add(name);
        return '';
      }
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((item) => substituteEnv(item, env, missing));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, missing)]));
  }
  return value;
}

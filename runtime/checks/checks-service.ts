/**
 * Scheduled checks of a running toolshed: creates each check's notifiers, migrates the check
 * tables, arms the scheduler and returns what GET /checks and `toolshed checks` show.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { Database } from '../connectors/postgres/database.js';
import type { Tool } from '../tool/types.js';
import type { Notifier, NotifierSpec } from '../notify/types.js';
import { createNotifier, type NotifierOptions } from '../notify/create-notifier.js';
import { CheckStore } from './check-store.js';
import { CheckRunner, type CheckReport } from './check-runner.js';
import { Scheduler } from './scheduler.js';
import { nextSlot } from './schedule.js';
import type { CheckState } from './types.js';

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
/**
 * Evaluations running at once. Each takes a database connection several times, so a burst of
 * checks sharing one slot would otherwise hold the whole pool and make HTTP and Slack runs wait.
 */
const MAX_CONCURRENT_EVALUATIONS = 4;

export interface ChecksServiceOptions {
  engine: Engine;
  /** Database that contains the check state tables. */
  database: Database;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  notifierOptions?: NotifierOptions;
}

export interface CheckSummary {
  tool: string;
  schedule: string;
  timezone: string;
  status: CheckState['status'];
  level: CheckState['level'];
  last_value: number | undefined;
  last_evaluated_at: string | undefined;
  next_run: string;
  notifiers: string[];
}

export class ChecksService {
  readonly store: CheckStore;
  private readonly runner: CheckRunner;
  private readonly scheduler: Scheduler;
  private readonly tools: Tool[];
  private readonly notifiers = new Map<string, Notifier[]>();
  private readonly limit = pLimit(MAX_CONCURRENT_EVALUATIONS);
  private migration: Promise<void> | undefined;

  constructor(private readonly options: ChecksServiceOptions) {
    this.tools = [...options.engine.tools.values()].filter((tool) => tool.check !== undefined);
    this.store = new CheckStore(options.database);
    for (const tool of this.tools) this.notifiers.set(tool.name, this.createNotifiers(tool));
    this.runner = new CheckRunner({ engine: options.engine, store: this.store, logger: options.logger, notifiers: this.notifiers, instanceId: randomUUID() });
    this.scheduler = new Scheduler({
      checks: this.tools.map((tool) => tool.check?.spec).filter((spec) => spec !== undefined),
      logger: options.logger,
      run: async (spec, slot) => {
        const tool = this.tools.find((candidate) => candidate.name === spec.tool);
        if (tool !== undefined) await this.limit(() => this.runner.evaluate(tool, slot, { claim: true, dryRun: false }));
      },
    });
  }

  get size(): number {
    return this.tools.length;
  }

  async start(): Promise<void> {
    if (this.tools.length === 0) return;
    await this.migrated();
    this.scheduler.start();
    this.options.logger.info({ checks: this.tools.map((tool) => tool.name) }, 'scheduled checks started');
  }

  /** Creates the check tables once per process; every method that reads or writes them waits for it. */
  private migrated(): Promise<void> {
    this.migration ??= this.store.migrate().catch((error: unknown) => {
      this.migration = undefined;
      throw error;
    });
    return this.migration;
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
  }

  /** Evaluates a check now, outside its schedule; `dryRun` sends nothing and changes no state. */
  async evaluateNow(toolName: string, dryRun: boolean): Promise<CheckReport | undefined> {
    const tool = this.tools.find((candidate) => candidate.name === toolName);
    if (tool === undefined) return undefined;
    await this.migrated();
    return this.runner.evaluate(tool, new Date(), { claim: false, dryRun });
  }

  async list(): Promise<CheckSummary[]> {
    await this.migrated();
    const states = new Map((await this.store.listStates()).map((entry) => [entry.tool, entry.state]));
    return this.tools.map((tool) => {
      const spec = tool.check?.spec;
      const state = states.get(tool.name);
      return {
        tool: tool.name,
        schedule: spec?.schedule ?? '',
        timezone: spec?.timezone ?? 'UTC',
        status: state?.status ?? 'ok',
        level: state?.level,
        last_value: state?.lastValue,
        last_evaluated_at: state?.lastEvaluatedAt,
        next_run: spec === undefined ? '' : nextSlot(spec.schedule, spec.timezone, new Date()).toISOString(),
        notifiers: (this.notifiers.get(tool.name) ?? []).map((notifier) => notifier.name),
      };
    });
  }

  async detail(toolName: string): Promise<{ summary: CheckSummary; evaluations: unknown[] } | undefined> {
    const summary = (await this.list()).find((entry) => entry.tool === toolName);
    if (summary === undefined) return undefined;
    return { summary, evaluations: await this.store.recentEvaluations(toolName, 20) };
  }

  /** Creates a tool's notifiers, resolving `${env:NAME}`; a notifier with an unset variable is skipped and logged. */
  private createNotifiers(tool: Tool): Notifier[] {
    const env = this.options.env ?? process.env;
    const notifiers: Notifier[] = [];
    for (const spec of tool.check?.notify ?? []) {
      const missing = new Set<string>();
      const resolved = resolveEnv(spec, env, missing) as NotifierSpec;
      if (missing.size > 0) {
        this.options.logger.warn({ tool: tool.name, notifier: spec.type, variables: [...missing] }, `a ${spec.type} notifier of ${tool.name} is skipped because ${[...missing].join(', ')} is not set`);
        continue;
      }
      try {
        notifiers.push(createNotifier(resolved, this.options.notifierOptions));
      } catch (error) {
        this.options.logger.warn({ tool: tool.name, notifier: spec.type, detail: (error as Error).message }, `a ${spec.type} notifier of ${tool.name} is skipped because its settings are invalid`);
      }
    }
    return notifiers;
  }
}

function resolveEnv(value: unknown, env: NodeJS.ProcessEnv, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_, name: string) => {
      const replacement = env[name];
      if (replacement === undefined || replacement === '') missing.add(name);
      return replacement ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item) => resolveEnv(item, env, missing));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveEnv(item, env, missing)]));
  return value;
}

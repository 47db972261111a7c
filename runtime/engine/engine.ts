/**
 * The engine: runs a tool by name for a principal on a surface, and returns the rendered text and
 * structured data or a runner-facing error. Every surface (HTTP, Slack, CLI, scheduler) calls this
 * and nothing else to run a tool.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ToolshedError, toToolshedError, type ErrorCode, type FieldError } from '../errors.js';
import type { Database } from '../connectors/postgres/database.js';
import type { Tool } from '../tool/types.js';
import { coerceInputs, type InputValues } from './inputs.js';
import type { Principal, Surface } from './principal.js';
import { runSteps, type StepsOutcome } from './run-steps.js';
import { databaseError } from './database-errors.js';

/** Escapes every string value in a render context for the surface the text goes to. */
export type EscapeValues = (value: unknown) => unknown;

export interface RunRequest {
  tool: string;
  inputs: Record<string, unknown>;
  surface: Surface;
  principal: Principal;
  /** Escaping for values inserted into the text; identity for plain text and JSON. */
  escape?: EscapeValues;
}

export interface RunSuccess {
  ok: true;
  runId: string;
  tool: string;
  /** True when an `expect: one` step found no row; `text` is then the tool's not-found message. */
  notFound: boolean;
  text: string;
  data: Record<string, unknown>;
  truncated: Array<{ step: string; limit: number }>;
  durationMs: number;
}

export interface RunFailure {
  ok: false;
  runId: string;
  tool: string;
  error: { code: ErrorCode; status: number; message: string; fields?: FieldError[] };
  durationMs: number;
}

export type RunOutcome = RunSuccess | RunFailure;

export interface EngineOptions {
  tools: readonly Tool[];
  databases: ReadonlyMap<string, Database>;
  logger: Logger;
}

const identity: EscapeValues = (value) => value;

export class Engine {
  readonly tools: ReadonlyMap<string, Tool>;
  readonly databases: ReadonlyMap<string, Database>;
  private readonly logger: Logger;

  constructor(options: EngineOptions) {
    this.tools = new Map(options.tools.map((tool) => [tool.name, tool]));
    this.databases = options.databases;
    this.logger = options.logger;
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    const runId = randomUUID();
    const started = performance.now();
    let outcome: RunOutcome;
    try {
      const success = await this.execute(request);
      outcome = { ok: true, runId, tool: request.tool, ...success, durationMs: elapsed(started) };
    } catch (caught) {
      const error = toToolshedError(caught);
      outcome = { ok: false, runId, tool: request.tool, error: publicError(error), durationMs: elapsed(started) };
      this.logFailure(request, outcome, error);
      return outcome;
    }
    this.logger.info({ run_id: runId, tool: request.tool, surface: request.surface, principal: request.principal.id, duration_ms: outcome.durationMs, outcome: outcome.notFound ? 'not_found' : 'ok' }, 'tool run');
    return outcome;
  }

  private async execute(request: RunRequest): Promise<Omit<RunSuccess, 'ok' | 'runId' | 'tool' | 'durationMs'>> {
    const tool = this.tools.get(request.tool);
    if (tool === undefined) throw new ToolshedError('TOOLSHED_ERR_TOOL_NOT_FOUND', `There is no tool named "${truncate(request.tool)}". List the tools with GET /tools or toolshed list.`);

    assertAllowed(tool, request.principal);
    const inputs = coerceInputs(tool, request.inputs);
    const database = this.databaseFor(tool);
    const steps = await this.withDeadline(tool, runSteps(tool, database, inputs));
    const escape = request.escape ?? identity;
    return render(tool, inputs, steps, escape);
  }

  /** The tools a principal may run, in name order. */
  toolsFor(principal: Principal): Tool[] {
    return [...this.tools.values()].filter((tool) => mayRun(tool, principal)).sort((a, b) => a.name.localeCompare(b.name));
  }

  private databaseFor(tool: Tool): Database {
    const name = tool.steps[0]?.connection ?? 'default';
    const database = this.databases.get(name);
    if (database === undefined) throw new ToolshedError('TOOLSHED_ERR_DB_UNAVAILABLE', `The connection "${name}" this tool uses is not configured. Tell whoever runs toolshed.`);
    return database;
  }

  /**
   * Stops waiting when a run exceeds its timeout by a margin. The server enforces
   * statement_timeout itself; this covers a database that stops answering, and PGlite, which does
   * not enforce statement_timeout.
   */
  private async withDeadline<T>(tool: Tool, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(databaseError({ code: '57014', message: 'run deadline passed' }, tool.steps[0]?.id ?? 'run', tool.timeoutMs)), tool.timeoutMs + DEADLINE_MARGIN_MS);
    });
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private logFailure(request: RunRequest, outcome: RunFailure, error: ToolshedError): void {
    const expected = error.status < 500;
    const entry = { run_id: outcome.runId, tool: request.tool, surface: request.surface, principal: request.principal.id, duration_ms: outcome.durationMs, outcome: 'error', error_code: error.code, detail: error.detail };
    if (expected) this.logger.info(entry, 'tool run rejected');
    else this.logger.error(entry, 'tool run failed');
  }
}

export function mayRun(tool: Tool, principal: Principal): boolean {
  return tool.roles.length === 0 || tool.roles.some((role) => principal.roles.includes(role));
}

function assertAllowed(tool: Tool, principal: Principal): void {
  if (mayRun(tool, principal)) return;
  const roles = tool.roles.length === 1 ? `the role ${tool.roles[0]}` : `one of the roles ${tool.roles.join(', ')}`;
  throw new ToolshedError('TOOLSHED_ERR_FORBIDDEN', `${tool.name} needs ${roles}, which ${principal.name} does not have. Ask whoever runs toolshed to grant it.`);
}

/** Time beyond a tool's timeout before the engine stops waiting for the database. */
const DEADLINE_MARGIN_MS = 1_000;

function render(tool: Tool, inputs: InputValues, steps: StepsOutcome, escape: EscapeValues): Omit<RunSuccess, 'ok' | 'runId' | 'tool' | 'durationMs'> {
  const context = escape({ ...inputs, ...steps.results }) as Record<string, unknown>;
  const notFound = steps.notFoundStep !== undefined;
  let text: string;
  try {
    if (notFound) {
      text = tool.compiled.notFound?.(context) ?? `Nothing was found for ${describeInputs(escape(inputs) as InputValues)}.`;
    } else {
      text = tool.compiled.text(context);
    }
  } catch (error) {
    throw new ToolshedError('TOOLSHED_ERR_RENDER_FAILED', "The result was found but could not be formatted. Share the run id with the tool's author.", { detail: String(error), cause: error });
  }
  for (const { step, limit } of steps.truncated) text += `\n(Only the first ${limit} rows of ${step} are shown.)`;

  const data = notFound ? {} : Object.fromEntries(tool.output.data.map((id) => [id, steps.results[id] ?? null]));
  return { notFound, text: text.trimEnd(), data, truncated: steps.truncated };
}

function describeInputs(inputs: InputValues): string {
  const parts = Object.entries(inputs).map(([name, value]) => `${name} ${String(value)}`);
  return parts.length === 0 ? 'this request' : parts.join(', ');
}

function publicError(error: ToolshedError): RunFailure['error'] {
  return { code: error.code, status: error.status, message: error.message, ...(error.fields === undefined ? {} : { fields: error.fields }) };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

/**
 * The engine: runs a tool by name for a principal on a surface, and returns the rendered text and
 * structured data or a runner-facing error. Every surface (HTTP, Slack, CLI, scheduler) calls this
 * and nothing else to run a tool.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ToolshedError, toToolshedError, type ErrorCode, type FieldError } from '../errors.js';
import type { Database } from '../connectors/postgres/database.js';
import type { Tool } from '../tool/types.js';
import type { AuditLog, AuditMode, AuditOutcome } from '../audit/audit-log.js';
import type { UsageLog } from '../audit/usage-log.js';
import { coerceInputs, type InputValues } from './inputs.js';
import type { Principal, Surface } from './principal.js';
import { runSteps, type StepsOutcome } from './run-steps.js';
import { databaseError } from './database-errors.js';
import { ConfirmationTokens } from './confirmation-token.js';
import { RateLimiter } from './rate-limiter.js';
import { runMongoSteps } from './run-mongo-steps.js';
import type { MongoConnection } from '../connectors/mongodb/mongo-connection.js';
import { auditOutcomeOf, redactInputs, WriteRunner, type PendingApproval, type WriteResult } from './write-run.js';

/** Escapes every string value in a render context for the surface the text goes to. */
export type EscapeValues = (value: unknown) => unknown;

export interface RunRequest {
  tool: string;
  inputs: Record<string, unknown>;
  surface: Surface;
  principal: Principal;
  /** Escaping for values inserted into the text; identity for plain text and JSON. */
  escape?: EscapeValues;
  /** For write tools: run every step, report counts and a preview, and roll back. */
  dryRun?: boolean;
  /** For write tools: the token from the preview, which executes the write. */
  confirmationToken?: string;
}

/**
 * `done`: the tool ran (for a write tool, the change is committed). `not_found`: a step that had
 * to find a row found none. `confirmation_required`: a write tool's preview, to be confirmed with
 * the token. `dry_run`: a write tool ran and rolled back. `pending_approval`: confirmed, and
 * waiting for a second principal.
 */
export type RunStatus = 'done' | 'not_found' | 'confirmation_required' | 'dry_run' | 'pending_approval';

export interface RunSuccess {
  ok: true;
  runId: string;
  tool: string;
  status: RunStatus;
  /** True when an `expect: one` step found no row; `text` is then the tool's not-found message. */
  notFound: boolean;
  text: string;
  data: Record<string, unknown>;
  truncated: Array<{ step: string; limit: number }>;
  /** Rows a write tool changed, or would change in a preview or dry run. */
  rowsChanged?: number;
  confirmation?: { token: string; expiresAt: string };
  approvalId?: string;
  /** Every step's result, including steps left out of `data`; checks read their value here. */
  results?: Record<string, unknown>;
  durationMs: number;
}

export interface RunFailure {
  ok: false;
  runId: string;
  tool: string;
  error: { code: ErrorCode; status: number; message: string; fields?: FieldError[]; retryAfterSeconds?: number };
  durationMs: number;
}

export type RunOutcome = RunSuccess | RunFailure;

export interface RateLimits {
  /** Runs per minute per principal and tool, unless the tool has its own. */
  perMinute: number;
  /** Per-tool overrides by tool name. */
  tools: Record<string, number>;
}

export interface EngineOptions {
  tools: readonly Tool[];
  databases: ReadonlyMap<string, Database>;
  logger: Logger;
  /** Needed by write tools and tools with `audit: true`. */
  audit?: AuditLog;
  usage?: UsageLog;
  /** Secret that signs confirmation tokens; replicas must share it. Default: random per process. */
  confirmationSecret?: string;
  rateLimits?: RateLimits;
  /** MongoDB connections by name, for tools with MongoDB steps. */
  mongo?: ReadonlyMap<string, MongoConnection>;
  /** File of each tool whose file has problems, by tool name, so a run of it names the file. */
  excluded?: ReadonlyMap<string, string>;
}

type Rendered = Omit<RunSuccess, 'ok' | 'runId' | 'tool' | 'durationMs'>;

const identity: EscapeValues = (value) => value;

export class Engine {
  readonly tools: ReadonlyMap<string, Tool>;
  readonly databases: ReadonlyMap<string, Database>;
  private readonly logger: Logger;
  private readonly audit: AuditLog | undefined;
  private readonly usage: UsageLog | undefined;
  private readonly writes: WriteRunner;
  private readonly rateLimits: RateLimits | undefined;
  private readonly limiter = new RateLimiter();
  readonly mongo: ReadonlyMap<string, MongoConnection>;
  private readonly excluded: ReadonlyMap<string, string>;

  constructor(options: EngineOptions) {
    this.tools = new Map(options.tools.map((tool) => [tool.name, tool]));
    this.databases = options.databases;
    this.logger = options.logger;
    this.audit = options.audit;
    this.usage = options.usage;
    this.rateLimits = options.rateLimits;
    this.mongo = options.mongo ?? new Map();
    this.excluded = options.excluded ?? new Map();
    const tokens = new ConfirmationTokens(options.confirmationSecret ?? randomBytes(32).toString('hex'));
    this.writes = new WriteRunner((tool) => this.databaseFor(tool), options.audit, tokens);
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    const runId = randomUUID();
    const started = performance.now();
    const tool = this.tools.get(request.tool);
    let inputs: InputValues | undefined;
    try {
      if (tool === undefined) throw new ToolshedError('TOOLSHED_ERR_TOOL_NOT_FOUND', this.notFoundMessage(request.tool));
      this.checkRateLimit(tool, request.principal);
      assertAllowed(tool, request.principal);
      inputs = coerceInputs(tool, request.inputs);
      const rendered = tool.writes ? await this.runWrite(tool, inputs, request, runId) : await this.runRead(tool, inputs, request, runId);
      const outcome: RunSuccess = { ok: true, runId, tool: request.tool, ...rendered, durationMs: elapsed(started) };
      await this.finish(tool, request, outcome, inputs);
      return outcome;
    } catch (caught) {
      const error = toToolshedError(caught);
      const outcome: RunFailure = { ok: false, runId, tool: request.tool, error: publicError(error), durationMs: elapsed(started) };
      await this.finishFailure(tool, request, outcome, error, inputs);
      return outcome;
    }
  }

  /** Cancels a write tool's preview: the token can no longer be used, and the cancellation is audited. */
  async cancel(toolName: string, token: string, principal: Principal, surface: Surface): Promise<RunOutcome> {
    const runId = randomUUID();
    const started = performance.now();
    const tool = this.tools.get(toolName);
    try {
      if (tool === undefined || !tool.writes) throw new ToolshedError('TOOLSHED_ERR_TOOL_NOT_FOUND', `There is no write tool named "${truncate(toolName)}".`);
      const claims = await this.writes.cancel(token, tool, principal, runId);
      await this.recordAudit(tool, { runId, surface, principal, inputs: claims.inputs, mode: 'cancel', outcome: 'cancelled', durationMs: elapsed(started) });
      return { ok: true, runId, tool: toolName, status: 'done', notFound: false, text: 'Cancelled. Nothing was changed.', data: {}, truncated: [], durationMs: elapsed(started) };
    } catch (caught) {
      const error = toToolshedError(caught);
      return { ok: false, runId, tool: toolName, error: publicError(error), durationMs: elapsed(started) };
    }
  }

  /** Approves or rejects a pending write; approving executes it as the requester, with the approver recorded. */
  async decide(toolName: string, approvalId: string, approver: Principal, surface: Surface, decision: 'approved' | 'rejected', escape: EscapeValues = identity): Promise<RunOutcome> {
    const runId = randomUUID();
    const started = performance.now();
    const tool = this.tools.get(toolName);
    let pending: PendingApproval | undefined;
    try {
      if (tool === undefined || tool.approvalRoles.length === 0) throw new ToolshedError('TOOLSHED_ERR_TOOL_NOT_FOUND', `There is no tool named "${truncate(toolName)}" that needs approval.`);
      const decided = await this.writes.approve(approvalId, tool, approver, { runId, tool, surface }, decision);
      pending = decided.pending;
      const base = { runId, surface, principal: pending.requester, inputs: pending.inputs, mode: 'approve' as AuditMode, approver: approver.id, durationMs: elapsed(started) };
      if (decided.steps === undefined) {
        await this.recordAudit(tool, { ...base, outcome: 'rejected' });
        return { ok: true, runId, tool: toolName, status: 'done', notFound: false, text: `Rejected. Nothing was changed.`, data: {}, truncated: [], durationMs: elapsed(started) };
      }
      await this.recordAudit(tool, { ...base, outcome: 'ok', rowsChanged: decided.steps.rowsChanged });
      const rendered = render(tool, pending.inputs as InputValues, decided.steps, escape, runValues(runId, pending.requester, surface));
      return { ok: true, runId, tool: toolName, ...rendered, status: 'done', rowsChanged: decided.steps.rowsChanged, durationMs: elapsed(started) };
    } catch (caught) {
      const error = toToolshedError(caught);
      if (tool !== undefined && pending !== undefined) {
        await this.recordAudit(tool, { runId, surface, principal: pending.requester, inputs: pending.inputs, mode: 'approve', outcome: auditOutcomeOf(error.code), approver: approver.id, errorCode: error.code, message: error.message, durationMs: elapsed(started) }).catch(() => undefined);
      }
      this.logger.info({ run_id: runId, tool: toolName, approver: approver.id, error_code: error.code, detail: error.detail }, 'approval failed');
      return { ok: false, runId, tool: toolName, error: publicError(error), durationMs: elapsed(started) };
    }
  }

  async pendingApprovals(toolName: string): Promise<PendingApproval[]> {
    const tool = this.tools.get(toolName);
    if (tool === undefined || tool.approvalRoles.length === 0) return [];
    return this.writes.pendingApprovals(tool);
  }

  /** Explains a missing tool, naming its file when the file exists but has problems. */
  notFoundMessage(name: string): string {
    const file = this.excluded.get(name);
    if (file !== undefined) return `The tool file ${file} has problems, so ${name} is not served. Run toolshed validate to see them.`;
    return `There is no tool named "${truncate(name)}". List the tools with GET /tools or toolshed list.`;
  }

  /** Returns the tools a principal may run, in name order. */
  toolsFor(principal: Principal): Tool[] {
    return [...this.tools.values()].filter((tool) => mayRun(tool, principal)).sort((a, b) => a.name.localeCompare(b.name));
  }

  private async runRead(tool: Tool, inputs: InputValues, request: RunRequest, runId: string): Promise<Rendered> {
    const run = runValues(runId, request.principal, request.surface);
    const steps = await this.withDeadline(tool, this.readSteps(tool, inputs, request, runId));
    return { ...render(tool, inputs, steps, request.escape ?? identity, run), results: steps.results };
  }

  private async readSteps(tool: Tool, inputs: InputValues, request: RunRequest, runId: string): Promise<StepsOutcome> {
    const first = tool.steps[0];
    if (first?.mongo !== undefined) {
      const connection = this.mongo.get(first.connection);
      if (connection === undefined) throw new ToolshedError('TOOLSHED_ERR_DB_UNAVAILABLE', `The MongoDB connection "${first.connection}" this tool uses is not configured. Tell whoever runs toolshed.`);
      return runMongoSteps(tool, connection, inputs);
    }
    return runSteps(tool, this.databaseFor(tool), inputs, { mode: 'read', run: { id: runId, principal: request.principal, surface: request.surface } });
  }

  private async runWrite(tool: Tool, inputs: InputValues, request: RunRequest, runId: string): Promise<Rendered> {
    const result: WriteResult = await this.withDeadline(
      tool,
      this.writes.run({ runId, tool, inputs, principal: request.principal, surface: request.surface, dryRun: request.dryRun === true, confirmationToken: request.confirmationToken }),
    );
    const escape = request.escape ?? identity;
    const run = runValues(runId, request.principal, request.surface);
    switch (result.status) {
      case 'not_found':
        return render(tool, inputs, result.steps, escape, run);
      case 'pending_approval':
        return { status: 'pending_approval', notFound: false, text: `Confirmed. ${tool.name} now waits for approval by ${tool.approvalRoles.join(' or ')}; nothing was changed yet.`, data: {}, truncated: [], approvalId: result.approvalId };
      case 'done':
        return { ...render(tool, inputs, result.steps, escape, run), status: 'done', rowsChanged: result.steps.rowsChanged };
      case 'dry_run':
      case 'confirmation_required': {
        const text = renderPreview(tool, inputs, result.steps, escape, run);
        const data = Object.fromEntries(tool.output.data.map((id) => [id, result.steps.results[id] ?? null]));
        const confirmation = result.status === 'confirmation_required' ? { token: result.token, expiresAt: new Date(result.expiresAt).toISOString() } : undefined;
        return { status: result.status, notFound: false, text, data, truncated: result.steps.truncated, rowsChanged: result.steps.rowsChanged, ...(confirmation === undefined ? {} : { confirmation }) };
      }
    }
  }

  private checkRateLimit(tool: Tool, principal: Principal): void {
    if (this.rateLimits === undefined) return;
    const perMinute = this.rateLimits.tools[tool.name] ?? this.rateLimits.perMinute;
    const wait = this.limiter.take(principal.id, tool.name, perMinute);
    if (wait > 0) throw new ToolshedError('TOOLSHED_ERR_RATE_LIMITED', `${principal.name} ran ${tool.name} more than ${perMinute} times in a minute. Try again in ${wait} seconds.`, { retryAfterSeconds: wait });
  }

  private async finish(tool: Tool, request: RunRequest, outcome: RunSuccess, inputs: InputValues): Promise<void> {
    const status = outcome.status;
    this.logger.info({ run_id: outcome.runId, tool: tool.name, surface: request.surface, principal: request.principal.id, duration_ms: outcome.durationMs, outcome: status }, 'tool run');
    this.usage?.add({ runId: outcome.runId, at: new Date(), tool: tool.name, surface: request.surface, principal: request.principal.id, outcome: status === 'done' ? 'ok' : status, errorCode: undefined, durationMs: outcome.durationMs });
    if (!tool.audit) return;
    const modes: Record<RunStatus, [AuditMode, AuditOutcome]> = {
      done: [tool.writes ? 'execute' : 'read', 'ok'],
      not_found: [tool.writes ? 'preview' : 'read', 'not_found'],
      confirmation_required: ['preview', 'rolled_back'],
      dry_run: ['dry_run', 'rolled_back'],
      pending_approval: ['execute', 'pending_approval'],
    };
    const [mode, auditOutcome] = modes[status];
    await this.recordAudit(tool, { runId: outcome.runId, surface: request.surface, principal: request.principal, inputs, mode, outcome: auditOutcome, rowsChanged: outcome.rowsChanged, durationMs: outcome.durationMs }).catch((error: unknown) => {
      this.logger.error({ run_id: outcome.runId, tool: tool.name, detail: (error as Error).message }, 'writing the audit result failed');
    });
  }

  private async finishFailure(tool: Tool | undefined, request: RunRequest, outcome: RunFailure, error: ToolshedError, inputs: InputValues | undefined): Promise<void> {
    const entry = { run_id: outcome.runId, tool: request.tool, surface: request.surface, principal: request.principal.id, duration_ms: outcome.durationMs, outcome: 'error', error_code: error.code, detail: error.detail };
    if (error.status < 500) this.logger.info(entry, 'tool run rejected');
    else this.logger.error(entry, 'tool run failed');
    if (tool === undefined) return;
    this.usage?.add({ runId: outcome.runId, at: new Date(), tool: tool.name, surface: request.surface, principal: request.principal.id, outcome: error.status < 500 ? 'rejected' : 'error', errorCode: error.code, durationMs: outcome.durationMs });
    if (!tool.audit) return;
    let mode: AuditMode = 'preview';
    if (!tool.writes) mode = 'read';
    else if (request.confirmationToken !== undefined) mode = 'execute';
    else if (request.dryRun === true) mode = 'dry_run';
    await this.recordAudit(tool, {
      runId: outcome.runId,
      surface: request.surface,
      principal: request.principal,
      inputs: inputs ?? safeRawInputs(request.inputs),
      mode,
      outcome: auditOutcomeOf(error.code),
      errorCode: error.code,
      message: error.message,
      durationMs: outcome.durationMs,
    }).catch((auditError: unknown) => {
      this.logger.error({ run_id: outcome.runId, tool: tool.name, detail: (auditError as Error).message }, 'writing the audit result failed');
    });
  }

  private async recordAudit(tool: Tool, entry: { runId: string; surface: Surface; principal: Principal; inputs: Record<string, unknown>; mode: AuditMode; outcome: AuditOutcome; rowsChanged?: number; durationMs?: number; approver?: string; errorCode?: string; message?: string }): Promise<void> {
    if (this.audit === undefined) return;
    await this.audit.record({
      runId: entry.runId,
      phase: 'result',
      tool: tool.name,
      toolHash: tool.hash,
      surface: entry.surface,
      principal: entry.principal.id,
      roles: entry.principal.roles,
      inputs: redactInputs(tool, entry.inputs),
      mode: entry.mode,
      outcome: entry.outcome,
      rowsChanged: entry.rowsChanged,
      durationMs: entry.durationMs,
      approver: entry.approver,
      errorCode: entry.errorCode,
      message: entry.message,
    });
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

function runValues(runId: string, principal: Principal, surface: Surface): Record<string, unknown> {
  return { id: runId, principal: principal.name, surface };
}

function render(tool: Tool, inputs: InputValues, steps: StepsOutcome, escape: EscapeValues, run: Record<string, unknown>): Rendered {
  const context = escape({ ...inputs, ...steps.results, run }) as Record<string, unknown>;
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
  return { status: notFound ? 'not_found' : 'done', notFound, text: text.trimEnd(), data, truncated: steps.truncated };
}

function renderPreview(tool: Tool, inputs: InputValues, steps: StepsOutcome, escape: EscapeValues, run: Record<string, unknown>): string {
  const context = escape({ ...inputs, ...steps.results, run }) as Record<string, unknown>;
  const rows = `${steps.rowsChanged} ${steps.rowsChanged === 1 ? 'row' : 'rows'}`;
  try {
    const preview = tool.compiled.preview?.(context).trimEnd();
    return preview === undefined || preview === '' ? `This run would change ${rows}.` : `${preview}\n(This would change ${rows}.)`;
  } catch (error) {
    throw new ToolshedError('TOOLSHED_ERR_RENDER_FAILED', "The preview could not be formatted. Share the run id with the tool's author.", { detail: String(error), cause: error });
  }
}

function describeInputs(inputs: InputValues): string {
  const parts = Object.entries(inputs).map(([name, value]) => `${name} ${String(value)}`);
  return parts.length === 0 ? 'this request' : parts.join(', ');
}

/** Raw inputs of a run that failed validation, shortened, for the audit log. */
function safeRawInputs(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw)
      .slice(0, 20)
      .map(([name, value]) => [name.slice(0, 40), typeof value === 'string' ? value.slice(0, 200) : typeof value === 'number' || typeof value === 'boolean' ? value : '[not a scalar]']),
  );
}

function publicError(error: ToolshedError): RunFailure['error'] {
  return {
    code: error.code,
    status: error.status,
    message: error.message,
    ...(error.fields === undefined ? {} : { fields: error.fields }),
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

/**
 * Runs a tool's SQL steps in order in one transaction and collects each step's result. Read steps
 * are wrapped in a row limit. Write steps run as written, and a row count beyond the step's bound
 * rolls the whole transaction back.
 */
import { ToolshedError } from '../errors.js';
import type { Database } from '../connectors/postgres/database.js';
import type { Queryable } from '../connectors/postgres/queryable.js';
import type { SqlStep, Tool, ValueRef } from '../tool/types.js';
import { databaseError } from './database-errors.js';
import type { InputValues } from './inputs.js';
import type { Principal, Surface } from './principal.js';

export type StepResult = Record<string, unknown> | Record<string, unknown>[] | null;

/**
 * Transaction mode: `read` is READ ONLY, `rollback` may write but always rolls back (previews and
 * dry runs), and `commit` writes for real.
 */
export type TransactionMode = 'read' | 'rollback' | 'commit';

/** Values of the run itself, which SQL reads as `:run.principal`, `:run.id` and `:run.surface`. */
export interface RunValues {
  id: string;
  principal: Principal;
  surface: Surface;
}

export const RUN_VALUE_NAMES = ['id', 'principal', 'surface'] as const;

export interface StepsOptions {
  mode: TransactionMode;
  run: RunValues;
  /** Runs first inside the transaction, such as claiming a confirmation token. */
  beforeSteps?: (client: Queryable) => Promise<void>;
}

export interface StepsOutcome {
  results: Record<string, StepResult>;
  /** The `expect: one` step that found no row, if any; later steps did not run. */
  notFoundStep: string | undefined;
  /** `many` steps that had more rows than their limit, with the limit applied. */
  truncated: Array<{ step: string; limit: number }>;
  /** Rows changed by write steps, summed. */
  rowsChanged: number;
}

/** Extra rows fetched to tell "exactly the limit" from "more than the limit". */
const PROBE_ROWS = 1;

export async function runSteps(tool: Tool, database: Database, inputs: InputValues, options: StepsOptions): Promise<StepsOutcome> {
  const outcome: StepsOutcome = { results: {}, notFoundStep: undefined, truncated: [], rowsChanged: 0 };
  const transactionOptions = { readOnly: options.mode === 'read', rollback: options.mode === 'rollback', timeoutMs: tool.timeoutMs };

  let current = tool.steps[0]?.id ?? 'run';
  const transaction = database.transaction(transactionOptions, async (client) => {
    if (options.beforeSteps !== undefined) await options.beforeSteps(client);
    for (const step of tool.steps) {
      current = step.id;
      const bound = step.compiled.params.map((ref) => valueOf(ref, inputs, outcome.results, options.run));
      if (step.write) {
        const changed = await writeStep(client, step, tool.timeoutMs, bound);
        outcome.rowsChanged += changed.count;
        outcome.results[step.id] = changed.rows;
        continue;
      }
      const rows = await readStep(client, step, tool.timeoutMs, bound);
      if (step.expect === 'many') {
        if (rows.length > step.limit) outcome.truncated.push({ step: step.id, limit: step.limit });
        outcome.results[step.id] = rows.slice(0, step.limit);
        continue;
      }
      if (rows.length > 1) {
        throw new ToolshedError('TOOLSHED_ERR_TOO_MANY_ROWS', `The step "${step.id}" should find at most one row but found several. Share the run id with the tool's author.`, { detail: `step ${step.id} expects ${step.expect}` });
      }
      outcome.results[step.id] = rows[0] ?? null;
      if (rows.length === 0 && step.expect === 'one') {
        outcome.notFoundStep = step.id;
        return;
      }
    }
  });
  try {
    await transaction;
  } catch (error) {
    // Errors from connecting, BEGIN or COMMIT reach here unmapped; step errors are already mapped.
    throw databaseError(error, current, tool.timeoutMs);
  }
  return outcome;
}

async function readStep(client: Queryable, step: SqlStep, timeoutMs: number, bound: unknown[]): Promise<Record<string, unknown>[]> {
  const text = wrappedText(step);
  try {
    const result = await client.query(text, bound);
    return result.rows;
  } catch (error) {
    throw databaseError(error, step.id, timeoutMs);
  }
}

/** Wrapped statements by step, built once, so each run reuses the same string and its prepared-statement name. */
const wrapped = new WeakMap<SqlStep, string>();

/** Returns the read statement wrapped in a row limit, so a forgotten LIMIT cannot fetch a whole table. */
function wrappedText(step: SqlStep): string {
  let text = wrapped.get(step);
  if (text === undefined) {
    const rowLimit = step.expect === 'many' ? step.limit + PROBE_ROWS : 2;
    text = `select * from (\n${step.compiled.text}\n) as step_rows limit ${rowLimit}`;
    wrapped.set(step, text);
  }
  return text;
}

async function writeStep(client: Queryable, step: SqlStep, timeoutMs: number, bound: unknown[]): Promise<{ count: number; rows: Record<string, unknown>[] }> {
  let count: number;
  let rows: Record<string, unknown>[];
  try {
    const result = await client.query(step.compiled.text, bound);
    count = result.rowCount;
    rows = result.rows;
  } catch (error) {
    throw databaseError(error, step.id, timeoutMs);
  }
  const guard = guardProblem(step, count);
  // Throwing inside the transaction rolls back every step, this one included.
  if (guard !== undefined) throw new ToolshedError('TOOLSHED_ERR_ROW_GUARD', `${guard} Nothing was changed.`, { detail: `step ${step.id} changed ${count} rows` });
  return { count, rows: rows.slice(0, step.limit) };
}

function guardProblem(step: SqlStep, count: number): string | undefined {
  const rows = (n: number): string => `${n} ${n === 1 ? 'row' : 'rows'}`;
  if (step.expectRows !== undefined && count !== step.expectRows) {
    return `The step "${step.id}" would change ${rows(count)}; this tool must change exactly ${rows(step.expectRows)}.`;
  }
  if (step.maxRows !== undefined && count > step.maxRows) {
    return `The step "${step.id}" would change ${rows(count)}; this tool may change at most ${rows(step.maxRows)}.`;
  }
  return undefined;
}

function valueOf(ref: ValueRef, inputs: InputValues, results: Record<string, StepResult>, run: RunValues): unknown {
  if (ref.kind === 'input') return inputs[ref.name] ?? null;
  if (ref.step === 'run') {
    if (ref.column === 'principal') return run.principal.id;
    if (ref.column === 'id') return run.id;
    return run.surface;
  }
  const row = results[ref.step];
  if (row === null || row === undefined || Array.isArray(row)) return null;
  const value = row[ref.column];
  if (value === undefined) {
    throw new ToolshedError('TOOLSHED_ERR_STEP_FAILED', `The step "${ref.step}" has no column "${ref.column}", which a later step uses. Share the run id with the tool's author.`, { detail: `missing column ${ref.step}.${ref.column}` });
  }
  return value;
}

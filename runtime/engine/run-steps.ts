/** Runs a tool's SQL steps in order in one transaction and collects each step's result. */
import { ToolshedError } from '../errors.js';
import type { Database } from '../connectors/postgres/database.js';
import type { Queryable } from '../connectors/postgres/queryable.js';
import type { SqlStep, Tool, ValueRef } from '../tool/types.js';
import { databaseError } from './database-errors.js';
import type { InputValues } from './inputs.js';

export type StepResult = Record<string, unknown> | Record<string, unknown>[] | null;

export interface StepsOutcome {
  results: Record<string, StepResult>;
  /** The `expect: one` step that found no row, if any; later steps did not run. */
  notFoundStep: string | undefined;
  /** `many` steps that had more rows than their limit, with the limit applied. */
  truncated: Array<{ step: string; limit: number }>;
}

/** Extra rows fetched to tell "exactly the limit" from "more than the limit". */
const PROBE_ROWS = 1;

export async function runSteps(tool: Tool, database: Database, inputs: InputValues): Promise<StepsOutcome> {
  const outcome: StepsOutcome = { results: {}, notFoundStep: undefined, truncated: [] };

  let current = tool.steps[0]?.id ?? 'run';
  const transaction = database.transaction({ readOnly: true, timeoutMs: tool.timeoutMs }, async (client) => {
    for (const step of tool.steps) {
      current = step.id;
      const rows = await queryStep(client, step, tool.timeoutMs, inputs, outcome.results);
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

async function queryStep(client: Queryable, step: SqlStep, timeoutMs: number, inputs: InputValues, results: Record<string, StepResult>): Promise<Record<string, unknown>[]> {
  const bound = step.compiled.params.map((ref) => valueOf(ref, inputs, results));
  const rowLimit = step.expect === 'many' ? step.limit + PROBE_ROWS : 2;
  // The limit wraps the author's statement, so a forgotten LIMIT cannot fetch a whole table.
  const text = `select * from (\n${step.compiled.text}\n) as step_rows limit ${rowLimit}`;
  try {
    const result = await client.query(text, bound);
    return result.rows;
  } catch (error) {
    throw databaseError(error, step.id, timeoutMs);
  }
}

function valueOf(ref: ValueRef, inputs: InputValues, results: Record<string, StepResult>): unknown {
  if (ref.kind === 'input') return inputs[ref.name] ?? null;
  const row = results[ref.step];
  if (row === null || row === undefined || Array.isArray(row)) return null;
  const value = row[ref.column];
  if (value === undefined) {
    throw new ToolshedError('TOOLSHED_ERR_STEP_FAILED', `The step "${ref.step}" has no column "${ref.column}", which a later step uses. Share the run id with the tool's author.`, { detail: `missing column ${ref.step}.${ref.column}` });
  }
  return value;
}

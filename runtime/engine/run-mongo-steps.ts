/** Runs a tool's MongoDB steps in order; results feed templates and checks like SQL rows. */
import { ToolshedError } from '../errors.js';
import type { MongoConnection } from '../connectors/mongodb/mongo-connection.js';
import { bindMongoQuery } from '../tool/mongo-query.js';
import type { Tool, ValueRef } from '../tool/types.js';
import type { InputValues } from './inputs.js';
import type { StepsOutcome, StepResult } from './run-steps.js';

export async function runMongoSteps(tool: Tool, connection: MongoConnection, inputs: InputValues): Promise<StepsOutcome> {
  const outcome: StepsOutcome = { results: {}, notFoundStep: undefined, truncated: [], rowsChanged: 0 };
  for (const step of tool.steps) {
    if (step.mongo === undefined) continue;
    const query = { ...step.mongo, body: bindMongoQuery(step.mongo.body, (ref) => valueOf(ref, inputs, outcome.results)) };
    let rows: Record<string, unknown>[];
    try {
      rows = await connection.run(query, tool.timeoutMs, step.limit + 1);
    } catch (error) {
      throw mongoError(error, step.id, tool.timeoutMs);
    }
    if (step.expect === 'many') {
      if (rows.length > step.limit) outcome.truncated.push({ step: step.id, limit: step.limit });
      outcome.results[step.id] = rows.slice(0, step.limit);
    } else {
      outcome.results[step.id] = rows[0] ?? null;
    }
  }
  return outcome;
}

function valueOf(ref: ValueRef, inputs: InputValues, results: Record<string, StepResult>): unknown {
  if (ref.kind === 'input') return inputs[ref.name] ?? null;
  const row = results[ref.step];
  if (row === null || row === undefined || Array.isArray(row)) return null;
  return row[ref.column] ?? null;
}

/** Maps driver errors: time limit exceeded, server unreachable, anything else. */
export function mongoError(error: unknown, stepId: string, timeoutMs: number): ToolshedError {
  const { name, code, message } = error as { name?: string; code?: number; message?: string };
  const detail = `step ${stepId}: ${name ?? 'Error'} ${code ?? ''} ${message ?? String(error)}`;
  if (code === 50 || /MaxTimeMSExpired|exceeded time limit/i.test(message ?? '')) {
    return new ToolshedError('TOOLSHED_ERR_TIMEOUT', `The tool took longer than its limit of ${timeoutMs} ms and was stopped.`, { detail, cause: error });
  }
  if (/MongoServerSelectionError|MongoNetworkError|MongoNotConnectedError|MongoTopologyClosedError|PoolClosedError/.test(name ?? '')) {
    return new ToolshedError('TOOLSHED_ERR_DB_UNAVAILABLE', 'The MongoDB database is not reachable right now. Try again in a minute; if it persists, tell whoever runs toolshed.', { detail, cause: error });
  }
  return new ToolshedError('TOOLSHED_ERR_STEP_FAILED', `The step "${stepId}" failed in MongoDB. Share the run id with the tool's author.`, { detail, cause: error });
}

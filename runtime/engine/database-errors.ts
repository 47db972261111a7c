/**
 * Turns a database driver error into a runner-facing error. The driver's message and SQL state go
 * only to `detail`, which is logged and never returned, because they can contain SQL and values.
 */
import { ToolshedError } from '../errors.js';

/** SQL states and Node.js error codes that mean the database could not be reached or went away. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE']);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|connection is closed|not queryable|PGlite is closed/i;

export function databaseError(error: unknown, stepId: string, timeoutMs: number): ToolshedError {
  if (error instanceof ToolshedError) return error;
  const { code, message } = error as { code?: string; message?: string };
  const detail = `step ${stepId}: ${code ?? 'no code'} ${message ?? String(error)}`;

  if (code === '57014' || /Query read timeout/i.test(message ?? '')) {
    return new ToolshedError('TOOLSHED_ERR_TIMEOUT', `The tool took longer than its limit of ${formatDuration(timeoutMs)} and was stopped. Try a narrower input, or ask the tool's author to raise its timeout.`, { detail, cause: error });
  }
  if (code === 'POOL_EXHAUSTED') {
    return new ToolshedError('TOOLSHED_ERR_DB_UNAVAILABLE', 'Every database connection is busy with other runs. Try again in a moment; if it keeps happening, ask whoever runs toolshed to raise max_connections.', { detail, cause: error });
  }
  if ((code !== undefined && (UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) || UNAVAILABLE_MESSAGES.test(message ?? '')) {
    return new ToolshedError('TOOLSHED_ERR_DB_UNAVAILABLE', 'The database is not reachable right now. Try again in a minute; if it persists, tell whoever runs toolshed.', { detail, cause: error });
  }
  return new ToolshedError('TOOLSHED_ERR_STEP_FAILED', `The step "${stepId}" failed in the database. Share the run id with the tool's author.`, { detail, cause: error });
}

export function formatDuration(milliseconds: number): string {
  if (milliseconds % 60_000 === 0) return `${milliseconds / 60_000} min`;
  if (milliseconds % 1_000 === 0) return `${milliseconds / 1_000} s`;
  return `${milliseconds} ms`;
}

/** Calls a running toolshed's HTTP API for the CLI commands that read its state (audit, usage, checks). */
import { CliError, EXIT } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface RemoteOptions {
  url?: string;
  json?: boolean;
}

export async function requestJson(options: RemoteOptions, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const key = process.env.TOOLSHED_API_KEY;
  if (key === undefined || key === '') throw new CliError('Set TOOLSHED_API_KEY to an API key of the running toolshed (the demo prints one).');
  const base = (options.url ?? process.env.TOOLSHED_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new CliError(`Cannot reach toolshed at ${base} (${(error as Error).message}). Start it, or pass --url.`, EXIT.TOOL_FAILED);
  }
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!response.ok) throw new CliError(`toolshed answered ${response.status}: ${body.error?.message ?? 'no message'}`, EXIT.TOOL_FAILED);
  return body;
}

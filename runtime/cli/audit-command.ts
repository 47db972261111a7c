/**
 * `toolshed audit` and `toolshed usage`: read the audit log and per-tool usage from a running
 * toolshed over its HTTP API, with an API key that holds the auditor role.
 */
import { EXIT } from './exit-codes.js';
import { requestJson, type RemoteOptions } from './remote.js';
import type { CliIo } from './main.js';


interface AuditOptions extends RemoteOptions {
  tool?: string;
  principal?: string;
  outcome?: string;
  since?: string;
  until?: string;
  limit?: string;
}

export async function runAudit(options: AuditOptions, io: CliIo): Promise<number> {
  const query = new URLSearchParams();
  for (const key of ['tool', 'principal', 'outcome', 'since', 'until', 'limit'] as const) {
    const value = options[key];
    if (value !== undefined) query.set(key, value);
  }
  const body = (await requestJson(options, 'GET', `/audit?${query.toString()}`)) as { entries: Array<Record<string, unknown>> };
  if (options.json === true) {
    io.out(JSON.stringify(body.entries, null, 2));
    return EXIT.OK;
  }
  if (body.entries.length === 0) io.err('No audit entries match.');
  for (const entry of body.entries) {
    const rows = entry.rows_changed === null || entry.rows_changed === undefined ? '' : ` rows=${String(entry.rows_changed)}`;
    const approver = entry.approver === null || entry.approver === undefined ? '' : ` approver=${String(entry.approver)}`;
    const error = entry.error_code === null || entry.error_code === undefined ? '' : ` ${String(entry.error_code)}`;
    io.out(`${String(entry.at)}  ${String(entry.tool)}  ${String(entry.mode)}/${String(entry.phase)}  ${String(entry.outcome)}  ${String(entry.principal)}${rows}${approver}${error}  inputs=${JSON.stringify(entry.inputs)}  run=${String(entry.run_id)}`);
  }
  return EXIT.OK;
}

export async function runUsage(options: RemoteOptions & { since?: string }, io: CliIo): Promise<number> {
  const query = options.since === undefined ? '' : `?since=${encodeURIComponent(options.since)}`;
  const body = (await requestJson(options, 'GET', `/usage${query}`)) as { tools: Array<{ tool: string; runs: number; principals: number; last_used: string; error_rate: number }> };
  if (options.json === true) {
    io.out(JSON.stringify(body.tools, null, 2));
    return EXIT.OK;
  }
  io.out(['tool', 'runs', 'principals', 'last used', 'error rate'].join('\t'));
  for (const row of body.tools) io.out([row.tool, row.runs, row.principals, row.last_used, `${(row.error_rate * 100).toFixed(1)}%`].join('\t'));
  return EXIT.OK;
}


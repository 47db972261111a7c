/** The audit log: one row per audited event, only ever inserted, plus the queries that read it. */
import type { Database } from '../connectors/postgres/database.js';
import type { Queryable } from '../connectors/postgres/queryable.js';

export type AuditOutcome = 'ok' | 'denied' | 'invalid' | 'not_found' | 'confirmed' | 'cancelled' | 'rolled_back' | 'pending_approval' | 'rejected' | 'error';
export type AuditMode = 'preview' | 'dry_run' | 'execute' | 'cancel' | 'approve' | 'read';

export interface AuditEntry {
  runId: string;
  /** `attempt` is written before a write transaction starts; `result` after a run ends. */
  phase: 'attempt' | 'result';
  tool: string;
  toolHash: string;
  surface: string;
  principal: string;
  roles: readonly string[];
  /** Inputs with sensitive values already redacted. */
  inputs: Record<string, unknown>;
  mode: AuditMode;
  outcome: AuditOutcome;
  rowsChanged?: number;
  durationMs?: number;
  approver?: string;
  errorCode?: string;
  message?: string;
}

export interface AuditFilter {
  tool?: string;
  principal?: string;
  outcome?: string;
  since?: Date;
  until?: Date;
  limit?: number;
}

export interface AuditRow extends Record<string, unknown> {
  run_id: string;
  at: Date | string;
  phase: string;
  tool: string;
  outcome: string;
}

export const MAX_AUDIT_ROWS = 1_000;

export class AuditLog {
  constructor(readonly database: Database) {}

  /** Inserts an entry in its own committed transaction. Throws when the row cannot be written. */
  async record(entry: AuditEntry): Promise<void> {
    await this.database.transaction({ readOnly: false, timeoutMs: 5_000 }, (client) => insertEntry(client, entry));
  }

  async list(filter: AuditFilter): Promise<AuditRow[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      conditions.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.tool !== undefined) add('tool = ?', filter.tool);
    if (filter.principal !== undefined) add('principal = ?', filter.principal);
    if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
    if (filter.since !== undefined) add('at >= ?', filter.since);
    if (filter.until !== undefined) add('at < ?', filter.until);
    params.push(Math.min(filter.limit ?? 100, MAX_AUDIT_ROWS));
    const where = conditions.length === 0 ? '' : `where ${conditions.join(' and ')}`;
    const sql = `select run_id, at, phase, tool, tool_hash, surface, principal, roles, inputs, mode, outcome, rows_changed, duration_ms, approver, error_code, message
      from toolshed_audit ${where} order by at desc, id desc limit $${params.length}`;
    return this.database.transaction({ readOnly: true, timeoutMs: 10_000 }, async (client) => (await client.query(sql, params)).rows as AuditRow[]);
  }
}

export async function insertEntry(client: Queryable, entry: AuditEntry): Promise<void> {
  await client.query(
    `insert into toolshed_audit (run_id, phase, tool, tool_hash, surface, principal, roles, inputs, mode, outcome, rows_changed, duration_ms, approver, error_code, message)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [entry.runId, entry.phase, entry.tool, entry.toolHash, entry.surface, entry.principal, [...entry.roles], JSON.stringify(entry.inputs), entry.mode, entry.outcome, entry.rowsChanged ?? null, entry.durationMs ?? null, entry.approver ?? null, entry.errorCode ?? null, entry.message ?? null],
  );
}

/**
 * Tables toolshed keeps in the database next to the data: the audit log, used confirmation
 * tokens, pending approvals and usage counted per tool, principal and minute. Statements are idempotent, so every start runs
 * them. The runtime only ever inserts into toolshed_audit, so the table can be append-only for
 * its database role (see the README for the grants).
 */
import type { Database } from '../connectors/postgres/database.js';

export const RUNTIME_TABLES_SQL = [
  `create table if not exists toolshed_audit (
    id bigint generated always as identity primary key,
    run_id uuid not null,
    at timestamptz not null default now(),
    phase text not null check (phase in ('attempt', 'result')),
    tool text not null,
    tool_hash text not null,
    surface text not null,
    principal text not null,
    roles text[] not null default '{}',
    inputs jsonb not null default '{}',
    mode text not null,
    outcome text not null,
    rows_changed integer,
    duration_ms double precision,
    approver text,
    error_code text,
    message text
  )`,
  'create index if not exists toolshed_audit_tool_at on toolshed_audit (tool, at)',
  'create index if not exists toolshed_audit_principal_at on toolshed_audit (principal, at)',
  `create table if not exists toolshed_confirmations (
    nonce text primary key,
    run_id uuid not null,
    used_at timestamptz not null default now()
  )`,
  `create table if not exists toolshed_approvals (
    id uuid primary key,
    run_id uuid not null,
    tool text not null,
    tool_hash text not null,
    inputs jsonb not null,
    requester text not null,
    requester_name text not null,
    requester_roles text[] not null,
    status text not null check (status in ('pending', 'approved', 'rejected')),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    decided_by text,
    decided_at timestamptz
  )`,
  `create table if not exists toolshed_usage (
    tool text not null,
    principal text not null,
    surface text not null,
    minute timestamptz not null,
    runs integer not null,
    errors integer not null,
    duration_ms double precision not null,
    last_at timestamptz not null,
    primary key (tool, principal, surface, minute)
  )`,
];

/** Creates the runtime tables when they are missing. */
export async function ensureRuntimeTables(database: Database): Promise<void> {
  await database.transaction({ readOnly: false, timeoutMs: 30_000 }, async (client) => {
    for (const statement of RUNTIME_TABLES_SQL) await client.query(statement);
  });
}

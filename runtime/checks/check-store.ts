/** PostgreSQL storage of scheduled checks: their state, every evaluation, and which replica claimed each slot. */
import type { Database } from '../connectors/postgres/database.js';
import type { Queryable } from '../connectors/postgres/queryable.js';
import type { CheckState, CheckStatus, Evaluation, Level, Notification } from './types.js';

/** The version this module records in toolshed_schema_migrations once its tables exist. */
const MIGRATION_VERSION = 'checks/1';

/**
 * Tables are created unqualified, so they land in the first schema of the connection's
 * search_path. The advisory lock serializes replicas that migrate at the same time, because
 * concurrent `create table if not exists` can fail on PostgreSQL's catalog unique indexes.
 */
const MIGRATION_SQL = [
  `create table if not exists toolshed_check_state (
     tool text primary key,
     state jsonb not null,
     updated_at timestamptz not null default now()
   )`,
  `create table if not exists toolshed_check_evaluations (
     id bigserial primary key,
     tool text not null,
     slot timestamptz not null,
     evaluated_at timestamptz not null,
     status text not null check (status in ('ok', 'pending', 'alerting', 'error')),
     level text check (level in ('warning', 'critical')),
     value double precision,
     error text,
     notifications jsonb not null default '[]'::jsonb,
     deliveries jsonb
   )`,
  'create index if not exists toolshed_check_evaluations_tool_idx on toolshed_check_evaluations (tool, evaluated_at desc, id desc)',
  `create table if not exists toolshed_check_slots (
     tool text not null,
     slot timestamptz not null,
     claimed_by text not null,
     claimed_at timestamptz not null default now(),
     primary key (tool, slot)
   )`,
];

export interface CheckStoreOptions {
  /** statement_timeout of each transaction, in milliseconds. Default 5000. */
  timeoutMs?: number;
}

export interface StoredState {
  tool: string;
  state: CheckState;
  updatedAt: Date;
}

export interface EvaluationRecord {
  id: number;
  tool: string;
  slot: Date;
  evaluatedAt: Date;
  status: CheckStatus;
  level: Level | undefined;
  value: number | undefined;
  error: string | undefined;
  notifications: Notification[];
  /** Delivery outcomes the notifier recorded for the notifications, or undefined until it records them. */
  deliveries: Record<string, unknown>[] | undefined;
}

export class CheckStore {
  private readonly timeoutMs: number;

  constructor(
    private readonly database: Database,
    options: CheckStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** Creates the tables once. Later calls, from this or another replica, find the version recorded and do nothing. */
  async migrate(): Promise<void> {
    await this.write(async (client) => {
      await client.query("select pg_advisory_xact_lock(hashtext('toolshed_schema_migrations'))");
      await client.query('create table if not exists toolshed_schema_migrations (version text primary key, applied_at timestamptz not null default now())');
      const applied = await client.query('select 1 from toolshed_schema_migrations where version = $1', [MIGRATION_VERSION]);
      if (applied.rows.length > 0) return;

      for (const statement of MIGRATION_SQL) await client.query(statement);
      await client.query('insert into toolshed_schema_migrations (version) values ($1)', [MIGRATION_VERSION]);
    });
  }

  /**
   * Claims a check's slot for this instance. Returns true for exactly one caller per (tool, slot),
   * across replicas and restarts, because the claim is a row under the table's primary key.
   */
  async claimSlot(tool: string, slot: Date, instanceId: string): Promise<boolean> {
    const result = await this.write((client) =>
      client.query('insert into toolshed_check_slots (tool, slot, claimed_by) values ($1, $2, $3) on conflict do nothing returning tool', [tool, slot.toISOString(), instanceId]),
    );
    return result.rows.length === 1;
  }

  async loadState(tool: string): Promise<CheckState | undefined> {
    const result = await this.read((client) => client.query('select state from toolshed_check_state where tool = $1', [tool]));
    const row = result.rows[0];
    return row === undefined ? undefined : (row.state as CheckState);
  }

  /**
   * Saves the check's new state and one evaluation row in a single transaction, and returns the
   * row's id for `recordDeliveries`. The row's time is `state.lastEvaluatedAt`, or the database
   * clock when that is unset.
   *
   * NOTE: the state is written as given. Two replicas running different slots of one check at the
   * same time (a run longer than the schedule's interval) can overwrite each other's state.
   */
  async saveEvaluation(tool: string, slot: Date, result: Evaluation, state: CheckState, notifications: readonly Notification[]): Promise<number> {
    return this.write(async (client) => {
      await client.query(
        `insert into toolshed_check_state (tool, state, updated_at) values ($1, $2::jsonb, now())
         on conflict (tool) do update set state = excluded.state, updated_at = excluded.updated_at`,
        [tool, JSON.stringify(state)],
      );
      const inserted = await client.query(
        `insert into toolshed_check_evaluations (tool, slot, evaluated_at, status, level, value, error, notifications)
         values ($1, $2, coalesce($3::timestamptz, now()), $4, $5, $6, $7, $8::jsonb)
         returning id`,
        [
          tool,
          slot.toISOString(),
          state.lastEvaluatedAt ?? null,
          state.status,
          state.level ?? null,
          result.kind === 'value' ? result.value : null,
          result.kind === 'error' ? result.message : null,
          JSON.stringify(notifications),
        ],
      );
      return Number(inserted.rows[0]?.id);
    });
  }

  /** Stores what sending an evaluation's notifications did, replacing any earlier record. */
  async recordDeliveries(evaluationId: number, deliveries: readonly Record<string, unknown>[]): Promise<void> {
    const result = await this.write((client) => client.query('update toolshed_check_evaluations set deliveries = $2::jsonb where id = $1', [evaluationId, JSON.stringify(deliveries)]));
    if (result.rowCount !== 1) throw new Error(`check evaluation ${evaluationId} not found, so its deliveries were not recorded`);
  }

  /** Lists the state of every check that has run, by tool name. */
  async listStates(): Promise<StoredState[]> {
    const result = await this.read((client) => client.query('select tool, state, updated_at from toolshed_check_state order by tool'));
    return result.rows.map((row) => ({ tool: row.tool as string, state: row.state as CheckState, updatedAt: toDate(row.updated_at) }));
  }

  /** Lists a check's latest evaluations, newest first. */
  async recentEvaluations(tool: string, limit: number): Promise<EvaluationRecord[]> {
    const result = await this.read((client) =>
      client.query(
        `select id, tool, slot, evaluated_at, status, level, value, error, notifications, deliveries
         from toolshed_check_evaluations where tool = $1 order by evaluated_at desc, id desc limit $2`,
        [tool, limit],
      ),
    );
    return result.rows.map(toEvaluationRecord);
  }

  /** Deletes slot claims and evaluations older than `before`, and returns how many rows of each it deleted. */
  async prune(before: Date): Promise<{ slots: number; evaluations: number }> {
    return this.write(async (client) => {
      const slots = await client.query('delete from toolshed_check_slots where slot < $1', [before.toISOString()]);
      const evaluations = await client.query('delete from toolshed_check_evaluations where evaluated_at < $1', [before.toISOString()]);
      return { slots: slots.rowCount, evaluations: evaluations.rowCount };
    });
  }

  private read<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return this.database.transaction({ readOnly: true, timeoutMs: this.timeoutMs }, work);
  }

  private write<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    return this.database.transaction({ readOnly: false, timeoutMs: this.timeoutMs }, work);
  }
}

function toEvaluationRecord(row: Record<string, unknown>): EvaluationRecord {
  return {
    id: Number(row.id),
    tool: row.tool as string,
    slot: toDate(row.slot),
    evaluatedAt: toDate(row.evaluated_at),
    status: row.status as CheckStatus,
    level: (row.level as Level | null) ?? undefined,
    value: row.value === null ? undefined : Number(row.value),
    error: (row.error as string | null) ?? undefined,
    notifications: row.notifications as Notification[],
    deliveries: (row.deliveries as Record<string, unknown>[] | null) ?? undefined,
  };
}

/** Converts a timestamptz value to a Date. pg and PGlite both return Date, and a string is parsed in case a driver does not. */
function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

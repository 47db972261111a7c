/**
 * Records every run (tool, principal, outcome, duration) for `toolshed usage`, so a team can see
 * which tools are used and which are dead. Entries are buffered and inserted in batches, so the
 * log adds no database round trip to a run.
 */
import type { Logger } from 'pino';
import type { Database } from '../connectors/postgres/database.js';

/** Longest time an entry waits in the buffer. */
const FLUSH_INTERVAL_MS = 1_000;
/** Buffer size that triggers an immediate flush. */
const FLUSH_SIZE = 500;
/** Entries kept when the database cannot be written; older ones are dropped and counted. */
const MAX_BUFFERED = 20_000;

export interface UsageEntry {
  runId: string;
  at: Date;
  tool: string;
  surface: string;
  principal: string;
  outcome: string;
  errorCode: string | undefined;
  durationMs: number;
}

export interface ToolUsage {
  tool: string;
  runs: number;
  principals: number;
  last_used: Date | string;
  error_rate: number;
}

export class UsageLog {
  private buffer: UsageEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
  ) {}

  add(entry: UsageEntry): void {
    this.buffer.push(entry);
    if (this.buffer.length > MAX_BUFFERED) {
      this.dropped += this.buffer.length - MAX_BUFFERED;
      this.buffer = this.buffer.slice(-MAX_BUFFERED);
    }
    if (this.buffer.length >= FLUSH_SIZE) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.insert(batch).catch((error: unknown) => {
      this.buffer = [...batch, ...this.buffer].slice(-MAX_BUFFERED);
      this.logger.warn({ entries: batch.length, detail: (error as Error).message }, 'recording tool usage failed; will retry');
    });
    await this.flushing;
    if (this.dropped > 0) {
      this.logger.warn({ dropped: this.dropped }, 'usage entries dropped because the database could not be written');
      this.dropped = 0;
    }
  }

  async summary(since: Date | undefined): Promise<ToolUsage[]> {
    await this.flush();
    const sql = `select tool, count(*)::int as runs, count(distinct principal)::int as principals, max(at) as last_used,
        round(avg(case when outcome = 'error' then 1 else 0 end)::numeric, 4)::float8 as error_rate
      from toolshed_runs where at >= $1 group by tool order by max(at) desc`;
    return this.database.transaction({ readOnly: true, timeoutMs: 10_000 }, async (client) => (await client.query(sql, [since ?? new Date(0)])).rows as unknown as ToolUsage[]);
  }

  private async insert(batch: UsageEntry[]): Promise<void> {
    await this.database.transaction({ readOnly: false, timeoutMs: 10_000 }, async (client) => {
      await client.query(
        `insert into toolshed_runs (run_id, at, tool, surface, principal, outcome, error_code, duration_ms)
         select * from unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[])
         on conflict (run_id) do nothing`,
        [batch.map((e) => e.runId), batch.map((e) => e.at), batch.map((e) => e.tool), batch.map((e) => e.surface), batch.map((e) => e.principal), batch.map((e) => e.outcome), batch.map((e) => e.errorCode ?? null), batch.map((e) => e.durationMs)],
      );
    });
  }
}

/**
 * Counts runs per tool, principal, surface and minute for `toolshed usage`, so a team can see
 * which tools are used and which are dead. Counts are kept in memory and added to
 * toolshed_usage every few seconds, so recording usage adds no database work to a run.
 */
import type { Logger } from 'pino';
import type { Database } from '../connectors/postgres/database.js';

/** How often counts are written. */
const FLUSH_INTERVAL_MS = 5_000;
/** Distinct counters kept when the database cannot be written; more are dropped and counted. */
const MAX_COUNTERS = 50_000;

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

interface Counter {
  tool: string;
  principal: string;
  surface: string;
  minute: Date;
  runs: number;
  errors: number;
  durationMs: number;
  lastAt: Date;
}

export class UsageLog {
  private counters = new Map<string, Counter>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private dropped = 0;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
  ) {}

  add(entry: UsageEntry): void {
    const minute = new Date(Math.floor(entry.at.getTime() / 60_000) * 60_000);
    const key = `${entry.tool}\u0000${entry.principal}\u0000${entry.surface}\u0000${minute.getTime()}`;
    let counter = this.counters.get(key);
    if (counter === undefined) {
      if (this.counters.size >= MAX_COUNTERS) {
        this.dropped += 1;
        return;
      }
      counter = { tool: entry.tool, principal: entry.principal, surface: entry.surface, minute, runs: 0, errors: 0, durationMs: 0, lastAt: entry.at };
      this.counters.set(key, counter);
    }
    counter.runs += 1;
    if (entry.outcome === 'error') counter.errors += 1;
    counter.durationMs += entry.durationMs;
    if (entry.at > counter.lastAt) counter.lastAt = entry.at;
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    if (this.counters.size === 0) return;
    const batch = [...this.counters.values()];
    this.counters = new Map();
    this.flushing = this.write(batch).catch((error: unknown) => {
      for (const counter of batch) this.restore(counter);
      this.logger.warn({ counters: batch.length, detail: (error as Error).message }, 'recording tool usage failed; will retry');
    });
    await this.flushing;
    if (this.dropped > 0) {
      this.logger.warn({ dropped: this.dropped }, 'usage counts dropped because the database could not be written');
      this.dropped = 0;
    }
  }

  async summary(since: Date | undefined): Promise<ToolUsage[]> {
    await this.flush();
    const sql = `select tool, sum(runs)::int as runs, count(distinct principal)::int as principals, max(last_at) as last_used,
        round((sum(errors)::numeric / greatest(sum(runs), 1)), 4)::float8 as error_rate
      from toolshed_usage where minute >= date_trunc('minute', $1::timestamptz) group by tool order by max(last_at) desc`;
    return this.database.transaction({ readOnly: true, timeoutMs: 10_000 }, async (client) => (await client.query(sql, [since ?? new Date(0)])).rows as unknown as ToolUsage[]);
  }

  /** Puts a counter that could not be written back, adding to any counted since. */
  private restore(counter: Counter): void {
    const key = `${counter.tool}\u0000${counter.principal}\u0000${counter.surface}\u0000${counter.minute.getTime()}`;
    const current = this.counters.get(key);
    if (current === undefined) {
      this.counters.set(key, counter);
      return;
    }
    current.runs += counter.runs;
    current.errors += counter.errors;
    current.durationMs += counter.durationMs;
    if (counter.lastAt > current.lastAt) current.lastAt = counter.lastAt;
  }

  private async write(batch: Counter[]): Promise<void> {
    await this.database.transaction({ readOnly: false, timeoutMs: 10_000 }, async (client) => {
      await client.query(
        `insert into toolshed_usage (tool, principal, surface, minute, runs, errors, duration_ms, last_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::int[], $7::float8[], $8::timestamptz[])
         on conflict (tool, principal, surface, minute) do update set
           runs = toolshed_usage.runs + excluded.runs,
           errors = toolshed_usage.errors + excluded.errors,
           duration_ms = toolshed_usage.duration_ms + excluded.duration_ms,
           last_at = greatest(toolshed_usage.last_at, excluded.last_at)`,
        [batch.map((c) => c.tool), batch.map((c) => c.principal), batch.map((c) => c.surface), batch.map((c) => c.minute), batch.map((c) => c.runs), batch.map((c) => c.errors), batch.map((c) => c.durationMs), batch.map((c) => c.lastAt)],
      );
    });
  }
}

/**
 * Remembers recent slash commands, so that a request Slack delivers again, or one the user
 * repeats within seconds, is recognised. Reads may be answered again; callers decide.
 */
import { createHash } from 'node:crypto';
import type { RunOutcome } from '../../engine/engine.js';

/** How long a command is remembered. Slack retries within about a minute. */
const REMEMBER_MS = 60_000;
/** Most commands remembered at once; the oldest are forgotten first. */
const MAX_ENTRIES = 10_000;

export interface RecentCommand {
  outcome: Promise<RunOutcome>;
  startedAt: number;
}

export class RecentCommands {
  private readonly entries = new Map<string, RecentCommand>();

  static keyOf(teamId: string, userId: string, command: string, text: string): string {
    return createHash('sha256').update(JSON.stringify([teamId, userId, command, text])).digest('hex');
  }

  get(key: string, now = Date.now()): RecentCommand | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.startedAt > REMEMBER_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  remember(key: string, outcome: Promise<RunOutcome>, now = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { outcome, startedAt: now });
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

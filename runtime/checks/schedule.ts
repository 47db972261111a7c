/** Slots of a check's cron schedule in its time zone, daylight saving time included. */
import { Cron } from 'croner';

// Croner computes the slots, following Vixie cron across daylight saving time (see README.md
// beside this file for why not node-cron):
//
// - A job with a single minute and a single hour, or lists and ranges of them (such as
//   `30 2 * * *` or `0 9,17 * * *`), is a fixed-time job. A time that happens twice (fall back)
//   runs once, at its first occurrence. A time that does not exist (spring forward) runs at the
//   end of the gap on the same day: in America/New_York on 2026-03-08, `30 2 * * *` runs at
//   03:00 EDT. Vixie cron runs such jobs "soon after the change", so a daily check still runs
//   that day.
// - A job with a wildcard or a step in its minute or hour (such as `*/20 * * * *`) is an interval
//   job. It runs at every real instant whose wall-clock time matches, so on fall-back day it runs
//   in both passes of 01:00-02:00, and it skips times that do not exist.

/** Pattern options: exactly five fields, and croner's Vixie-like rule for fixed-time jobs. */
const CRON_OPTIONS = { mode: '5-part', fixedTimeRule: 'no-wildcard' } as const;

/**
 * Returns the first slot strictly after `after`. Throws when the schedule or time zone is invalid
 * (call `validateSchedule` first) or when the schedule never runs again.
 */
export function nextSlot(schedule: string, timezone: string, after: Date): Date {
  const slot = parsedSchedule(schedule, timezone).nextRun(after);
  if (slot === null) throw new Error(`schedule "${schedule}" has no time after ${after.toISOString()} in ${timezone}`);
  return slot;
}

/** Checks a five-field cron expression and an IANA time zone; returns a message when either is invalid. */
export function validateSchedule(expr: string, timezone: string): string | undefined {
  if (!isTimeZone(timezone)) return `time zone "${timezone}" is invalid: use an IANA name such as "America/New_York" or "UTC"`;

  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    return `schedule "${expr}" is invalid: expected five fields (minute hour day-of-month month day-of-week), such as "*/20 * * * *"`;
  }

  let cron: Cron;
  try {
    cron = new Cron(expr, { ...CRON_OPTIONS, timezone });
  } catch (error) {
    return `schedule "${expr}" is invalid: ${cronMessage(error)}`;
  }

  // Croner searches a few years ahead, so a schedule such as "0 0 30 2 *" (February 30) finds nothing.
  if (cron.nextRun() === null) return `schedule "${expr}" never runs: no date matches all of its fields`;
  return undefined;
}

/** Parsed patterns by time zone and expression; a process has one entry per check's schedule. */
const parsedSchedules = new Map<string, Cron>();

function parsedSchedule(schedule: string, timezone: string): Cron {
  const key = `${timezone} ${schedule}`;
  let cron = parsedSchedules.get(key);
  if (cron === undefined) {
    cron = new Cron(schedule, { ...CRON_OPTIONS, timezone });
    parsedSchedules.set(key, cron);
  }
  return cron;
}

function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Croner's message without its "CronPattern: " prefix. */
function cronMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern:\s*/, '');
}

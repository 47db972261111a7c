/** Shared types of scheduled checks: what a check watches, its states and the notifications it sends. */

/** A condition on a number. Exactly one of the keys is set. */
export type Condition = { above: number } | { below: number } | { outside: [number, number] } | { equals: number };

export type Level = 'warning' | 'critical';

export interface CheckSpec {
  /** Tool name; also the key of the check's state. */
  tool: string;
  /** Cron expression with five fields (minute hour day month weekday), in `timezone`. */
  schedule: string;
  /** IANA time zone such as America/New_York. Default UTC. */
  timezone: string;
  /** Conditions per level; at least one is set. Critical wins when both match. */
  levels: Partial<Record<Level, Condition>>;
  /** Consecutive breaching evaluations before alerting. Default 1. */
  for: number;
  /** Consecutive healthy evaluations before an alert is resolved. Default 1. */
  recoverFor: number;
  /** Remind while still alerting, every this many milliseconds; undefined means never. */
  repeatMs: number | undefined;
}

/** What one evaluation produced: the watched number, or why the check itself could not run. */
export type Evaluation = { kind: 'value'; value: number } | { kind: 'error'; message: string };

export type CheckStatus = 'ok' | 'pending' | 'alerting' | 'error';

export interface CheckState {
  status: CheckStatus;
  /** Set while pending or alerting. */
  level: Level | undefined;
  /** Consecutive breaching evaluations so far. */
  breaches: number;
  /** Consecutive healthy evaluations while alerting. */
  recoveries: number;
  /** When the current status began (ISO 8601). */
  since: string;
  lastValue: number | undefined;
  lastEvaluatedAt: string | undefined;
  lastNotifiedAt: string | undefined;
  /** When the next reminder is due while alerting (ISO 8601). */
  nextReminderAt: string | undefined;
  /** Status before the check entered `error`, restored when it leaves it. */
  statusBeforeError: Exclude<CheckStatus, 'error'> | undefined;
  /** When the status in `statusBeforeError` began (ISO 8601), restored as `since` when the error clears. */
  sinceBeforeError?: string | undefined;
  lastError: string | undefined;
}

export type NotificationKind = 'alert' | 'level_change' | 'reminder' | 'recovery' | 'error' | 'error_cleared';

export interface Notification {
  kind: NotificationKind;
  tool: string;
  level: Level | undefined;
  value: number | undefined;
  /** Human form of the condition that was crossed, such as "above 1000". */
  threshold: string | undefined;
  /** When the alert (or error) began (ISO 8601). */
  since: string;
  /** ISO 8601, when a reminder will follow if nothing changes. */
  nextReminderAt: string | undefined;
  error: string | undefined;
  /** ISO 8601 evaluation time. */
  at: string;
}

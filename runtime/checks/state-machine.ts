/** The state machine of a scheduled check: from its saved state and one evaluation to its next state and notifications. */
import { breachedLevel, describeCondition } from './conditions.js';
import type { CheckSpec, CheckState, Condition, Evaluation, Level, Notification, NotificationKind } from './types.js';

export { describeCondition } from './conditions.js';

/*
 * Statuses: ok → pending → alerting → ok, and error from any of them. `since` is when the current
 * status began, so an alert's `since` is when it started alerting, not its first pending breach.
 *
 * - `for` consecutive breaches move ok to alerting (through pending when `for` > 1) with one
 *   `alert`. A healthy value while pending returns to ok silently.
 * - While alerting, a breach at another level sends `level_change`, and a breach at the same
 *   level sends a `reminder` once `nextReminderAt` has passed (only when `repeatMs` is set).
 * - `recoverFor` consecutive healthy values end the alert with one `recovery`. A value hovering
 *   around the threshold with `for` = 1 and `recoverFor` = 1 sends alert, recovery, alert, ...
 *   on every run. `recoverFor` is the damping setting for that: with `recoverFor` = 3, one
 *   healthy value between breaches does not end the alert. A `for` of 2 or more keeps a value
 *   that breaches only every other run from alerting at all.
 * - An error evaluation sends one `error` notification and keeps the status underneath, with its
 *   breach count and reminder clock. Further errors send nothing, so a check that stays broken
 *   is reported once, and each stored evaluation still records its error. The first value after
 *   that sends `error_cleared` and is then processed from the restored status: a healthy value
 *   counts towards `recoverFor`, and a breach can alert or remind. An alert is never resolved
 *   because the check broke and came back: the evaluation that clears the error never sends
 *   `recovery`, so at least one more healthy value must follow it, even with `recoverFor` = 1.
 */

export interface EvaluationOutcome {
  state: CheckState;
  notifications: Notification[];
}

/** Creates the state of a check that has never run: ok since `now`. */
export function initialState(now: Date): CheckState {
  return {
    status: 'ok',
    level: undefined,
    breaches: 0,
    recoveries: 0,
    since: now.toISOString(),
    lastValue: undefined,
    lastEvaluatedAt: undefined,
    lastNotifiedAt: undefined,
    nextReminderAt: undefined,
    statusBeforeError: undefined,
    sinceBeforeError: undefined,
    lastError: undefined,
  };
}

/**
 * Applies one evaluation at time `now` and returns the next state with the notifications to send,
 * in the order they happened (`error_cleared` before the alert or reminder that follows it).
 * A NaN value counts as an error, because no condition can match it.
 */
export function evaluateCheck(spec: CheckSpec, state: CheckState, evaluation: Evaluation, now: Date): EvaluationOutcome {
  const at = now.toISOString();
  const notifications: Notification[] = [];
  let next: CheckState;

  if (evaluation.kind === 'error' || Number.isNaN(evaluation.value)) {
    const message = evaluation.kind === 'error' ? evaluation.message : 'the check produced NaN, which is not a number';
    next = applyError(spec, state, message, at, notifications);
  } else {
    const clearsError = state.status === 'error';
    const restored = clearsError ? leaveError(spec, state, evaluation.value, at, notifications) : state;
    next = applyValue(spec, restored, evaluation.value, now, clearsError, notifications);
  }

  return {
    state: { ...next, lastEvaluatedAt: at, lastNotifiedAt: notifications.length > 0 ? at : state.lastNotifiedAt },
    notifications,
  };
}

function applyError(spec: CheckSpec, state: CheckState, message: string, at: string, notifications: Notification[]): CheckState {
  if (state.status === 'error') return { ...state, lastError: message };

  notifications.push(notification(spec, 'error', at, { since: at, error: message }));
  return { ...state, status: 'error', since: at, statusBeforeError: state.status, sinceBeforeError: state.since, lastError: message };
}

function leaveError(spec: CheckSpec, state: CheckState, value: number, at: string, notifications: Notification[]): CheckState {
  notifications.push(notification(spec, 'error_cleared', at, { value, since: state.since, error: state.lastError }));
  return {
    ...state,
    status: state.statusBeforeError ?? 'ok',
    since: state.sinceBeforeError ?? at,
    statusBeforeError: undefined,
    sinceBeforeError: undefined,
    lastError: undefined,
  };
}

function applyValue(spec: CheckSpec, state: CheckState, value: number, now: Date, clearsError: boolean, notifications: Notification[]): CheckState {
  const at = now.toISOString();
  const breach = breachedLevel(spec, value);
  const current: CheckState = { ...state, lastValue: value };

  if (state.status === 'alerting') {
    return breach === undefined ? recoverStep(spec, current, value, at, clearsError, notifications) : continueAlert(spec, current, breach.level, breach.condition, value, now, notifications);
  }

  if (breach === undefined) {
    return { ...current, status: 'ok', level: undefined, breaches: 0, recoveries: 0, since: state.status === 'ok' ? state.since : at };
  }

  const breaches = state.breaches + 1;
  if (breaches < atLeastOne(spec.for)) {
    return { ...current, status: 'pending', level: breach.level, breaches, since: state.status === 'pending' ? state.since : at };
  }

  const nextReminderAt = reminderAfter(spec, now);
  notifications.push(notification(spec, 'alert', at, { level: breach.level, value, threshold: describeCondition(breach.condition), since: at, nextReminderAt }));
  return { ...current, status: 'alerting', level: breach.level, breaches, recoveries: 0, since: at, nextReminderAt };
}

/** Handles a breach while alerting: a level change, a due reminder, or nothing to send. */
function continueAlert(spec: CheckSpec, state: CheckState, level: Level, condition: Condition, value: number, now: Date, notifications: Notification[]): CheckState {
  const at = now.toISOString();
  const threshold = describeCondition(condition);
  const breached: CheckState = { ...state, breaches: state.breaches + 1, recoveries: 0 };

  if (level !== state.level) {
    const nextReminderAt = reminderAfter(spec, now);
    notifications.push(notification(spec, 'level_change', at, { level, value, threshold, since: state.since, nextReminderAt }));
    return { ...breached, level, nextReminderAt };
  }

  const nextReminderAt = reminderAfter(spec, now);
  if (nextReminderAt === undefined) return { ...breached, nextReminderAt: undefined };

  // A repeat interval added to the check while it was alerting starts counting now.
  if (state.nextReminderAt === undefined) return { ...breached, nextReminderAt };

  if (now.getTime() < Date.parse(state.nextReminderAt)) return breached;

  notifications.push(notification(spec, 'reminder', at, { level, value, threshold, since: state.since, nextReminderAt }));
  return { ...breached, nextReminderAt };
}

/**
 * Counts a healthy value while alerting towards `recoverFor`, and ends the alert when the count
 * is reached, unless this value is the one that cleared an error.
 */
function recoverStep(spec: CheckSpec, state: CheckState, value: number, at: string, clearsError: boolean, notifications: Notification[]): CheckState {
  const recoveries = state.recoveries + 1;
  if (recoveries < atLeastOne(spec.recoverFor) || clearsError) return { ...state, breaches: 0, recoveries };

  const condition = state.level === undefined ? undefined : spec.levels[state.level];
  const threshold = condition === undefined ? undefined : describeCondition(condition);
  notifications.push(notification(spec, 'recovery', at, { level: state.level, value, threshold, since: state.since }));
  return { ...state, status: 'ok', level: undefined, breaches: 0, recoveries: 0, since: at, nextReminderAt: undefined };
}

/** When the next reminder is due if it is sent now, or undefined when the check never reminds. */
function reminderAfter(spec: CheckSpec, now: Date): string | undefined {
  if (spec.repeatMs === undefined || !(spec.repeatMs > 0)) return undefined;
  return new Date(now.getTime() + spec.repeatMs).toISOString();
}

/** Counts below 1 (or not a number) mean 1, the documented default of `for` and `recoverFor`. */
function atLeastOne(count: number): number {
  return Number.isFinite(count) && count >= 1 ? Math.floor(count) : 1;
}

type NotificationFields = Partial<Pick<Notification, 'level' | 'value' | 'threshold' | 'nextReminderAt' | 'error'>> & { since: string };

function notification(spec: CheckSpec, kind: NotificationKind, at: string, fields: NotificationFields): Notification {
  return {
    kind,
    tool: spec.tool,
    level: fields.level,
    value: fields.value,
    threshold: fields.threshold,
    since: fields.since,
    nextReminderAt: fields.nextReminderAt,
    error: fields.error,
    at,
  };
}

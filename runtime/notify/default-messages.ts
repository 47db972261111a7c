/** Default subject and plain text of each kind of check notification, used when the author wrote no template. */
import type { Notification, NotificationKind } from '../checks/types.js';
import type { NotifyContext } from './types.js';

export interface DefaultMessage {
  /** One line, such as "[CRITICAL] queue-backlog: 12,400 pending, above 10,000". */
  subject: string;
  /** A few plain sentences: what, how much, the threshold, since when and the next reminder. */
  text: string;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Builds the default subject and text. Values are inserted as they are, so a caller escapes the result for its surface. */
export function defaultMessage(notification: Notification, context: NotifyContext = {}): DefaultMessage {
  const parts = messageParts(notification, context);
  return { subject: SUBJECTS[notification.kind](parts), text: TEXTS[notification.kind](parts) };
}

/** Formats a number with thousands separators and at most four decimals: 12400 becomes "12,400". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  return value.toLocaleString('en-US', { maximumFractionDigits: 4 });
}

/** Formats an ISO 8601 time as "2026-11-01 14:20 UTC". A string that is not a valid time is returned unchanged. */
export function formatUtcTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Formats a duration as "40 minutes", "1 hour 20 minutes" or "2 days 3 hours". */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < MINUTE_MS) {
    return 'less than a minute';
  }
  const days = Math.floor(milliseconds / DAY_MS);
  const hours = Math.floor((milliseconds % DAY_MS) / HOUR_MS);
  const minutes = Math.floor((milliseconds % HOUR_MS) / MINUTE_MS);
  if (days > 0) {
    return joinUnits([days, 'day'], [hours, 'hour']);
  }
  if (hours > 0) {
    return joinUnits([hours, 'hour'], [minutes, 'minute']);
  }
  return joinUnits([minutes, 'minute']);
}

function joinUnits(...units: Array<[number, string]>): string {
  return units
    .filter(([count]) => count > 0)
    .map(([count, word]) => `${count} ${word}${count === 1 ? '' : 's'}`)
    .join(' ');
}

/** The pieces every subject and text is built from, already formatted. */
interface MessageParts {
  /** The tool title, followed by the tool name in brackets when the two differ. */
  toolLabel: string;
  /** "CRITICAL", "WARNING", or "ALERTING" when the level is missing. */
  level: string;
  /** Value with its unit, such as "12,400 pending", or "no value". */
  amount: string;
  threshold: string | undefined;
  since: string;
  /** Time from `since` to `at`. */
  duration: string;
  /** A sentence about the next reminder, or an empty string when none is due. */
  reminder: string;
  /** Error text without a trailing full stop. */
  error: string;
  hasLevel: boolean;
  hasValue: boolean;
}

function messageParts(notification: Notification, context: NotifyContext): MessageParts {
  const title = context.title?.trim();
  const toolLabel = title === undefined || title === '' || title === notification.tool ? notification.tool : `${title} (${notification.tool})`;

  return {
    toolLabel,
    level: notification.level === undefined ? 'ALERTING' : notification.level.toUpperCase(),
    amount: formatAmount(notification.value, context.unit),
    threshold: notification.threshold,
    since: formatUtcTime(notification.since),
    duration: formatDuration(Date.parse(notification.at) - Date.parse(notification.since)),
    reminder: reminderSentence(notification),
    error: (notification.error ?? 'unknown error').trim().replace(/\.+$/, ''),
    hasLevel: notification.level !== undefined,
    hasValue: notification.value !== undefined,
  };
}

function formatAmount(value: number | undefined, unit: string | undefined): string {
  if (value === undefined) {
    return 'no value';
  }
  const trimmedUnit = unit?.trim();
  return trimmedUnit === undefined || trimmedUnit === '' ? formatNumber(value) : `${formatNumber(value)} ${trimmedUnit}`;
}

function reminderSentence(notification: Notification): string {
  if (notification.nextReminderAt === undefined) {
    return '';
  }
  const time = formatReminderTime(notification.nextReminderAt, notification.at);
  if (notification.kind === 'error') {
    return ` Next reminder ${time} if the check still fails.`;
  }
  return ` Next reminder ${time} ${staysClause(notification.threshold)}.`;
}

/** Prints only the time of day when the reminder falls on the same UTC day as the evaluation. */
function formatReminderTime(reminderIso: string, atIso: string): string {
  const full = formatUtcTime(reminderIso);
  const sameDay = full.slice(0, 10) === formatUtcTime(atIso).slice(0, 10);
  return sameDay && full.endsWith(' UTC') ? full.slice(11) : full;
}

function staysClause(threshold: string | undefined): string {
  if (threshold?.startsWith('above') === true) {
    return 'if it stays high';
  }
  if (threshold?.startsWith('below') === true) {
    return 'if it stays low';
  }
  return 'if it does not recover';
}

/** ", above 10,000", or nothing when the notification has no threshold. */
function thresholdClause(parts: MessageParts): string {
  return parts.threshold === undefined ? '' : `, ${parts.threshold}`;
}

const SUBJECTS: Record<NotificationKind, (parts: MessageParts) => string> = {
  alert: (parts) => `[${parts.level}] ${parts.toolLabel}: ${parts.amount}${thresholdClause(parts)}`,
  level_change: (parts) => `[${parts.level}] ${parts.toolLabel} is now ${parts.level.toLowerCase()}: ${parts.amount}`,
  reminder: (parts) => `[${parts.level}] Still ${parts.level.toLowerCase()}: ${parts.toolLabel}, ${parts.amount}`,
  recovery: (parts) => `[RECOVERED] ${parts.toolLabel}: ${parts.amount}`,
  error: (parts) => `[CHECK FAILED] ${parts.toolLabel}`,
  error_cleared: (parts) => `[CHECK OK] ${parts.toolLabel} is reporting again`,
};

const TEXTS: Record<NotificationKind, (parts: MessageParts) => string> = {
  alert: (parts) => `${parts.toolLabel} is ${parts.level}: ${parts.amount}${thresholdClause(parts)} since ${parts.since}.${parts.reminder}`,

  level_change: (parts) =>
    `${parts.toolLabel} is now ${parts.level}: ${parts.amount}${thresholdClause(parts)}. It has been alerting since ${parts.since}.${parts.reminder}`,

  reminder: (parts) =>
    `${parts.toolLabel} is still ${parts.level}: ${parts.amount}${thresholdClause(parts)} since ${parts.since} (${parts.duration}).${parts.reminder}`,

  recovery: (parts) => {
    const limits = parts.threshold === undefined ? 'back within limits' : `back within limits, no longer ${parts.threshold}`;
    return `${parts.toolLabel} recovered: ${parts.amount} (${limits}) after ${parts.duration}. It was alerting since ${parts.since}. No more reminders will be sent.`;
  },

  error: (parts) => {
    const lastThreshold = parts.threshold === undefined ? '' : ` (${parts.threshold})`;
    const lastValue = parts.hasValue ? ` The last value was ${parts.amount}${lastThreshold}.` : '';
    return `${parts.toolLabel} check failed: ${parts.error}. It is not reporting values until this is fixed. It has been failing since ${parts.since}.${lastValue}${parts.reminder}`;
  },

  error_cleared: (parts) => {
    const state = parts.hasLevel ? `it is ${parts.level}${thresholdClause(parts)}` : 'it is within limits';
    return `${parts.toolLabel} check is working again: ${parts.amount}, and ${state}. It failed for ${parts.duration}, since ${parts.since}.${parts.reminder}`;
  },
};

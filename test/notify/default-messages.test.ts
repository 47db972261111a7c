/** Tests for the default subject and text of check notifications. */
import { describe, expect, it } from 'vitest';

import type { Notification, NotificationKind } from '../../runtime/checks/types.js';
import { defaultMessage, formatDuration, formatNumber, formatUtcTime } from '../../runtime/notify/default-messages.js';
import { ALL_KINDS, sampleNotification } from './notifications.js';

const CONTEXT = { unit: 'pending' };

/** One notification per kind, as the check would send it, with every field that kind can carry. */
const NOTIFICATIONS: Record<NotificationKind, Notification> = {
  alert: sampleNotification(),
  level_change: sampleNotification({ kind: 'level_change' }),
  reminder: sampleNotification({ kind: 'reminder', at: '2026-11-01T15:20:00.000Z', nextReminderAt: '2026-11-01T16:20:00.000Z' }),
  recovery: sampleNotification({ kind: 'recovery', level: undefined, value: 120, nextReminderAt: undefined, at: '2026-11-01T15:00:00.000Z' }),
  error: sampleNotification({ kind: 'error', level: undefined, error: 'connection refused', nextReminderAt: '2026-11-01T15:40:00.000Z' }),
  error_cleared: sampleNotification({ kind: 'error_cleared', at: '2026-11-01T14:52:00.000Z', nextReminderAt: '2026-11-01T15:52:00.000Z' }),
};

describe('defaultMessage', () => {
  it('writes the alert example', () => {
    const { text } = defaultMessage(NOTIFICATIONS.alert, CONTEXT);
    expect(text).toBe('queue-backlog is CRITICAL: 12,400 pending, above 10,000 since 2026-11-01 14:20 UTC. Next reminder 15:20 UTC if it stays high.');
  });

  it('writes the recovery example', () => {
    const { text } = defaultMessage(NOTIFICATIONS.recovery, CONTEXT);
    expect(text).toBe(
      'queue-backlog recovered: 120 pending (back within limits, no longer above 10,000) after 40 minutes. ' +
        'It was alerting since 2026-11-01 14:20 UTC. No more reminders will be sent.',
    );
  });

  it('writes the error example', () => {
    const { text } = defaultMessage(NOTIFICATIONS.error, CONTEXT);
    expect(text).toBe(
      'queue-backlog check failed: connection refused. It is not reporting values until this is fixed. ' +
        'It has been failing since 2026-11-01 14:20 UTC. The last value was 12,400 pending (above 10,000). ' +
        'Next reminder 15:40 UTC if the check still fails.',
    );
  });

  it.each(ALL_KINDS)('mentions value, threshold and since for %s', (kind) => {
    const notification = NOTIFICATIONS[kind];
    const { text } = defaultMessage(notification, CONTEXT);
    expect(text).toContain(`${formatNumber(notification.value ?? Number.NaN)} pending`);
    expect(text).toContain('above 10,000');
    expect(text).toContain('since 2026-11-01 14:20 UTC');
  });

  it.each(ALL_KINDS.filter((kind) => kind !== 'recovery'))('mentions the next reminder for %s', (kind) => {
    const notification = NOTIFICATIONS[kind];
    const reminderTime = formatUtcTime(notification.nextReminderAt ?? '').slice(11);
    const { text } = defaultMessage(notification, CONTEXT);
    expect(text).toContain(`Next reminder ${reminderTime}`);
  });

  it('says recovery ends the reminders', () => {
    const { text } = defaultMessage(NOTIFICATIONS.recovery, CONTEXT);
    expect(text).not.toContain('Next reminder');
    expect(text).toContain('No more reminders');
  });

  it.each(ALL_KINDS)('writes a subject naming the tool for %s', (kind) => {
    const { subject } = defaultMessage(NOTIFICATIONS[kind], CONTEXT);
    expect(subject).toContain('queue-backlog');
    expect(subject).not.toContain('\n');
  });

  it('puts the level in alert subjects', () => {
    expect(defaultMessage(NOTIFICATIONS.alert, CONTEXT).subject).toBe('[CRITICAL] queue-backlog: 12,400 pending, above 10,000');
    expect(defaultMessage(NOTIFICATIONS.recovery, CONTEXT).subject).toBe('[RECOVERED] queue-backlog: 120 pending');
  });

  it('shows the title with the tool name', () => {
    const { text } = defaultMessage(NOTIFICATIONS.alert, { title: 'Search index sync queue', unit: 'pending' });
    expect(text.startsWith('Search index sync queue (queue-backlog) is CRITICAL')).toBe(true);
  });

  it('says how long a reminder has been alerting', () => {
    const { text } = defaultMessage(NOTIFICATIONS.reminder, CONTEXT);
    expect(text).toContain('is still CRITICAL');
    expect(text).toContain('(1 hour)');
  });

  it('prints a reminder on another day with its date', () => {
    const notification = sampleNotification({ at: '2026-11-01T23:50:00.000Z', nextReminderAt: '2026-11-02T00:50:00.000Z' });
    expect(defaultMessage(notification, CONTEXT).text).toContain('Next reminder 2026-11-02 00:50 UTC');
  });

  it('says stays low for below thresholds', () => {
    const notification = sampleNotification({ value: 3, threshold: 'below 5' });
    expect(defaultMessage(notification).text).toContain('3, below 5 since');
    expect(defaultMessage(notification).text).toContain('if it stays low.');
  });

  it('omits missing threshold and unit', () => {
    const notification = sampleNotification({ threshold: undefined, nextReminderAt: undefined });
    expect(defaultMessage(notification).text).toBe('queue-backlog is CRITICAL: 12,400 since 2026-11-01 14:20 UTC.');
  });

  it('drops the error text full stop', () => {
    const notification = sampleNotification({ kind: 'error', error: 'timed out.', value: undefined, threshold: undefined, nextReminderAt: undefined });
    expect(defaultMessage(notification).text).toBe(
      'queue-backlog check failed: timed out. It is not reporting values until this is fixed. It has been failing since 2026-11-01 14:20 UTC.',
    );
  });

  it('reports an error cleared while still alerting', () => {
    const { text } = defaultMessage(NOTIFICATIONS.error_cleared, CONTEXT);
    expect(text).toContain('check is working again: 12,400 pending, and it is CRITICAL, above 10,000.');
    expect(text).toContain('It failed for 32 minutes');
  });

  it('reports an error cleared within limits', () => {
    const notification = sampleNotification({ kind: 'error_cleared', level: undefined, threshold: undefined, value: 40, nextReminderAt: undefined });
    expect(defaultMessage(notification).text).toContain('check is working again: 40, and it is within limits.');
  });
});

describe('formatDuration', () => {
  it.each([
    [30_000, 'less than a minute'],
    [60_000, '1 minute'],
    [40 * 60_000, '40 minutes'],
    [80 * 60_000, '1 hour 20 minutes'],
    [2 * 3_600_000, '2 hours'],
    [27 * 3_600_000, '1 day 3 hours'],
    [Number.NaN, 'less than a minute'],
  ])('formats %d ms', (milliseconds, expected) => {
    expect(formatDuration(milliseconds)).toBe(expected);
  });
});

describe('formatNumber', () => {
  it('groups thousands and limits decimals', () => {
    expect(formatNumber(12_400)).toBe('12,400');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('Infinity');
  });
});

describe('formatUtcTime', () => {
  it('formats ISO times and keeps invalid text', () => {
    expect(formatUtcTime('2026-11-01T14:20:59.000Z')).toBe('2026-11-01 14:20 UTC');
    expect(formatUtcTime('not a time')).toBe('not a time');
  });
});

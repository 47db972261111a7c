/** Sample notifications of the queue-backlog check for notifier tests. */
import type { Notification, NotificationKind } from '../../runtime/checks/types.js';

/** Returns a critical queue-backlog alert at 14:40 UTC that began at 14:20 UTC. Fields in `overrides` replace the sample values. */
export function sampleNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    kind: 'alert',
    tool: 'queue-backlog',
    level: 'critical',
    value: 12_400,
    threshold: 'above 10,000',
    since: '2026-11-01T14:20:00.000Z',
    nextReminderAt: '2026-11-01T15:20:00.000Z',
    error: undefined,
    at: '2026-11-01T14:40:00.000Z',
    ...overrides,
  };
}

export const ALL_KINDS: readonly NotificationKind[] = ['alert', 'level_change', 'reminder', 'recovery', 'error', 'error_cleared'];

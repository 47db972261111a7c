/** Sends one notification to every notifier at once, with retries, and records each outcome as a Delivery. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';

import type { Logger } from 'pino';

import type { Notification } from '../checks/types.js';
import { DeliveryError } from './delivery-error.js';
import type { Delivery, Notifier, NotifyContext } from './types.js';

/** Pauses before the second and third attempts, so three attempts in all: at 0, after 500 ms, then after another 2 s. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 2_000];

export interface DeliverOptions {
  logger: Logger;
  /** Pause before each retry, in milliseconds. Its length plus one is the number of attempts. Default DEFAULT_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
  /** Waits between attempts. Default: a timer. Tests pass one that returns at once. */
  sleep?: (milliseconds: number) => Promise<void>;
  /** Clock for the deliveries' `at`. Default: the current time. */
  now?: () => Date;
}

/**
 * Sends the notification to every notifier concurrently and returns one Delivery per notifier, in
 * the same order. A notifier is retried after a network error, a timeout, HTTP 429 or 5xx, but not
 * after another 4xx. A failing notifier never stops the others, and this function never rejects:
 * every failure is logged and returned with `ok: false`, so the caller can record it and try again
 * at the next evaluation.
 */
export async function deliverAll(notifiers: readonly Notifier[], notification: Notification, context: NotifyContext, options: DeliverOptions): Promise<Delivery[]> {
  return Promise.all(notifiers.map((notifier) => deliverOne(notifier, notification, context, options)));
}

async function deliverOne(notifier: Notifier, notification: Notification, context: NotifyContext, options: DeliverOptions): Promise<Delivery> {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const sleep = options.sleep ?? ((milliseconds: number) => sleepFor(milliseconds));
  const now = options.now ?? (() => new Date());
  const maxAttempts = delays.length + 1;
  const id = randomUUID();
  // Notifier names never contain secrets such as a Slack webhook URL, so they are safe to log.
  const fields = { notifier: notifier.name, tool: notification.tool, kind: notification.kind, delivery_id: id };

  let attempt = 0;
  let reason = '';
  while (attempt < maxAttempts) {
    if (attempt > 0) {
      await sleep(delays[attempt - 1] ?? 0);
    }
    attempt += 1;

    try {
      await notifier.send(notification, context, { id, attempt });
      options.logger.info({ ...fields, attempts: attempt }, 'notification delivered');
      return { notifier: notifier.name, kind: notification.kind, ok: true, attempts: attempt, at: now().toISOString() };
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
      const retryable = !(error instanceof DeliveryError) || error.retryable;
      const status = error instanceof DeliveryError ? error.status : undefined;
      if (!retryable) {
        options.logger.error({ ...fields, attempts: attempt, status, detail: reason }, 'notification rejected by its destination, so it is not retried');
        return failedDelivery(notifier, notification, attempt, reason, now);
      }
      if (attempt < maxAttempts) {
        options.logger.warn({ ...fields, attempt, max_attempts: maxAttempts, status, detail: reason }, 'delivering the notification failed, retrying');
      }
    }
  }

  options.logger.error({ ...fields, attempts: attempt, detail: reason }, `notification not delivered after ${attempt} attempts`);
  return failedDelivery(notifier, notification, attempt, reason, now);
}

function failedDelivery(notifier: Notifier, notification: Notification, attempts: number, reason: string, now: () => Date): Delivery {
  return { notifier: notifier.name, kind: notification.kind, ok: false, attempts, error: reason, at: now().toISOString() };
}

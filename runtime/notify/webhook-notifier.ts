/** Posts check notifications as signed JSON to any HTTP endpoint. */
import { createHmac } from 'node:crypto';

import type { Level, Notification, NotificationKind } from '../checks/types.js';
import { defaultMessage } from './default-messages.js';
import { DeliveryError, describeFetchError, isRetryableStatus } from './delivery-error.js';
import { compileMessageTemplate, renderMessage, type CompiledMessageTemplate } from './message-template.js';
import type { DeliveryAttempt, Notifier, NotifyContext, WebhookNotifierSpec } from './types.js';

export const SIGNATURE_HEADER = 'x-toolshed-signature';
export const TIMESTAMP_HEADER = 'x-toolshed-timestamp';
export const DELIVERY_HEADER = 'x-toolshed-delivery';

const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_ERROR_BODY_LENGTH = 200;

/** The JSON body. Missing values are null, so every key is always present. */
export interface WebhookPayload {
  tool: string;
  kind: NotificationKind;
  level: Level | null;
  value: number | null;
  threshold: string | null;
  since: string;
  next_reminder_at: string | null;
  error: string | null;
  at: string;
  /** Plain text from the author's template, or the default text. */
  text: string;
}

export interface WebhookNotifierOptions {
  /** Time limit of one post. Default 5,000 ms. */
  timeoutMs?: number;
  /** Clock for the timestamp header. Default: Date.now. */
  now?: () => number;
}

export class WebhookNotifier implements Notifier {
  readonly name: string;
  private readonly url: string;
  private readonly host: string;
  private readonly secret: string | undefined;
  private readonly message: CompiledMessageTemplate;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  /** Throws an Error when the URL is not http or https or the template does not compile. The error never contains the URL's path. */
  constructor(spec: WebhookNotifierSpec, options: WebhookNotifierOptions = {}) {
    let url: URL;
    try {
      url = new URL(spec.url);
    } catch {
      throw new Error('webhook.url is not a URL; expected one such as https://example.com/alerts');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`webhook.url must be an http or https URL; got ${url.protocol}`);
    }

    this.host = url.host;
    // The path and query may hold a token, so only the host goes into the name that logs show.
    this.name = `webhook:${url.host}`;
    this.url = spec.url;
    this.secret = spec.secret === undefined || spec.secret === '' ? undefined : spec.secret;
    this.message = compileMessageTemplate(spec.message, 'webhook.message');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  async send(notification: Notification, context: NotifyContext, attempt: DeliveryAttempt): Promise<void> {
    const body = Buffer.from(JSON.stringify(this.buildPayload(notification, context)), 'utf8');
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      [TIMESTAMP_HEADER]: String(Math.floor(this.now() / 1000)),
      [DELIVERY_HEADER]: attempt.id,
    };
    if (this.secret !== undefined) {
      headers[SIGNATURE_HEADER] = signWebhookBody(body, this.secret);
    }

    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new DeliveryError(`posting to the webhook at ${this.host} failed: ${describeFetchError(error, this.timeoutMs)}`, true);
    }

    const answer = (await response.text().catch(() => '')).slice(0, MAX_ERROR_BODY_LENGTH);
    if (!response.ok) {
      const detail = answer.trim() === '' ? '' : `: ${answer.trim()}`;
      throw new DeliveryError(`the webhook at ${this.host} returned HTTP ${response.status}${detail}`, isRetryableStatus(response.status), response.status);
    }
  }

  buildPayload(notification: Notification, context: NotifyContext): WebhookPayload {
    const text = renderMessage(this.message, notification, context, { fallback: defaultMessage(notification, context).text });
    return {
      tool: notification.tool,
      kind: notification.kind,
      level: notification.level ?? null,
      value: notification.value ?? null,
      threshold: notification.threshold ?? null,
      since: notification.since,
      next_reminder_at: notification.nextReminderAt ?? null,
      error: notification.error ?? null,
      at: notification.at,
      text,
    };
  }
}

/**
 * Returns the `X-Toolshed-Signature` value: "sha256=" and the hex HMAC-SHA256 of the exact body
 * bytes. Receivers compute the same over the raw body, before parsing it, and compare in constant time.
 * NOTE: the signature does not cover `X-Toolshed-Timestamp`, so a receiver that wants to reject
 * replays has to check the body's `at` field, which the signature does cover.
 */
export function signWebhookBody(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Types of alert notifiers: their configuration, the interface every notifier implements and delivery records. */
import type { Notification, NotificationKind } from '../checks/types.js';

/**
 * A Handlebars template written by the tool author: one template for every kind of notification,
 * or one per kind. A kind missing from the map gets the default text for that kind.
 *
 * Templates are trusted, and the values they insert are escaped for the notifier's surface. The
 * context has `tool`, `title`, `unit`, `kind`, `level`, `value`, `threshold`, `since`,
 * `next_reminder_at`, `error` and `at`. Times are ISO 8601 strings, so `{{datetime since}}` prints them.
 */
export type MessageTemplate = string | Partial<Record<NotificationKind, string>>;

export interface SnsNotifierSpec {
  type: 'sns';
  topic_arn: string;
  /** AWS region of the client. Default: the SDK's region chain (`AWS_REGION`, then the profile's region). */
  region?: string;
  /** Endpoint URL that replaces the SNS endpoint, such as a local SNS server. Default: `TOOLSHED_SNS_ENDPOINT`, else AWS. */
  endpoint?: string;
  subject?: MessageTemplate;
  message?: MessageTemplate;
}

export interface SlackWebhookNotifierSpec {
  type: 'slack';
  /** Slack incoming webhook URL. It is a secret, because anyone with the URL can post to the channel. */
  webhook_url: string;
  /** Template of the mrkdwn text. */
  message?: MessageTemplate;
}

export interface WebhookNotifierSpec {
  type: 'webhook';
  url: string;
  /** Key of the HMAC-SHA256 signature in `X-Toolshed-Signature`. Without it, requests are not signed. */
  secret?: string;
  /** Template of the body's `text` field. */
  message?: MessageTemplate;
}

export type NotifierSpec = SnsNotifierSpec | SlackWebhookNotifierSpec | WebhookNotifierSpec;

/** Facts about the tool that a notification does not carry, used in message text. */
export interface NotifyContext {
  /** Human name of the tool. Default: the tool name. */
  title?: string;
  /** Word printed after the value, such as "pending" in "12,400 pending". */
  unit?: string;
}

/** Identity of one delivery, shared by all its attempts. */
export interface DeliveryAttempt {
  /** Random id, the same on every retry, so that receivers can drop duplicates. */
  id: string;
  /** 1 for the first try. */
  attempt: number;
}

/** A destination for notifications. */
export interface Notifier {
  /** Label in delivery records and logs, such as "sns:arn:aws:sns:…", "slack" or "webhook:example.com". It never contains a secret. */
  readonly name: string;
  /**
   * Sends one attempt. Throws a DeliveryError when the destination rejects the request. Any other
   * error, such as a refused connection or a timeout, counts as retryable.
   */
  send(notification: Notification, context: NotifyContext, attempt: DeliveryAttempt): Promise<void>;
}

/** Outcome of sending one notification to one notifier, after all attempts. */
export interface Delivery {
  notifier: string;
  kind: NotificationKind;
  ok: boolean;
  attempts: number;
  /** Reason the last attempt failed. Set only when `ok` is false. */
  error?: string;
  /** ISO 8601 time when the last attempt ended. */
  at: string;
}

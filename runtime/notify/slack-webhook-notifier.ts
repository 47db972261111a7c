/** Posts check notifications to a Slack incoming webhook as Block Kit messages. */
import type { Notification, NotificationKind } from '../checks/types.js';
import { formatSlackMessage, type SlackBlock } from '../surfaces/slack/blocks.js';
import { escapeMrkdwn } from '../surfaces/slack/mrkdwn.js';
import { defaultMessage } from './default-messages.js';
import { DeliveryError, describeFetchError, isRetryableStatus } from './delivery-error.js';
import { compileMessageTemplate, renderMessage, type CompiledMessageTemplate } from './message-template.js';
import type { DeliveryAttempt, Notifier, NotifyContext, SlackWebhookNotifierSpec } from './types.js';

const SLACK_WEBHOOK_HOST = 'hooks.slack.com';
const DEFAULT_TIMEOUT_MS = 5_000;
/** Maximum length of a response body quoted in an error. Slack's error bodies are short codes such as "no_service". */
const MAX_ERROR_BODY_LENGTH = 200;

const KIND_EMOJI: Record<NotificationKind, string> = {
  alert: ':rotating_light:',
  level_change: ':rotating_light:',
  reminder: ':hourglass:',
  recovery: ':white_check_mark:',
  error: ':warning:',
  error_cleared: ':white_check_mark:',
};

/** Body of an incoming-webhook post. Webhooks ignore `response_type`, so it is left out. */
export interface SlackWebhookPayload {
  text: string;
  blocks: SlackBlock[];
}

export interface SlackWebhookNotifierOptions {
  /** Also accepts http and https URLs on 127.0.0.1, localhost or [::1], for tests and demos. */
  allowInsecureLocal?: boolean;
  /** Time limit of one post. Default 5,000 ms. */
  timeoutMs?: number;
}

export class SlackWebhookNotifier implements Notifier {
  readonly name = 'slack';
  /** Host of the webhook URL, the only part of it that is safe to log. */
  readonly host: string;
  private readonly url: string;
  private readonly message: CompiledMessageTemplate;
  private readonly timeoutMs: number;

  /** Throws an Error when the URL is not a Slack webhook URL or the template does not compile. The error never contains the URL. */
  constructor(spec: SlackWebhookNotifierSpec, options: SlackWebhookNotifierOptions = {}) {
    this.host = checkWebhookUrl(spec.webhook_url, options.allowInsecureLocal === true);
    this.url = spec.webhook_url;
    this.message = compileMessageTemplate(spec.message, 'slack.message');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async send(notification: Notification, context: NotifyContext): Promise<void> {
    const body = JSON.stringify(this.buildPayload(notification, context));
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new DeliveryError(`posting to the Slack webhook at ${this.host} failed: ${describeFetchError(error, this.timeoutMs)}`, true);
    }

    const answer = (await response.text().catch(() => '')).slice(0, MAX_ERROR_BODY_LENGTH);
    if (!response.ok) {
      const detail = answer.trim() === '' ? '' : `: ${answer.trim()}`;
      throw new DeliveryError(`the Slack webhook at ${this.host} returned HTTP ${response.status}${detail}`, isRetryableStatus(response.status), response.status);
    }
  }

  /**
   * Builds the webhook body. Values are escaped with escapeMrkdwn, so that data such as
   * `<!channel>` in an error shows as typed, while the author's template text stays as written.
   */
  buildPayload(notification: Notification, context: NotifyContext): SlackWebhookPayload {
    const defaults = defaultMessage(notification, context);
    const fallback = `${KIND_EMOJI[notification.kind]} ${escapeMrkdwn(defaults.text)}`;
    const text = renderMessage(this.message, notification, context, { escape: escapeMrkdwn, fallback });
    const message = formatSlackMessage({ text, responseType: 'in_channel' });
    return { text: message.text, blocks: message.blocks };
  }
}

/** Returns the URL's host when it is a Slack webhook URL (or a loopback URL, when allowed); throws otherwise. */
function checkWebhookUrl(value: string, allowInsecureLocal: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`slack.webhook_url is not a URL; expected https://${SLACK_WEBHOOK_HOST}/services/...`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error('slack.webhook_url must not contain a user name or password');
  }

  const isSlack = url.protocol === 'https:' && url.hostname === SLACK_WEBHOOK_HOST && url.port === '';
  const isLoopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && (url.protocol === 'http:' || url.protocol === 'https:');
  if (isSlack || (allowInsecureLocal && isLoopback)) {
    return url.host;
  }
  throw new Error(`slack.webhook_url must start with https://${SLACK_WEBHOOK_HOST}/; got a ${url.protocol} URL for host ${url.host}`);
}

/** Publishes check notifications to an Amazon SNS topic, within SNS's limits on subject and message size. */
import { PublishCommand, type MessageAttributeValue, type PublishCommandInput } from '@aws-sdk/client-sns';

import type { Notification } from '../checks/types.js';
import { defaultMessage } from './default-messages.js';
import { DeliveryError, isRetryableStatus } from './delivery-error.js';
import { compileMessageTemplate, renderMessage, type CompiledMessageTemplate } from './message-template.js';
import { defaultSnsClients, type SnsClientCache } from './sns-clients.js';
import type { DeliveryAttempt, Notifier, NotifyContext, SnsNotifierSpec } from './types.js';

/**
 * Maximum subject length. The Publish API reference (in @aws-sdk/client-sns 3.1178's type
 * documentation) requires subjects "less than 100 characters long".
 */
export const SNS_SUBJECT_MAX_LENGTH = 99;

/** SNS's default maximum size of a message, counted in UTF-8 bytes together with its message attributes. */
export const SNS_MESSAGE_MAX_BYTES = 262_144;

/** Environment variable that sets the endpoint of every SNS notifier without its own `endpoint`. */
export const SNS_ENDPOINT_ENV = 'TOOLSHED_SNS_ENDPOINT';

const DEFAULT_TIMEOUT_MS = 5_000;
const FALLBACK_SUBJECT = 'toolshed check notification';
const SUBJECT_ELLIPSIS = '...';

/** An ARN such as arn:aws:sns:us-east-1:123456789012:alerts, in any partition. */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export type SnsSeverity = 'warning' | 'critical' | 'info';

export interface SnsNotifierOptions {
  /** Default: the shared cache with the SDK's default credential chain. */
  clients?: SnsClientCache;
  /** Environment that `TOOLSHED_SNS_ENDPOINT` is read from. Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Time limit of one publish request. Default 5,000 ms. */
  timeoutMs?: number;
}

export class SnsNotifier implements Notifier {
  readonly name: string;
  private readonly topicArn: string;
  private readonly region: string | undefined;
  private readonly endpoint: string | undefined;
  private readonly subject: CompiledMessageTemplate;
  private readonly message: CompiledMessageTemplate;
  private readonly clients: SnsClientCache;
  private readonly timeoutMs: number;

  /** Throws an Error when the topic ARN or endpoint is invalid or a template does not compile. */
  constructor(spec: SnsNotifierSpec, options: SnsNotifierOptions = {}) {
    if (!TOPIC_ARN.test(spec.topic_arn)) {
      throw new Error(`sns.topic_arn "${spec.topic_arn}" is not an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:alerts`);
    }
    const env = options.env ?? process.env;
    const endpoint = nonEmpty(spec.endpoint) ?? nonEmpty(env[SNS_ENDPOINT_ENV]);
    if (endpoint !== undefined && !URL.canParse(endpoint)) {
      throw new Error(`sns.endpoint "${endpoint}" is not a URL; expected one such as http://127.0.0.1:4566`);
    }

    this.name = `sns:${spec.topic_arn}`;
    this.topicArn = spec.topic_arn;
    // A topic lives in one region, named in its ARN (arn:aws:sns:REGION:ACCOUNT:NAME); use it when the spec names none.
    this.region = nonEmpty(spec.region) ?? regionOfArn(spec.topic_arn);
    this.endpoint = endpoint;
    this.subject = compileMessageTemplate(spec.subject, 'sns.subject');
    this.message = compileMessageTemplate(spec.message, 'sns.message');
    this.clients = options.clients ?? defaultSnsClients;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async send(notification: Notification, context: NotifyContext, attempt: DeliveryAttempt): Promise<void> {
    const input = this.buildPublishInput(notification, context, attempt);
    const client = this.clients.get(this.region, this.endpoint);
    try {
      await client.send(new PublishCommand(input), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw toDeliveryError(error, this.timeoutMs);
    }
  }

  /** Builds the Publish request: sanitized subject, message cut to the size limit, and attributes. */
  buildPublishInput(notification: Notification, context: NotifyContext, attempt: DeliveryAttempt): PublishCommandInput {
    const defaults = defaultMessage(notification, context);
    const renderedSubject = sanitizeSnsSubject(renderMessage(this.subject, notification, context, { fallback: defaults.subject }));
    const subject = renderedSubject === '' ? sanitizeSnsSubject(defaults.subject) : renderedSubject;

    const attributes: Record<string, MessageAttributeValue> = {
      severity: { DataType: 'String', StringValue: snsSeverity(notification) },
      tool: { DataType: 'String', StringValue: notification.tool },
      kind: { DataType: 'String', StringValue: notification.kind },
    };
    const text = renderMessage(this.message, notification, context, { fallback: defaults.text });
    const message = fitSnsMessage(text, SNS_MESSAGE_MAX_BYTES - attributesByteLength(attributes));

    const input: PublishCommandInput = {
      TopicArn: this.topicArn,
      Subject: subject === '' ? FALLBACK_SUBJECT : subject,
      Message: message,
      MessageAttributes: attributes,
    };
    if (this.topicArn.endsWith('.fifo')) {
      // FIFO topics require a group id. The delivery id stays the same across retries, so SNS drops
      // a retry of a publish that did arrive.
      input.MessageGroupId = notification.tool;
      input.MessageDeduplicationId = attempt.id;
    }
    return input;
  }
}

/** Severity attribute that subscription filter policies can match: the level while alerting, info for good news. */
export function snsSeverity(notification: Notification): SnsSeverity {
  switch (notification.kind) {
    case 'recovery':
    case 'error_cleared':
      return 'info';
    case 'error':
      return 'warning';
    default:
      return notification.level ?? 'warning';
  }
}

/**
 * Makes a subject that SNS accepts: printable ASCII only, with no line breaks or control characters,
 * starting with a letter, digit or punctuation mark, and at most 99 characters. Accents are removed
 * ("é" becomes "e"), typographic quotes and dashes become their ASCII forms, runs of whitespace
 * become one space, and other characters are dropped. A subject that is cut ends in "...".
 * Returns an empty string when nothing printable is left.
 */
export function sanitizeSnsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[\u2018\u2019\u201A\u201B]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\s+/gu, ' ')
    .replace(/[^\x20-\x7E]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();

  if (ascii.length <= SNS_SUBJECT_MAX_LENGTH) {
    return ascii;
  }
  return `${ascii.slice(0, SNS_SUBJECT_MAX_LENGTH - SUBJECT_ELLIPSIS.length).trimEnd()}${SUBJECT_ELLIPSIS}`;
}

/**
 * Cuts a message to at most `maxBytes` UTF-8 bytes, at a character boundary, and appends a note
 * saying how much is shown. A message that fits is returned unchanged.
 */
export function fitSnsMessage(message: string, maxBytes: number): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= maxBytes) {
    return message;
  }

  const total = bytes.length.toLocaleString('en-US');
  const cutNote = (shown: string): string => `\n\n[Message cut to fit the SNS size limit: the first ${shown} of ${total} bytes are shown.]`;
  // The shown count is at most the total, so a note built with the total twice is the longest one.
  let end = maxBytes - Buffer.byteLength(cutNote(total));
  // A byte 10xxxxxx continues a multi-byte character, so the cut moves back to the character's first byte.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) {
    end -= 1;
  }
  return `${bytes.subarray(0, Math.max(0, end)).toString('utf8')}${cutNote(Math.max(0, end).toLocaleString('en-US'))}`;
}

/** Size of message attributes as SNS counts it against the message limit: name, data type and value. */
function attributesByteLength(attributes: Record<string, MessageAttributeValue>): number {
  let total = 0;
  for (const [name, value] of Object.entries(attributes)) {
    total += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '');
  }
  return total;
}

/** Converts an SDK error. A 4xx response other than throttling is not retryable, and a failure without a response is. */
function toDeliveryError(error: unknown, timeoutMs: number): DeliveryError {
  if (!(error instanceof Error)) {
    return new DeliveryError(`SNS publish failed: ${String(error)}`, true);
  }
  if (error.name === 'AbortError' || error.name === 'TimeoutError') {
    return new DeliveryError(`SNS publish timed out after ${timeoutMs} ms`, true);
  }

  const status = (error as Error & { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    // SNS sends KMSThrottling with HTTP 400, but it is a throttling error, so a later attempt can succeed.
    const retryable = isRetryableStatus(status) || error.name === 'KMSThrottlingException';
    return new DeliveryError(`SNS rejected the publish with HTTP ${status}: ${error.name}: ${error.message}`, retryable, status);
  }

  const code = (error as Error & { code?: unknown }).code;
  const reason = typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  return new DeliveryError(`SNS publish failed: ${reason}`, true);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Returns the region field of an ARN, or undefined when the text is not an SNS ARN. */
function regionOfArn(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:sns:([a-z0-9-]+):/.exec(arn)?.[1];
}

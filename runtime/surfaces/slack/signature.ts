/** Verifies and creates Slack request signatures (version v0: HMAC-SHA256 over the raw request body). */

import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_SIGNATURE_VERSION = 'v0';

/** Maximum clock difference, in seconds, between Slack's timestamp and ours (Slack's request-verification guide uses five minutes). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Unix time in whole seconds. The digit cap keeps the value a safe integer. */
const TIMESTAMP_PATTERN = /^[0-9]{1,15}$/;

export type SlackSignatureFailure =
  | 'missing_headers'
  | 'malformed_timestamp'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'no_secret';

export type SlackSignatureResult = { ok: true } | { ok: false; reason: SlackSignatureFailure };

export interface VerifySlackSignatureOptions {
  /** Request body exactly as received, before any form or JSON parsing. */
  rawBody: Buffer;
  /** Value of the `X-Slack-Request-Timestamp` header. */
  timestamp: string | undefined;
  /** Value of the `X-Slack-Signature` header, such as `v0=1a2b…`. */
  signature: string | undefined;
  /** Signing secrets that are currently valid. Several are allowed so a secret can be rotated. */
  secrets: readonly string[];
  /** Current Unix time in seconds; defaults to the system clock. */
  nowSeconds?: number;
  /** Maximum allowed difference between `nowSeconds` and the timestamp, in either direction. */
  toleranceSeconds?: number;
}

/**
 * Checks a Slack request against every signing secret. Rejects a timestamp more than
 * `toleranceSeconds` in the past or in the future, so a captured request cannot be replayed later.
 * Empty secrets are ignored, because an empty HMAC key would let anyone sign requests.
 */
export function verifySlackSignature(options: VerifySlackSignatureOptions): SlackSignatureResult {
  const secrets = options.secrets.filter((secret) => secret.length > 0);
  if (secrets.length === 0) {
    return { ok: false, reason: 'no_secret' };
  }

  const { timestamp, signature } = options;
  if (timestamp === undefined || timestamp === '' || signature === undefined || signature === '') {
    return { ok: false, reason: 'missing_headers' };
  }
  if (!TIMESTAMP_PATTERN.test(timestamp)) {
    return { ok: false, reason: 'malformed_timestamp' };
  }

  const nowSeconds = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: 'stale_timestamp' };
  }

  const received = Buffer.from(signature, 'utf8');
  let matched = false;
  // Every secret is compared even after a match, so the response time does not reveal which one matched.
  for (const secret of secrets) {
    const expected = Buffer.from(signSlackRequest(secret, timestamp, options.rawBody), 'utf8');
    const equal = constantTimeEqual(expected, received);
    matched = equal || matched;
  }
  return matched ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

/** Computes the `X-Slack-Signature` value for a request body, as Slack would send it. */
export function signSlackRequest(secret: string, timestamp: string | number, rawBody: Buffer | string): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const prefix = Buffer.from(`${SLACK_SIGNATURE_VERSION}:${timestamp}:`, 'utf8');
  const digest = createHmac('sha256', secret).update(prefix).update(body).digest('hex');
  return `${SLACK_SIGNATURE_VERSION}=${digest}`;
}

/**
 * Compares two buffers in time that depends only on `expected`'s length. A length mismatch still
 * runs one comparison, so only the fact that the lengths differ can leak.
 */
function constantTimeEqual(expected: Buffer, received: Buffer): boolean {
  if (expected.length !== received.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(expected, received);
}

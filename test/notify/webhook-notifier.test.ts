/** Tests for the signed JSON webhook notifier against a local receiver. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DeliveryError } from '../../runtime/notify/delivery-error.js';
import type { WebhookNotifierSpec } from '../../runtime/notify/types.js';
import { WebhookNotifier, signWebhookBody, type WebhookPayload } from '../../runtime/notify/webhook-notifier.js';
import { sampleNotification } from './notifications.js';
import { WebhookReceiver } from './webhook-receiver.js';

const SECRET = 'webhook-test-secret';
const ATTEMPT = { id: '5f0c1a2e-delivery', attempt: 1 };
const CONTEXT = { unit: 'pending' };
const NOW_MS = Date.parse('2026-11-01T14:40:05.000Z');

const receiver = new WebhookReceiver();
let baseUrl = '';

function localNotifier(spec: Partial<WebhookNotifierSpec> = {}): WebhookNotifier {
  return new WebhookNotifier({ type: 'webhook', url: `${baseUrl}/alerts?token=abc`, secret: SECRET, ...spec }, { now: () => NOW_MS });
}

/** Verifies a signature the way a receiver should: HMAC over the raw bytes, compared in constant time. */
function verifySignature(body: Buffer, header: string | string[] | undefined, secret: string): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const received = Buffer.from(header.slice('sha256='.length), 'hex');
  return received.length === expected.length && timingSafeEqual(received, expected);
}

beforeAll(async () => {
  baseUrl = await receiver.start();
});

afterAll(async () => {
  await receiver.stop();
});

beforeEach(() => {
  receiver.requests.length = 0;
  receiver.answers.length = 0;
});

describe('WebhookNotifier', () => {
  it('posts the payload with every field', async () => {
    await localNotifier().send(sampleNotification(), CONTEXT, ATTEMPT);

    const request = receiver.requests[0];
    expect(request?.path).toBe('/alerts?token=abc');
    const payload = JSON.parse(request?.body.toString('utf8') ?? '{}') as WebhookPayload;
    expect(payload).toEqual({
      tool: 'queue-backlog',
      kind: 'alert',
      level: 'critical',
      value: 12_400,
      threshold: 'above 10,000',
      since: '2026-11-01T14:20:00.000Z',
      next_reminder_at: '2026-11-01T15:20:00.000Z',
      error: null,
      at: '2026-11-01T14:40:00.000Z',
      text: 'queue-backlog is CRITICAL: 12,400 pending, above 10,000 since 2026-11-01 14:20 UTC. Next reminder 15:20 UTC if it stays high.',
    });
  });

  it('signs the exact bytes received', async () => {
    await localNotifier().send(sampleNotification({ error: 'naïve “quotes” 🚨 </script>' }), CONTEXT, ATTEMPT);

    const request = receiver.requests[0];
    expect(request).toBeDefined();
    if (request === undefined) return;
    expect(request.headers['x-toolshed-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(request.body, request.headers['x-toolshed-signature'], SECRET)).toBe(true);
    expect(verifySignature(request.body, request.headers['x-toolshed-signature'], 'wrong-secret')).toBe(false);
    expect(request.headers['x-toolshed-signature']).toBe(signWebhookBody(request.body, SECRET));
  });

  it('sends timestamp and delivery id headers', async () => {
    await localNotifier().send(sampleNotification(), CONTEXT, ATTEMPT);

    const headers = receiver.requests[0]?.headers;
    expect(headers?.['x-toolshed-timestamp']).toBe(String(NOW_MS / 1000));
    expect(headers?.['x-toolshed-delivery']).toBe(ATTEMPT.id);
    expect(headers?.['content-type']).toBe('application/json; charset=utf-8');
  });

  it('omits the signature without a secret', async () => {
    await localNotifier({ secret: undefined }).send(sampleNotification(), CONTEXT, ATTEMPT);
    expect(receiver.requests[0]?.headers['x-toolshed-signature']).toBeUndefined();
  });

  it('renders the text template without escaping', async () => {
    await localNotifier({ message: '{{tool}} <{{error}}>' }).send(sampleNotification({ error: 'a & b' }), CONTEXT, ATTEMPT);
    const payload = JSON.parse(receiver.requests[0]?.body.toString('utf8') ?? '{}') as WebhookPayload;
    expect(payload.text).toBe('queue-backlog <a & b>');
  });

  it('names the notifier by host only', () => {
    expect(localNotifier().name).toBe(`webhook:${new URL(baseUrl).host}`);
  });

  it('throws non-retryable on 400 and retryable on 503', async () => {
    receiver.answers.push({ status: 400, body: 'bad payload' }, { status: 503, body: '' });
    const rejected = await localNotifier().send(sampleNotification(), CONTEXT, ATTEMPT).catch((caught: unknown) => caught);
    const unavailable = await localNotifier().send(sampleNotification(), CONTEXT, ATTEMPT).catch((caught: unknown) => caught);

    expect(rejected).toBeInstanceOf(DeliveryError);
    expect((rejected as DeliveryError).retryable).toBe(false);
    expect((rejected as DeliveryError).message).toMatch(/returned HTTP 400: bad payload$/);
    expect((rejected as DeliveryError).message).not.toContain('token=abc');
    expect((unavailable as DeliveryError).retryable).toBe(true);
    expect((unavailable as DeliveryError).status).toBe(503);
  });

  it('times out after the limit', async () => {
    // A server that accepts the request and never responds.
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address() as AddressInfo;
    const notifier = new WebhookNotifier({ type: 'webhook', url: `http://127.0.0.1:${address.port}/hook` }, { timeoutMs: 100 });

    const error = await notifier.send(sampleNotification(), CONTEXT, ATTEMPT).catch((caught: unknown) => caught);

    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    expect((error as DeliveryError).retryable).toBe(true);
    expect((error as DeliveryError).message).toMatch(/failed: timed out after 100 ms$/);
  });

  it('rejects a URL that is not http', () => {
    expect(() => new WebhookNotifier({ type: 'webhook', url: 'ftp://example.com/x' })).toThrow(/webhook\.url must be an http or https URL; got ftp:/);
    expect(() => new WebhookNotifier({ type: 'webhook', url: 'example.com/x' })).toThrow(/webhook\.url is not a URL/);
  });
});

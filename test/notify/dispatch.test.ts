/** Tests for sending one notification to several notifiers with retries. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DeliveryError } from '../../runtime/notify/delivery-error.js';
import { DEFAULT_RETRY_DELAYS_MS, deliverAll } from '../../runtime/notify/dispatch.js';
import { LocalSnsServer } from '../../runtime/notify/local-sns-server.js';
import { SlackWebhookNotifier } from '../../runtime/notify/slack-webhook-notifier.js';
import { SnsClientCache } from '../../runtime/notify/sns-clients.js';
import { SnsNotifier } from '../../runtime/notify/sns-notifier.js';
import type { DeliveryAttempt, Notifier } from '../../runtime/notify/types.js';
import { WebhookNotifier } from '../../runtime/notify/webhook-notifier.js';
import { captureLog } from './log-capture.js';
import { sampleNotification } from './notifications.js';
import { WebhookReceiver, closedPort } from './webhook-receiver.js';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:toolshed-alerts';
const SLACK_PATH = '/services/T0000/B0000/slack-secret-path';
const CONTEXT = { unit: 'pending' };
const FIXED_NOW = new Date('2026-11-01T14:40:01.000Z');

const snsServer = new LocalSnsServer();
const receiver = new WebhookReceiver();
const clients = new SnsClientCache({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
let snsEndpoint = '';
let receiverUrl = '';
let refusedPort = 0;

/** Creates a sleep function that records the pauses deliverAll requests and returns at once. */
function recordingSleep(): { sleep: (milliseconds: number) => Promise<void>; pauses: number[] } {
  const pauses: number[] = [];
  return { pauses, sleep: async (milliseconds) => void pauses.push(milliseconds) };
}

/** Creates a notifier whose attempts fail with the given errors in order, then succeed. */
function scriptedNotifier(name: string, failures: unknown[]): Notifier & { attempts: DeliveryAttempt[] } {
  const attempts: DeliveryAttempt[] = [];
  return {
    name,
    attempts,
    async send(_notification, _context, attempt) {
      attempts.push(attempt);
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
    },
  };
}

beforeAll(async () => {
  ({ endpoint: snsEndpoint } = await snsServer.start());
  receiverUrl = await receiver.start();
  refusedPort = await closedPort();
});

afterAll(async () => {
  clients.destroy();
  await snsServer.stop();
  await receiver.stop();
});

beforeEach(() => {
  snsServer.published.length = 0;
  receiver.requests.length = 0;
  receiver.answers.length = 0;
});

describe('deliverAll', () => {
  it('delivers despite a broken notifier', async () => {
    const log = captureLog();
    const { sleep, pauses } = recordingSleep();
    const notifiers: Notifier[] = [
      new WebhookNotifier({ type: 'webhook', url: `http://127.0.0.1:${refusedPort}/hook` }),
      new SlackWebhookNotifier({ type: 'slack', webhook_url: `${receiverUrl}${SLACK_PATH}` }, { allowInsecureLocal: true }),
      new SnsNotifier({ type: 'sns', topic_arn: TOPIC_ARN, region: 'us-east-1', endpoint: snsEndpoint }, { clients, env: {} }),
    ];

    const deliveries = await deliverAll(notifiers, sampleNotification(), CONTEXT, { logger: log.logger, sleep, now: () => FIXED_NOW });

    expect(deliveries).toHaveLength(3);
    expect(deliveries[0]).toMatchObject({ notifier: `webhook:127.0.0.1:${refusedPort}`, kind: 'alert', ok: false, attempts: 3, at: FIXED_NOW.toISOString() });
    expect(deliveries[0]?.error).toBe(`posting to the webhook at 127.0.0.1:${refusedPort} failed: ECONNREFUSED`);
    expect(deliveries[1]).toEqual({ notifier: 'slack', kind: 'alert', ok: true, attempts: 1, at: FIXED_NOW.toISOString() });
    expect(deliveries[2]).toEqual({ notifier: `sns:${TOPIC_ARN}`, kind: 'alert', ok: true, attempts: 1, at: FIXED_NOW.toISOString() });
    expect(receiver.requests).toHaveLength(1);
    expect(snsServer.published).toHaveLength(1);
    expect(pauses).toEqual([...DEFAULT_RETRY_DELAYS_MS]);
  });

  it('sends to all notifiers concurrently', async () => {
    let started = 0;
    let releaseAll: () => void = () => {};
    const allStarted = new Promise<void>((resolve) => (releaseAll = resolve));
    // Each send waits until both have started, so sending one after the other would never finish.
    const waitForBoth = (name: string): Notifier => ({
      name,
      async send() {
        started += 1;
        if (started === 2) releaseAll();
        await allStarted;
      },
    });

    const deliveries = await deliverAll([waitForBoth('first'), waitForBoth('second')], sampleNotification(), CONTEXT, { logger: captureLog().logger });

    expect(deliveries.map((delivery) => delivery.ok)).toEqual([true, true]);
  });

  it('does not retry a 4xx', async () => {
    receiver.answers.push({ status: 403, body: 'invalid_token' });
    const { sleep, pauses } = recordingSleep();
    const slack = new SlackWebhookNotifier({ type: 'slack', webhook_url: `${receiverUrl}${SLACK_PATH}` }, { allowInsecureLocal: true });

    const [delivery] = await deliverAll([slack], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep });

    expect(delivery).toMatchObject({ notifier: 'slack', ok: false, attempts: 1 });
    expect(delivery?.error).toMatch(/returned HTTP 403: invalid_token$/);
    expect(receiver.requests).toHaveLength(1);
    expect(pauses).toEqual([]);
  });

  it('retries a 429', async () => {
    receiver.answers.push({ status: 429, body: 'rate_limited' });
    const slack = new SlackWebhookNotifier({ type: 'slack', webhook_url: `${receiverUrl}${SLACK_PATH}` }, { allowInsecureLocal: true });

    const [delivery] = await deliverAll([slack], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep: recordingSleep().sleep });

    expect(delivery).toMatchObject({ ok: true, attempts: 2 });
    expect(receiver.requests).toHaveLength(2);
  });

  it('keeps the delivery id across retries', async () => {
    const notifier = scriptedNotifier('scripted', [new Error('socket hang up'), new DeliveryError('HTTP 502', true, 502)]);

    const [delivery] = await deliverAll([notifier], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep: recordingSleep().sleep });

    expect(delivery).toMatchObject({ ok: true, attempts: 3 });
    expect(notifier.attempts.map((attempt) => attempt.attempt)).toEqual([1, 2, 3]);
    expect(new Set(notifier.attempts.map((attempt) => attempt.id)).size).toBe(1);
  });

  it('uses custom retry delays', async () => {
    const notifier = scriptedNotifier('scripted', [new Error('one'), new Error('two')]);
    const { sleep, pauses } = recordingSleep();

    const [delivery] = await deliverAll([notifier], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep, retryDelaysMs: [10] });

    expect(delivery).toMatchObject({ ok: false, attempts: 2, error: 'two' });
    expect(pauses).toEqual([10]);
  });

  it('returns a failure for a thrown non-error', async () => {
    const notifier = scriptedNotifier('scripted', ['plain string', 'plain string', 'plain string']);
    const [delivery] = await deliverAll([notifier], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep: recordingSleep().sleep });
    expect(delivery).toMatchObject({ ok: false, attempts: 3, error: 'plain string' });
  });

  it('returns no deliveries without notifiers', async () => {
    expect(await deliverAll([], sampleNotification(), CONTEXT, { logger: captureLog().logger })).toEqual([]);
  });
});

describe('deliverAll logging', () => {
  it('logs retries and the final failure', async () => {
    const log = captureLog();
    const notifier = new WebhookNotifier({ type: 'webhook', url: `http://127.0.0.1:${refusedPort}/hook` });

    await deliverAll([notifier], sampleNotification(), CONTEXT, { logger: log.logger, sleep: recordingSleep().sleep });

    const entries = log.entries();
    const retries = entries.filter((entry) => entry.msg === 'delivering the notification failed, retrying');
    expect(retries.map((entry) => entry.attempt)).toEqual([1, 2]);
    expect(retries.every((entry) => entry.level === 40)).toBe(true);
    const final = entries.filter((entry) => entry.level === 50);
    expect(final).toHaveLength(1);
    expect(final[0]).toMatchObject({ msg: 'notification not delivered after 3 attempts', notifier: `webhook:127.0.0.1:${refusedPort}`, tool: 'queue-backlog', kind: 'alert', attempts: 3 });
  });

  it('logs a rejection once', async () => {
    receiver.answers.push({ status: 404, body: 'no_service' });
    const log = captureLog();
    const slack = new SlackWebhookNotifier({ type: 'slack', webhook_url: `${receiverUrl}${SLACK_PATH}` }, { allowInsecureLocal: true });

    await deliverAll([slack], sampleNotification(), CONTEXT, { logger: log.logger, sleep: recordingSleep().sleep });

    const errors = log.entries().filter((entry) => entry.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: 'notification rejected by its destination, so it is not retried', status: 404 });
  });

  it('never logs a webhook URL path', async () => {
    receiver.answers.push({ status: 404, body: 'no_service' }, { status: 500, body: 'rollup_error' }, { status: 500, body: 'rollup_error' });
    const log = captureLog();
    const notifiers: Notifier[] = [
      new SlackWebhookNotifier({ type: 'slack', webhook_url: `${receiverUrl}${SLACK_PATH}` }, { allowInsecureLocal: true }),
      new SlackWebhookNotifier({ type: 'slack', webhook_url: `http://127.0.0.1:${refusedPort}${SLACK_PATH}` }, { allowInsecureLocal: true }),
      new WebhookNotifier({ type: 'webhook', url: `${receiverUrl}/hook?token=webhook-token-value` }),
    ];

    const deliveries = await deliverAll(notifiers, sampleNotification(), CONTEXT, { logger: log.logger, sleep: recordingSleep().sleep });

    expect(log.lines.length).toBeGreaterThan(3);
    const output = log.lines.join('');
    expect(output).not.toContain('slack-secret-path');
    expect(output).not.toContain('/services/');
    expect(output).not.toContain('webhook-token-value');
    expect(output).toContain(`127.0.0.1:${refusedPort}`);
    for (const delivery of deliveries) {
      expect(delivery.error ?? '').not.toContain('/services/');
      expect(delivery.error ?? '').not.toContain('webhook-token-value');
    }
  });

  it('logs each success', async () => {
    const log = captureLog();
    await deliverAll([scriptedNotifier('scripted', [])], sampleNotification(), CONTEXT, { logger: log.logger });
    expect(log.entries()).toEqual([expect.objectContaining({ level: 30, msg: 'notification delivered', notifier: 'scripted', attempts: 1 })]);
  });
});

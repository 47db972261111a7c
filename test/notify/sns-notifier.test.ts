/** Tests for the SNS notifier, through the real AWS SDK client against the local SNS server. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { deliverAll } from '../../runtime/notify/dispatch.js';
import { LocalSnsServer } from '../../runtime/notify/local-sns-server.js';
import { SnsClientCache } from '../../runtime/notify/sns-clients.js';
import { SNS_MESSAGE_MAX_BYTES, SnsNotifier, fitSnsMessage, sanitizeSnsSubject, snsSeverity } from '../../runtime/notify/sns-notifier.js';
import type { SnsNotifierSpec } from '../../runtime/notify/types.js';
import { captureLog } from './log-capture.js';
import { sampleNotification } from './notifications.js';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:toolshed-alerts';
const REGION = 'us-east-1';
const CONTEXT = { unit: 'pending' };
const ATTEMPT = { id: 'delivery-1', attempt: 1 };
const noSleep = async (): Promise<void> => {};

const server = new LocalSnsServer();
/** Static test credentials, so the SDK never reads a credential chain. */
const clients = new SnsClientCache({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
let endpoint = '';

/** Creates a notifier that always sends to the local server: explicit endpoint and region, and an empty environment. */
function localNotifier(spec: Partial<SnsNotifierSpec> = {}): SnsNotifier {
  return new SnsNotifier({ type: 'sns', topic_arn: TOPIC_ARN, region: REGION, endpoint, ...spec }, { clients, env: {} });
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

beforeAll(async () => {
  ({ endpoint } = await server.start());
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

afterAll(async () => {
  clients.destroy();
  await server.stop();
});

beforeEach(() => {
  server.published.length = 0;
});

describe('SnsNotifier', () => {
  it('publishes topic, subject, message and attributes', async () => {
    await localNotifier().send(sampleNotification(), CONTEXT, ATTEMPT);

    expect(server.published).toHaveLength(1);
    const [published] = server.published;
    expect(published?.protocol).toBe('query');
    expect(published?.topicArn).toBe(TOPIC_ARN);
    expect(published?.subject).toBe('[CRITICAL] queue-backlog: 12,400 pending, above 10,000');
    expect(published?.message).toBe('queue-backlog is CRITICAL: 12,400 pending, above 10,000 since 2026-11-01 14:20 UTC. Next reminder 15:20 UTC if it stays high.');
    expect(published?.attributes.severity).toEqual({ dataType: 'String', value: 'critical' });
    expect(published?.attributes.tool).toEqual({ dataType: 'String', value: 'queue-backlog' });
    expect(published?.attributes.kind).toEqual({ dataType: 'String', value: 'alert' });
  });

  it('sanitizes a hostile subject', async () => {
    const notifier = localNotifier({ subject: '\n  Alerte — file d’attente: {{error}} ✅ {{tool}}' });
    const error = `Zürich\r\nBcc: x@example.com\t${'x'.repeat(200)}`;
    await notifier.send(sampleNotification({ error }), CONTEXT, ATTEMPT);

    const subject = server.published[0]?.subject ?? '';
    expect(subject.length).toBeLessThanOrEqual(99);
    expect(subject).toMatch(/^[A-Za-z0-9\p{P}][\x20-\x7E]*$/u);
    expect(subject.startsWith("Alerte - file d'attente: Zurich Bcc: x@example.com xxx")).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('falls back when the subject has nothing printable', async () => {
    await localNotifier({ subject: '✅✅\n' }).send(sampleNotification(), CONTEXT, ATTEMPT);
    expect(server.published[0]?.subject).toBe('[CRITICAL] queue-backlog: 12,400 pending, above 10,000');
  });

  it('cuts a message above 256 KB', async () => {
    const error = 'é'.repeat(200_000);
    await localNotifier({ message: 'Failure: {{error}}' }).send(sampleNotification({ kind: 'error', error }), CONTEXT, ATTEMPT);

    const published = server.published[0];
    const message = published?.message ?? '';
    const attributeBytes = Object.entries(published?.attributes ?? {}).reduce(
      (sum, [name, attribute]) => sum + utf8Length(name) + utf8Length(attribute.dataType) + utf8Length(attribute.value),
      0,
    );
    expect(utf8Length(message) + attributeBytes).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(utf8Length(message)).toBeGreaterThan(SNS_MESSAGE_MAX_BYTES - 1_000);
    expect(message.startsWith('Failure: éé')).toBe(true);
    expect(message).not.toContain('\uFFFD');
    expect(message).toMatch(/\[Message cut to fit the SNS size limit: the first [\d,]+ of 400,009 bytes are shown\.\]$/);
  });

  it('renders a per-kind template', async () => {
    const notifier = localNotifier({ message: { recovery: 'Fixed: {{tool}} at {{number value}} {{unit}}' } });
    await notifier.send(sampleNotification({ kind: 'recovery', value: 1_200 }), CONTEXT, ATTEMPT);
    await notifier.send(sampleNotification(), CONTEXT, ATTEMPT);

    expect(server.published[0]?.message).toBe('Fixed: queue-backlog at 1,200 pending');
    expect(server.published[1]?.message).toContain('queue-backlog is CRITICAL');
  });

  it('sets severity per kind', async () => {
    await localNotifier().send(sampleNotification({ level: 'warning' }), CONTEXT, ATTEMPT);
    await localNotifier().send(sampleNotification({ kind: 'recovery', level: undefined }), CONTEXT, ATTEMPT);

    expect(server.published[0]?.attributes.severity?.value).toBe('warning');
    expect(server.published[1]?.attributes.severity?.value).toBe('info');
    expect(server.published[1]?.attributes.kind?.value).toBe('recovery');
  });

  it('reads the endpoint from TOOLSHED_SNS_ENDPOINT', async () => {
    const notifier = new SnsNotifier({ type: 'sns', topic_arn: TOPIC_ARN, region: REGION }, { clients, env: { TOOLSHED_SNS_ENDPOINT: endpoint } });
    await notifier.send(sampleNotification(), CONTEXT, ATTEMPT);
    expect(server.published).toHaveLength(1);
  });

  it('reads the region from AWS_REGION', async () => {
    const previous = process.env.AWS_REGION;
    process.env.AWS_REGION = REGION;
    try {
      const regionless = new SnsClientCache({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const notifier = new SnsNotifier({ type: 'sns', topic_arn: TOPIC_ARN, endpoint }, { clients: regionless, env: {} });
      await notifier.send(sampleNotification(), CONTEXT, ATTEMPT);
      expect(await regionless.get(undefined, endpoint).config.region()).toBe(REGION);
      regionless.destroy();
    } finally {
      if (previous === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = previous;
    }
    expect(server.published).toHaveLength(1);
  });

  it('reuses one client per region and endpoint', () => {
    const cache = new SnsClientCache({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const first = cache.get(REGION, endpoint);
    expect(cache.get(REGION, endpoint)).toBe(first);
    expect(cache.get('eu-west-1', endpoint)).not.toBe(first);
    expect(cache.get(REGION, 'http://127.0.0.1:1')).not.toBe(first);
    expect(cache.size).toBe(3);
    cache.destroy();
    expect(cache.size).toBe(0);
  });

  it('rejects a topic ARN that is not SNS', () => {
    expect(() => localNotifier({ topic_arn: 'arn:aws:sqs:us-east-1:123456789012:queue' })).toThrow(/not an SNS topic ARN/);
  });

  it('rejects an endpoint that is not a URL', () => {
    expect(() => localNotifier({ endpoint: 'not a url' })).toThrow(/sns.endpoint "not a url" is not a URL/);
  });

  it('rejects a template that does not parse', () => {
    expect(() => localNotifier({ message: { alert: '{{#if value}}open' } })).toThrow(/sns.message.alert is not a valid Handlebars template/);
  });

  it('sets FIFO group and deduplication ids', () => {
    const notifier = localNotifier({ topic_arn: 'arn:aws:sns:us-east-1:123456789012:alerts.fifo' });
    const input = notifier.buildPublishInput(sampleNotification(), CONTEXT, ATTEMPT);
    expect(input.MessageGroupId).toBe('queue-backlog');
    expect(input.MessageDeduplicationId).toBe('delivery-1');
    expect(localNotifier().buildPublishInput(sampleNotification(), CONTEXT, ATTEMPT).MessageGroupId).toBeUndefined();
  });
});

describe('SnsNotifier with deliverAll', () => {
  it('retries after a 500 then succeeds', async () => {
    const log = captureLog();
    server.failNext(1, 500);

    const [delivery] = await deliverAll([localNotifier()], sampleNotification(), CONTEXT, { logger: log.logger, sleep: noSleep });

    expect(delivery).toMatchObject({ notifier: `sns:${TOPIC_ARN}`, kind: 'alert', ok: true, attempts: 2 });
    expect(server.published).toHaveLength(1);
  });

  it('retries a throttled publish', async () => {
    server.failNext(2, 429);
    const [delivery] = await deliverAll([localNotifier()], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep: noSleep });
    expect(delivery?.ok).toBe(true);
    expect(delivery?.attempts).toBe(3);
  });

  it('does not retry a 400', async () => {
    server.failNext(1, 400);
    const [delivery] = await deliverAll([localNotifier()], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep: noSleep });

    expect(delivery?.ok).toBe(false);
    expect(delivery?.attempts).toBe(1);
    expect(delivery?.error).toContain('HTTP 400');
    expect(server.published).toHaveLength(0);
  });

  it('gives up after three 503 answers', async () => {
    server.failNext(3, 503);
    const [delivery] = await deliverAll([localNotifier()], sampleNotification(), CONTEXT, { logger: captureLog().logger, sleep: noSleep });

    expect(delivery?.ok).toBe(false);
    expect(delivery?.attempts).toBe(3);
    expect(server.published).toHaveLength(0);
  });
});

describe('sanitizeSnsSubject', () => {
  it.each([
    ['plain', 'Queue backlog', 'Queue backlog'],
    ['line breaks', 'one\ntwo\r\nthree', 'one two three'],
    ['leading space', '   \t hello', 'hello'],
    ['accents', 'Café déjà vu', 'Cafe deja vu'],
    ['quotes and dashes', '“quoted” – ‘single’', `"quoted" - 'single'`],
    ['emoji', '🚨 Alert 🚨', 'Alert'],
    ['control characters', 'a\u0000b\u0007c', 'abc'],
    ['only symbols', '🚨', ''],
  ])('handles %s', (_name, input, expected) => {
    expect(sanitizeSnsSubject(input)).toBe(expected);
  });

  it('cuts to 99 characters', () => {
    const subject = sanitizeSnsSubject('a'.repeat(150));
    expect(subject).toHaveLength(99);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('keeps exactly 99 characters', () => {
    expect(sanitizeSnsSubject('b'.repeat(99))).toBe('b'.repeat(99));
  });
});

describe('fitSnsMessage', () => {
  it('returns a message that fits unchanged', () => {
    expect(fitSnsMessage('short', 100)).toBe('short');
  });

  it('cuts at a character boundary', () => {
    // Each emoji is 4 bytes in UTF-8, so most cut points fall inside one.
    for (let maxBytes = 150; maxBytes < 160; maxBytes += 1) {
      const fitted = fitSnsMessage('😀'.repeat(100), maxBytes);
      expect(utf8Length(fitted)).toBeLessThanOrEqual(maxBytes);
      expect(fitted).not.toContain('\uFFFD');
      expect(fitted).toContain('of 400 bytes are shown');
    }
  });
});

describe('snsSeverity', () => {
  it('maps kinds to severities', () => {
    expect(snsSeverity(sampleNotification())).toBe('critical');
    expect(snsSeverity(sampleNotification({ kind: 'reminder', level: 'warning' }))).toBe('warning');
    expect(snsSeverity(sampleNotification({ kind: 'error' }))).toBe('warning');
    expect(snsSeverity(sampleNotification({ kind: 'error_cleared' }))).toBe('info');
  });
});

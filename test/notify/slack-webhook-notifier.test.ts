/** Tests for the Slack incoming-webhook notifier against a local receiver. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { DeliveryError } from '../../runtime/notify/delivery-error.js';
import { SlackWebhookNotifier, type SlackWebhookPayload } from '../../runtime/notify/slack-webhook-notifier.js';
import type { SlackWebhookNotifierSpec } from '../../runtime/notify/types.js';
import { MESSAGE_MAX_BLOCKS, MESSAGE_MAX_MRKDWN_LENGTH, SECTION_TEXT_MAX_LENGTH, type SlackBlock } from '../../runtime/surfaces/slack/blocks.js';
import { sampleNotification } from './notifications.js';
import { WebhookReceiver } from './webhook-receiver.js';

const WEBHOOK_PATH = '/services/T0000/B0000/secret-token-123';
const ATTEMPT = { id: 'delivery-1', attempt: 1 };
const CONTEXT = { unit: 'pending' };
const HOSTILE_ERROR = 'bad row <!channel> <https://evil.example|click here> <@U123> & more';

const receiver = new WebhookReceiver();
let webhookUrl = '';

function localNotifier(spec: Partial<SlackWebhookNotifierSpec> = {}): SlackWebhookNotifier {
  return new SlackWebhookNotifier({ type: 'slack', webhook_url: webhookUrl, ...spec }, { allowInsecureLocal: true });
}

function blockText(block: SlackBlock): string {
  return block.type === 'section' ? block.text.text : block.elements.map((element) => element.text).join('');
}

function receivedPayload(index: number): SlackWebhookPayload {
  return JSON.parse(receiver.requests[index]?.body.toString('utf8') ?? '{}') as SlackWebhookPayload;
}

beforeAll(async () => {
  webhookUrl = `${await receiver.start()}${WEBHOOK_PATH}`;
});

afterAll(async () => {
  await receiver.stop();
});

beforeEach(() => {
  receiver.requests.length = 0;
  receiver.answers.length = 0;
});

describe('SlackWebhookNotifier', () => {
  it('posts blocks without response_type', async () => {
    await localNotifier().send(sampleNotification(), CONTEXT);

    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.path).toBe(WEBHOOK_PATH);
    expect(receiver.requests[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    const payload = receivedPayload(0);
    expect(Object.keys(payload).sort()).toEqual(['blocks', 'text']);
    expect(payload.text).toBe(':rotating_light: queue-backlog is CRITICAL: 12,400 pending, above 10,000 since 2026-11-01 14:20 UTC. Next reminder 15:20 UTC if it stays high.');
    expect(payload.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: payload.text, verbatim: true } }]);
  });

  it('escapes hostile values in the default text', async () => {
    await localNotifier().send(sampleNotification({ kind: 'error', error: HOSTILE_ERROR }), { title: '<!here> queue' });

    const payload = receivedPayload(0);
    const shown = [payload.text, ...payload.blocks.map(blockText)];
    for (const text of shown) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<!here>');
      expect(text).not.toContain('<https://evil.example');
      expect(text).not.toContain('<@U123>');
      expect(text).toContain('&lt;!channel&gt; &lt;https://evil.example|click here&gt; &lt;@U123&gt; &amp; more');
      expect(text).toContain('&lt;!here&gt; queue (queue-backlog) check failed');
    }
  });

  it('keeps template markup and escapes values', async () => {
    const notifier = localNotifier({ message: '*{{title}}* failed: {{error}} <https://runbook.example/queue|runbook>' });
    await notifier.send(sampleNotification({ kind: 'error', error: HOSTILE_ERROR }), { title: 'Queue & <!everyone>' });

    expect(receivedPayload(0).text).toBe(
      '*Queue &amp; &lt;!everyone&gt;* failed: bad row &lt;!channel&gt; &lt;https://evil.example|click here&gt; &lt;@U123&gt; &amp; more <https://runbook.example/queue|runbook>',
    );
  });

  it('uses the default text for kinds without a template', async () => {
    await localNotifier({ message: { alert: 'custom alert' } }).send(sampleNotification({ kind: 'recovery', value: 5 }), CONTEXT);
    expect(receivedPayload(0).text.startsWith(':white_check_mark: queue-backlog recovered: 5 pending')).toBe(true);
  });

  it('stays within Slack limits', async () => {
    const error = Array.from({ length: 4_000 }, (_unused, index) => `line ${index} <!channel>`).join('\n');
    await localNotifier({ message: '{{error}}' }).send(sampleNotification({ kind: 'error', error }), CONTEXT);

    const payload = receivedPayload(0);
    expect(payload.blocks.length).toBeLessThanOrEqual(MESSAGE_MAX_BLOCKS);
    const total = payload.blocks.reduce((sum, block) => sum + blockText(block).length, 0);
    expect(total).toBeLessThanOrEqual(MESSAGE_MAX_MRKDWN_LENGTH);
    for (const block of payload.blocks) {
      expect(blockText(block).length).toBeLessThanOrEqual(SECTION_TEXT_MAX_LENGTH);
    }
    expect(blockText(payload.blocks.at(-1) as SlackBlock)).toMatch(/^Showing the first [\d,]+ of 4,000 lines\./);
  });

  it('throws a non-retryable error on 404', async () => {
    receiver.answers.push({ status: 404, body: 'no_service' });
    const error = await localNotifier().send(sampleNotification(), CONTEXT).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect((error as DeliveryError).status).toBe(404);
    expect((error as DeliveryError).message).toMatch(/^the Slack webhook at 127\.0\.0\.1:\d+ returned HTTP 404: no_service$/);
  });

  it('throws a retryable error on 500', async () => {
    receiver.answers.push({ status: 500, body: 'rollup_error' });
    const error = await localNotifier().send(sampleNotification(), CONTEXT).catch((caught: unknown) => caught);

    expect((error as DeliveryError).retryable).toBe(true);
    expect((error as DeliveryError).message).not.toContain(WEBHOOK_PATH);
  });
});

describe('SlackWebhookNotifier URL check', () => {
  it('accepts a hooks.slack.com URL', () => {
    const notifier = new SlackWebhookNotifier({ type: 'slack', webhook_url: 'https://hooks.slack.com/services/T1/B1/abc' });
    expect(notifier.host).toBe('hooks.slack.com');
    expect(notifier.name).toBe('slack');
  });

  it.each([
    ['plain http', 'http://hooks.slack.com/services/T1/B1/abc'],
    ['another host', 'https://hooks.slack.com.evil.example/services/T1/B1/abc'],
    ['another port', 'https://hooks.slack.com:8443/services/T1/B1/abc'],
    ['credentials', 'https://user:pass@hooks.slack.com/services/T1/B1/abc'],
    ['loopback without the option', 'http://127.0.0.1:9/services/T1/B1/abc'],
    ['not a URL', 'hooks.slack.com/services/T1/B1/abc'],
  ])('rejects %s without echoing the path', (_name, url) => {
    let message = '';
    try {
      new SlackWebhookNotifier({ type: 'slack', webhook_url: url });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^slack\.webhook_url /);
    expect(message).not.toContain('/services/T1/B1/abc');
  });

  it('accepts loopback URLs with allowInsecureLocal', () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://[::1]:9/hook']) {
      expect(new SlackWebhookNotifier({ type: 'slack', webhook_url: url }, { allowInsecureLocal: true }).host).toMatch(/:9$/);
    }
  });

  it('rejects remote http with allowInsecureLocal', () => {
    expect(() => new SlackWebhookNotifier({ type: 'slack', webhook_url: 'http://example.com/hook' }, { allowInsecureLocal: true })).toThrow(/slack\.webhook_url must start with/);
  });
});

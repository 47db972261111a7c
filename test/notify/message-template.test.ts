/** Tests for compiling and rendering notifier message templates, and for building notifiers from specs. */
import { describe, expect, it } from 'vitest';

import { createNotifier, createNotifiers } from '../../runtime/notify/create-notifier.js';
import { compileMessageTemplate, renderMessage, templateContext } from '../../runtime/notify/message-template.js';
import type { MessageTemplate, NotifierSpec } from '../../runtime/notify/types.js';
import { escapeMrkdwn } from '../../runtime/surfaces/slack/mrkdwn.js';
import { sampleNotification } from './notifications.js';

const FALLBACK = 'default text';

describe('compileMessageTemplate', () => {
  it('applies one template to every kind', () => {
    const compiled = compileMessageTemplate('{{kind}}: {{tool}}', 'message');
    expect(renderMessage(compiled, sampleNotification({ kind: 'reminder' }), {}, { fallback: FALLBACK })).toBe('reminder: queue-backlog');
    expect(renderMessage(compiled, sampleNotification({ kind: 'error_cleared' }), {}, { fallback: FALLBACK })).toBe('error_cleared: queue-backlog');
  });

  it('falls back for kinds missing from the map', () => {
    const compiled = compileMessageTemplate({ alert: 'alert text' }, 'message');
    expect(renderMessage(compiled, sampleNotification(), {}, { fallback: FALLBACK })).toBe('alert text');
    expect(renderMessage(compiled, sampleNotification({ kind: 'recovery' }), {}, { fallback: FALLBACK })).toBe(FALLBACK);
  });

  it('falls back without a template', () => {
    expect(renderMessage(compileMessageTemplate(undefined, 'message'), sampleNotification(), {}, { fallback: FALLBACK })).toBe(FALLBACK);
  });

  it('rejects an unknown kind', () => {
    expect(() => compileMessageTemplate({ alerts: 'x' } as MessageTemplate, 'slack.message')).toThrow(
      'slack.message.alerts is not a notification kind; expected one of alert, level_change, reminder, recovery, error, error_cleared',
    );
  });

  it('rejects a value that is not a string', () => {
    expect(() => compileMessageTemplate({ alert: 5 } as unknown as MessageTemplate, 'message')).toThrow('message.alert must be a template string');
  });

  it('rejects a template that does not parse', () => {
    expect(() => compileMessageTemplate('{{tool', 'sns.subject')).toThrow(/^sns\.subject is not a valid Handlebars template: Parse error/);
  });
});

describe('renderMessage', () => {
  it('uses the fallback for blank output', () => {
    const compiled = compileMessageTemplate('{{#if error}}{{error}}{{/if}}  ', 'message');
    expect(renderMessage(compiled, sampleNotification(), {}, { fallback: FALLBACK })).toBe(FALLBACK);
  });

  it('sends the fallback with a note when rendering throws', () => {
    const compiled = compileMessageTemplate('{{no_such_helper value}}', 'webhook.message');
    expect(renderMessage(compiled, sampleNotification(), {}, { fallback: FALLBACK })).toBe(
      `${FALLBACK}\n\n(The webhook.message template failed: Missing helper: "no_such_helper")`,
    );
  });

  it('formats values with template helpers', () => {
    const compiled = compileMessageTemplate('{{number value}} {{unit}} since {{datetime since}}', 'message');
    expect(renderMessage(compiled, sampleNotification(), { unit: 'pending' }, { fallback: FALLBACK })).toBe('12,400 pending since 2026-11-01 14:20 UTC');
  });

  it('escapes values but not the template', () => {
    const compiled = compileMessageTemplate('<!here> {{error}}', 'message');
    const text = renderMessage(compiled, sampleNotification({ error: '<!channel>' }), {}, { fallback: FALLBACK, escape: escapeMrkdwn });
    expect(text).toBe('<!here> &lt;!channel&gt;');
  });
});

describe('templateContext', () => {
  it('lists every field with missing ones undefined', () => {
    const context = templateContext(sampleNotification({ error: undefined, nextReminderAt: undefined }), { title: 'Queue' });
    expect(context).toEqual({
      tool: 'queue-backlog',
      title: 'Queue',
      unit: undefined,
      kind: 'alert',
      level: 'critical',
      value: 12_400,
      threshold: 'above 10,000',
      since: '2026-11-01T14:20:00.000Z',
      next_reminder_at: undefined,
      error: undefined,
      at: '2026-11-01T14:40:00.000Z',
    });
  });

  it('defaults the title to the tool name', () => {
    expect(templateContext(sampleNotification(), {}).title).toBe('queue-backlog');
  });
});

describe('createNotifier', () => {
  it('builds each notifier type', () => {
    const specs: NotifierSpec[] = [
      { type: 'sns', topic_arn: 'arn:aws:sns:us-east-1:123456789012:alerts', region: 'us-east-1', endpoint: 'http://127.0.0.1:9' },
      { type: 'slack', webhook_url: 'https://hooks.slack.com/services/T1/B1/abc' },
      { type: 'webhook', url: 'https://alerts.example.com/in?key=k' },
    ];
    expect(createNotifiers(specs, { sns: { env: {} } }).map((notifier) => notifier.name)).toEqual([
      'sns:arn:aws:sns:us-east-1:123456789012:alerts',
      'slack',
      'webhook:alerts.example.com',
    ]);
  });

  it('rejects an unknown type', () => {
    expect(() => createNotifier({ type: 'email' } as unknown as NotifierSpec)).toThrow('notifier type "email" is not supported; expected sns, slack or webhook');
  });
});

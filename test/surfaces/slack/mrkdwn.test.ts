/** Tests for escaping values in Slack mrkdwn. */

import { describe, expect, it } from 'vitest';

import { escapeMrkdwn, escapeMrkdwnDeep } from '../../../runtime/surfaces/slack/mrkdwn.js';

describe('escapeMrkdwn', () => {
  it('neutralises a channel mention', () => {
    expect(escapeMrkdwn('<!channel>')).toBe('&lt;!channel&gt;');
  });

  it('neutralises a user mention', () => {
    expect(escapeMrkdwn('<@U123>')).toBe('&lt;@U123&gt;');
  });

  it('neutralises a disguised link', () => {
    expect(escapeMrkdwn('<https://evil.example|click>')).toBe('&lt;https://evil.example|click&gt;');
  });

  it('escapes only &, < and >', () => {
    expect(escapeMrkdwn('a/b & "c"')).toBe('a/b &amp; "c"');
    expect(escapeMrkdwn("it's *bold* _it_ ~s~ `code`")).toBe("it's *bold* _it_ ~s~ `code`");
  });

  it('escapes an existing entity again', () => {
    expect(escapeMrkdwn('&amp; &lt;')).toBe('&amp;amp; &amp;lt;');
  });

  it('keeps plain text and emoji', () => {
    expect(escapeMrkdwn('Ana 😀 @here')).toBe('Ana 😀 @here');
    expect(escapeMrkdwn('')).toBe('');
  });
});

describe('escapeMrkdwnDeep', () => {
  it('escapes strings at every depth', () => {
    const input = {
      worker: { name: '<!channel>', tags: ['<@U1>', 'ok'] },
      rows: [{ note: 'a & b' }],
    };
    expect(escapeMrkdwnDeep(input)).toEqual({
      worker: { name: '&lt;!channel&gt;', tags: ['&lt;@U1&gt;', 'ok'] },
      rows: [{ note: 'a &amp; b' }],
    });
  });

  it('does not mutate the input', () => {
    const input = { worker: { name: '<!here>' }, tags: ['<@U1>'] };
    const snapshot = structuredClone(input);
    const output = escapeMrkdwnDeep(input) as typeof input;
    expect(input).toEqual(snapshot);
    expect(output).not.toBe(input);
    expect(output.worker).not.toBe(input.worker);
    expect(output.tags).not.toBe(input.tags);
  });

  it('leaves other values unchanged', () => {
    const date = new Date('2024-05-01T00:00:00Z');
    const buffer = Buffer.from('<x>');
    const input = { count: 3, active: true, missing: null, none: undefined, big: 10n, date, buffer };
    const output = escapeMrkdwnDeep(input) as typeof input;
    expect(output).toEqual(input);
    expect(output.date).toBe(date);
    expect(output.buffer).toBe(buffer);
  });

  it('escapes a top-level string', () => {
    expect(escapeMrkdwnDeep('<!everyone>')).toBe('&lt;!everyone&gt;');
    expect(escapeMrkdwnDeep(42)).toBe(42);
  });

  it('keeps object keys', () => {
    expect(escapeMrkdwnDeep({ 'a<b': '<c>' })).toEqual({ 'a<b': '&lt;c&gt;' });
  });

  it('stores a __proto__ key as data', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "<!channel>"}}') as Record<string, unknown>;
    const output = escapeMrkdwnDeep(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(output, '__proto__')?.value).toEqual({ polluted: '&lt;!channel&gt;' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('copies an object without a prototype', () => {
    const input = Object.assign(Object.create(null) as Record<string, unknown>, { name: '<x>' });
    const output = escapeMrkdwnDeep(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBeNull();
    expect(output['name']).toBe('&lt;x&gt;');
  });

  it('copies a structure that contains itself', () => {
    const input: Record<string, unknown> = { name: '<x>' };
    input['self'] = input;
    const output = escapeMrkdwnDeep(input) as Record<string, unknown>;
    expect(output['name']).toBe('&lt;x&gt;');
    expect(output['self']).toBe(output);
  });
});

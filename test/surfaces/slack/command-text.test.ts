/** Tests for unwrapping Slack markup and parsing slash-command text. */

import { describe, expect, it } from 'vitest';

import {
  MAX_COMMAND_TEXT_LENGTH,
  parseCommandText,
  unwrapSlackMarkup,
} from '../../../runtime/surfaces/slack/command-text.js';

describe('unwrapSlackMarkup', () => {
  it('unwraps an email link', () => {
    expect(unwrapSlackMarkup('<mailto:a@b.com|a@b.com>')).toBe('a@b.com');
  });

  it('keeps the URL of a labelled link', () => {
    expect(unwrapSlackMarkup('<https://x.y/z|label>')).toBe('https://x.y/z');
  });

  it('keeps the URL of a bare link', () => {
    expect(unwrapSlackMarkup('<https://x.y>')).toBe('https://x.y');
  });

  it('decodes entities inside a link', () => {
    expect(unwrapSlackMarkup('<https://x.y/?a=1&amp;b=2>')).toBe('https://x.y/?a=1&b=2');
  });

  it('unwraps user mentions', () => {
    expect(unwrapSlackMarkup('<@U123|ana>')).toBe('@ana');
    expect(unwrapSlackMarkup('<@U123>')).toBe('U123');
  });

  it('unwraps channel references', () => {
    expect(unwrapSlackMarkup('<#C123|general>')).toBe('#general');
    expect(unwrapSlackMarkup('<#C123>')).toBe('C123');
    expect(unwrapSlackMarkup('<#C123|>')).toBe('C123');
  });

  it('turns broadcast mentions into plain text', () => {
    expect(unwrapSlackMarkup('<!here>')).toBe('@here');
    expect(unwrapSlackMarkup('<!channel>')).toBe('@channel');
    expect(unwrapSlackMarkup('<!everyone>')).toBe('@everyone');
    expect(unwrapSlackMarkup('<!here|here>')).toBe('@here');
  });

  it('unwraps user groups', () => {
    expect(unwrapSlackMarkup('<!subteam^S123|@support>')).toBe('@support');
    expect(unwrapSlackMarkup('<!subteam^S123>')).toBe('S123');
  });

  it('decodes entities', () => {
    expect(unwrapSlackMarkup('a &lt; b &gt; c &amp; d')).toBe('a < b > c & d');
  });

  it('decodes &amp; last', () => {
    expect(unwrapSlackMarkup('&amp;lt;')).toBe('&lt;');
    expect(unwrapSlackMarkup('&amp;amp;')).toBe('&amp;');
  });

  it('does not turn escaped text into markup', () => {
    expect(unwrapSlackMarkup('&lt;!channel&gt;')).toBe('<!channel>');
    expect(unwrapSlackMarkup('&lt;@U1&gt;')).toBe('<@U1>');
  });

  it('leaves plain text unchanged', () => {
    expect(unwrapSlackMarkup('worker-lookup a@b.com')).toBe('worker-lookup a@b.com');
  });
});

describe('parseCommandText', () => {
  it('splits positional words', () => {
    expect(parseCommandText('worker-lookup  a@b.com\tnow')).toEqual({
      words: ['worker-lookup', 'a@b.com', 'now'],
      named: {},
      errors: [],
    });
  });

  it('returns nothing for empty text', () => {
    for (const text of ['', '   ', '\n\t ']) {
      expect(parseCommandText(text)).toEqual({ words: [], named: {}, errors: [] });
    }
  });

  it('collects named inputs', () => {
    const parsed = parseCommandText('unblacklist-worker email=a@b.com application_id=42');
    expect(parsed.words).toEqual(['unblacklist-worker']);
    expect(parsed.named).toEqual({ email: 'a@b.com', application_id: '42' });
    expect(parsed.errors).toEqual([]);
  });

  it('reads quoted named values', () => {
    const parsed = parseCommandText('unblacklist-worker reason="wrong person" note=\'see ticket 9\'');
    expect(parsed.named).toEqual({ reason: 'wrong person', note: 'see ticket 9' });
    expect(parsed.errors).toEqual([]);
  });

  it('keeps an empty named value', () => {
    expect(parseCommandText('reason=').named).toEqual({ reason: '' });
  });

  it('treats names that break the pattern as words', () => {
    const parsed = parseCommandText('Email=a@b.com 1x=2 =3 my-name=4');
    expect(parsed.words).toEqual(['Email=a@b.com', '1x=2', '=3', 'my-name=4']);
    expect(parsed.named).toEqual({});
  });

  it('reports a repeated name', () => {
    const parsed = parseCommandText('email=a@b.com email=c@d.com');
    expect(parsed.named).toEqual({ email: 'a@b.com' });
    expect(parsed.errors).toEqual(['The input `email` is given more than once. Give it once.']);
  });

  it('groups words in straight quotes', () => {
    expect(parseCommandText('"wrong person" \'second one\'').words).toEqual(['wrong person', 'second one']);
  });

  it('groups words in typographic quotes', () => {
    const cases: Array<[string, string]> = [
      ['“wrong person”', 'wrong person'],
      ['‘wrong person’', 'wrong person'],
      ['„falsche Person“', 'falsche Person'],
      ['„zła osoba”', 'zła osoba'],
      ['“wrong person“', 'wrong person'],
    ];
    for (const [text, expected] of cases) {
      const parsed = parseCommandText(text);
      expect(parsed.words, text).toEqual([expected]);
      expect(parsed.errors, text).toEqual([]);
    }
  });

  it('reads typographic quotes in named values', () => {
    expect(parseCommandText('reason=“wrong person”').named).toEqual({ reason: 'wrong person' });
  });

  it('keeps apostrophes inside words', () => {
    const parsed = parseCommandText("O'Brien don’t rock'n'roll");
    expect(parsed.words).toEqual(["O'Brien", 'don’t', "rock'n'roll"]);
    expect(parsed.errors).toEqual([]);
  });

  it('keeps apostrophes inside quoted groups', () => {
    expect(parseCommandText("'O'Brien and co'").words).toEqual(["O'Brien and co"]);
    expect(parseCommandText('‘don’t go’').words).toEqual(['don’t go']);
    expect(parseCommandText('name="O\'Brien"').named).toEqual({ name: "O'Brien" });
  });

  it('keeps = in quoted positional words', () => {
    const parsed = parseCommandText('"a=b" \'c = d\'');
    expect(parsed.words).toEqual(['a=b', 'c = d']);
    expect(parsed.named).toEqual({});
  });

  it('keeps an empty quoted word', () => {
    expect(parseCommandText('"" x').words).toEqual(['', 'x']);
  });

  it('treats a quote inside a word as a character', () => {
    expect(parseCommandText('ab"cd e').words).toEqual(['ab"cd', 'e']);
  });

  it('unwraps a Slack email link', () => {
    const parsed = parseCommandText('worker-lookup email=<mailto:a@b.com|a@b.com>');
    expect(parsed.named).toEqual({ email: 'a@b.com' });
  });

  it('unwraps a Slack link to its URL', () => {
    expect(parseCommandText('<https://x.y/z|click here>').words).toEqual(['https://x.y/z']);
  });

  it('unwraps user and channel references', () => {
    const parsed = parseCommandText('<@U123|ana> <@U456> <#C1|general> <!here>');
    expect(parsed.words).toEqual(['@ana', 'U456', '#general', '@here']);
  });

  it('decodes entities in values', () => {
    const parsed = parseCommandText('query="a &amp; b &lt;c&gt;"');
    expect(parsed.named).toEqual({ query: 'a & b <c>' });
  });

  it('reports an unterminated quote', () => {
    const parsed = parseCommandText('unblacklist-worker reason="wrong person');
    expect(parsed.errors).toEqual([
      'The quote opened before `wrong…` is never closed. Add the closing quote, or remove the opening one.',
    ]);
    expect(parsed.named).toEqual({ reason: 'wrong person' });
  });

  it('reports an unterminated quote on one word', () => {
    expect(parseCommandText('“wrong').errors).toEqual([
      'The quote opened before `wrong` is never closed. Add the closing quote, or remove the opening one.',
    ]);
  });

  it('reports a quote at the end', () => {
    expect(parseCommandText('lookup "').errors).toEqual([
      'The quote at the end of the text is never closed. Remove it, or add text and a closing quote.',
    ]);
  });

  it('shortens a long word in the error', () => {
    const [error] = parseCommandText(`"${'x'.repeat(50)}`).errors;
    expect(error).toBe(
      `The quote opened before \`${'x'.repeat(20)}…\` is never closed. Add the closing quote, or remove the opening one.`,
    );
  });

  it('needs whitespace after a closing quote', () => {
    const parsed = parseCommandText('"a"b c');
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toContain('is never closed');
  });

  it('accepts text of the maximum length', () => {
    const parsed = parseCommandText('x'.repeat(MAX_COMMAND_TEXT_LENGTH));
    expect(parsed.errors).toEqual([]);
    expect(parsed.words).toHaveLength(1);
  });

  it('rejects text of 4,001 characters', () => {
    const parsed = parseCommandText('x'.repeat(4001));
    expect(parsed).toEqual({
      words: [],
      named: {},
      errors: ['The command text has 4,001 characters, but the maximum is 4,000. Shorten it and try again.'],
    });
  });

  it('counts emoji as one character each', () => {
    expect(parseCommandText('😀'.repeat(MAX_COMMAND_TEXT_LENGTH)).errors).toEqual([]);
    expect(parseCommandText('😀'.repeat(MAX_COMMAND_TEXT_LENGTH + 1)).errors).toHaveLength(1);
  });

  it('passes hostile values through as plain text', () => {
    const parsed = parseCommandText(
      'worker-lookup email="x\'; drop table workers; --" note={{constructor}} path=../../etc/passwd "$(rm -rf /)"',
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.words).toEqual(['worker-lookup', '$(rm -rf /)']);
    expect(parsed.named).toEqual({
      email: "x'; drop table workers; --",
      note: '{{constructor}}',
      path: '../../etc/passwd',
    });
  });

  it('keeps SQL text in single quotes as text', () => {
    const parsed = parseCommandText("\"'; drop table workers; --\"");
    expect(parsed.words).toEqual(["'; drop table workers; --"]);
    expect(parsed.errors).toEqual([]);
  });

  it('reports an unquoted SQL fragment as an unclosed quote', () => {
    const parsed = parseCommandText("'; drop table workers; --");
    expect(parsed.errors).toEqual([
      'The quote opened before `;…` is never closed. Add the closing quote, or remove the opening one.',
    ]);
  });

  it('stores names such as constructor as own values', () => {
    const parsed = parseCommandText('constructor=1 tostring=2');
    expect(parsed.named).toEqual({ constructor: '1', tostring: '2' });
    expect(Object.hasOwn(parsed.named, 'constructor')).toBe(true);
  });

  it('turns an escaped mention into plain text', () => {
    expect(parseCommandText('&lt;!channel&gt;').words).toEqual(['<!channel>']);
  });
});

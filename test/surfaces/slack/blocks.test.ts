/** Tests for building Slack messages that fit Slack's block and length limits. */

import { describe, expect, it } from 'vitest';

import {
  FALLBACK_TEXT_MAX_LENGTH,
  MESSAGE_MAX_BLOCKS,
  MESSAGE_MAX_MRKDWN_LENGTH,
  SECTION_TEXT_MAX_LENGTH,
  formatSlackError,
  formatSlackMessage,
  type SlackBlock,
  type SlackMessage,
} from '../../../runtime/surfaces/slack/blocks.js';
import { escapeMrkdwn } from '../../../runtime/surfaces/slack/mrkdwn.js';

const HINT = 'Run it over HTTP for the full result: POST /tools/worker-lookup/run';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INCOMPLETE_ENTITY = /&(?!amp;|lt;|gt;)/;

function blockText(block: SlackBlock): string {
  return block.type === 'section' ? block.text.text : block.elements.map((element) => element.text).join('');
}

function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.filter((block) => block.type === 'section').map(blockText);
}

function countFences(text: string): number {
  return text.split('```').length - 1;
}

/** Asserts every limit and safety rule that any formatted message must meet. */
function expectWithinLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeLessThanOrEqual(MESSAGE_MAX_BLOCKS);
  const total = message.blocks.reduce((sum, block) => sum + blockText(block).length, 0);
  expect(total).toBeLessThanOrEqual(MESSAGE_MAX_MRKDWN_LENGTH);
  expect(message.text.length).toBeLessThanOrEqual(FALLBACK_TEXT_MAX_LENGTH);

  for (const [index, block] of message.blocks.entries()) {
    const text = blockText(block);
    expect(text.length, `block ${index} length`).toBeGreaterThan(0);
    expect(text.length, `block ${index} length`).toBeLessThanOrEqual(SECTION_TEXT_MAX_LENGTH);
    expect(countFences(text) % 2, `block ${index} fences`).toBe(0);
    expect(text, `block ${index} entities`).not.toMatch(INCOMPLETE_ENTITY);
    expect(text, `block ${index} surrogates`).not.toMatch(LONE_SURROGATE);
  }
}

function lines(count: number, makeLine: (index: number) => string): string {
  return Array.from({ length: count }, (_unused, index) => makeLine(index + 1)).join('\n');
}

describe('formatSlackMessage', () => {
  it('puts short text in one section', () => {
    const message = formatSlackMessage({ text: '*Ana Lima*\nCertified: forklift', responseType: 'in_channel' });
    expect(message).toEqual({
      response_type: 'in_channel',
      text: '*Ana Lima*\nCertified: forklift',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Ana Lima*\nCertified: forklift', verbatim: true } }],
    });
  });

  it('keeps the response type', () => {
    expect(formatSlackMessage({ text: 'x', responseType: 'ephemeral' }).response_type).toBe('ephemeral');
  });

  it('replaces empty text with a notice', () => {
    const message = formatSlackMessage({ text: ' \n\n ', responseType: 'ephemeral' });
    expect(sectionTexts(message)).toEqual(['_The tool returned no output._']);
    expect(message.text).toBe('_The tool returned no output._');
  });

  it('splits at blank lines', () => {
    const paragraphs = Array.from({ length: 4 }, (_unused, index) => `${index}`.repeat(1400));
    const message = formatSlackMessage({ text: paragraphs.join('\n\n'), responseType: 'ephemeral' });
    expectWithinLimits(message);
    expect(sectionTexts(message)).toEqual([
      `${paragraphs[0]}\n\n${paragraphs[1]}`,
      `${paragraphs[2]}\n\n${paragraphs[3]}`,
    ]);
    expect(message.blocks.every((block) => block.type === 'section')).toBe(true);
  });

  it('splits at newlines when no blank line fits', () => {
    const text = lines(100, (index) => `row ${String(index).padStart(3, '0')} ${'x'.repeat(50)}`);
    const message = formatSlackMessage({ text, responseType: 'ephemeral' });
    expectWithinLimits(message);
    const sections = sectionTexts(message);
    expect(sections.length).toBeGreaterThan(1);
    expect(sections.join('\n')).toBe(text);
  });

  it('splits a long line at spaces', () => {
    const words = Array.from({ length: 800 }, (_unused, index) => `word${index}`);
    const message = formatSlackMessage({ text: words.join(' '), responseType: 'ephemeral' });
    expectWithinLimits(message);
    const sections = sectionTexts(message);
    expect(sections.length).toBeGreaterThan(1);
    expect(sections.join(' ')).toBe(words.join(' '));
  });

  it('stays within limits on long output', () => {
    const text = lines(2000, (index) => escapeMrkdwn(`worker ${index}: Ana & Bo <ana${index}@example.com>`));
    const message = formatSlackMessage({ text, responseType: 'in_channel', moreHint: HINT });
    expectWithinLimits(message);
  });

  it('ends long output with a notice and counts', () => {
    const text = lines(2000, (index) => `worker ${index}: ${'x'.repeat(40)}`);
    const message = formatSlackMessage({ text, responseType: 'in_channel', moreHint: HINT });
    const notice = message.blocks.at(-1);
    expect(notice?.type).toBe('context');

    const shownLines = sectionTexts(message).join('\n').split('\n').length;
    expect(shownLines).toBeGreaterThan(100);
    expect(blockText(notice!)).toBe(`Showing the first ${shownLines} of 2,000 lines. ${HINT}`);
    expect(message.text).toContain(`Showing the first ${shownLines} of 2,000 lines.`);
  });

  it('shows the first lines in order', () => {
    const text = lines(2000, (index) => `line ${index}`);
    const message = formatSlackMessage({ text, responseType: 'in_channel' });
    const shown = sectionTexts(message).join('\n');
    expect(text.startsWith(shown)).toBe(true);
  });

  it('leaves out the hint when none is given', () => {
    const text = lines(2000, (index) => `line ${index} ${'y'.repeat(20)}`);
    const notice = formatSlackMessage({ text, responseType: 'in_channel' }).blocks.at(-1);
    expect(blockText(notice!)).toMatch(/^Showing the first [0-9,]+ of 2,000 lines\.$/);
  });

  it('escapes the hint', () => {
    const text = lines(2000, (index) => `line ${index} ${'y'.repeat(20)}`);
    const notice = formatSlackMessage({ text, responseType: 'in_channel', moreHint: 'See <!channel> & more' }).blocks.at(-1);
    expect(blockText(notice!)).toContain('See &lt;!channel&gt; &amp; more');
  });

  it('says when the last line is cut short', () => {
    const text = Array.from({ length: 4000 }, (_unused, index) => `w${index}`).join(' ');
    const message = formatSlackMessage({ text, responseType: 'ephemeral' });
    expectWithinLimits(message);
    expect(blockText(message.blocks.at(-1)!)).toBe('Showing the first 1 of 1 line. Line 1 is cut short.');
  });

  it('keeps code fences balanced in every block', () => {
    const code = lines(300, (index) => `SELECT ${index} AS n; -- ${'z'.repeat(20)}`);
    const text = `Result:\n\`\`\`\n${code}\n\`\`\`\nDone.`;
    const message = formatSlackMessage({ text, responseType: 'ephemeral' });
    expectWithinLimits(message);

    const sections = sectionTexts(message);
    expect(sections.length).toBeGreaterThan(2);
    for (const section of sections.slice(1, -1)) {
      expect(section.startsWith('```\n')).toBe(true);
      expect(section.endsWith('\n```')).toBe(true);
    }
  });

  it('does not leave an empty code block', () => {
    const code = lines(300, (index) => `SELECT ${index} AS n; -- ${'z'.repeat(20)}`);
    const message = formatSlackMessage({ text: `\`\`\`\n${code}\n\`\`\``, responseType: 'ephemeral' });
    for (const section of sectionTexts(message)) {
      expect(section).not.toMatch(/```\n?```/);
    }
  });

  it('moves a small code block whole to the next section', () => {
    const prose = 'p'.repeat(2500);
    const code = lines(20, (index) => `code line ${index} ${'c'.repeat(20)}`);
    const text = `${prose}\n\`\`\`\n${code}\n\`\`\``;
    const message = formatSlackMessage({ text, responseType: 'ephemeral' });
    expectWithinLimits(message);
    expect(sectionTexts(message)).toEqual([prose, `\`\`\`\n${code}\n\`\`\``]);
  });

  it('drops blank lines at section edges', () => {
    const prose = `Intro\n\n${'p '.repeat(700).trim()}`;
    const code = lines(60, (index) => `c${index} ${'k'.repeat(40)}`);
    const message = formatSlackMessage({ text: `${prose}\n\n\`\`\`\n${code}\n\`\`\``, responseType: 'ephemeral' });
    expectWithinLimits(message);
    expect(sectionTexts(message)).toEqual([prose, `\`\`\`\n${code}\n\`\`\``]);
  });

  it('handles a megabyte of output', () => {
    const text = lines(20_000, (index) => `row ${index} ${'m'.repeat(45)}`);
    const message = formatSlackMessage({ text, responseType: 'ephemeral', moreHint: HINT });
    expectWithinLimits(message);
    expect(blockText(message.blocks.at(-1)!)).toContain('of 20,000 lines.');
  });

  it('closes a code block the text leaves open', () => {
    const code = lines(200, (index) => `log line ${index} ${'q'.repeat(30)}`);
    const message = formatSlackMessage({ text: `\`\`\`\n${code}`, responseType: 'ephemeral' });
    expectWithinLimits(message);
  });

  it('never splits an entity', () => {
    const text = '&amp;&lt;&gt;'.repeat(2000);
    const message = formatSlackMessage({ text, responseType: 'ephemeral', moreHint: HINT });
    expectWithinLimits(message);
    expect(sectionTexts(message).join('')).toBe(text.slice(0, sectionTexts(message).join('').length));
  });

  it('never splits a surrogate pair', () => {
    // The leading letter puts every pair at an odd offset, so a cut at an even length would split one.
    const text = `a${'😀'.repeat(8000)}`;
    const message = formatSlackMessage({ text, responseType: 'ephemeral' });
    expectWithinLimits(message);
    expect(message.text).not.toMatch(LONE_SURROGATE);
  });

  it('keeps link markup whole', () => {
    const link = '<https://example.com/workers/1|Ana Lima profile>';
    const text = Array.from({ length: 400 }, () => link).join(',');
    const message = formatSlackMessage({ text, responseType: 'ephemeral' });
    expectWithinLimits(message);
    for (const section of sectionTexts(message)) {
      expect(section.split('<').length).toBe(section.split('>').length);
    }
  });

  it('limits the fallback text', () => {
    const text = lines(5000, (index) => `row ${index} ${'v'.repeat(30)}`);
    const message = formatSlackMessage({ text, responseType: 'ephemeral', moreHint: HINT });
    expect(message.text.length).toBeLessThanOrEqual(FALLBACK_TEXT_MAX_LENGTH);
    expect(message.text.endsWith(HINT)).toBe(true);
  });
});

describe('formatSlackError', () => {
  it('builds an ephemeral message with the run id', () => {
    const message = formatSlackError({ message: 'No worker has that email.', runId: 'run_01H8X' });
    expect(message).toEqual({
      response_type: 'ephemeral',
      text: 'No worker has that email.\nRun id: `run_01H8X`',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'No worker has that email.', verbatim: true } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Run id: `run_01H8X`', verbatim: true }] },
      ],
    });
  });

  it('adds the usage line', () => {
    const message = formatSlackError({
      message: 'The input `email` is missing.',
      runId: 'run_2',
      usage: '/toolshed worker-lookup email=<address>',
    });
    expect(message.blocks.map(blockText)).toEqual([
      'The input `email` is missing.',
      'Usage: `/toolshed worker-lookup email=&lt;address&gt;`',
      'Run id: `run_2`',
    ]);
    expect(message.blocks.at(-1)?.type).toBe('context');
  });

  it('escapes the message', () => {
    const message = formatSlackError({ message: 'No worker <!channel> & co', runId: 'r1' });
    expect(blockText(message.blocks[0]!)).toBe('No worker &lt;!channel&gt; &amp; co');
  });

  it('shortens a very long message', () => {
    const message = formatSlackError({ message: 'e'.repeat(5000), runId: 'r1' });
    expectWithinLimits(message);
    expect(blockText(message.blocks[0]!).endsWith('…')).toBe(true);
  });

  it('replaces an empty message', () => {
    const message = formatSlackError({ message: '  ', runId: 'r1' });
    expect(blockText(message.blocks[0]!)).toBe('The run failed.');
  });
});

/** Builds Slack Block Kit messages from mrkdwn text, split into sections that fit Slack's size limits. */

import { escapeMrkdwn } from './mrkdwn.js';

// Lengths are counted in UTF-16 code units. A string never has more code points than code units, so
// the limits hold whether Slack counts code units or code points.

/** Maximum length of one section block's text (Slack's limit for a text object). */
export const SECTION_TEXT_MAX_LENGTH = 3000;

/** Maximum number of blocks in one message. */
export const MESSAGE_MAX_BLOCKS = 50;

/** Maximum total length of mrkdwn across all blocks of one message, including the truncation notice. */
export const MESSAGE_MAX_MRKDWN_LENGTH = 12_000;

/** Maximum length of a message's top-level `text`, which Slack uses for notifications and as a fallback. */
export const FALLBACK_TEXT_MAX_LENGTH = 40_000;

/** Maximum length of the escaped `moreHint`, so that the truncation notice stays small. */
const MORE_HINT_MAX_LENGTH = 500;

/** A message stops at the last full section once less than this much room is left. */
const MIN_SECTION_BUDGET = 100;

/** Longest `<…>` markup, such as a link, that is kept whole when text must be cut mid-line. */
const MAX_MARKUP_LENGTH = 1000;

const CODE_FENCE = '```';
const FENCE_REOPEN = `${CODE_FENCE}\n`;
const FENCE_CLOSE = `\n${CODE_FENCE}`;
const ELLIPSIS = '…';
const EMPTY_OUTPUT_TEXT = '_The tool returned no output._';
const EMPTY_ERROR_TEXT = 'The run failed.';

/** An entity as Slack's escaping produces it (`&amp;`, `&lt;`, `&gt;`), or any other named or numeric one. */
const ENTITY_AT_START = /^&[a-zA-Z0-9#]{1,10};/;

/** Length of the longest entity that ENTITY_AT_START matches. */
const MAX_ENTITY_LENGTH = 12;

export type SlackResponseType = 'ephemeral' | 'in_channel';

/**
 * A mrkdwn text object. `verbatim: true` turns off Slack's automatic parsing, which otherwise links
 * bare URLs and channel names and parses certain mentions. Explicit `<…>` markup still works.
 */
export interface SlackMrkdwnText {
  type: 'mrkdwn';
  text: string;
  verbatim: true;
}

export interface SlackSectionBlock {
  type: 'section';
  text: SlackMrkdwnText;
}

export interface SlackContextBlock {
  type: 'context';
  elements: SlackMrkdwnText[];
}

export type SlackBlock = SlackSectionBlock | SlackContextBlock;

/** A message body in the form Slack accepts for slash-command responses and `response_url` posts. */
export interface SlackMessage {
  response_type: SlackResponseType;
  text: string;
  blocks: SlackBlock[];
}

export interface SlackMessageOptions {
  /** Message content as mrkdwn, with all data already escaped. */
  text: string;
  responseType: SlackResponseType;
  /** Plain text appended to the truncation notice, such as where to get the full result. */
  moreHint?: string;
}

export interface SlackErrorOptions {
  /** Plain-text explanation for the runner. It is escaped here. */
  message: string;
  /** Id of the run, shown so the runner can quote it to an engineer. */
  runId: string;
  /** Plain-text example of a correct command, such as `/toolshed worker-lookup email=a@b.com`. */
  usage?: string;
}

/** Positions of the code fences in a text, for finding whether a position lies inside a code block. */
interface FenceIndex {
  /** End offset of every ``` marker, in increasing order. */
  markerEnds: number[];
}

/** End of one section in the source text, and start of the next section. */
interface Cut {
  end: number;
  next: number;
}

interface SectionSplit {
  sections: string[];
  /** Source offset where the shown content ends. */
  shownEnd: number;
}

interface SplitLimits {
  maxTotalLength: number;
  maxSections: number;
}

/**
 * Builds a message from mrkdwn text. The text is split into section blocks at blank lines, then
 * at newlines, then at spaces, and a code block is split only when no other cut fits. A code block
 * that is split is closed at the end of one section and reopened in the next. When the text does
 * not fit in 50 blocks or 12,000 characters, the message shows what fits and ends with a context
 * block such as "Showing the first 120 of 4,000 lines." followed by `moreHint`.
 */
export function formatSlackMessage(options: SlackMessageOptions): SlackMessage {
  const source = normalizeText(options.text);
  if (source === '') {
    return buildMessage(options.responseType, EMPTY_OUTPUT_TEXT, [sectionBlock(EMPTY_OUTPUT_TEXT)]);
  }

  const fences = indexFences(source);
  const complete = splitSections(source, fences, {
    maxTotalLength: MESSAGE_MAX_MRKDWN_LENGTH,
    maxSections: MESSAGE_MAX_BLOCKS,
  });
  if (complete.shownEnd === source.length) {
    const fallback = truncateSafely(source, FALLBACK_TEXT_MAX_LENGTH);
    return buildMessage(options.responseType, fallback, complete.sections.map(sectionBlock));
  }

  return formatTruncatedMessage(source, fences, options);
}

/** Builds an ephemeral error message: the explanation, an optional usage line and the run id. */
export function formatSlackError(options: SlackErrorOptions): SlackMessage {
  const message = options.message.trim() === '' ? EMPTY_ERROR_TEXT : options.message;
  const messageText = truncateSafely(escapeMrkdwn(message), SECTION_TEXT_MAX_LENGTH);
  const runIdText = truncateSafely(`Run id: ${formatInlineCode(options.runId)}`, SECTION_TEXT_MAX_LENGTH);

  const blocks: SlackBlock[] = [sectionBlock(messageText)];
  const lines = [messageText];
  if (options.usage !== undefined && options.usage.trim() !== '') {
    const usageText = truncateSafely(`Usage: ${formatInlineCode(options.usage)}`, SECTION_TEXT_MAX_LENGTH);
    blocks.push(sectionBlock(usageText));
    lines.push(usageText);
  }
  blocks.push(contextBlock(runIdText));
  lines.push(runIdText);

  return buildMessage('ephemeral', lines.join('\n'), blocks);
}

function formatTruncatedMessage(source: string, fences: FenceIndex, options: SlackMessageOptions): SlackMessage {
  const totalLines = countLines(source, source.length);
  const hint = truncateSafely(escapeMrkdwn(options.moreHint?.trim() ?? ''), MORE_HINT_MAX_LENGTH);
  // The shown line count is at most the total, so this notice is at least as long as the final one.
  const longestNotice = buildTruncationNotice(totalLines, totalLines, true, hint);

  const truncated = splitSections(source, fences, {
    maxTotalLength: MESSAGE_MAX_MRKDWN_LENGTH - longestNotice.length,
    maxSections: MESSAGE_MAX_BLOCKS - 1,
  });
  const shownLines = countLines(source, truncated.shownEnd);
  const endsMidLine = source.charAt(truncated.shownEnd) !== '\n';
  const notice = buildTruncationNotice(shownLines, totalLines, endsMidLine, hint);

  const shownText = renderSection(source, fences, 0, truncated.shownEnd);
  const fallback = truncateSafely(`${shownText}\n\n${notice}`, FALLBACK_TEXT_MAX_LENGTH);
  const blocks: SlackBlock[] = [...truncated.sections.map(sectionBlock), contextBlock(notice)];
  return buildMessage(options.responseType, fallback, blocks);
}

function buildTruncationNotice(shownLines: number, totalLines: number, endsMidLine: boolean, hint: string): string {
  const lineWord = totalLines === 1 ? 'line' : 'lines';
  const parts = [`Showing the first ${formatCount(shownLines)} of ${formatCount(totalLines)} ${lineWord}.`];
  if (endsMidLine) {
    parts.push(`Line ${formatCount(shownLines)} is cut short.`);
  }
  if (hint !== '') {
    parts.push(hint);
  }
  return parts.join(' ');
}

function buildMessage(responseType: SlackResponseType, text: string, blocks: SlackBlock[]): SlackMessage {
  return { response_type: responseType, text, blocks };
}

function sectionBlock(text: string): SlackSectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text, verbatim: true } };
}

function contextBlock(text: string): SlackContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text, verbatim: true }] };
}

/** Wraps plain text in an inline code span, or only escapes it when a backtick would end the span early. */
function formatInlineCode(value: string): string {
  const escaped = escapeMrkdwn(value);
  return value.includes('`') ? escaped : `\`${escaped}\``;
}

// Splitting into sections

function splitSections(source: string, fences: FenceIndex, limits: SplitLimits): SectionSplit {
  const sections: string[] = [];
  let totalLength = 0;
  let start = 0;
  let shownEnd = 0;

  while (start < source.length && sections.length < limits.maxSections) {
    const budget = Math.min(SECTION_TEXT_MAX_LENGTH, limits.maxTotalLength - totalLength);
    if (budget < MIN_SECTION_BUDGET) {
      break;
    }
    const cut = findCut(source, fences, start, budget);
    if (cut === undefined) {
      break;
    }

    const section = renderSection(source, fences, start, cut.end);
    sections.push(section);
    totalLength += section.length;
    shownEnd = cut.end;
    start = cut.next;
  }
  return { sections, shownEnd: start >= source.length ? source.length : shownEnd };
}

/** Returns `source[start, end)` with the code fence reopened at the start and closed at the end where needed. */
function renderSection(source: string, fences: FenceIndex, start: number, end: number): string {
  const prefix = isInsideFence(fences, start) ? FENCE_REOPEN : '';
  const suffix = isInsideFence(fences, end) ? FENCE_CLOSE : '';
  return `${prefix}${source.slice(start, end)}${suffix}`;
}

/**
 * Chooses where the section starting at `start` ends, so that its rendered length is at most
 * `budget`. Returns undefined when not even one unit of text fits.
 */
function findCut(source: string, fences: FenceIndex, start: number, budget: number): Cut | undefined {
  const prefixLength = isInsideFence(fences, start) ? FENCE_REOPEN.length : 0;
  const fits = (end: number): boolean =>
    end > start && end - start + prefixLength + (isInsideFence(fences, end) ? FENCE_CLOSE.length : 0) <= budget;

  if (fits(source.length)) {
    return { end: source.length, next: source.length };
  }
  const windowEnd = Math.min(source.length, start + budget - prefixLength);
  // Cuts in the first half of the window are a last resort, because they waste the block budget.
  const halfway = start + Math.floor((windowEnd - start) / 2);

  const window: CutWindow = { start, windowEnd, halfway, fits };
  const lineCut = findLineCut(source, fences, window);
  if (lineCut !== undefined) {
    return lineCut;
  }
  // A space inside `<…|label>` markup or an entity is no place to cut.
  const fitsAtSpace = (end: number): boolean => fits(end) && moveToSafeCut(source, end) === end;
  const lateSpace = findLastSeparator(source, ' ', windowEnd, halfway, fitsAtSpace);
  if (lateSpace !== undefined) {
    return { end: lateSpace, next: lateSpace + 1 };
  }
  const earlyNewline = findLastSeparator(source, '\n', windowEnd, start + 1, fits);
  if (earlyNewline !== undefined) {
    return lineCutAt(source, fences, start, earlyNewline);
  }
  const earlySpace = findLastSeparator(source, ' ', windowEnd, start + 1, fitsAtSpace);
  if (earlySpace !== undefined) {
    return { end: earlySpace, next: earlySpace + 1 };
  }
  return findHardCut(source, start, windowEnd, fits);
}

interface CutWindow {
  start: number;
  windowEnd: number;
  halfway: number;
  fits: (end: number) => boolean;
}

/**
 * Finds a cut at a line break in the second half of the window, preferring a blank line, then any
 * line break outside a code block. A code block is split only when it would not fit in one section.
 */
function findLineCut(source: string, fences: FenceIndex, window: CutWindow): Cut | undefined {
  const { start, windowEnd, halfway, fits } = window;
  const outsideFence = (end: number): boolean => fits(end) && !isInsideFence(fences, end);
  // Inside a code block, a cut right after the opening fence or right before the closing one
  // would leave a section with an empty code block.
  const leavesCodeInBoth = (end: number): boolean =>
    fits(end) &&
    !(isInsideFence(fences, end) && (source.endsWith(CODE_FENCE, end) || source.startsWith(CODE_FENCE, end + 1)));

  const blankLine = findLastSeparator(source, '\n\n', windowEnd, halfway, outsideFence);
  if (blankLine !== undefined) {
    return lineCutAt(source, fences, start, blankLine);
  }
  const newline = findLastSeparator(source, '\n', windowEnd, halfway, outsideFence);
  if (newline !== undefined) {
    return lineCutAt(source, fences, start, newline);
  }
  // A code block that fits in one section is moved to the next section whole instead of being split.
  if (isInsideFence(fences, windowEnd) && fenceFitsOneSection(fences, windowEnd)) {
    const beforeFence = findLastSeparator(source, '\n', windowEnd, start + 1, outsideFence);
    if (beforeFence !== undefined) {
      return lineCutAt(source, fences, start, beforeFence);
    }
  }
  const newlineInFence = findLastSeparator(source, '\n', windowEnd, halfway, leavesCodeInBoth);
  return newlineInFence === undefined ? undefined : lineCutAt(source, fences, start, newlineInFence);
}

/**
 * Builds a cut at the newline at `end`. Outside a code block, the blank lines around it are dropped,
 * so no section ends or starts with an empty line.
 */
function lineCutAt(source: string, fences: FenceIndex, start: number, end: number): Cut {
  if (isInsideFence(fences, end)) {
    return { end, next: end + 1 };
  }
  let contentEnd = end;
  while (contentEnd > start + 1 && source.charAt(contentEnd - 1) === '\n') {
    contentEnd -= 1;
  }
  let next = end + 1;
  while (source.charAt(next) === '\n') {
    next += 1;
  }
  return { end: contentEnd, next };
}

/** Returns the last offset in [lowest, highest] where `separator` starts and `accept` holds. */
function findLastSeparator(
  source: string,
  separator: string,
  highest: number,
  lowest: number,
  accept: (end: number) => boolean,
): number | undefined {
  let position = source.lastIndexOf(separator, highest);
  while (position !== -1 && position >= lowest) {
    if (accept(position)) {
      return position;
    }
    position = position === 0 ? -1 : source.lastIndexOf(separator, position - 1);
  }
  return undefined;
}

/** Cuts a line with no usable space, at the latest position that splits no entity, markup or surrogate pair. */
function findHardCut(
  source: string,
  start: number,
  windowEnd: number,
  fits: (end: number) => boolean,
): Cut | undefined {
  let end = windowEnd;
  while (end > start) {
    end = moveToSafeCut(source, end);
    if (fits(end)) {
      return { end, next: end };
    }
    end -= 1;
  }
  return undefined;
}

/** True when the code block that contains `position` is short enough to fill one section by itself. */
function fenceFitsOneSection(fences: FenceIndex, position: number): boolean {
  const closing = countMarkersEndingBy(fences, position);
  const openingEnd = fences.markerEnds[closing - 1];
  const closingEnd = fences.markerEnds[closing];
  if (openingEnd === undefined || closingEnd === undefined) {
    return false;
  }
  const openingStart = openingEnd - CODE_FENCE.length;
  return closingEnd - openingStart <= SECTION_TEXT_MAX_LENGTH;
}

// Code fences

function indexFences(source: string): FenceIndex {
  const markerEnds: number[] = [];
  let position = source.indexOf(CODE_FENCE);
  while (position !== -1) {
    markerEnds.push(position + CODE_FENCE.length);
    position = source.indexOf(CODE_FENCE, position + CODE_FENCE.length);
  }
  return { markerEnds };
}

/**
 * True when `position` lies inside a code block, that is after an odd number of ``` markers.
 * Slack toggles a code block at every ``` marker, wherever it sits in a line.
 */
function isInsideFence(fences: FenceIndex, position: number): boolean {
  return countMarkersEndingBy(fences, position) % 2 === 1;
}

/** Counts the markers that end at or before `position` (binary search). */
function countMarkersEndingBy(fences: FenceIndex, position: number): number {
  let low = 0;
  let high = fences.markerEnds.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((fences.markerEnds[middle] ?? Infinity) <= position) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}

// Safe cut positions

/** Cuts `text` to at most `maxLength` code units at a safe position, ending with an ellipsis when cut. */
function truncateSafely(text: string, maxLength: number): string {
  if (text.length <= maxLength) {
    return text;
  }
  const end = moveToSafeCut(text, maxLength - ELLIPSIS.length);
  return `${text.slice(0, end)}${ELLIPSIS}`;
}

/**
 * Moves `end` back until cutting there splits no surrogate pair, no `&…;` entity, no `<…>`
 * markup of up to 1,000 code units and no run of backticks.
 */
function moveToSafeCut(text: string, end: number): number {
  let current = Math.min(end, text.length);
  for (;;) {
    let moved = moveOutOfSurrogatePair(text, current);
    moved = moveOutOfEntity(text, moved);
    moved = moveOutOfMarkup(text, moved);
    moved = moveOutOfBacktickRun(text, moved);
    if (moved === current) {
      return current;
    }
    current = moved;
  }
}

function moveOutOfSurrogatePair(text: string, end: number): number {
  const before = text.charCodeAt(end - 1);
  const after = text.charCodeAt(end);
  const splitsPair = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
  return splitsPair ? end - 1 : end;
}

function moveOutOfEntity(text: string, end: number): number {
  const searchStart = Math.max(0, end - MAX_ENTITY_LENGTH + 1);
  const offset = text.slice(searchStart, end).lastIndexOf('&');
  if (offset === -1) {
    return end;
  }
  const ampersand = searchStart + offset;
  const entity = ENTITY_AT_START.exec(text.slice(ampersand, ampersand + MAX_ENTITY_LENGTH));
  return entity !== null && ampersand + entity[0].length > end ? ampersand : end;
}

function moveOutOfMarkup(text: string, end: number): number {
  const searchStart = Math.max(0, end - MAX_MARKUP_LENGTH + 1);
  const before = text.slice(searchStart, end);
  const openOffset = before.lastIndexOf('<');
  // A `>` after the last `<` means the markup closed before the cut.
  if (openOffset === -1 || before.indexOf('>', openOffset) !== -1) {
    return end;
  }
  const open = searchStart + openOffset;
  const closes = text.slice(end, open + MAX_MARKUP_LENGTH).includes('>');
  return closes ? open : end;
}

function moveOutOfBacktickRun(text: string, end: number): number {
  let current = end;
  while (current > 0 && text.charAt(current - 1) === '`' && text.charAt(current) === '`') {
    current -= 1;
  }
  return current;
}

// Text helpers

/** Drops leading blank lines and trailing whitespace, which Slack would not show. */
function normalizeText(text: string): string {
  return text.replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}

/** Counts the lines that start before `end`, including one that `end` cuts short. */
function countLines(text: string, end: number): number {
  if (end === 0) {
    return 0;
  }
  let lines = 1;
  let position = text.indexOf('\n');
  while (position !== -1 && position + 1 < end) {
    lines += 1;
    position = text.indexOf('\n', position + 1);
  }
  return lines;
}

function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Parses the text of a Slack slash command into positional words and `name=value` inputs. */

/** Maximum length of command text, in characters (Unicode code points). Longer text is rejected. */
export const MAX_COMMAND_TEXT_LENGTH = 4000;

/** Maximum length of user text quoted back in an error message, in UTF-16 code units. */
const ERROR_PREVIEW_LENGTH = 20;

/** A named input at the start of a token, such as `reason=` in `reason="wrong person"`. */
const NAMED_INPUT_PREFIX = /([a-z][a-z0-9_]*)=/y;

/** Slack wraps mentions, channels and links in angle brackets, as in `<@U123|ana>`. */
const SLACK_MARKUP = /<([^<>]*)>/g;

/** Special mentions that notify a whole channel or workspace. */
const BROADCAST_MENTIONS: ReadonlySet<string> = new Set(['here', 'channel', 'everyone', 'group']);

/**
 * Closing quotes accepted for each opening quote. A quote opens a group only at the start of a
 * token, so an apostrophe inside a word, as in `O'Brien` or `don’t`, is an ordinary character.
 */
const CLOSING_QUOTES: ReadonlyMap<string, string> = new Map([
  ['"', '"'],
  ["'", "'"],
  // English “…”, and “…“ as some phone keyboards produce it.
  ['“', '”“'],
  ['‘', '’'],
  // German „…“ and Polish „…”.
  ['„', '“”'],
]);

export interface ParsedCommandText {
  /** Positional words in the order they were typed. */
  words: string[];
  /** Values given as `name=value`, keyed by name. */
  named: Record<string, string>;
  /** Messages for the runner. They quote the typed text, so escape them before sending them to Slack. */
  errors: string[];
}

type Token = { kind: 'word'; value: string } | { kind: 'named'; name: string; value: string };

interface ReadResult {
  value: string;
  /** Index just after the value in the text. */
  end: number;
  error?: string;
}

/**
 * Turns Slack's wrapped references and escapes back into the text the user typed. The rules:
 * - `<@U123|ana>` becomes `@ana`, and `<@U123>` becomes the bare user id `U123`.
 * - `<#C123|general>` becomes `#general`, and `<#C123>` or `<#C123|>` becomes the bare id `C123`.
 * - `<!here>`, `<!channel>` and `<!everyone>` become the plain text `@here`, `@channel` and `@everyone`.
 * - Other special commands become their label (`<!subteam^S1|@support>` is `@support`), or else their id (`S1`).
 * - `<mailto:a@b.com|a@b.com>` becomes `a@b.com`.
 * - `<https://x.y/z|label>` and `<https://x.y/z>` become the URL, because a label can hide where a link goes.
 * - `&lt;`, `&gt;` and `&amp;` become `<`, `>` and `&`. `&amp;` is decoded last, so `&amp;lt;` becomes `&lt;`.
 * Text that Slack escaped (`&lt;!channel&gt;`) is decoded only once, so it never turns into markup.
 */
export function unwrapSlackMarkup(text: string): string {
  const unwrapped = text.replace(SLACK_MARKUP, (_markup: string, inner: string) => unwrapMarkupToken(inner));
  return decodeSlackEntities(unwrapped);
}

/**
 * Splits slash-command text into positional words and `name=value` pairs, after unwrapping
 * Slack's markup. Whitespace separates tokens, and quotes group words: `'…'`, `"…"`, `“…”`,
 * `‘…’` and `„…“`. A closing quote counts only when whitespace or the end of the text follows it.
 * A name must match `[a-z][a-z0-9_]*`, and its value may be quoted (`reason="wrong person"`).
 * A quoted token is always positional, so `"a=b"` is the word `a=b`.
 */
export function parseCommandText(text: string): ParsedCommandText {
  // Code points never outnumber UTF-16 code units, so short text skips the count.
  const length = text.length <= MAX_COMMAND_TEXT_LENGTH ? text.length : countCodePoints(text);
  if (length > MAX_COMMAND_TEXT_LENGTH) {
    return {
      words: [],
      named: {},
      errors: [
        `The command text has ${formatCount(length)} characters, but the maximum is ` +
          `${formatCount(MAX_COMMAND_TEXT_LENGTH)}. Shorten it and try again.`,
      ],
    };
  }

  const { tokens, errors } = tokenize(unwrapSlackMarkup(text));
  const words: string[] = [];
  const named: Record<string, string> = {};
  for (const token of tokens) {
    if (token.kind === 'word') {
      words.push(token.value);
    } else if (Object.hasOwn(named, token.name)) {
      errors.push(`The input \`${token.name}\` is given more than once. Give it once.`);
    } else {
      named[token.name] = token.value;
    }
  }
  return { words, named, errors };
}

function unwrapMarkupToken(inner: string): string {
  const pipeIndex = inner.indexOf('|');
  const target = pipeIndex === -1 ? inner : inner.slice(0, pipeIndex);
  const label = pipeIndex === -1 ? '' : inner.slice(pipeIndex + 1);

  if (target.startsWith('@')) {
    return label !== '' ? `@${label}` : target.slice(1);
  }
  if (target.startsWith('#')) {
    return label !== '' ? `#${label}` : target.slice(1);
  }
  if (target.startsWith('!')) {
    return unwrapSpecialCommand(target.slice(1), label);
  }
  if (target.startsWith('mailto:')) {
    return target.slice('mailto:'.length);
  }
  return target;
}

function unwrapSpecialCommand(command: string, label: string): string {
  const [name = '', id] = command.split('^');
  if (BROADCAST_MENTIONS.has(name)) {
    return `@${name}`;
  }
  if (label !== '') {
    return label;
  }
  return id ?? `@${name}`;
}

function decodeSlackEntities(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function tokenize(text: string): { tokens: Token[]; errors: string[] } {
  const tokens: Token[] = [];
  const errors: string[] = [];
  let index = skipWhitespace(text, 0);

  while (index < text.length) {
    NAMED_INPUT_PREFIX.lastIndex = index;
    const nameMatch = NAMED_INPUT_PREFIX.exec(text);
    const name = nameMatch?.[1];
    const valueStart = name === undefined ? index : NAMED_INPUT_PREFIX.lastIndex;

    const result = readValue(text, valueStart);
    if (result.error !== undefined) {
      errors.push(result.error);
    }
    tokens.push(name === undefined ? { kind: 'word', value: result.value } : { kind: 'named', name, value: result.value });
    index = skipWhitespace(text, result.end);
  }
  return { tokens, errors };
}

function readValue(text: string, start: number): ReadResult {
  const closingQuotes = CLOSING_QUOTES.get(text.charAt(start));
  if (closingQuotes !== undefined) {
    return readQuoted(text, start, closingQuotes);
  }
  let end = start;
  while (end < text.length && !isWhitespace(text.charAt(end))) {
    end += 1;
  }
  return { value: text.slice(start, end), end };
}

function readQuoted(text: string, openIndex: number, closingQuotes: string): ReadResult {
  for (let index = openIndex + 1; index < text.length; index += 1) {
    const endsToken = index + 1 === text.length || isWhitespace(text.charAt(index + 1));
    if (endsToken && closingQuotes.includes(text.charAt(index))) {
      return { value: text.slice(openIndex + 1, index), end: index + 1 };
    }
  }
  const rest = text.slice(openIndex + 1);
  return { value: rest, end: text.length, error: describeUnclosedQuote(rest) };
}

function describeUnclosedQuote(rest: string): string {
  const trimmed = rest.trimStart();
  if (trimmed === '') {
    return 'The quote at the end of the text is never closed. Remove it, or add text and a closing quote.';
  }
  const firstWord = trimmed.split(/\s/, 1)[0] ?? '';
  const preview = truncateForPreview(firstWord);
  const ellipsis = preview.length < trimmed.length ? '…' : '';
  return `The quote opened before \`${preview}${ellipsis}\` is never closed. Add the closing quote, or remove the opening one.`;
}

function truncateForPreview(word: string): string {
  if (word.length <= ERROR_PREVIEW_LENGTH) {
    return word;
  }
  let end = ERROR_PREVIEW_LENGTH;
  // Keep both halves of a surrogate pair together.
  if (isHighSurrogate(word.charCodeAt(end - 1))) {
    end -= 1;
  }
  return word.slice(0, end);
}

function skipWhitespace(text: string, start: number): number {
  let index = start;
  while (index < text.length && isWhitespace(text.charAt(index))) {
    index += 1;
  }
  return index;
}

function isWhitespace(character: string): boolean {
  return /\s/.test(character);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _codePoint of text) {
    count += 1;
  }
  return count;
}

function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Escapes values for Slack mrkdwn so that data can never become a mention or a link. */

/**
 * Slack treats only `&`, `<` and `>` as control characters and decodes only these three entities
 * (https://api.slack.com/reference/surfaces/formatting, "Escaping text").
 */
const MRKDWN_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
};

const MRKDWN_CONTROL_CHARACTERS = /[&<>]/g;

/**
 * Escapes `&`, `<` and `>`, which makes `<!channel>`, `<@U123>` and `<https://evil|ok>` display as
 * typed instead of pinging or linking. Quotes and slashes stay as they are, because Slack shows any
 * other entity literally. Formatting characters (`*`, `_`, `~` and backticks) are left alone too,
 * since mrkdwn has no escape for them.
 *
 * Bare `@channel` text is left as it is. Slack's automatic parsing of mentions applies only to text
 * objects without `verbatim: true`, and the blocks built in blocks.ts set it.
 * NOTE: a message's top-level `text` has no `verbatim` switch, and whether Slack turns a bare
 * `@channel` there into a notification has not been checked.
 */
export function escapeMrkdwn(value: string): string {
  return value.replace(MRKDWN_CONTROL_CHARACTERS, (character) => MRKDWN_ENTITIES[character] ?? character);
}

/**
 * Returns a copy of `value` with `escapeMrkdwn` applied to every string inside arrays and plain
 * objects, at any depth. Numbers, booleans, null, Date and other class instances are returned
 * unchanged, and the input is never modified. Object keys are kept as they are, so template paths
 * such as `worker.email` still resolve.
 */
export function escapeMrkdwnDeep(value: unknown): unknown {
  return escapeValue(value, new WeakMap());
}

function escapeValue(value: unknown, copies: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') {
    return escapeMrkdwn(value);
  }
  if (Array.isArray(value)) {
    return escapeArray(value, copies);
  }
  if (isPlainObject(value)) {
    return escapeObject(value, copies);
  }
  return value;
}

function escapeArray(value: readonly unknown[], copies: WeakMap<object, unknown>): unknown[] {
  const existing = copies.get(value);
  if (existing !== undefined) {
    return existing as unknown[];
  }
  const copy: unknown[] = [];
  // Registering the copy first lets a structure that contains itself be copied without looping.
  copies.set(value, copy);
  for (const item of value) {
    copy.push(escapeValue(item, copies));
  }
  return copy;
}

function escapeObject(value: Record<string, unknown>, copies: WeakMap<object, unknown>): Record<string, unknown> {
  const existing = copies.get(value);
  if (existing !== undefined) {
    return existing as Record<string, unknown>;
  }
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  copies.set(value, copy);
  for (const [key, item] of Object.entries(value)) {
    // defineProperty, unlike assignment, stores a key named `__proto__` as data instead of a prototype.
    Object.defineProperty(copy, key, {
      value: escapeValue(item, copies),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** True for `{}` literals, JSON.parse results and `Object.create(null)` objects. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Compiles named references in a step's SQL (`:email`, `:worker.id`) to PostgreSQL bind
 * parameters (`$1`, `$2`). This is the only way a value reaches SQL: the text is never
 * built from values. String literals, quoted identifiers, comments, dollar-quoted bodies and
 * `::type` casts are left as they are, so a colon inside them is not a reference.
 */
import type { ValueRef } from './types.js';

export interface SqlCompileProblem {
  /** Offset into the SQL text. */
  offset: number;
  kind: 'param' | 'text';
  message: string;
}

export interface CompiledSql {
  text: string;
  params: ValueRef[];
  /** Offsets of each reference in the source SQL, parallel to `params`, for locating problems. */
  offsets: number[];
  problems: SqlCompileProblem[];
  /** Lowercase words outside strings, comments and quoted names, in order: the statement's keywords and names. */
  words: string[];
}

const NAME = /[a-z_][a-z0-9_]*/iy;

/**
 * Compiles named references to bind parameters. `castFor` may give a type for a reference, such
 * as `numeric` for a number input, so PostgreSQL does not infer a narrower type from the context
 * (in `:amount * 100`, an untyped parameter would be read as an integer).
 */
export function compileSql(sql: string, castFor: (ref: ValueRef) => string | undefined = () => undefined): CompiledSql {
  const params: ValueRef[] = [];
  const offsets: number[] = [];
  const indexByKey = new Map<string, number>();
  const problems: SqlCompileProblem[] = [];
  const words: string[] = [];
  let out = '';
  let i = 0;

  const copyUntil = (end: number): void => {
    out += sql.slice(i, end);
    i = end;
  };

  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];

    if (ch === "'") {
      copyUntil(endOfQuoted(sql, i, "'", isEscapeString(sql, i)));
    } else if (ch === '"') {
      copyUntil(endOfQuoted(sql, i, '"', false));
    } else if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      copyUntil(end === -1 ? sql.length : end);
    } else if (ch === '/' && next === '*') {
      copyUntil(endOfBlockComment(sql, i));
    } else if (ch === '$' && /[0-9]/.test(next ?? '')) {
      problems.push({ offset: i, kind: 'param', message: `positional parameter ${sql.slice(i).match(/^\$[0-9]+/)?.[0]} is not allowed; reference inputs by name, such as :email` });
      copyUntil(i + 1);
    } else if (ch === '$') {
      const tag = sql.slice(i).match(/^\$([a-z_][a-z0-9_]*)?\$/i)?.[0];
      if (tag === undefined) {
        copyUntil(i + 1);
      } else {
        const close = sql.indexOf(tag, i + tag.length);
        copyUntil(close === -1 ? sql.length : close + tag.length);
      }
    } else if (ch === ':' && next === ':') {
      copyUntil(i + 2);
    } else if (ch === ':' && /[a-z_]/i.test(next ?? '')) {
      const ref = readReference(sql, i + 1);
      const key = ref.kind === 'input' ? ref.name : `${ref.step}.${ref.column}`;
      let index = indexByKey.get(key);
      if (index === undefined) {
        params.push(ref);
        offsets.push(i);
        index = params.length;
        indexByKey.set(key, index);
      }
      const cast = castFor(ref);
      out += cast === undefined ? `$${index}` : `$${index}::${cast}`;
      i += 1 + key.length;
    } else if (ch === ';') {
      if (sql.slice(i + 1).replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() !== '') {
        problems.push({ offset: i, kind: 'text', message: 'a step runs one SQL statement; split the statements into separate steps' });
      }
      // A trailing semicolon is dropped so that the statement can be wrapped in a row limit.
      i += 1;
    } else if (/[a-z_]/i.test(ch ?? '') && !/[a-z0-9_$]/i.test(sql[i - 1] ?? '')) {
      NAME.lastIndex = i;
      const word = NAME.exec(sql)?.[0] ?? ch ?? '';
      words.push(word.toLowerCase());
      copyUntil(i + word.length);
    } else {
      copyUntil(i + 1);
    }
  }

  return { text: out.trim(), params, offsets, problems, words };
}

function readReference(sql: string, start: number): ValueRef {
  NAME.lastIndex = start;
  const first = NAME.exec(sql)?.[0] ?? '';
  const afterFirst = start + first.length;
  if (sql[afterFirst] === '.') {
    NAME.lastIndex = afterFirst + 1;
    const column = NAME.exec(sql)?.[0];
    if (column !== undefined) return { kind: 'step', step: first, column };
  }
  return { kind: 'input', name: first };
}

/** `E'...'` strings treat backslash as an escape; standard strings do not. */
function isEscapeString(sql: string, quoteAt: number): boolean {
  return quoteAt > 0 && /[eE]/.test(sql[quoteAt - 1] ?? '') && !/[a-z0-9_]/i.test(sql[quoteAt - 2] ?? '');
}

function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslashEscapes && ch === '\\') {
      i += 2;
    } else if (ch === quote && sql[i + 1] === quote) {
      i += 2;
    } else if (ch === quote) {
      return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** PostgreSQL block comments nest. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

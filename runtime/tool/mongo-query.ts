/**
 * MongoDB queries in tool files. Values reach a query only where the author wrote a placeholder,
 * a string that is exactly `:name` (an input) or `:step.field` (an earlier single-row step), and
 * the value replaces that string as a value. Keys are never built from values, so an input cannot
 * add an operator. Server-side JavaScript ($where, $function, $accumulator) is rejected.
 */
import type { ValueRef } from './types.js';

export const FORBIDDEN_OPERATORS: ReadonlySet<string> = new Set(['$where', '$function', '$accumulator']);
const PLACEHOLDER = /^:([a-z_][a-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$/;

export type MongoOperation = 'count' | 'find' | 'aggregate';

export interface MongoQuery {
  collection: string;
  operation: MongoOperation;
  /** count: the filter; find: { filter, projection, sort, limit }; aggregate: the pipeline. */
  body: unknown;
}

export interface MongoQueryProblem {
  /** Path inside the step's `mongodb` mapping, such as ['count', 'status']. */
  path: Array<string | number>;
  message: string;
}

export interface ScannedQuery {
  refs: Array<{ ref: ValueRef; path: Array<string | number> }>;
  problems: MongoQueryProblem[];
}

/** Finds placeholders and forbidden operators anywhere in a query body. */
export function scanMongoQuery(body: unknown, path: Array<string | number> = []): ScannedQuery {
  const scanned: ScannedQuery = { refs: [], problems: [] };
  const visit = (value: unknown, at: Array<string | number>): void => {
    if (typeof value === 'string') {
      const match = PLACEHOLDER.exec(value);
      if (match === null) return;
      const ref: ValueRef = match[2] === undefined ? { kind: 'input', name: match[1] as string } : { kind: 'step', step: match[1] as string, column: match[2] };
      scanned.refs.push({ ref, path: at });
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, [...at, index]));
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (FORBIDDEN_OPERATORS.has(key)) scanned.problems.push({ path: [...at, key], message: `${key} runs JavaScript on the database server, which toolshed does not allow; express the condition with query operators` });
        visit(item, [...at, key]);
      }
    }
  };
  visit(body, path);
  return scanned;
}

/** Returns a copy of the query body with every placeholder replaced by its value. */
export function bindMongoQuery(body: unknown, valueOf: (ref: ValueRef) => unknown): unknown {
  if (typeof body === 'string') {
    const match = PLACEHOLDER.exec(body);
    if (match === null) return body;
    return valueOf(match[2] === undefined ? { kind: 'input', name: match[1] as string } : { kind: 'step', step: match[1] as string, column: match[2] });
  }
  if (Array.isArray(body)) return body.map((item) => bindMongoQuery(item, valueOf));
  if (typeof body === 'object' && body !== null) {
    return Object.fromEntries(Object.entries(body).map(([key, item]) => [key, bindMongoQuery(item, valueOf)]));
  }
  return body;
}

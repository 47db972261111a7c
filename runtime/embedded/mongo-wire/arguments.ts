/** Validation of command fields, raising the CommandError that mongod returns for the same mistake. */

import { Long, type Document } from 'bson';
import { CommandError } from './errors.js';
import { isPlainDocument } from './protocol.js';

/** Operators that run JavaScript on the server. This server rejects them wherever they appear. */
const SCRIPT_OPERATORS = new Set(['$where', '$function', '$accumulator']);

/** Returns the collection name that the command's first field carries. */
export function requireCollectionName(body: Document, command: string): string {
  const name: unknown = body[command];
  if (typeof name !== 'string') {
    throw new CommandError('InvalidNamespace', `collection name for '${command}' must be a string, got ${describeType(name)}`);
  }
  if (name.length === 0 || name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw new CommandError('InvalidNamespace', `Invalid collection name specified '${name}'`);
  }
  return name;
}

/**
 * Returns the collection name of a getMore or killCursors. Besides ordinary names it accepts the
 * `$cmd.listCollections` and `$cmd.aggregate` pseudo-collections that database-level cursors use.
 */
export function requireCursorCollectionName(body: Document, field: string): string {
  const name: unknown = body[field];
  if (typeof name === 'string' && /^\$cmd\.[A-Za-z]+$/.test(name)) return name;
  return requireCollectionName(body, field);
}

/** Returns the database name from `$db`, which every OP_MSG command must carry. */
export function requireDatabaseName(body: Document): string {
  const name: unknown = body['$db'];
  if (typeof name !== 'string' || name.length === 0) {
    throw new CommandError('FailedToParse', "OP_MSG requests require a $db argument");
  }
  if (/[/\\. "$\0]/.test(name)) {
    throw new CommandError('InvalidNamespace', `Invalid database name specified '${name}'`);
  }
  return name;
}

export function optionalDocument(body: Document, field: string): Document | undefined {
  const value: unknown = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isPlainDocument(value)) {
    throw new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type '${describeType(value)}', expected type 'object'`);
  }
  return value;
}

export function requireArrayOfDocuments(body: Document, field: string): Document[] {
  const value: unknown = body[field];
  if (!Array.isArray(value)) {
    throw new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type '${describeType(value)}', expected type 'array'`);
  }
  for (const [index, item] of value.entries()) {
    if (!isPlainDocument(item)) {
      throw new CommandError('TypeMismatch', `BSON field '${field}.${index}' is the wrong type '${describeType(item)}', expected type 'object'`);
    }
  }
  return value as Document[];
}

export function optionalBoolean(body: Document, field: string): boolean | undefined {
  const value: unknown = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  // mongod coerces numbers to booleans for these flags.
  if (typeof value === 'number') return value !== 0;
  throw new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type '${describeType(value)}', expected type 'bool'`);
}

/** Returns an integral, non-negative number field, or undefined when it is absent. */
export function optionalNonNegativeInteger(body: Document, field: string): number | undefined {
  const value: unknown = body[field];
  if (value === undefined || value === null) return undefined;
  const number = value instanceof Long ? value.toNumber() : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type '${describeType(value)}', expected a number`);
  }
  if (!Number.isInteger(number) || number < 0) {
    throw new CommandError('BadValue', `BSON field '${field}' value must be a non-negative integer, got ${number}`);
  }
  return number;
}

/** Returns a cursor id (int64 on the wire, a number or Long once deserialized). */
export function requireCursorId(value: unknown, field: string): bigint {
  if (value instanceof Long) return value.toBigInt();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint') return value;
  throw new CommandError('TypeMismatch', `BSON field '${field}' is the wrong type '${describeType(value)}', expected type 'long'`);
}

/**
 * Throws BadValue when `$where`, `$function` or `$accumulator` appears as a key anywhere in
 * `value`. A string value such as `{ name: '$where' }` is data, not an operator, and passes.
 */
export function rejectScriptOperators(value: unknown, field: string): void {
  if (Array.isArray(value)) {
    for (const item of value) rejectScriptOperators(item, field);
    return;
  }
  if (!isPlainDocument(value)) return;
  for (const [key, nested] of Object.entries(value)) {
    if (SCRIPT_OPERATORS.has(key)) {
      throw new CommandError('BadValue', `${key} is not allowed in '${field}': this server does not run server-side JavaScript`);
    }
    rejectScriptOperators(nested, field);
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Long) return 'long';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

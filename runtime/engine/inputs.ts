/**
 * Converts the values a runner gives into the types a tool declares, then checks them against
 * the tool's input schema. Every invalid input is reported at once, one message per field.
 *
 * Values arrive typed (JSON bodies) or as strings (CLI flags, forms, Slack text).
 * The rules for strings:
 * - Surrounding whitespace is trimmed, and an empty string counts as "not given".
 * - string: kept as written after trimming, so `02134` keeps its leading zero.
 * - number, integer: decimal notation (`15`, `-2.5`, `1e3`); a declared unit or one of its aliases
 *   may follow (`15 miles`, `15mi`). Thousands separators are rejected as ambiguous.
 * - boolean: true/false, yes/no, on/off, 1/0, in any letter case.
 */
import type { ErrorObject } from 'ajv';
import { ToolshedError, type FieldError } from '../errors.js';
import { MAX_STRING_LENGTH, isRequired } from '../tool/input-schema.js';
import { closestName } from '../tool/suggest.js';
import type { InputSpec, Tool } from '../tool/types.js';

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1', 'y']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0', 'n']);

/** Reads a yes/no flag by the same rules as boolean inputs; anything else, or nothing, is false. */
export function isYes(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  return typeof value === 'string' && TRUE_WORDS.has(value.trim().toLowerCase());
}
/** Longest part of a rejected value quoted back in an error message. */
const ECHO_LENGTH = 40;

export type InputValues = Record<string, string | number | boolean>;

export function coerceInputs(tool: Tool, raw: Record<string, unknown>): InputValues {
  const errors: FieldError[] = [];
  const values: InputValues = {};

  for (const name of Object.keys(raw)) {
    if (tool.inputs[name] !== undefined) continue;
    const suggestion = closestName(name, tool.inputOrder);
    const hint = suggestion === undefined ? `${tool.name} takes: ${tool.inputOrder.join(', ') || 'no inputs'}` : `did you mean ${suggestion}?`;
    errors.push({ field: name, message: `${truncateName(name)} is not an input of ${tool.name}; ${hint}` });
  }

  for (const name of tool.inputOrder) {
    const spec = tool.inputs[name] as InputSpec;
    const result = coerceOne(spec, raw[name]);
    if ('error' in result) {
      errors.push({ field: name, message: `${name} ${result.error}` });
    } else if (result.value !== undefined) {
      values[name] = result.value;
    } else if (spec.default !== undefined) {
      values[name] = spec.default as string | number | boolean;
    } else if (isRequired(spec)) {
      errors.push({ field: name, message: `${name} is required${exampleHint(spec)}` });
    }
  }

  if (!tool.compiled.validateInputs(values)) {
    const reported = new Set(errors.map((error) => error.field));
    for (const error of tool.compiled.validateInputs.errors ?? []) {
      const fieldError = schemaError(tool, values, error);
      if (!reported.has(fieldError.field)) errors.push(fieldError);
    }
  }
  if (errors.length > 0) {
    const summary = errors.length === 1 ? `${errors[0]?.message}.` : `${errors.length} inputs are invalid: ${errors.map((error) => error.field).join(', ')}.`;
    throw new ToolshedError('TOOLSHED_ERR_INVALID_INPUT', summary, { fields: errors });
  }
  return values;
}

type Coerced = { value: string | number | boolean | undefined } | { error: string };

function coerceOne(spec: InputSpec, raw: unknown): Coerced {
  if (raw === undefined || raw === null) return { value: undefined };
  if (Array.isArray(raw) || typeof raw === 'object') return { error: `must be a single ${spec.type}, not a ${Array.isArray(raw) ? 'list' : 'mapping'}` };
  if (typeof raw === 'string' && raw.length > MAX_STRING_LENGTH) return { error: `is ${raw.length} characters long; the limit is ${MAX_STRING_LENGTH}` };

  // PostgreSQL text cannot hold NUL, so such a value could never match and would fail the step.
  if (typeof raw === 'string' && raw.includes('\u0000')) return { error: 'contains a NUL character (\\u0000), which is not allowed in any input' };
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  if (text === '') return { value: undefined };

  switch (spec.type) {
    case 'string':
      if (text === undefined) return { error: `must be text; send it as a JSON string ("${String(raw)}") so nothing like a leading zero is lost` };
      return { value: text };
    case 'boolean':
      if (typeof raw === 'boolean') return { value: raw };
      if (raw === 1 || raw === 0) return { value: raw === 1 };
      if (text !== undefined && TRUE_WORDS.has(text.toLowerCase())) return { value: true };
      if (text !== undefined && FALSE_WORDS.has(text.toLowerCase())) return { value: false };
      return { error: `must be yes or no (true/false, 1/0, on/off), found ${echo(raw, spec)}` };
    case 'number':
    case 'integer':
      return coerceNumber(spec, raw, text);
  }
}

function coerceNumber(spec: InputSpec, raw: unknown, text: string | undefined): Coerced {
  let value: number;
  if (typeof raw === 'number') {
    value = raw;
  } else if (text !== undefined) {
    const number = stripUnit(spec, text);
    if (number === undefined || !NUMBER_TEXT.test(number)) {
      const unit = spec.unit === undefined ? '' : `, optionally followed by ${[spec.unit, ...(spec.unit_aliases ?? [])].join(' or ')}`;
      return { error: `must be a number such as ${exampleNumber(spec)}${unit}; found ${echo(raw, spec)}` };
    }
    value = Number(number);
  } else {
    return { error: `must be a number, found ${echo(raw, spec)}` };
  }
  if (!Number.isFinite(value)) return { error: `must be a finite number, found ${echo(raw, spec)}` };
  if (spec.type === 'integer' && !Number.isInteger(value)) return { error: `must be a whole number, found ${echo(raw, spec)}` };
  return { value };
}

/** Removes a trailing unit the input declares (`15 miles`, `15mi`); returns undefined for any other suffix. */
function stripUnit(spec: InputSpec, text: string): string | undefined {
  const match = /^(.*?)\s*([a-z]+)$/i.exec(text);
  if (match === null) return text;
  const units = [spec.unit, ...(spec.unit_aliases ?? [])].filter((unit): unit is string => unit !== undefined);
  if (NUMBER_TEXT.test(text)) return text;
  return units.includes((match[2] ?? '').toLowerCase()) ? match[1] : undefined;
}

function exampleNumber(spec: InputSpec): string {
  const example = spec.examples?.[0];
  if (typeof example === 'number') return String(example);
  return spec.type === 'integer' ? '15' : '2.5';
}

function exampleHint(spec: InputSpec): string {
  const example = spec.examples?.[0];
  return example === undefined ? '' : `, for example ${String(example)}`;
}

/** Quotes a rejected value back to the runner, shortened, and never for sensitive inputs. */
function echo(value: unknown, spec: InputSpec): string {
  if (spec.sensitive === true) return 'a value that is not shown because the input is sensitive';
  const text = String(value);
  const short = Array.from(text).length > ECHO_LENGTH ? `${Array.from(text).slice(0, ECHO_LENGTH).join('')}...` : text;
  return typeof value === 'string' ? `"${short}"` : short;
}

function truncateName(name: string): string {
  return name.length > ECHO_LENGTH ? `${name.slice(0, ECHO_LENGTH)}...` : name;
}

/** Rewrites Ajv's message for one failed keyword in a runner's words. */
function schemaError(tool: Tool, values: InputValues, error: ErrorObject): FieldError {
  const field = error.instancePath.replace(/^\//, '') || String(error.params.missingProperty ?? 'input');
  const spec = tool.inputs[field] ?? { type: 'string' };
  const found = echo(values[field], spec);
  const params = error.params as Record<string, unknown>;
  let message: string;
  switch (error.keyword) {
    case 'format':
      message = params.format === 'email' ? `must be an email address such as name@example.com; found ${found}` : `must be a valid ${String(params.format)}${params.format === 'date' ? ' such as 2026-10-02' : ''}; found ${found}`;
      break;
    case 'enum':
      message = `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}; found ${found}`;
      break;
    case 'pattern':
      message = spec.examples?.[0] === undefined ? `does not have the expected form; found ${found}` : `does not have the expected form, such as ${String(spec.examples[0])}; found ${found}`;
      break;
    case 'minLength':
    case 'maxLength':
      message = `must have ${error.keyword === 'minLength' ? 'at least' : 'at most'} ${String(params.limit)} characters; found ${Array.from(String(values[field] ?? '')).length}`;
      break;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      message = `must be ${String(params.comparison)} ${String(params.limit)}${spec.unit === undefined ? '' : ` ${spec.unit}`}; found ${found}`;
      break;
    default:
      message = `${error.message ?? 'is invalid'}; found ${found}`;
  }
  return { field, message: `${field} ${message}` };
}

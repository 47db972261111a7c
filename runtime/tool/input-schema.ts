/**
 * Turns a tool's input declarations into one JSON Schema and compiles it with Ajv. The loader
 * uses it to check defaults; the engine uses it to check every run's inputs.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { InputSpec } from './types.js';

/** Longest string any input accepts, whatever its own maxLength is. */
export const MAX_STRING_LENGTH = 10_000;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats.default(ajv);

/** Returns the JSON Schema of one input: toolshed's own keys removed, the string length capped. */
export function inputJsonSchema(spec: InputSpec): Record<string, unknown> {
  const { unit: _unit, unit_aliases: _aliases, sensitive: _sensitive, required: _required, examples: _examples, ...schema } = spec;
  if (spec.type === 'string') schema.maxLength = Math.min(spec.maxLength ?? MAX_STRING_LENGTH, MAX_STRING_LENGTH);
  return schema;
}

export function isRequired(spec: InputSpec): boolean {
  return spec.required ?? spec.default === undefined;
}

/**
 * Returns the validator of a tool's inputs. Compiling is the costly part of loading a tool, so it
 * waits for the first run, and tools with the same inputs share one compiled validator.
 */
export function compileInputsValidator(inputs: Record<string, InputSpec>): ValidateFunction {
  const properties = Object.fromEntries(Object.entries(inputs).map(([name, spec]) => [name, inputJsonSchema(spec)]));
  const required = Object.entries(inputs)
    .filter(([, spec]) => isRequired(spec))
    .map(([name]) => name);
  const schema = { type: 'object', properties, required, additionalProperties: false };
  let compiled: ValidateFunction | undefined;
  const validate = ((value: unknown) => {
    compiled ??= cachedCompile(schema);
    const valid = compiled(value);
    validate.errors = compiled.errors;
    return valid;
  }) as ValidateFunction;
  return validate;
}

/** Checks one value against one input's schema; returns Ajv's messages, empty when valid. */
export function checkInputValue(spec: InputSpec, value: unknown): string[] {
  const validate = cachedCompile(inputJsonSchema(spec));
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => error.message ?? 'is invalid');
}

const compiledSchemas = new Map<string, ValidateFunction>();

function cachedCompile(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiledSchemas.get(key);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiledSchemas.set(key, validate);
  }
  return validate;
}

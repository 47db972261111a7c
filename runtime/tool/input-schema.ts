/**
 * Turns a tool's input declarations into one JSON Schema and compiles it with Ajv. The loader
 * uses it to check defaults; the engine uses it to check every run's inputs.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { InputSpec } from './types.js';

/** Longest string any input accepts, whatever its own maxLength says. */
export const MAX_STRING_LENGTH = 10_000;

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
addFormats.default(ajv);

/** The JSON Schema of one input: toolshed's own keys removed, the string length capped. */
export function inputJsonSchema(spec: InputSpec): Record<string, unknown> {
  const { unit: _unit, unit_aliases: _aliases, sensitive: _sensitive, required: _required, examples: _examples, ...schema } = spec;
  if (spec.type === 'string') schema.maxLength = Math.min(spec.maxLength ?? MAX_STRING_LENGTH, MAX_STRING_LENGTH);
  return schema;
}

export function isRequired(spec: InputSpec): boolean {
  return spec.required ?? spec.default === undefined;
}

export function compileInputsValidator(inputs: Record<string, InputSpec>): ValidateFunction {
  const properties = Object.fromEntries(Object.entries(inputs).map(([name, spec]) => [name, inputJsonSchema(spec)]));
  const required = Object.entries(inputs)
    .filter(([, spec]) => isRequired(spec))
    .map(([name]) => name);
  return ajv.compile({ type: 'object', properties, required, additionalProperties: false });
}

/** Checks one value against one input's schema; returns Ajv's messages, empty when valid. */
export function checkInputValue(spec: InputSpec, value: unknown): string[] {
  const validate = ajv.compile(inputJsonSchema(spec));
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => error.message ?? 'is invalid');
}

/** Descriptions of a tool for runners: its input schema, a usage line and example inputs. */
import { inputJsonSchema, isRequired } from './input-schema.js';
import type { InputSpec, Tool } from './types.js';

/** The JSON Schema of a tool's inputs, as GET /tools/NAME shows it. */
export function inputsSchema(tool: Tool): Record<string, unknown> {
  const properties = Object.fromEntries(tool.inputOrder.map((name) => {
    const spec = tool.inputs[name] as InputSpec;
    const schema: Record<string, unknown> = { ...inputJsonSchema(spec) };
    if (spec.examples !== undefined) schema.examples = spec.examples;
    if (spec.unit !== undefined) schema['x-unit'] = spec.unit;
    return [name, schema];
  }));
  const required = tool.inputOrder.filter((name) => isRequired(tool.inputs[name] as InputSpec));
  return { type: 'object', properties, required, additionalProperties: false };
}

/** An example value for every required input (and optional ones with examples). */
export function exampleInputs(tool: Tool): Record<string, unknown> {
  const example: Record<string, unknown> = {};
  for (const name of tool.inputOrder) {
    const spec = tool.inputs[name] as InputSpec;
    const value = spec.examples?.[0] ?? spec.enum?.[0] ?? (isRequired(spec) ? placeholder(spec) : undefined);
    if (value !== undefined) example[name] = value;
  }
  return example;
}

function placeholder(spec: InputSpec): unknown {
  if (spec.format === 'email') return 'name@example.com';
  if (spec.format === 'date') return '2026-10-02';
  if (spec.type === 'boolean') return true;
  if (spec.type === 'number' || spec.type === 'integer') return spec.minimum ?? 1;
  return 'text';
}

/** `worker-lookup EMAIL [reason=TEXT]`: positional names in order, optional ones in brackets. */
export function usageLine(tool: Tool, command = tool.name): string {
  const parts = tool.inputOrder.map((name) => {
    const spec = tool.inputs[name] as InputSpec;
    return isRequired(spec) ? name.toUpperCase() : `[${name}=${spec.type.toUpperCase()}]`;
  });
  return [command, ...parts].join(' ');
}

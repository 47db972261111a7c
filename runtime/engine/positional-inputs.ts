/**
 * Assigns values typed on a command line (CLI or Slack) to a tool's inputs: positional values in
 * the order the tool declares its inputs, then `name=value` pairs. Both surfaces share these rules.
 */
import { ToolshedError, type FieldError } from '../errors.js';
import type { Tool } from '../tool/types.js';

export function assignInputs(tool: Tool, positional: readonly string[], named: Readonly<Record<string, string>>): Record<string, string> {
  const inputs: Record<string, string> = {};
  const errors: FieldError[] = [];

  positional.forEach((value, index) => {
    const name = tool.inputOrder[index];
    if (name === undefined) {
      const takes = tool.inputOrder.length === 0 ? 'no inputs' : `${tool.inputOrder.length} input(s): ${tool.inputOrder.join(', ')}`;
      errors.push({ field: `#${index + 1}`, message: `"${value.slice(0, 40)}" is one value too many; ${tool.name} takes ${takes}. Quote a value that contains spaces.` });
      return;
    }
    inputs[name] = value;
  });

  for (const [name, value] of Object.entries(named)) {
    if (name in inputs) {
      errors.push({ field: name, message: `${name} is given twice, by position and as ${name}=...; give it once` });
      continue;
    }
    inputs[name] = value;
  }

  if (errors.length > 0) throw new ToolshedError('TOOLSHED_ERR_INVALID_INPUT', errors.map((error) => error.message).join(' '), { fields: errors });
  return inputs;
}

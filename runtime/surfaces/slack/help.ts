/** Help messages for the Slack surface: the tools a user may run, and one tool's usage. */
import type { Tool } from '../../tool/types.js';
import type { InputSpec } from '../../tool/types.js';
import { isRequired } from '../../tool/input-schema.js';
import { usageLine } from '../../tool/describe.js';
import { escapeMrkdwn } from './mrkdwn.js';

/** The command a user types to run a tool: its own command, or the main one with the tool's name. */
export function commandFor(tool: Tool, mainCommand: string): string {
  return tool.slack.command ?? `${mainCommand} ${tool.name}`;
}

export function slackUsage(tool: Tool, mainCommand: string): string {
  return usageLine(tool, commandFor(tool, mainCommand));
}

export function toolListHelp(tools: readonly Tool[], mainCommand: string): string {
  if (tools.length === 0) return 'There are no tools you can run yet. Ask whoever runs toolshed to grant you a role.';
  const lines = tools.map((tool) => `• \`${slackUsage(tool, mainCommand)}\`: ${escapeMrkdwn(tool.title)}`);
  return [`*Tools you can run* (${tools.length}):`, ...lines, '', `Type \`${mainCommand} help TOOL\` for a tool's inputs.`].join('\n');
}

export function toolHelp(tool: Tool, mainCommand: string): string {
  const lines = [`*${escapeMrkdwn(tool.title)}*`, escapeMrkdwn(tool.description), '', `Usage: \`${slackUsage(tool, mainCommand)}\``];
  if (tool.inputOrder.length > 0) {
    lines.push('Inputs, in this order (or as name=value):');
    for (const name of tool.inputOrder) lines.push(`• ${describeInput(name, tool.inputs[name] as InputSpec)}`);
  }
  const example = exampleCommand(tool, mainCommand);
  if (example !== undefined) lines.push('', `Example: \`${example}\``);
  return lines.join('\n');
}

function describeInput(name: string, spec: InputSpec): string {
  const facts = [spec.format ?? spec.type];
  if (!isRequired(spec)) facts.push(spec.default === undefined ? 'optional' : `default ${String(spec.default)}`);
  if (spec.enum !== undefined) facts.push(`one of ${spec.enum.map(String).join(', ')}`);
  if (spec.unit !== undefined) facts.push(`in ${spec.unit}`);
  const description = spec.description === undefined ? '' : `: ${spec.description}`;
  return escapeMrkdwn(`${name} (${facts.join(', ')})${description}`);
}

function exampleCommand(tool: Tool, mainCommand: string): string | undefined {
  const values: string[] = [];
  for (const name of tool.inputOrder) {
    const example = (tool.inputs[name] as InputSpec).examples?.[0];
    if (example === undefined) break;
    const text = String(example);
    values.push(/\s/.test(text) ? `"${text}"` : text);
  }
  if (values.length === 0) return undefined;
  return escapeMrkdwn([commandFor(tool, mainCommand), ...values].join(' '));
}

/** Help for one tool, appended to `toolshed run TOOL --help`: its usage line and inputs. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTool } from '../tool/load-tool.js';
import { usageLine } from '../tool/describe.js';
import { isRequired } from '../tool/input-schema.js';
import { resolvePackagePath } from '../package-root.js';
import type { InputSpec } from '../tool/types.js';

/**
 * Describes the tool named `name` from ./tools or the shipped tools, or returns an empty string
 * when there is no such valid tool. Help is printed synchronously, so this reads the files directly.
 */
export function toolHelpText(name: string): string {
  for (const directory of [resolve('tools'), resolvePackagePath('tools')]) {
    for (const extension of ['yaml', 'yml']) {
      const file = resolve(directory, `${name}.${extension}`);
      if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) continue;
      const { tool } = loadTool(file, readFileSync(file, 'utf8'));
      if (tool === undefined) return `\n${name}: its file ${file} has problems; run toolshed validate.`;
      const lines = ['', `${tool.title}: ${tool.description}`, `usage: toolshed run ${usageLine(tool)}`];
      for (const input of tool.inputOrder) {
        const spec = tool.inputs[input] as InputSpec;
        const facts = [spec.format ?? spec.type, isRequired(spec) ? 'required' : spec.default === undefined ? 'optional' : `default ${String(spec.default)}`];
        if (spec.unit !== undefined) facts.push(`in ${spec.unit}`);
        const description = spec.description === undefined ? '' : `: ${spec.description}`;
        const example = spec.examples?.[0] === undefined ? '' : ` Example: ${String(spec.examples[0])}`;
        lines.push(`  ${input} (${facts.join(', ')})${description}${example}`);
      }
      if (tool.writes) lines.push('', 'It changes data: it previews first and asks to confirm; --yes confirms, --dry-run only previews.');
      return lines.join('\n');
    }
  }
  return '';
}

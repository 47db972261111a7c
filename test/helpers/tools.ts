/** Builds tools from YAML text for tests, failing loudly when the text has problems. */
import { loadTool } from '../../runtime/tool/load-tool.js';
import { formatProblem } from '../../runtime/tool/problem.js';
import type { Tool } from '../../runtime/tool/types.js';
import { readFileSync } from 'node:fs';
import pino from 'pino';

export function toolFrom(text: string, file = 'test-tool.yaml'): Tool {
  const { tool, problems } = loadTool(file, text, { connections: ['default'] });
  if (tool === undefined) throw new Error(`test tool is invalid:\n${problems.map(formatProblem).join('\n')}`);
  return tool;
}

export function shippedTool(name: string): Tool {
  return toolFrom(readFileSync(new URL(`../../tools/${name}.yaml`, import.meta.url), 'utf8'), `tools/${name}.yaml`);
}

/** A logger that keeps entries in memory, so tests can assert what was logged. */
export function memoryLogger(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (chunk: string) => chunks.push(chunk) });
  return { logger, lines: () => chunks.map((chunk) => JSON.parse(chunk) as Record<string, unknown>) };
}

export const SUPPORT = { id: 'key:support', name: 'support', roles: ['support'] };

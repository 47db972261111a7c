/** Loads every tool file in a directory and checks what no single file can: unique tool names. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadTool, type LoadContext } from './load-tool.js';
import { sortProblems, type Problem } from './problem.js';
import { YamlSource } from './yaml-source.js';
import type { Tool } from './types.js';

/** Largest tool file read; tools are meant to be 10 to 40 lines. */
export const MAX_TOOL_FILE_BYTES = 256 * 1024;

export interface LoadedTools {
  tools: Tool[];
  problems: Problem[];
  /** Files read, valid or not. */
  files: string[];
  /** Tool names of files that have problems, to the file, so a runner can be told why a tool is missing. */
  excluded: Map<string, string>;
}

/** Lists `*.yaml` and `*.yml` files under a directory, sorted, skipping hidden entries. */
export async function listToolFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name) && !entry.name.startsWith('.'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !relative(directory, path).split(/[\\/]/).some((part) => part.startsWith('.')))
    .sort();
}

export async function loadToolDir(directory: string, context: LoadContext = {}, displayBase = process.cwd()): Promise<LoadedTools> {
  const files = await listToolFiles(directory);
  const tools: Tool[] = [];
  const problems: Problem[] = [];
  const byName = new Map<string, Tool>();
  const excluded = new Map<string, string>();

  // Files are read concurrently, then loaded in name order so that problems and duplicates are reported predictably.
  const displays = files.map((path) => relative(displayBase, path) || path);
  const fileProblems: Problem[][] = files.map(() => []);
  const texts = await Promise.all(files.map((path, index) => readToolFile(path, displays[index] as string, fileProblems[index] as Problem[])));

  for (const [index, text] of texts.entries()) {
    const display = displays[index] as string;
    problems.push(...(fileProblems[index] ?? []));
    if (text === undefined) continue;

    const result = loadTool(display, text, context);
    problems.push(...result.problems);
    if (result.tool === undefined) {
      const name = /^name:\s*["']?([a-z0-9-]+)["']?\s*$/m.exec(text)?.[1];
      if (name !== undefined) excluded.set(name, display);
      continue;
    }

    const existing = byName.get(result.tool.name);
    if (existing !== undefined) {
      const position = new YamlSource(display, text).locate(['name']);
      problems.push({ file: display, ...position, code: 'TOOLSHED_ERR_DUPLICATE_TOOL', message: `tool name "${result.tool.name}" is already used by ${existing.file}; tool names must be unique` });
      continue;
    }
    byName.set(result.tool.name, result.tool);
    tools.push(result.tool);
  }
  return { tools, problems: sortProblems(problems), files, excluded };
}

async function readToolFile(path: string, display: string, problems: Problem[]): Promise<string | undefined> {
  const fileProblem = (message: string): undefined => {
    problems.push({ file: display, line: 1, column: 1, code: 'TOOLSHED_ERR_FILE', message });
    return undefined;
  };
  try {
    const info = await stat(path);
    if (info.size > MAX_TOOL_FILE_BYTES) return fileProblem(`the file is ${info.size} bytes; a tool file may be at most ${MAX_TOOL_FILE_BYTES} bytes`);
    const bytes = await readFile(path);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.trim() === '') return fileProblem('the file is empty; a tool needs at least name, title, steps and output');
    return text.replace(/^\uFEFF/, '');
  } catch (error) {
    if (error instanceof TypeError) return fileProblem('the file is not valid UTF-8; save it as UTF-8');
    return fileProblem(`the file cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

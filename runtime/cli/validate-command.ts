/** `toolshed validate [dir]`: every problem in every tool file, exit 2 when there is any. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadToolDir } from '../tool/load-dir.js';
import { formatProblem } from '../tool/problem.js';
import { readConfig, toolsDirectory, type CommonOptions, loadContext } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './main.js';

export async function runValidate(dir: string | undefined, options: CommonOptions, io: CliIo): Promise<number> {
  const config = await readConfig(options);
  const directory = dir === undefined ? toolsDirectory({}, config) : resolve(dir);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) throw new CliError(existsSync(directory) ? `${directory} is not a directory; give the directory that holds the tool files` : `${directory} does not exist; give the directory that holds the tool files`);

  const loaded = await loadToolDir(directory, loadContext(config));
  for (const problem of loaded.problems) io.out(formatProblem(problem));

  const invalidFiles = new Set(loaded.problems.map((problem) => problem.file)).size;
  if (loaded.files.length === 0) {
    io.err(`No tool files (*.yaml, *.yml) in ${directory}.`);
    return EXIT.USAGE;
  }
  io.err(invalidFiles === 0 ? `${loaded.files.length} file(s) checked, all valid.` : `${loaded.files.length} file(s) checked: ${loaded.tools.length} valid, ${invalidFiles} with problems (${loaded.problems.length} in all). A file's reference checks run once its YAML and schema problems are fixed.`);
  return loaded.problems.length > 0 ? EXIT.USAGE : EXIT.OK;
}

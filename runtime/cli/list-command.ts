/** `toolshed list`: the valid tools and how to run each. */
import { loadToolDir } from '../tool/load-dir.js';
import { usageLine } from '../tool/describe.js';
import { readConfig, toolsDirectory, type CommonOptions, loadContext } from './context.js';
import { EXIT } from './exit-codes.js';
import type { CliIo } from './main.js';

export async function runList(options: CommonOptions, io: CliIo): Promise<number> {
  const config = await readConfig(options);
  const loaded = await loadToolDir(toolsDirectory(options, config), loadContext(config));
  for (const tool of [...loaded.tools].sort((a, b) => a.name.localeCompare(b.name))) {
    io.out(`${tool.name}  ${tool.title}`);
    io.out(`  usage: toolshed run ${usageLine(tool)}`);
  }
  if (loaded.problems.length > 0) io.err(`${new Set(loaded.problems.map((problem) => problem.file)).size} tool file(s) have problems and are not listed; run toolshed validate.`);
  return EXIT.OK;
}

/** `toolshed validate [dir]`: every problem in every tool file, exit 2 when there is any. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadToolDir } from '../tool/load-dir.js';
import { formatProblem, sortProblems, type Problem } from '../tool/problem.js';
import { checkSqlAgainstDatabases } from '../tool/check-sql.js';
import type { Config } from '../config/load-config.js';
import type { Tool } from '../tool/types.js';
import { openDatabases } from './context.js';
import { readConfig, toolsDirectory, type CommonOptions, loadContext } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './main.js';

interface ValidateOptions extends CommonOptions {
  checkSql?: boolean;
}

export async function runValidate(dir: string | undefined, options: ValidateOptions, io: CliIo): Promise<number> {
  const config = await readConfig(options);
  const directory = dir === undefined ? toolsDirectory({}, config) : resolve(dir);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) throw new CliError(existsSync(directory) ? `${directory} is not a directory; give the directory that holds the tool files` : `${directory} does not exist; give the directory that holds the tool files`);

  const loaded = await loadToolDir(directory, loadContext(config));
  if (options.checkSql === true) loaded.problems.push(...(await checkSql(loaded.tools, config, io)));
  for (const problem of sortProblems(loaded.problems)) io.out(formatProblem(problem));

  const invalidFiles = new Set(loaded.problems.map((problem) => problem.file)).size;
  if (loaded.files.length === 0) {
    io.err(`No tool files (*.yaml, *.yml) in ${directory}.`);
    return EXIT.USAGE;
  }
  io.err(invalidFiles === 0 ? `${loaded.files.length} file(s) checked, all valid.` : `${loaded.files.length} file(s) checked: ${loaded.files.length - invalidFiles} valid, ${invalidFiles} with problems (${loaded.problems.length} in all). A file's reference checks run once its YAML and schema problems are fixed.`);
  return loaded.problems.length > 0 ? EXIT.USAGE : EXIT.OK;
}

/**
 * Prepares every SQL step on the configured databases, or without a configuration on an embedded
 * database holding the demo schema (no data).
 */
async function checkSql(tools: readonly Tool[], config: Config | undefined, io: CliIo): Promise<Problem[]> {
  if (config !== undefined) {
    const databases = openDatabases(config);
    try {
      return await checkSqlAgainstDatabases(tools, databases);
    } finally {
      await Promise.all([...databases.values()].map((database) => database.close()));
    }
  }
  io.err('No toolshed.yaml here, so the SQL is checked against the demo schema in an embedded database.');
  const { PgliteDatabase } = await import('../connectors/postgres/pglite-database.js');
  const { loadDemoSchema } = await import('../../examples/demo/generate.js');
  const database = await PgliteDatabase.open();
  try {
    await loadDemoSchema(database.scripts);
    return await checkSqlAgainstDatabases(tools, new Map([['default', database]]));
  } finally {
    await database.close();
  }
}

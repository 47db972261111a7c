/**
 * Checks the SQL of tool steps against a database: each statement is prepared, never executed,
 * in a transaction that is rolled back, so unknown tables and columns and type errors are found
 * before anyone runs the tool.
 */
import type { Database } from '../connectors/postgres/database.js';
import type { Problem } from './problem.js';
import type { Tool } from './types.js';

/** Checks every SQL step of the tools whose connection is in `databases`. */
export async function checkSqlAgainstDatabases(tools: readonly Tool[], databases: ReadonlyMap<string, Database>): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const tool of tools) {
    for (const [index, step] of tool.steps.entries()) {
      const database = databases.get(step.connection);
      if (step.mongo !== undefined || database === undefined) continue;
      const message = await prepareProblem(database, step.compiled.text);
      if (message !== undefined) {
        problems.push({ file: tool.file, ...step.position, code: 'TOOLSHED_ERR_SQL_CHECK', message: `steps[${index}].sql does not prepare on the "${step.connection}" database: ${message}` });
      }
    }
  }
  return problems;
}

/** Returns PostgreSQL's message when the statement cannot be prepared, or undefined. */
async function prepareProblem(database: Database, text: string): Promise<string | undefined> {
  try {
    await database.transaction({ readOnly: true, rollback: true, timeoutMs: 5_000 }, async (client) => {
      // PREPARE parses, analyses and plans the statement, and infers the parameter types.
      await client.query(`prepare toolshed_sql_check as ${text}`);
      await client.query('deallocate toolshed_sql_check');
    });
    return undefined;
  } catch (error) {
    const { message, hint } = error as { message?: string; hint?: string };
    return `${message ?? String(error)}${hint === undefined ? '' : ` (${hint})`}`;
  }
}

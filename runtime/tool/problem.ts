/** A problem in a tool file, located like a compiler diagnostic. */

export interface Problem {
  file: string;
  line: number;
  column: number;
  code: ProblemCode;
  message: string;
}

export type ProblemCode =
  | 'TOOLSHED_ERR_YAML'
  | 'TOOLSHED_ERR_DUPLICATE_KEY'
  | 'TOOLSHED_ERR_UNKNOWN_KEY'
  | 'TOOLSHED_ERR_MISSING_KEY'
  | 'TOOLSHED_ERR_TYPE'
  | 'TOOLSHED_ERR_VALUE'
  | 'TOOLSHED_ERR_YAML_CHANGED_VALUE'
  | 'TOOLSHED_ERR_SQL_PARAM'
  | 'TOOLSHED_ERR_SQL_TEXT'
  | 'TOOLSHED_ERR_UNKNOWN_CONNECTION'
  | 'TOOLSHED_ERR_DUPLICATE_ID'
  | 'TOOLSHED_ERR_DUPLICATE_TOOL'
  | 'TOOLSHED_ERR_TEMPLATE_SYNTAX'
  | 'TOOLSHED_ERR_TEMPLATE_REF'
  | 'TOOLSHED_ERR_INVALID_DEFAULT'
  | 'TOOLSHED_ERR_FILE'
  | 'TOOLSHED_ERR_MONGO_OPERATOR'
  | 'TOOLSHED_ERR_CHECK'
  | 'TOOLSHED_ERR_SQL_CHECK';

export function formatProblem(problem: Problem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.code} ${problem.message}`;
}

/** Orders problems by file, then position, so reports read top to bottom. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

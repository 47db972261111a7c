/** The smallest SQL client surface shared by pg (server) and PGlite (embedded). */

export interface QueryResult {
  rows: Record<string, unknown>[];
  /** Rows changed by INSERT, UPDATE or DELETE; for SELECT, the rows returned. */
  rowCount: number;
}

export interface Queryable {
  /** Runs one statement with `$1..$n` bind parameters. */
  query(text: string, params?: readonly unknown[]): Promise<QueryResult>;
}

export interface ScriptRunner extends Queryable {
  /** Runs a script of several statements without parameters (schema files, migrations). */
  exec(script: string): Promise<void>;
}

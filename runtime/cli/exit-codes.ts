/** Exit codes of the toolshed command. */
export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** A tool failed, or a step that had to find a row found none. */
  TOOL_FAILED: 1,
  /** Wrong usage, invalid input, invalid tool files or configuration. */
  USAGE: 2,
} as const;

/** An error that ends the command with a message for the operator and an exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.USAGE) {
    super(message);
    this.name = 'CliError';
  }
}

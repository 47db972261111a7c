/**
 * The `toolshed` command: serve, demo, run, validate and list. Exit codes: 0 ok, 1 a tool failed
 * or found nothing it had to find, 2 wrong usage or invalid tool files or configuration.
 */
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, CliError } from './exit-codes.js';
import { DEFAULT_URL } from './remote.js';
import { DEFAULT_DEMO_WORKERS } from './defaults.js';
import { toolHelpText } from './tool-help.js';

/** Output and prompt functions of the commands; tests pass their own. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Asks a yes/no question; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  confirm: process.stdin.isTTY ? askOnTerminal : undefined,
};

async function askOnTerminal(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await prompt.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    prompt.close();
  }
}

/** Largest demo: the generator is tested up to this size, and PGlite keeps it in memory. */
const MAX_DEMO_WORKERS = 2_000_000;

export function parseWorkers(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`"${value.slice(0, 20)}" is not a whole number; give a count such as 5000`);
  const count = Number(value);
  if (count < 3 || count > MAX_DEMO_WORKERS) throw new InvalidArgumentError(`give from 3 to ${MAX_DEMO_WORKERS} workers`);
  return count;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) throw new InvalidArgumentError(`"${value.slice(0, 20)}" is not a TCP port; give a number from 0 to 65535`);
  return port;
}

export function buildProgram(io: CliIo, setExitCode: (code: number) => void, argv: readonly string[] = []): Command {
  const program = new Command('toolshed')
    .description('Serve YAML tool files as HTTP endpoints, Slack commands and CLI commands.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) })
    .exitOverride()
    .addHelpText('after', '\nExit codes: 0 ok, 1 a tool failed or found nothing it had to find, 2 usage, input, tool file or configuration error.');

  const finish = async (work: Promise<number>): Promise<void> => setExitCode(await work);
  const config = new Option('--config <file>', 'configuration file (default: ./toolshed.yaml when it exists)');
  const tools = new Option('--tools <dir>', 'directory of tool files (default: tools_dir from the configuration, else ./tools, else the shipped tools)');

  program
    .command('serve')
    .description('Serve the tools over HTTP with the databases and API keys from toolshed.yaml.')
    .addOption(config)
    .addOption(tools)
    .option('--host <address>', 'address to listen on (overrides server.host)')
    .option('--port <number>', 'TCP port (overrides server.port)', parsePort)
    .option('--strict', 'refuse to start when any tool file has problems, instead of serving the valid ones')
    .action((options) => finish(import('./serve-command.js').then(({ runServe }) => runServe(options, io))));

  program
    .command('demo')
    .description('Load demo data into an embedded PostgreSQL and serve the shipped tools on it.')
    .option('--workers <count>', 'number of demo workers to generate', parseWorkers, DEFAULT_DEMO_WORKERS)
    .option('--database-url <url>', 'seed this PostgreSQL server (schema toolshed_demo, replaced) instead of the embedded database')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <number>', 'TCP port', parsePort, 3000)
    .action((options) => finish(import('./demo-command.js').then(({ runDemo }) => runDemo(options, io))));

  program
    .command('run')
    .description('Run one tool and print its text. Inputs go by position in the order the tool declares them, or as name=value or --name value.')
    .argument('<tool>', 'tool name, such as worker-lookup')
    .argument('[inputs...]', 'input values: positional, name=value or --name value')
    .addOption(config)
    .addOption(tools)
    .option('--database-url <url>', 'run against this PostgreSQL server (tables in toolshed_demo, then public) instead of toolshed.yaml or the demo data')
    .option('--json', 'print the whole result as JSON (run id, text and data)')
    .option('--dry-run', 'for a write tool: run every step, print the preview and counts, and change nothing')
    .option('--yes', 'for a write tool: make the change without asking (for scripts)')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', () => {
      const examples = '\nExamples:\n  toolshed run worker-lookup sarah.le1@example.com\n  toolshed run worker-lookup --email sarah.le1@example.com --json';
      // `toolshed run TOOL --help` also describes that tool.
      const toolName = argv[0] === 'run' ? argv.slice(1).find((arg) => !arg.startsWith('-')) : undefined;
      return toolName === undefined ? examples : `${toolHelpText(toolName)}\n${examples}`;
    })
    .action((tool: string, inputs: string[], options) => finish(import('./run-command.js').then(({ runTool }) => runTool(tool, inputs, { ...options, confirm: io.confirm }, io))));

  program
    .command('validate')
    .description('Check every tool file in a directory and print each problem as file:line:column: CODE message.')
    .argument('[dir]', 'directory of tool files (default: as for --tools)')
    .addOption(config)
    .option('--check-sql', "also prepare every SQL step on the tools' databases (or the demo schema), to find unknown tables and columns")
    .action((dir: string | undefined, options) => finish(import('./validate-command.js').then(({ runValidate }) => runValidate(dir, options, io))));

  program
    .command('list')
    .description('List the valid tools with their usage lines.')
    .addOption(config)
    .addOption(tools)
    .action((options) => finish(import('./list-command.js').then(({ runList }) => runList(options, io))));

  const url = new Option('--url <url>', `address of the running toolshed (default: TOOLSHED_URL, else ${DEFAULT_URL}); the API key comes from TOOLSHED_API_KEY`);
  program
    .command('audit')
    .description('Print audit log entries, newest first, from a running toolshed (needs the auditor role).')
    .addOption(url)
    .option('--tool <name>', 'only this tool')
    .option('--principal <id>', 'only this principal, such as key:support-bot or slack:T0123/U0456')
    .option('--outcome <outcome>', 'only this outcome: ok, denied, invalid, not_found, confirmed, cancelled, rolled_back, pending_approval, rejected, error')
    .option('--since <time>', 'entries at or after this ISO 8601 time')
    .option('--until <time>', 'entries before this ISO 8601 time')
    .option('--limit <count>', 'most entries printed (1 to 1000, default 100)')
    .option('--json', 'print JSON')
    .action((options) => finish(import('./audit-command.js').then(({ runAudit }) => runAudit(options, io))));

  program
    .command('usage')
    .description('Print runs per tool, distinct principals, last use and error rate, to find tools nobody uses.')
    .addOption(url)
    .option('--since <time>', 'count runs at or after this ISO 8601 time')
    .option('--json', 'print JSON')
    .action((options) => finish(import('./audit-command.js').then(({ runUsage }) => runUsage(options, io))));

  program
    .command('check')
    .description('Evaluate a scheduled check once on a running toolshed and print the value, the state and what it notified.')
    .argument('<tool>', 'tool with a schedule and check, such as queue-backlog')
    .addOption(url)
    .option('--dry-run', 'send nothing and leave the stored state unchanged; print what would be notified')
    .option('--json', 'print JSON')
    .action((tool: string, options) => finish(import('./check-command.js').then(({ runCheck }) => runCheck(tool, options, io))));

  program
    .command('checks')
    .description('List every scheduled check with its state, last value, last evaluation and next run.')
    .addOption(url)
    .option('--json', 'print JSON')
    .action((options) => finish(import('./check-command.js').then(({ runChecks }) => runChecks(options, io))));

  const slack = program.command('slack').description('Slack setup helpers.');
  slack
    .command('manifest')
    .description('Print a Slack app manifest (YAML) with the slash commands, request URLs and scopes, to paste into "Create an app from a manifest".')
    .requiredOption('--url <url>', "toolshed's public HTTPS address, such as https://toolshed.example.com")
    .option('--name <name>', 'app name shown in Slack', 'toolshed')
    .addOption(config)
    .addOption(tools)
    .action((options) => finish(import('./slack-command.js').then(({ runSlackManifest }) => runSlackManifest(options, io))));

  return program;
}

/** Runs the command line and returns the exit code; long-running commands resolve when started. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode: number = EXIT.OK;
  const program = buildProgram(
    io,
    (code) => {
      exitCode = code;
    },
    argv,
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    if (error instanceof CliError) {
      io.err(error.message);
      return error.exitCode;
    }
    io.err(`toolshed failed: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.TOOL_FAILED;
  }
}

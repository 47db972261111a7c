/**
 * The `toolshed` command: serve, demo, run, validate and list. Exit codes: 0 ok, 1 a tool failed
 * or found nothing it had to find, 2 wrong usage or invalid tool files or configuration.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, CliError } from './exit-codes.js';
import { runServe } from './serve-command.js';
import { runDemo } from './demo-command.js';
import { runTool } from './run-command.js';
import { runValidate } from './validate-command.js';
import { runList } from './list-command.js';
import { runSlackManifest } from './slack-command.js';
import { DEFAULT_DEMO_WORKERS } from './context.js';

/** Where commands write; tests pass their own. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

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

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
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
    .action((options) => finish(runServe(options, io)));

  program
    .command('demo')
    .description('Load demo data into an embedded PostgreSQL and serve the shipped tools on it.')
    .option('--workers <count>', 'number of demo workers to generate', parseWorkers, DEFAULT_DEMO_WORKERS)
    .option('--database-url <url>', 'seed this PostgreSQL server (schema toolshed_demo, replaced) instead of the embedded database')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <number>', 'TCP port', parsePort, 3000)
    .action((options) => finish(runDemo(options, io)));

  program
    .command('run')
    .description('Run one tool and print its text. Inputs go by position in the order the tool declares them, or as name=value or --name value.')
    .argument('<tool>', 'tool name, such as worker-lookup')
    .argument('[inputs...]', 'input values: positional, name=value or --name value')
    .addOption(config)
    .addOption(tools)
    .option('--database-url <url>', 'run against this PostgreSQL server (tables in toolshed_demo, then public) instead of toolshed.yaml or the demo data')
    .option('--json', 'print the whole result as JSON (run id, text and data)')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', '\nExamples:\n  toolshed run worker-lookup maria.gonzalez417@example.com\n  toolshed run worker-lookup --email maria.gonzalez417@example.com --json')
    .action((tool: string, inputs: string[], options) => finish(runTool(tool, inputs, options, io)));

  program
    .command('validate')
    .description('Check every tool file in a directory and print each problem as file:line:column: CODE message.')
    .argument('[dir]', 'directory of tool files (default: as for --tools)')
    .addOption(config)
    .action((dir: string | undefined, options) => finish(runValidate(dir, options, io)));

  program
    .command('list')
    .description('List the valid tools with their usage lines.')
    .addOption(config)
    .addOption(tools)
    .action((options) => finish(runList(options, io)));

  const slack = program.command('slack').description('Slack setup helpers.');
  slack
    .command('manifest')
    .description('Print a Slack app manifest (YAML) with the slash commands, request URLs and scopes, to paste into "Create an app from a manifest".')
    .requiredOption('--url <url>', "toolshed's public HTTPS address, such as https://toolshed.example.com")
    .option('--name <name>', 'app name shown in Slack', 'toolshed')
    .addOption(config)
    .addOption(tools)
    .action((options) => finish(runSlackManifest(options, io)));

  return program;
}

/** Runs the command line and returns the exit code; long-running commands resolve when started. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode: number = EXIT.OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
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

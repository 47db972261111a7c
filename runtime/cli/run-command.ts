/** `toolshed run TOOL [inputs...]`: runs one tool once and prints its text or JSON. */
import { Engine, type RunOutcome } from '../engine/engine.js';
import type { Tool } from '../tool/types.js';
import { AuditLog } from '../audit/audit-log.js';
import { UsageLog } from '../audit/usage-log.js';
import { ensureRuntimeTables } from '../audit/runtime-tables.js';
import { assignInputs } from '../engine/positional-inputs.js';
import { ToolshedError } from '../errors.js';
import { loadToolDir } from '../tool/load-dir.js';
import { usageLine } from '../tool/describe.js';
import { createLogger } from '../logger.js';
import { cliPrincipal, databasesForRun, readConfig, toolsDirectory, type CommonOptions, loadContext, openMongoConnections } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './main.js';
import { DEMO_SCHEMA } from '../demo/demo-database.js';
import { PgDatabase } from '../connectors/postgres/pg-database.js';

interface RunOptions extends CommonOptions {
  databaseUrl?: string;
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  /** Asks the operator to confirm a write; the CLI passes a TTY prompt, tests their own. */
  confirm?: (question: string) => Promise<boolean>;
}

export async function runTool(name: string, args: readonly string[], options: RunOptions, io: CliIo): Promise<number> {
  const config = await readConfig(options);
  const loaded = await loadToolDir(toolsDirectory(options, config), loadContext(config));
  const tool = loaded.tools.find((candidate) => candidate.name === name);
  if (tool === undefined) {
    const invalid = loaded.problems.some((problem) => problem.message.includes(name)) ? ' Some tool files have problems; run toolshed validate.' : '';
    throw new CliError(`There is no valid tool named "${name.slice(0, 64)}". Run toolshed list to see the tools.${invalid}`);
  }

  let inputs: Record<string, string>;
  try {
    const { positional, named } = splitArguments(args);
    inputs = assignInputs(tool, positional, named);
  } catch (error) {
    if (error instanceof ToolshedError || error instanceof CliError) throw new CliError(`${error.message}\nusage: toolshed run ${usageLine(tool)}`);
    throw error;
  }

  const databases = options.databaseUrl === undefined ? await databasesForRun(config, undefined, io.err) : new Map([['default', new PgDatabase({ url: options.databaseUrl, searchPath: [DEMO_SCHEMA, 'public'] })]]);
  const logger = createLogger({ level: process.env.TOOLSHED_LOG_LEVEL ?? 'warn' });
  const auditDatabase = databases.get(config?.auditConnection ?? 'default');
  const needsAudit = loaded.tools.some((candidate) => candidate.audit);
  if (needsAudit && auditDatabase !== undefined) await ensureRuntimeTables(auditDatabase);
  const usage = auditDatabase === undefined ? undefined : new UsageLog(auditDatabase, logger);
  const mongo = config === undefined ? undefined : await openMongoConnections(config);
  const engine = new Engine({ tools: loaded.tools, databases, mongo, logger, audit: auditDatabase === undefined ? undefined : new AuditLog(auditDatabase), usage });
  const principal = cliPrincipal(config);
  try {
    let outcome = await engine.run({ tool: name, inputs, surface: 'cli', principal, dryRun: options.dryRun === true });
    if (outcome.ok && outcome.status === 'confirmation_required' && outcome.confirmation !== undefined) {
      io.out(outcome.text);
      const confirmed = options.yes === true || (options.confirm !== undefined && (await options.confirm('Type yes to make this change: ')));
      if (!confirmed) {
        await engine.cancel(name, outcome.confirmation.token, principal, 'cli');
        io.err(options.confirm === undefined ? 'Not confirmed: nothing was changed. Run again with --yes to make the change without a prompt.' : 'Cancelled: nothing was changed.');
        return options.confirm === undefined ? EXIT.USAGE : EXIT.TOOL_FAILED;
      }
      outcome = await engine.run({ tool: name, inputs, surface: 'cli', principal, confirmationToken: outcome.confirmation.token });
    }
    return printOutcome(outcome, tool, options, io);
  } finally {
    await usage?.flush();
    await Promise.all([...databases.values(), ...(mongo?.values() ?? [])].map((database) => database.close()));
  }
}

function printOutcome(outcome: RunOutcome, tool: Tool, options: RunOptions, io: CliIo): number {
  if (options.json === true) {
    const result = outcome.ok
      ? { run_id: outcome.runId, tool: outcome.tool, ok: true, status: outcome.status, not_found: outcome.notFound, text: outcome.text, data: outcome.data, rows_changed: outcome.rowsChanged }
      : { run_id: outcome.runId, ok: false, error: outcome.error };
    io.out(JSON.stringify(result, null, 2));
  } else if (outcome.ok) {
    io.out(outcome.text);
    if (outcome.status === 'dry_run') io.err('Dry run: nothing was changed.');
  } else {
    const fields = outcome.error.fields ?? [];
    // The message of a single invalid input is that input's message, so print it once.
    if (fields.length !== 1) io.err(outcome.error.message);
    for (const field of fields) io.err(fields.length === 1 ? field.message : `  ${field.message}`);
    if (outcome.error.code === 'TOOLSHED_ERR_INVALID_INPUT') io.err(`usage: toolshed run ${usageLine(tool)}`);
    io.err(`run id: ${outcome.runId}`);
  }
  if (!outcome.ok) return outcome.error.code === 'TOOLSHED_ERR_INVALID_INPUT' ? EXIT.USAGE : EXIT.TOOL_FAILED;
  return outcome.notFound ? EXIT.TOOL_FAILED : EXIT.OK;
}

/** Splits `value`, `name=value`, `--name value` and `--name=value` into positional and named inputs. */
export function splitArguments(args: readonly string[]): { positional: string[]; named: Record<string, string> } {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  const setNamed = (name: string, value: string): void => {
    if (name in named) throw new CliError(`${name} is given twice; give it once`);
    named[name] = value;
  };

  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    const flag = /^--([a-z][a-z0-9_-]*)(?:=([\s\S]*))?$/i.exec(arg);
    if (flag !== null) {
      const name = (flag[1] as string).replace(/-/g, '_');
      if (flag[2] !== undefined) {
        setNamed(name, flag[2]);
        continue;
      }
      const value = args[index + 1];
      if (value === undefined) throw new CliError(`--${flag[1]} needs a value`);
      setNamed(name, value);
      index += 1;
      continue;
    }
    const pair = /^([a-z][a-z0-9_]*)=([\s\S]*)$/.exec(arg);
    if (pair !== null) setNamed(pair[1] as string, pair[2] as string);
    else positional.push(arg);
  }
  return { positional, named };
}

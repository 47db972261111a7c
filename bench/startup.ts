/**
 * Startup time of `toolshed serve` with many tool files.
 *
 *   npm run build   # bin/toolshed.js runs the compiled dist/
 *   npx tsx bench/startup.ts [--tools 200] [--runs 5]
 *
 * Writes generated tool files (bench/tool-variations.ts) and a toolshed.yaml with one postgres
 * connection and one API key into a temporary directory. It then spawns
 * `node bin/toolshed.js serve --config DIR/toolshed.yaml --port 0` and measures the time from
 * spawn to the first 200 from GET /readyz, polled every 10 ms once the port is known from the log
 * line "Server listening at http://127.0.0.1:PORT". The same is measured with one tool file, and
 * loadToolDir is timed in this process. Prints a Markdown table and writes it to
 * bench/results/startup-DATE.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadToolDir } from '../runtime/tool/load-dir.js';
import { formatProblem } from '../runtime/tool/problem.js';
import { benchDatabaseUrl, describeMachine, formatMachine } from './machine.js';
import { toolFileVariation } from './tool-variations.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = fileURLToPath(new URL('./results', import.meta.url));
const binPath = join(repoRoot, 'bin', 'toolshed.js');
const distEntry = join(repoRoot, 'dist', 'runtime', 'cli', 'main.js');

const READY_POLL_MS = 10;
/** Maximum wait for one server to become ready before the run counts as failed. */
const START_TIMEOUT_MS = 30_000;
const LISTENING_LINE = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/;
const TARGET_MS = 1_000;

interface StartupTiming {
  /** Spawn to the "Server listening" log line. */
  listeningMs: number;
  /** Spawn to the first 200 from GET /readyz. */
  readyMs: number;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function positiveInteger(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number of at least 1, got "${String(text)}"`);
  return value;
}

/** Writes `count` tool files and a toolshed.yaml into a new temporary directory. */
async function writeProject(count: number, databaseUrl: string): Promise<{ dir: string; config: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'toolshed-startup-'));
  const toolsDir = join(dir, 'tools');
  await mkdir(toolsDir);
  for (let index = 0; index < count; index++) {
    const tool = toolFileVariation(index);
    await writeFile(join(toolsDir, tool.fileName), tool.text);
  }
  const config = join(dir, 'toolshed.yaml');
  const apiKey = randomBytes(24).toString('base64url');
  const yaml = ['tools_dir: tools', 'connections:', '  default:', '    type: postgres', `    url: ${databaseUrl}`, 'api_keys:', '  - name: bench', `    key: ${apiKey}`, ''].join('\n');
  await writeFile(config, yaml);
  return { dir, config };
}

/** Loads the generated tools in this process and fails when any file has a problem. */
async function checkToolsValid(dir: string, expected: number): Promise<void> {
  const loaded = await loadToolDir(join(dir, 'tools'), { connections: ['default'] });
  if (loaded.problems.length > 0 || loaded.tools.length !== expected) {
    const firstProblems = loaded.problems.slice(0, 10).map(formatProblem).join('\n');
    throw new Error(`the generated tool files are not all valid (${loaded.tools.length} of ${expected} loaded):\n${firstProblems}`);
  }
}

/** Spawns `toolshed serve` once and measures the time until /readyz returns 200. */
async function measureStartup(config: string, expectedTools: number): Promise<StartupTiming> {
  const started = performance.now();
  const child = spawn(process.execPath, [binPath, 'serve', '--config', config, '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });

  try {
    const { port, listeningMs } = await new Promise<{ port: number; listeningMs: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`toolshed serve logged no "Server listening" line within ${START_TIMEOUT_MS} ms; stderr: ${stderr}`)), START_TIMEOUT_MS);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = LISTENING_LINE.exec(line);
        if (match?.[1] === undefined) return;
        clearTimeout(timer);
        resolve({ port: Number(match[1]), listeningMs: performance.now() - started });
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`toolshed serve exited with code ${String(code)} before listening; stderr: ${stderr}`));
      });
    });

    const deadline = started + START_TIMEOUT_MS;
    while (performance.now() < deadline) {
      const body = await readyBody(port);
      if (body !== undefined) {
        const readyMs = performance.now() - started;
        if (body.tools !== expectedTools) throw new Error(`/readyz reports ${String(body.tools)} tools, expected ${expectedTools}; some generated files were not served`);
        return { listeningMs, readyMs };
      }
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    throw new Error(`GET /readyz did not return 200 within ${START_TIMEOUT_MS} ms of spawning toolshed serve`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** The /readyz body when it returns 200, undefined otherwise. */
async function readyBody(port: number): Promise<{ tools?: number } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    if (response.status !== 200) return undefined;
    return (await response.json()) as { tools?: number };
  } catch {
    return undefined;
  }
}

/** Time for `node -e 0` to start and exit: the floor that any Node.js command pays. */
async function measureNodeBoot(): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return performance.now() - started;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function spread(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(0)} | ${median(values).toFixed(0)} | ${Math.max(...values).toFixed(0)}`;
}

/** Warns when a TypeScript file under runtime/ is newer than the compiled CLI that bin/toolshed.js runs. */
async function warnIfDistStale(): Promise<void> {
  if (!existsSync(distEntry)) throw new Error('dist/ is missing; build it first with: npm run build');
  const builtAt = statSync(distEntry).mtimeMs;
  const sources = (await readdir(join(repoRoot, 'runtime'), { recursive: true })).filter((file) => file.endsWith('.ts'));
  const newer = sources.filter((file) => statSync(join(repoRoot, 'runtime', file)).mtimeMs > builtAt);
  if (!existsSync(join(repoRoot, 'dist', 'schemas', 'tool.validate.cjs'))) log('Warning: dist/schemas/tool.validate.cjs is missing, so toolshed compiles its JSON Schemas at startup; build with: npm run build');
  if (newer.length > 0) log(`Warning: ${newer.length} file(s) under runtime/ are newer than dist/ (such as runtime/${newer[0]}); rebuild with: npm run build`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tools: { type: 'string', default: '200' }, runs: { type: 'string', default: '5' } } });
  const toolCount = positiveInteger('--tools', values.tools);
  const runs = positiveInteger('--runs', values.runs);
  const databaseUrl = benchDatabaseUrl();
  await warnIfDistStale();
  const machine = await describeMachine(databaseUrl);

  const manyTools = await writeProject(toolCount, databaseUrl);
  const oneTool = await writeProject(1, databaseUrl);
  try {
    const loadMs: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await checkToolsValid(manyTools.dir, toolCount);
      loadMs.push(performance.now() - started);
    }
    log(`loadToolDir on ${toolCount} files: ${loadMs.map((ms) => ms.toFixed(0)).join(', ')} ms`);

    const bootMs: number[] = [];
    for (let run = 0; run < runs; run++) bootMs.push(await measureNodeBoot());

    const timings = new Map<number, StartupTiming[]>([
      [toolCount, []],
      [1, []],
    ]);
    // Alternating the two projects spreads any drift of the machine over both.
    for (let run = 0; run < runs; run++) {
      for (const [count, project] of [[toolCount, manyTools], [1, oneTool]] as const) {
        const timing = await measureStartup(project.config, count);
        timings.get(count)?.push(timing);
        log(`${count} tool file(s), run ${run + 1}: listening after ${timing.listeningMs.toFixed(0)} ms, ready after ${timing.readyMs.toFixed(0)} ms`);
      }
    }

    const manyReady = (timings.get(toolCount) ?? []).map((timing) => timing.readyMs);
    const oneReady = (timings.get(1) ?? []).map((timing) => timing.readyMs);
    const lines = [
      `# toolshed serve startup (${new Date().toISOString()})`,
      '',
      `${runs} runs each. Times in milliseconds from spawning \`node bin/toolshed.js serve --config DIR/toolshed.yaml --port 0\` to the log line "Server listening" and to the first 200 from GET /readyz (polled every ${READY_POLL_MS} ms).`,
      '',
      ...formatMachine(machine),
      '',
      '| Measurement | min | median | max |',
      '| --- | ---: | ---: | ---: |',
      `| ${toolCount} tool files: spawn to "Server listening" | ${spread((timings.get(toolCount) ?? []).map((timing) => timing.listeningMs))} |`,
      `| ${toolCount} tool files: spawn to /readyz 200 | ${spread(manyReady)} |`,
      `| 1 tool file: spawn to "Server listening" | ${spread((timings.get(1) ?? []).map((timing) => timing.listeningMs))} |`,
      `| 1 tool file: spawn to /readyz 200 | ${spread(oneReady)} |`,
      `| loadToolDir of ${toolCount} files in this process (first run is cold) | ${spread(loadMs)} |`,
      `| \`node -e 0\`: spawn to exit | ${spread(bootMs)} |`,
      '',
      ...(toolCount > 1 ? [`Median cost per extra tool file at startup: ${((median(manyReady) - median(oneReady)) / (toolCount - 1)).toFixed(2)} ms.`, ''] : []),
      `Target: ready in under ${TARGET_MS} ms with ${toolCount} tool files. Met: ${Math.max(...manyReady) < TARGET_MS ? 'yes, in every run' : median(manyReady) < TARGET_MS ? 'by the median, not in every run' : 'no'}.`,
    ];
    const report = `${lines.join('\n')}\n`;
    process.stdout.write(report);
    await mkdir(resultsDir, { recursive: true });
    const out = join(resultsDir, `startup-${new Date().toISOString().slice(0, 10)}.md`);
    await writeFile(out, report);
    log(`Wrote ${out}.`);
  } finally {
    await rm(manyTools.dir, { recursive: true, force: true });
    await rm(oneTool.dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  log(`bench/startup.ts failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});

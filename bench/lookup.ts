/**
 * Throughput and latency of POST /tools/worker-lookup/run: toolshed against a hand-written
 * Fastify + pg route doing the same work (bench/baseline-server.ts), both on a PostgreSQL server
 * seeded with the demo data.
 *
 *   npx tsx bench/lookup.ts [--workers 100000] [--duration 10] [--rounds 3] [--connections 20]
 *                           [--warmup 3] [--reuse] [--cpu-prof] [--out FILE]
 *
 * Each server runs in its own child process. autocannon loads them alternately, round by round,
 * with the order flipped every round, and every request looks up the email of a random existing worker.
 * The script prints a Markdown table and writes it to bench/results/lookup-DATE.md. It exits with
 * status 1 when the two servers' outputs differ or any request fails.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { demoEmail } from '../examples/demo/generate.js';
import { DEMO_SCHEMA, openDemoDatabase } from '../runtime/demo/demo-database.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { benchDatabaseUrl, describeMachine, formatMachine } from './machine.js';

const RUN_PATH = '/tools/worker-lookup/run';
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = fileURLToPath(new URL('./results', import.meta.url));

/** Emails checked on both servers before the load, besides the one that matches no worker. */
const VERIFY_EMAILS = 5;
const UNKNOWN_EMAIL = 'no-such-worker@example.com';

/** Throughput and p99 targets for toolshed relative to the baseline. */
const MIN_THROUGHPUT_RATIO = 0.85;
const MAX_P99_RATIO = 1.2;

interface BenchOptions {
  workers: number;
  durationSeconds: number;
  rounds: number;
  connections: number;
  warmupSeconds: number;
  reuse: boolean;
  cpuProf: boolean;
  out: string;
}

interface RoundResult {
  round: number;
  server: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU time of the server process per completed request, when /proc is available. */
  serverCpuMsPerRequest: number | undefined;
  /** CPU time of all PostgreSQL processes per completed request, when /proc is available. */
  postgresCpuMsPerRequest: number | undefined;
  /**
   * CPU time of processes outside the benchmark (not this process, the two servers or PostgreSQL)
   * during the round, as a percentage of one CPU. Other work on the machine skews the figures.
   */
  otherCpuPercent: number | undefined;
}

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '100000' },
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      reuse: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const date = new Date().toISOString().slice(0, 10);
  const cpuProf = values['cpu-prof'] === true;
  return {
    workers: positiveInteger('--workers', values.workers, 3),
    durationSeconds: positiveInteger('--duration', values.duration, 1),
    rounds: positiveInteger('--rounds', values.rounds, 1),
    connections: positiveInteger('--connections', values.connections, 1),
    warmupSeconds: positiveInteger('--warmup', values.warmup, 0),
    reuse: values.reuse === true,
    cpuProf,
    out: values.out ?? `${resultsDir}/lookup-${date}${cpuProf ? '-cpu-prof' : ''}.md`,
  };
}

function positiveInteger(flag: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`${flag} must be a whole number of at least ${min}, got "${String(text)}"`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Seeds the demo schema, unless --reuse is given and it already contains exactly `workers` workers. */
async function ensureDemoData(databaseUrl: string, workers: number, reuse: boolean): Promise<void> {
  if (reuse) {
    const existing = await countDemoWorkers(databaseUrl);
    if (existing === workers) {
      log(`Reusing schema ${DEMO_SCHEMA} with ${workers} workers.`);
      return;
    }
    log(`--reuse: schema ${DEMO_SCHEMA} has ${existing === undefined ? 'no workers table' : `${existing} workers`}, not ${workers}; seeding it again.`);
  }
  log(`Seeding ${workers} demo workers into schema ${DEMO_SCHEMA} (drops the schema first)...`);
  const started = performance.now();
  const demo = await openDemoDatabase({ workers, databaseUrl });
  await demo.database.close();
  log(`Seeded in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
}

async function countDemoWorkers(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = await client.query<{ present: boolean }>('select to_regclass($1) is not null as present', [`${DEMO_SCHEMA}.workers`]);
    if (table.rows[0]?.present !== true) return undefined;
    const count = await client.query<{ count: string }>(`select count(*) from ${DEMO_SCHEMA}.workers`);
    return Number(count.rows[0]?.count);
  } finally {
    await client.end();
  }
}

async function postLookup(port: number, apiKey: string, email: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${port}${RUN_PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Compares both servers' responses for the same emails: the HTTP status, the set of fields and
 * every field but run_id, which differs by design, must be equal. Throws on the first difference.
 */
async function verifySameOutput(toolshed: ChildServer, baseline: ChildServer, apiKey: string, emails: readonly string[]): Promise<void> {
  const indexes = [0, ...Array.from({ length: VERIFY_EMAILS - 1 }, () => Math.floor(Math.random() * emails.length))];
  const checked = [...indexes.map((index) => emails[index] as string), UNKNOWN_EMAIL];
  for (const email of checked) {
    const [fromToolshed, fromBaseline] = await Promise.all([postLookup(toolshed.port, apiKey, email), postLookup(baseline.port, apiKey, email)]);
    if (fromToolshed.status !== 200 || fromBaseline.status !== 200) {
      throw new Error(`lookup of ${email} returned HTTP ${fromToolshed.status} from toolshed and ${fromBaseline.status} from the baseline; both must return 200.\ntoolshed: ${JSON.stringify(fromToolshed.body)}\nbaseline: ${JSON.stringify(fromBaseline.body)}`);
    }
    const fields = Object.keys(fromToolshed.body).filter((field) => field !== 'run_id');
    const baselineFields = Object.keys(fromBaseline.body).filter((field) => field !== 'run_id');
    if (!isDeepStrictEqual([...fields].sort(), [...baselineFields].sort())) {
      throw new Error(`toolshed returns the fields ${fields.join(', ')} for ${email} but the baseline returns ${baselineFields.join(', ')}; update bench/baseline-server.ts to return the same fields.`);
    }
    for (const field of fields) {
      if (!isDeepStrictEqual(fromToolshed.body[field], fromBaseline.body[field])) {
        throw new Error(`toolshed and the baseline return different "${field}" for ${email}, so the benchmark would not compare the same work.\ntoolshed: ${JSON.stringify(fromToolshed.body[field])}\nbaseline: ${JSON.stringify(fromBaseline.body[field])}`);
      }
    }
  }
  log(`Both servers return identical responses, apart from run_id, for ${checked.length} emails (${checked.join(', ')}).`);
}

/** Returns the clock ticks per second that /proc/PID/stat and /proc/stat count in. */
function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

const CLOCK_TICKS = clockTicksPerSecond();

/** Returns the user plus system CPU time of a process in milliseconds, or undefined where /proc is missing. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesized command name start at field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Returns the CPU time of every process whose command name is "postgres", in milliseconds. */
function postgresCpuMs(): number | undefined {
  try {
    let total = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // The process exited while the directory was read.
      }
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (command !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    }
    return total;
  } catch {
    return undefined;
  }
}

/** Returns the CPU time all CPUs spent busy since boot (the first line of /proc/stat, less idle and iowait), in milliseconds. */
function machineBusyCpuMs(): number | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return ((total - idle) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

interface CpuSnapshot {
  wallMs: number;
  benchMs: number;
  serversMs: number[];
  postgresMs: number | undefined;
  machineMs: number | undefined;
}

function cpuSnapshot(servers: readonly ChildServer[]): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    wallMs: performance.now(),
    benchMs: (usage.user + usage.system) / 1000,
    serversMs: servers.map((server) => processCpuMs(server.process.pid) ?? Number.NaN),
    postgresMs: postgresCpuMs(),
    machineMs: machineBusyCpuMs(),
  };
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] as number;
}

/**
 * Loads one server for `durationSeconds`. Latency percentiles come from each response's duration
 * as autocannon measures it, in fractions of a millisecond, because autocannon's own histogram
 * stores whole milliseconds.
 */
async function loadServer(server: ChildServer, allServers: readonly ChildServer[], apiKey: string, emails: readonly string[], connections: number, durationSeconds: number, round: number): Promise<RoundResult> {
  const latencies: number[] = [];
  const before = cpuSnapshot(allServers);
  const instance = autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections,
    duration: durationSeconds,
    requests: [
      {
        method: 'POST',
        path: RUN_PATH,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: emails[Math.floor(Math.random() * emails.length)] }) }),
      },
    ],
  });
  instance.on('response', (_client: unknown, _statusCode: number, _bytes: number, responseTimeMs: number) => {
    latencies.push(responseTimeMs);
  });
  const result = await instance;
  const after = cpuSnapshot(allServers);

  const sorted = Float64Array.from(latencies).sort();
  const requests = result.requests.total ?? result['2xx'] + result.non2xx;
  const serverIndex = allServers.indexOf(server);
  const serverCpuMs = (after.serversMs[serverIndex] ?? Number.NaN) - (before.serversMs[serverIndex] ?? Number.NaN);
  const serversCpuMs = after.serversMs.reduce((sum, value, index) => sum + value - (before.serversMs[index] ?? Number.NaN), 0);
  const postgresCpuMs = after.postgresMs === undefined || before.postgresMs === undefined ? undefined : after.postgresMs - before.postgresMs;
  const machineCpuMs = after.machineMs === undefined || before.machineMs === undefined ? undefined : after.machineMs - before.machineMs;
  const otherCpuMs = machineCpuMs === undefined || postgresCpuMs === undefined ? undefined : machineCpuMs - postgresCpuMs - serversCpuMs - (after.benchMs - before.benchMs);
  const perRequest = (cpuMs: number | undefined): number | undefined => (cpuMs === undefined || Number.isNaN(cpuMs) || requests === 0 ? undefined : cpuMs / requests);
  return {
    round,
    server: server.name,
    requestsPerSecond: requests / result.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    serverCpuMsPerRequest: perRequest(serverCpuMs),
    postgresCpuMsPerRequest: perRequest(postgresCpuMs),
    otherCpuPercent: otherCpuMs === undefined || Number.isNaN(otherCpuMs) ? undefined : Math.max(0, (otherCpuMs / (after.wallMs - before.wallMs)) * 100),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

interface Summary {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMsPerRequest: number | undefined;
  postgresCpuMsPerRequest: number | undefined;
  otherCpuPercent: number | undefined;
}

/** Returns the median of values that may be missing, or undefined unless every round has one. */
function medianOfKnown(values: ReadonlyArray<number | undefined>): number | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length === values.length && known.length > 0 ? median(known) : undefined;
}

function summarize(results: readonly RoundResult[], server: string): Summary {
  const rounds = results.filter((result) => result.server === server);
  return {
    requestsPerSecond: median(rounds.map((result) => result.requestsPerSecond)),
    p50Ms: median(rounds.map((result) => result.p50Ms)),
    p99Ms: median(rounds.map((result) => result.p99Ms)),
    serverCpuMsPerRequest: medianOfKnown(rounds.map((result) => result.serverCpuMsPerRequest)),
    postgresCpuMsPerRequest: medianOfKnown(rounds.map((result) => result.postgresCpuMsPerRequest)),
    otherCpuPercent: medianOfKnown(rounds.map((result) => result.otherCpuPercent)),
  };
}

function formatOptional(value: number | undefined, digits: number): string {
  return value === undefined ? 'n/a' : value.toFixed(digits);
}

/**
 * Formats the ratios within each round. Both servers of a round ran back to back, so such a ratio
 * compares them under similar load from other processes.
 */
function formatRoundRatios(results: readonly RoundResult[]): string[] {
  const ratios: Array<{ round: number; throughput: number; p99: number }> = [];
  for (const round of new Set(results.map((result) => result.round))) {
    const ofToolshed = results.find((result) => result.round === round && result.server === 'toolshed');
    const ofBaseline = results.find((result) => result.round === round && result.server === 'baseline');
    if (ofToolshed === undefined || ofBaseline === undefined) continue;
    ratios.push({ round, throughput: ofToolshed.requestsPerSecond / ofBaseline.requestsPerSecond, p99: ofToolshed.p99Ms / ofBaseline.p99Ms });
  }
  if (ratios.length === 0) return [];

  const throughput = median(ratios.map((ratio) => ratio.throughput));
  const p99 = median(ratios.map((ratio) => ratio.p99));
  return [
    '| Round | toolshed / baseline throughput | toolshed p99 / baseline p99 |',
    '| ---: | ---: | ---: |',
    ...ratios.map((ratio) => `| ${ratio.round} | ${ratio.throughput.toFixed(3)} | ${ratio.p99.toFixed(3)} |`),
    `| median | ${throughput.toFixed(3)} (target at least ${MIN_THROUGHPUT_RATIO}: ${throughput >= MIN_THROUGHPUT_RATIO ? 'met' : 'not met'}) | ${p99.toFixed(3)} (target at most ${MAX_P99_RATIO}: ${p99 <= MAX_P99_RATIO ? 'met' : 'not met'}) |`,
  ];
}

function formatReport(options: BenchOptions, machineLines: string[], results: readonly RoundResult[]): string {
  const toolshed = summarize(results, 'toolshed');
  const baseline = summarize(results, 'baseline');
  const throughputRatio = toolshed.requestsPerSecond / baseline.requestsPerSecond;
  const p99Ratio = toolshed.p99Ms / baseline.p99Ms;

  const otherCpu = results.map((result) => result.otherCpuPercent).filter((value): value is number => value !== undefined);
  const lines = [
    `# worker-lookup: toolshed against a hand-written baseline (${new Date().toISOString()})`,
    '',
    `${options.workers} demo workers; autocannon with ${options.connections} connections, ${options.rounds} rounds of ${options.durationSeconds} s per server, ${options.warmupSeconds} s warm-up per server.`,
    ...(options.cpuProf ? ['', '**Both servers ran with --cpu-prof, so these figures are slower than normal runs.**'] : []),
    ...(process.env.BENCH_BASELINE_UNNAMED === '1' ? ['', '**Baseline variant (BENCH_BASELINE_UNNAMED=1): the baseline sends unnamed statements, which PostgreSQL parses and plans on every run.**'] : []),
    '',
    ...machineLines,
    '',
    'Server and PostgreSQL CPU are CPU milliseconds per completed request. Other CPU is what processes outside the benchmark used during the round, in percent of one CPU.',
    '',
    '| Round | Server | Requests/s | p50 (ms) | p99 (ms) | Requests | Non-2xx | Errors | Timeouts | Server CPU (ms) | PostgreSQL CPU (ms) | Other CPU (%) |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((result) => `| ${result.round} | ${result.server} | ${result.requestsPerSecond.toFixed(0)} | ${result.p50Ms.toFixed(2)} | ${result.p99Ms.toFixed(2)} | ${result.requests} | ${result.non2xx} | ${result.errors} | ${result.timeouts} | ${formatOptional(result.serverCpuMsPerRequest, 3)} | ${formatOptional(result.postgresCpuMsPerRequest, 3)} | ${formatOptional(result.otherCpuPercent, 0)} |`),
    ...[['toolshed', toolshed] as const, ['baseline', baseline] as const].map(([name, summary]) => `| median | ${name} | ${summary.requestsPerSecond.toFixed(0)} | ${summary.p50Ms.toFixed(2)} | ${summary.p99Ms.toFixed(2)} | | | | | ${formatOptional(summary.serverCpuMsPerRequest, 3)} | ${formatOptional(summary.postgresCpuMsPerRequest, 3)} | ${formatOptional(summary.otherCpuPercent, 0)} |`),
    '',
    ...(otherCpu.length > 0 ? [`Processes outside the benchmark used ${Math.min(...otherCpu).toFixed(0)}% to ${Math.max(...otherCpu).toFixed(0)}% of a CPU during the measured rounds; the more they used, the less the figures say about toolshed.`, ''] : []),
    '| Ratio (medians) | Value | Target | Met |',
    '| --- | ---: | --- | --- |',
    `| toolshed / baseline throughput | ${throughputRatio.toFixed(3)} | at least ${MIN_THROUGHPUT_RATIO} | ${throughputRatio >= MIN_THROUGHPUT_RATIO ? 'yes' : 'no'} |`,
    `| toolshed p99 / baseline p99 | ${p99Ratio.toFixed(3)} | at most ${MAX_P99_RATIO} | ${p99Ratio <= MAX_P99_RATIO ? 'yes' : 'no'} |`,
  ];
  if (toolshed.serverCpuMsPerRequest !== undefined && baseline.serverCpuMsPerRequest !== undefined) {
    lines.push(`| toolshed / baseline server CPU per request | ${(toolshed.serverCpuMsPerRequest / baseline.serverCpuMsPerRequest).toFixed(3)} | | |`);
  }
  if (toolshed.postgresCpuMsPerRequest !== undefined && baseline.postgresCpuMsPerRequest !== undefined) {
    lines.push(`| toolshed / baseline PostgreSQL CPU per request | ${(toolshed.postgresCpuMsPerRequest / baseline.postgresCpuMsPerRequest).toFixed(3)} | | |`);
  }
  lines.push('', ...formatRoundRatios(results));
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  const options = parseOptions();
  const databaseUrl = benchDatabaseUrl();
  const machine = await describeMachine(databaseUrl);
  await ensureDemoData(databaseUrl, options.workers, options.reuse);

  const emails = Array.from({ length: options.workers }, (_, index) => demoEmail(index));
  const apiKey = randomBytes(24).toString('base64url');
  const env = { ...process.env, BENCH_DATABASE_URL: databaseUrl, BENCH_API_KEY: apiKey };
  const profileDir = `${resultsDir}/profiles`;
  if (options.cpuProf) await mkdir(profileDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // One directory per server: Node.js 20 names each profile CPU.DATE.TIME.PID.THREAD.SEQ.cpuprofile, and
  // tsx's module loader thread writes a profile of its own (thread 0 is the main thread).
  const profileFlags = (name: string): string[] => (options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${name}-${stamp}`] : []);

  const spawnedAt = performance.now();
  const started = await Promise.allSettled([
    startChildServer({ name: 'toolshed', script: fileURLToPath(new URL('./toolshed-server.ts', import.meta.url)), env, cwd: repoRoot, nodeFlags: profileFlags('toolshed') }),
    startChildServer({ name: 'baseline', script: fileURLToPath(new URL('./baseline-server.ts', import.meta.url)), env, cwd: repoRoot, nodeFlags: profileFlags('baseline') }),
  ]);
  const [toolshedStart, baselineStart] = started;
  if (toolshedStart.status === 'rejected' || baselineStart.status === 'rejected') {
    // A child that did start keeps this process alive through its IPC channel until stopped.
    await Promise.all(started.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.stop() : undefined)));
    throw toolshedStart.status === 'rejected' ? toolshedStart.reason : (baselineStart as PromiseRejectedResult).reason;
  }
  const toolshed = toolshedStart.value;
  const baseline = baselineStart.value;
  const servers = [toolshed, baseline];
  const results: RoundResult[] = [];
  try {
    await verifySameOutput(toolshed, baseline, apiKey, emails);

    if (options.warmupSeconds > 0) {
      for (const server of servers) {
        log(`Warming up ${server.name} for ${options.warmupSeconds} s...`);
        const warmup = await loadServer(server, servers, apiKey, emails, options.connections, options.warmupSeconds, 0);
        log(`  ${warmup.requests} requests, ${warmup.non2xx} non-2xx, ${warmup.errors} errors`);
      }
    }

    for (let round = 1; round <= options.rounds; round++) {
      // Flipping the order every round spreads any drift of the machine over both servers.
      const order = round % 2 === 1 ? [toolshed, baseline] : [baseline, toolshed];
      for (const server of order) {
        log(`Round ${round}/${options.rounds}: loading ${server.name} for ${options.durationSeconds} s...`);
        const loadStartMs = performance.now() - spawnedAt;
        const result = await loadServer(server, servers, apiKey, emails, options.connections, options.durationSeconds, round);
        if (options.cpuProf) log(`  for the profile: this load ran from ${loadStartMs.toFixed(0)} ms to ${(performance.now() - spawnedAt).toFixed(0)} ms after the servers were spawned (bench/profile-summary.ts --skip-ms)`);
        log(`  ${result.requestsPerSecond.toFixed(0)} requests/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.non2xx} non-2xx, ${result.errors} errors, other processes used ${formatOptional(result.otherCpuPercent, 0)}% of a CPU`);
        results.push(result);
      }
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }

  const report = formatReport(options, formatMachine(machine), results);
  process.stdout.write(report);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(options.out, report);
  log(`Wrote ${options.out}${options.cpuProf ? `; CPU profiles are in ${profileDir}` : ''}.`);

  const failed = results.filter((result) => result.non2xx > 0 || result.errors > 0 || result.timeouts > 0);
  if (failed.length > 0) {
    log(`${failed.length} run(s) had non-2xx responses, errors or timeouts; the figures above are not valid.`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`bench/lookup.ts failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);

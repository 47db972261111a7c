/**
 * Timeliness and memory of many scheduled checks in one process.
 *
 *   npx tsx bench/checks.ts [--checks 1000] [--minutes 3] [--pool 10] [--alerting-every 100]
 *                           [--out bench/results/checks.md]
 *
 * Writes --checks tool files, each with `schedule: "* * * * *"` (every minute) and one SQL step,
 * `select count(*) as n from bench_items`, on a 100-row table in a private schema of the
 * PostgreSQL server (BENCH_DATABASE_URL, default the local test database). Each check watches
 * that count with a critical threshold above 1000, which is never crossed, except every
 * --alerting-every-th check, whose threshold is above 10. Those alert once at their first
 * evaluation to a webhook on a local receiver and stay silent after that (no repeat).
 *
 * The checks run as `toolshed serve` runs them: createApp with schedule: true, so ChecksService
 * arms one timer per check. Every evaluation claims its slot, runs the tool, and saves its state
 * and evaluation row in the same database. The one `default` pool (--pool connections) serves tool
 * runs, check state, the audit tables and the usage log, as it does with the default
 * configuration.
 *
 * The pool is wrapped to time every transaction. An evaluation starts when its slot claim requests
 * a connection, which CheckRunner does synchronously when the scheduler fires. It is complete when
 * the transaction that saves its state commits. The lag of an evaluation is its start minus its
 * slot. The database's `evaluated_at - slot` is reported too: the runner takes `evaluated_at`
 * after the tool has run, so it falls between start and completion.
 *
 * Also measured: memory (rss and heapUsed, sampled every 5 s) and event loop delay. Around each
 * slot, /proc gives the CPU time of this process, of PostgreSQL and of the rest of the machine.
 * A tool without a schedule runs 200 ms after each slot and is timed, as an HTTP request arriving
 * during the evaluations would be.
 *
 * The script stops the scheduler once --minutes slots have been evaluated, prints a Markdown
 * report and writes it to --out. It exits with status 1 when an evaluation is missing or an alert
 * was not delivered exactly once.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { createApp, type App } from '../runtime/app.js';
import type { Database, TransactionOptions } from '../runtime/connectors/postgres/database.js';
import { PgDatabase } from '../runtime/connectors/postgres/pg-database.js';
import type { Queryable } from '../runtime/connectors/postgres/queryable.js';
import { benchDatabaseUrl, describeMachine, formatMachine } from './machine.js';

const resultsDir = fileURLToPath(new URL('./results', import.meta.url));

const MINUTE_MS = 60_000;
const MEMORY_SAMPLE_MS = 5_000;
/** Rows in bench_items; every check counts them. */
const TABLE_ROWS = 100;
/** Interval of the completion check. */
const POLL_MS = 250;
/** A tool without a schedule, run once a minute during the burst of evaluations. */
const PROBE_TOOL = 'bench-probe';
/** Time after each minute when the probe tool runs. */
const PROBE_DELAY_MS = 200;
/** Maximum wait after a slot for its evaluations to complete before the script gives up on them. */
const SLOT_COMPLETION_LIMIT_MS = 50_000;
const MIB = 1024 * 1024;

interface Settings {
  checks: number;
  minutes: number;
  pool: number;
  alertingEvery: number;
  out: string;
}

function parseSettings(): Settings {
  const { values } = parseArgs({
    options: {
      checks: { type: 'string', default: '1000' },
      minutes: { type: 'string', default: '3' },
      pool: { type: 'string', default: '10' },
      'alerting-every': { type: 'string', default: '100' },
      out: { type: 'string', default: join(resultsDir, 'checks.md') },
    },
  });
  return {
    checks: wholeNumber('--checks', values.checks, 1),
    minutes: wholeNumber('--minutes', values.minutes, 1),
    pool: wholeNumber('--pool', values.pool, 1),
    alertingEvery: wholeNumber('--alerting-every', values['alerting-every'], 0),
    out: values.out,
  };
}

function wholeNumber(flag: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${flag} must be a whole number of at least ${minimum}; got "${text}"`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Kind of a transaction, from its first statement. */
type TransactionKind = 'claim slot' | 'load state' | 'tool run' | 'probe tool run' | 'previous evaluation' | 'save evaluation' | 'record deliveries' | 'other';

/** The transactions every evaluation runs, in order. */
const EVALUATION_KINDS: readonly TransactionKind[] = ['claim slot', 'load state', 'tool run', 'previous evaluation', 'save evaluation'];

function kindOf(sql: string): TransactionKind {
  if (sql.includes('toolshed_check_slots')) return 'claim slot';
  if (sql.includes('from toolshed_check_state')) return 'load state';
  if (sql.includes('bench_items')) return 'tool run';
  if (sql.includes('select 1 as n')) return 'probe tool run';
  if (sql.includes('from toolshed_check_evaluations')) return 'previous evaluation';
  if (sql.includes('into toolshed_check_state')) return 'save evaluation';
  if (sql.includes('update toolshed_check_evaluations')) return 'record deliveries';
  return 'other';
}

interface TransactionTiming {
  kind: TransactionKind;
  /** From the request for a connection to the first statement of the work: the wait for a connection and the BEGIN round trip. */
  acquireMs: number;
  /** The work's statements. */
  workMs: number;
  /** COMMIT or ROLLBACK and releasing the connection. */
  finishMs: number;
}

/** One evaluation, keyed by tool and slot. Times are epoch milliseconds. */
interface EvaluationTiming {
  tool: string;
  slot: number;
  /** When the slot claim requested a connection. */
  startedAt: number;
  /** When the transaction that saved the state and the evaluation row committed. */
  savedAt: number | undefined;
}

/** A PgDatabase that times every transaction and notes when each evaluation starts and is saved. */
class TimedDatabase implements Database {
  readonly kind = 'server' as const;
  readonly transactions: TransactionTiming[] = [];
  readonly evaluations = new Map<string, EvaluationTiming>();
  /** Most transactions waiting for a connection or running at once, sampled at each transaction start. */
  maxInFlight = 0;
  private inFlight = 0;

  constructor(private readonly inner: PgDatabase) {}

  async transaction<T>(options: TransactionOptions, work: (client: Queryable) => Promise<T>): Promise<T> {
    const calledAt = Date.now();
    const called = performance.now();
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let kind: TransactionKind | undefined;
    let workStarted = called;
    let workEnded = called;
    let savedKey: string | undefined;
    let committed = false;
    try {
      const result = await this.inner.transaction(options, async (client) => {
        workStarted = performance.now();
        const timed: Queryable = {
          query: async (text, params) => {
            kind ??= kindOf(text);
            const values = (params ?? []) as unknown[];
            if (kind === 'claim slot') this.noteStart(String(values[0]), String(values[1]), calledAt);
            if (text.includes('into toolshed_check_evaluations')) savedKey = evaluationKey(String(values[0]), String(values[1]));
            return client.query(text, params);
          },
        };
        try {
          return await work(timed);
        } finally {
          workEnded = performance.now();
        }
      });
      committed = true;
      return result;
    } finally {
      this.inFlight -= 1;
      const ended = performance.now();
      this.transactions.push({ kind: kind ?? 'other', acquireMs: workStarted - called, workMs: workEnded - workStarted, finishMs: ended - workEnded });
      const saved = savedKey === undefined ? undefined : this.evaluations.get(savedKey);
      if (committed && saved !== undefined) saved.savedAt = Date.now();
    }
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private noteStart(tool: string, slotIso: string, calledAt: number): void {
    const key = evaluationKey(tool, slotIso);
    if (!this.evaluations.has(key)) this.evaluations.set(key, { tool, slot: Date.parse(slotIso), startedAt: calledAt, savedAt: undefined });
  }
}

function evaluationKey(tool: string, slotIso: string): string {
  return `${tool}|${new Date(slotIso).toISOString()}`;
}

const PROBE_TOOL_FILE = `name: ${PROBE_TOOL}
title: Bench probe
description: Runs one short query; bench/checks.ts times it while the checks run.
steps:
  - id: one
    expect: one
    sql: select 1 as n
output:
  text: "{{one.n}}"
`;

function toolName(index: number): string {
  return `bench-check-${String(index + 1).padStart(4, '0')}`;
}

function isAlerting(index: number, settings: Settings): boolean {
  return settings.alertingEvery > 0 && (index + 1) % settings.alertingEvery === 0;
}

function toolFile(index: number, settings: Settings, receiverUrl: string): string {
  const name = toolName(index);
  const limit = isAlerting(index, settings) ? 10 : 1000;
  return `name: ${name}
title: Bench check ${index + 1}
description: Counts bench_items every minute; generated by bench/checks.ts.
schedule: "* * * * *"
steps:
  - id: total
    expect: one
    sql: select count(*) as n from bench_items
check:
  value: total.n
  unit: items
  critical: { above: ${limit} }
notify:
  - type: webhook
    url: ${receiverUrl}/alerts/${name}
output:
  text: "{{total.n}} items"
`;
}

/** Starts a local HTTP server that counts webhook posts per path. */
async function startReceiver(): Promise<{ url: string; posts: Map<string, number>; close(): Promise<void> }> {
  const posts = new Map<string, number>();
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = request.url ?? '/';
      posts.set(path, (posts.get(path) ?? 0) + 1);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, posts, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
}

function sampleMemory(): MemorySample {
  const usage = process.memoryUsage();
  return { at: Date.now(), rss: usage.rss, heapUsed: usage.heapUsed };
}

/** The value at quantile q (0 to 1) of sorted values, by the nearest-rank method. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

interface Summary {
  count: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? Number.NaN : sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { count: sorted.length, min: sorted[0] ?? Number.NaN, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN, mean };
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(0);
}

async function createSchema(url: string): Promise<{ schema: string; maxConnections: string; drop(): Promise<void> }> {
  const schema = `toolshed_bench_checks_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.query(`create table ${schema}.bench_items (id integer primary key)`);
  await admin.query(`insert into ${schema}.bench_items select generate_series(1, ${TABLE_ROWS})`);
  const maxConnections = (await admin.query<{ max_connections: string }>('show max_connections')).rows[0]?.max_connections ?? 'unknown';
  return {
    schema,
    maxConnections,
    drop: async () => {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

/** Per-slot figures from the database: rows and the lag of evaluated_at behind the slot, in milliseconds. */
async function databaseLags(url: string, schema: string): Promise<Map<number, Summary>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ slot: Date; lag_ms: number }>(`select slot, extract(epoch from evaluated_at - slot) * 1000 as lag_ms from ${schema}.toolshed_check_evaluations`);
    const bySlot = new Map<number, number[]>();
    for (const row of result.rows) {
      const key = row.slot.getTime();
      const list = bySlot.get(key) ?? [];
      list.push(Number(row.lag_ms));
      bySlot.set(key, list);
    }
    return new Map([...bySlot].map(([slot, values]) => [slot, summarize(values)]));
  } finally {
    await client.end();
  }
}

/** Counts log entries at warn level and above by message. */
async function warningsIn(logFile: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const text = await readFile(logFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // pino writes its numeric level first. Reading it from there stays right even when an entry
    // repeats the key with a field of its own, which JSON.parse would read instead.
    const level = Number(/^\{"level":(\d+)/.exec(line)?.[1] ?? 0);
    if (level < 40) continue;
    const message = (JSON.parse(line) as { msg?: string }).msg ?? '(no message)';
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return counts;
}

/** CPU times in milliseconds at one moment: this process, every PostgreSQL process, and the whole machine. */
interface CpuSnapshot {
  wallMs: number;
  benchMs: number;
  postgresMs: number | undefined;
  machineBusyMs: number | undefined;
}

function cpuSnapshot(): CpuSnapshot {
  const own = process.cpuUsage();
  return { wallMs: performance.now(), benchMs: (own.user + own.system) / 1000, postgresMs: postgresCpuMs(), machineBusyMs: machineBusyCpuMs() };
}

/** Clock ticks per second of /proc/PID/stat times. */
function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

const CLOCK_TICKS = clockTicksPerSecond();

/**
 * Sums the CPU time of every process whose command name is "postgres", in milliseconds, or
 * returns undefined where /proc is missing. A backend that exits between two snapshots takes its
 * time with it. Pool connections close after 30 s idle, which is longer than a slot's window.
 */
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
      // Fields after the parenthesized command name start at field 3, so utime and stime (fields 14 and 15) are at indexes 11 and 12.
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

/** A measured slot, with CPU snapshots from just before the slot to just after its last evaluation was saved. */
interface SlotWindow {
  slot: number;
  /** Undefined when the scheduler started too close to the slot for a snapshot before it. */
  before: CpuSnapshot | undefined;
  after: CpuSnapshot | undefined;
}

/**
 * Waits until every check has saved an evaluation for --minutes slots, or the last slot is
 * SLOT_COMPLETION_LIMIT_MS old. The checks run at every minute, so a CPU snapshot is taken at most
 * 2 * POLL_MS before each minute and another at most POLL_MS after a slot's last evaluation is
 * saved. Snapshots read /proc, which takes a few milliseconds, so they are not taken on every poll.
 */
async function waitForSlots(database: TimedDatabase, settings: Settings): Promise<SlotWindow[]> {
  const windows = new Map<number, SlotWindow>();
  const beforeSlot = new Map<number, CpuSnapshot>();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const nextMinute = Math.ceil(Date.now() / MINUTE_MS) * MINUTE_MS;
    if (nextMinute - Date.now() <= 2 * POLL_MS && !beforeSlot.has(nextMinute)) beforeSlot.set(nextMinute, cpuSnapshot());

    const evaluations = [...database.evaluations.values()];
    const slots = [...new Set(evaluations.map((evaluation) => evaluation.slot))].sort((a, b) => a - b).slice(0, settings.minutes);
    for (const slot of slots) {
      let window = windows.get(slot);
      if (window === undefined) {
        window = { slot, before: beforeSlot.get(slot), after: undefined };
        windows.set(slot, window);
      }
      const saved = evaluations.filter((evaluation) => evaluation.slot === slot && evaluation.savedAt !== undefined).length;
      if (window.after === undefined && saved >= settings.checks) window.after = cpuSnapshot();
    }

    const last = slots.at(-1);
    if (slots.length < settings.minutes || last === undefined) continue;
    if (windows.get(last)?.after !== undefined || Date.now() - last > SLOT_COMPLETION_LIMIT_MS) return [...windows.values()];
  }
}

/** A run of the probe tool, started PROBE_DELAY_MS after a slot as an HTTP request during the burst would be. */
interface ProbeRun {
  slot: number;
  ok: boolean;
  durationMs: number;
}

/** Runs the probe tool PROBE_DELAY_MS after every minute until stopped. */
function startProbe(app: App, runs: ProbeRun[]): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const slot = Math.ceil((Date.now() + 1) / MINUTE_MS) * MINUTE_MS;
    timer = setTimeout(() => {
      const started = performance.now();
      void app.engine.run({ tool: PROBE_TOOL, inputs: {}, surface: 'http', principal: { id: 'bench', name: 'bench', roles: [] } }).then((outcome) => {
        runs.push({ slot, ok: outcome.ok, durationMs: performance.now() - started });
      });
      arm();
    }, slot + PROBE_DELAY_MS - Date.now());
  };
  arm();
  return () => clearTimeout(timer);
}

async function main(): Promise<void> {
  const settings = parseSettings();
  const command = ['npx tsx bench/checks.ts', ...process.argv.slice(2)].join(' ');
  const url = benchDatabaseUrl();
  const machine = await describeMachine(url);
  const database = await createSchema(url);
  const receiver = await startReceiver();
  const workDir = await mkdtemp(join(tmpdir(), 'toolshed-bench-checks-'));
  const toolsDir = join(workDir, 'tools');
  const logFile = join(workDir, 'toolshed.log');
  await mkdir(toolsDir);
  for (let index = 0; index < settings.checks; index += 1) {
    await writeFile(join(toolsDir, `${toolName(index)}.yaml`), toolFile(index, settings, receiver.url));
  }
  await writeFile(join(toolsDir, `${PROBE_TOOL}.yaml`), PROBE_TOOL_FILE);

  const timed = new TimedDatabase(new PgDatabase({ url, searchPath: [database.schema], maxConnections: settings.pool }));
  const destination = pino.destination({ dest: logFile, sync: false });
  const logger = pino({ level: 'info', base: { service: 'toolshed' } }, destination);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const memory: MemorySample[] = [];
  let app: App | undefined;
  let sampler: NodeJS.Timeout | undefined;
  const probes: ProbeRun[] = [];
  let stopProbe = (): void => undefined;
  try {
    log(`loading ${settings.checks} tool files and starting the scheduler`);
    const loadStarted = performance.now();
    app = await createApp({ toolsDir, databases: new Map([['default', timed]]), apiKeys: [], logger, bodyLimit: 1_048_576, schedule: true, notifierEnv: {} });
    const startupMs = performance.now() - loadStarted;
    if (app.loaded.problems.length > 0) throw new Error(`generated tool files have problems: ${app.loaded.problems[0]?.message ?? ''}`);
    if (app.checks?.size !== settings.checks) throw new Error(`expected ${settings.checks} scheduled checks, got ${app.checks?.size ?? 0}`);
    loopDelay.enable();
    memory.push(sampleMemory());
    sampler = setInterval(() => memory.push(sampleMemory()), MEMORY_SAMPLE_MS);
    stopProbe = startProbe(app, probes);
    log(`started in ${ms(startupMs)} ms; waiting for ${settings.minutes} slot(s) of every check`);

    const windows = await waitForSlots(timed, settings);
    stopProbe();
    clearInterval(sampler);
    loopDelay.disable();
    memory.push(sampleMemory());
    await app.close();
    app = undefined;
    destination.flushSync();

    const lagsInDatabase = await databaseLags(url, database.schema);
    const warnings = await warningsIn(logFile);
    const report = buildReport({ settings, command, machine: formatMachine(machine), maxConnections: database.maxConnections, startupMs, windows, probes, timed, lagsInDatabase, memory, loopDelay, warnings, posts: receiver.posts });
    process.stdout.write(`${report.text}\n`);
    await mkdir(dirname(settings.out), { recursive: true });
    await writeFile(settings.out, `${report.text}\n`);
    if (report.problems.length > 0) {
      log(`problems:\n${report.problems.join('\n')}`);
      process.exitCode = 1;
    }
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    stopProbe();
    await app?.close().catch(() => undefined);
    await receiver.close();
    await database.drop();
    await rm(workDir, { recursive: true, force: true });
  }
}

interface ReportInput {
  settings: Settings;
  command: string;
  machine: string[];
  maxConnections: string;
  startupMs: number;
  windows: SlotWindow[];
  probes: ProbeRun[];
  timed: TimedDatabase;
  lagsInDatabase: Map<number, Summary>;
  memory: MemorySample[];
  loopDelay: ReturnType<typeof monitorEventLoopDelay>;
  warnings: Map<string, number>;
  posts: Map<string, number>;
}

function buildReport(input: ReportInput): { text: string; problems: string[] } {
  const { settings, timed, windows } = input;
  const slots = windows.map((window) => window.slot);
  const problems: string[] = [];
  const lines: string[] = [];
  const evaluations = [...timed.evaluations.values()].filter((evaluation) => slots.includes(evaluation.slot));
  const alerting = Array.from({ length: settings.checks }, (_, index) => index).filter((index) => isAlerting(index, settings)).length;

  lines.push(`# Scheduled checks: ${settings.checks} checks every minute in one process (${new Date().toISOString()})`);
  lines.push('');
  lines.push(`Command: \`${input.command}\``);
  lines.push('');
  lines.push(...input.machine);
  lines.push(`- PostgreSQL max_connections: ${input.maxConnections}; toolshed pool: ${settings.pool} connections (PgDatabase maxConnections), shared by tool runs, check state, audit and usage`);
  lines.push(`- Settings: --checks ${settings.checks} --minutes ${settings.minutes} --pool ${settings.pool} --alerting-every ${settings.alertingEvery}`);
  lines.push(`- Checks: ${settings.checks}, each \`select count(*) as n from bench_items\` (${TABLE_ROWS} rows); ${alerting} alert once to a local webhook, the others never cross their threshold`);
  lines.push(`- Startup (createApp: load ${settings.checks} tool files, migrate, arm timers): ${ms(input.startupMs)} ms`);
  lines.push('');

  lines.push('Lag in milliseconds. Start: the time the slot claim requested a connection, minus the slot time. Saved: the state and evaluation row are committed, minus the slot time. evaluated_at: the column the runner sets after the tool ran, minus the slot, read back from the database.');
  lines.push('');
  lines.push('| Slot (UTC) | Evaluations | Start p50 | Start p99 | Start max | Saved p50 | Saved p99 | Saved max | evaluated_at p50 | evaluated_at p99 | evaluated_at max |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const slot of slots) {
    const inSlot = evaluations.filter((evaluation) => evaluation.slot === slot);
    const started = summarize(inSlot.map((evaluation) => evaluation.startedAt - slot));
    const saved = summarize(inSlot.filter((evaluation) => evaluation.savedAt !== undefined).map((evaluation) => (evaluation.savedAt as number) - slot));
    const stored = input.lagsInDatabase.get(slot);
    lines.push(`| ${new Date(slot).toISOString().slice(11, 16)} | ${inSlot.length} | ${ms(started.p50)} | ${ms(started.p99)} | ${ms(started.max)} | ${ms(saved.p50)} | ${ms(saved.p99)} | ${ms(saved.max)} | ${ms(stored?.p50 ?? Number.NaN)} | ${ms(stored?.p99 ?? Number.NaN)} | ${ms(stored?.max ?? Number.NaN)} |`);
    if (inSlot.length !== settings.checks) problems.push(`slot ${new Date(slot).toISOString()}: ${inSlot.length} evaluations started, expected ${settings.checks}`);
    if (saved.count !== settings.checks) problems.push(`slot ${new Date(slot).toISOString()}: ${saved.count} evaluations saved, expected ${settings.checks}`);
    if (stored?.count !== settings.checks) problems.push(`slot ${new Date(slot).toISOString()}: ${stored?.count ?? 0} evaluation rows, expected ${settings.checks}`);
  }
  lines.push('');

  lines.push(`CPU time in milliseconds over each slot's window, from a snapshot at most ${2 * POLL_MS} ms before the slot to one at most ${POLL_MS} ms after its last evaluation was saved. The toolshed process column includes this script's timing wrapper and polling. PostgreSQL counts every postgres process, including backends that serve other clients. Other is the rest of the machine's busy time, so a large share there means something else on the machine competed for the CPUs during that slot. The machine has ${cpus().length} logical CPUs, so a window of W ms holds at most ${cpus().length}W ms of CPU time.`);
  lines.push('');
  lines.push('| Slot (UTC) | Window | toolshed process | PostgreSQL | Other | Other, % of one CPU | toolshed per evaluation | PostgreSQL per evaluation |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const window of windows) {
    const { before, after } = window;
    if (before === undefined || after === undefined) {
      lines.push(`| ${new Date(window.slot).toISOString().slice(11, 16)} | not measured | | | | | | |`);
      continue;
    }
    const wall = after.wallMs - before.wallMs;
    const own = after.benchMs - before.benchMs;
    const postgres = after.postgresMs === undefined || before.postgresMs === undefined ? Number.NaN : after.postgresMs - before.postgresMs;
    const busy = after.machineBusyMs === undefined || before.machineBusyMs === undefined ? Number.NaN : after.machineBusyMs - before.machineBusyMs;
    lines.push(`| ${new Date(window.slot).toISOString().slice(11, 16)} | ${ms(wall)} | ${ms(own)} | ${ms(postgres)} | ${ms(busy - own - postgres)} | ${(((busy - own - postgres) / wall) * 100).toFixed(0)} | ${(own / settings.checks).toFixed(2)} | ${(postgres / settings.checks).toFixed(2)} |`);
  }
  lines.push('');

  lines.push(`The probe tool (${PROBE_TOOL}, \`select 1 as n\`, no schedule) run ${PROBE_DELAY_MS} ms after each minute through the same engine and pool, as an HTTP request arriving during the evaluations would be:`);
  lines.push('');
  lines.push('| Slot (UTC) | Outcome | Duration ms |');
  lines.push('| --- | --- | ---: |');
  for (const probe of input.probes.filter((run) => slots.includes(run.slot))) {
    lines.push(`| ${new Date(probe.slot).toISOString().slice(11, 16)} | ${probe.ok ? 'ok' : 'failed'} | ${ms(probe.durationMs)} |`);
  }
  lines.push('');

  const rss = summarize(input.memory.map((sample) => sample.rss));
  const heap = summarize(input.memory.map((sample) => sample.heapUsed));
  lines.push(`Memory, sampled every ${MEMORY_SAMPLE_MS / 1000} s (${input.memory.length} samples from the end of startup to the stop):`);
  lines.push('');
  lines.push('| Measure | min MiB | max MiB |');
  lines.push('| --- | ---: | ---: |');
  lines.push(`| rss | ${mib(rss.min)} | ${mib(rss.max)} |`);
  lines.push(`| heapUsed | ${mib(heap.min)} | ${mib(heap.max)} |`);
  lines.push('');

  const loop = input.loopDelay;
  lines.push(`Event loop delay over the run (monitorEventLoopDelay, 10 ms resolution): p50 ${ms(loop.percentile(50) / 1e6)} ms, p99 ${ms(loop.percentile(99) / 1e6)} ms, max ${ms(loop.max / 1e6)} ms.`);
  lines.push('');

  lines.push(`Where the time goes: every transaction on the pool, by what it did (${timed.transactions.length} in all; at most ${timed.maxInFlight} were waiting for or holding a connection at once). Acquire is the wait for a free connection plus the BEGIN round trip. Work is the transaction's statements, and finish is COMMIT and the release. Milliseconds.`);
  lines.push('');
  lines.push('| Transaction | Count | Acquire p50 | Acquire p99 | Acquire max | Work p50 | Work p99 | Finish p50 | Mean total |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const kinds: TransactionKind[] = ['claim slot', 'load state', 'tool run', 'previous evaluation', 'save evaluation', 'record deliveries', 'probe tool run', 'other'];
  for (const kind of kinds) {
    const ofKind = timed.transactions.filter((transaction) => transaction.kind === kind);
    if (ofKind.length === 0) continue;
    const acquire = summarize(ofKind.map((transaction) => transaction.acquireMs));
    const work = summarize(ofKind.map((transaction) => transaction.workMs));
    const finish = summarize(ofKind.map((transaction) => transaction.finishMs));
    const total = summarize(ofKind.map((transaction) => transaction.acquireMs + transaction.workMs + transaction.finishMs));
    lines.push(`| ${kind} | ${ofKind.length} | ${ms(acquire.p50)} | ${ms(acquire.p99)} | ${ms(acquire.max)} | ${ms(work.p50)} | ${ms(work.p99)} | ${ms(finish.p50)} | ${ms(total.mean)} |`);
  }
  lines.push('');
  const perEvaluation = timed.transactions.filter((transaction) => EVALUATION_KINDS.includes(transaction.kind));
  const evaluationCount = Math.max(1, timed.evaluations.size);
  const acquirePerEvaluation = perEvaluation.reduce((sum, transaction) => sum + transaction.acquireMs, 0) / evaluationCount;
  const busyPerEvaluation = perEvaluation.reduce((sum, transaction) => sum + transaction.workMs + transaction.finishMs, 0) / evaluationCount;
  lines.push(`Per evaluation, on average: ${(perEvaluation.length / evaluationCount).toFixed(1)} transactions, ${ms(acquirePerEvaluation)} ms in acquire and ${ms(busyPerEvaluation)} ms in work and finish.`);
  lines.push('');

  const delivered = [...input.posts.values()].reduce((sum, count) => sum + count, 0);
  lines.push(`Alerts delivered to the local webhook: ${delivered} (expected ${alerting}, one per alerting check).`);
  if (delivered !== alerting) problems.push(`webhook received ${delivered} alerts, expected ${alerting}`);
  for (const [path, count] of input.posts) {
    if (count !== 1) problems.push(`webhook ${path} received ${count} posts, expected 1`);
  }

  if (input.warnings.size === 0) {
    lines.push('Log entries at warn or above: none.');
  } else {
    lines.push('Log entries at warn or above:');
    lines.push('');
    for (const [message, count] of input.warnings) lines.push(`- ${count} x ${message}`);
  }
  return { text: lines.join('\n'), problems };
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});

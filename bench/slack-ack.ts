/**
 * Acknowledgement latency of POST /slack/commands and delivery of the deferred answers to
 * response_url, with many slash commands arriving at once.
 *
 *   npx tsx bench/slack-ack.ts [--commands 50] [--tool-seconds 5] [--rounds 3]
 *                              [--ack-budgets 2000,50,0] [--max-connections 60] [--warmup 1]
 *                              [--out FILE]
 *
 * For each ack budget (slack.ack_budget_ms), the script starts toolshed in a child process on
 * 127.0.0.1 (bench/slack-ack-server.ts) and runs the rounds against it. Each round sends
 * `--commands` signed slash commands at once over real HTTP for each of three commands:
 *
 * - `help` lists the tools without touching the database. toolshed answers it in the response,
 *   so its latency is the floor of signature check, routing and HTTP on this machine.
 * - `echo` runs `select :tag`, so it shows whether a fast tool is still answered in the response.
 * - `sleep-then-echo` runs `select pg_sleep(N)`, with N from --tool-seconds, so it is slower than
 *   every budget measured and must be acknowledged and answered later at response_url.
 *
 * Before the rounds, --warmup batches of echo, at the same concurrency, warm up each server and
 * open pool connections; they are not recorded.
 *
 * Every command has its own response_url path on a local recorder that notes each post's arrival
 * time. Ack latency runs from just before fetch() to the end of the response body, in this
 * process. Arrival time runs from the same start to the post reaching the recorder.
 *
 * The servers run one after another, so at most one PostgreSQL pool of --max-connections is open
 * at a time. The pool must hold one connection per concurrent sleep-then-echo run for all of them
 * to finish in about N seconds. With a smaller pool, runs wait for a free connection, and a run
 * that waits longer than the pool's connection timeout (3 s by default) fails as database
 * unavailable.
 *
 * The script prints a Markdown table and writes it to bench/results/slack-ack.md. It exits with
 * status 1 when any ack is neither the progress message nor the answer, or any command is not
 * answered exactly once with the expected text. The under-100 ms p99 target is reported in the
 * table, but missing it does not change the exit status.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signSlackRequest } from '../runtime/surfaces/slack/signature.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { benchDatabaseUrl, describeMachine, formatMachine } from './machine.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = fileURLToPath(new URL('./results', import.meta.url));

/** The p99 acknowledgement latency target for a slow tool. */
const ACK_P99_TARGET_MS = 100;

/** How long the recorder keeps listening after the expected posts arrived, to catch duplicates. */
const DUPLICATE_WAIT_MS = 1_000;

/**
 * Extra time, beyond the tool's timeout, to wait for deferred answers. It covers toolshed's
 * response_url retries (250 ms and 1 s after a failed post) and a slow machine.
 */
const DELIVERY_MARGIN_MS = 15_000;

const SLACK_COMMAND = '/toolshed';
const TEAM_ID = 'T0BENCH';
const USER_ID = 'U0BENCH';

interface BenchOptions {
  commands: number;
  toolSeconds: number;
  rounds: number;
  ackBudgetsMs: number[];
  maxConnections: number;
  /** Unrecorded batches of echo sent to each server before the rounds. */
  warmupBatches: number;
  out: string;
}

/**
 * How a command must be answered: `inline` in the HTTP response, `deferred` as a progress
 * message and then at response_url, `either` one way or the other depending on timing.
 */
type Delivery = 'inline' | 'deferred' | 'either';

/** A slash command the benchmark sends, with the messages it expects for a command tagged `tag`. */
interface BenchCommand {
  /** Part of each response_url path. */
  name: string;
  /** Label for the results table. */
  label: string;
  delivery: Delivery;
  /** The tool file to write, for commands that run a tool. */
  toolYaml: string | undefined;
  /** How long the tool may run. The benchmark waits this long plus DELIVERY_MARGIN_MS for deferred answers. */
  timeoutMs: number;
  text(tag: string): string;
  progressText(tag: string): string | undefined;
  answerText(tag: string): string;
}

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      commands: { type: 'string', default: '50' },
      'tool-seconds': { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      'ack-budgets': { type: 'string', default: '2000,50,0' },
      'max-connections': { type: 'string', default: '60' },
      warmup: { type: 'string', default: '1' },
      out: { type: 'string', default: `${resultsDir}/slack-ack.md` },
    },
  });
  const toolSeconds = Number(values['tool-seconds']);
  if (!Number.isFinite(toolSeconds) || toolSeconds <= 0 || toolSeconds > 250) {
    throw new Error(`--tool-seconds must be a number of seconds above 0 and at most 250, got "${String(values['tool-seconds'])}"`);
  }
  const ackBudgetsMs = (values['ack-budgets'] ?? '').split(',').map((text) => wholeNumber('--ack-budgets', text.trim(), 0));
  const largestBudgetMs = Math.max(...ackBudgetsMs);
  if (largestBudgetMs >= toolSeconds * 1000) {
    throw new Error(`--ack-budgets ${largestBudgetMs} is not below --tool-seconds ${toolSeconds}, so sleep-then-echo would be answered in the response; use budgets below ${toolSeconds * 1000} ms`);
  }
  return {
    commands: wholeNumber('--commands', values.commands, 1),
    toolSeconds,
    rounds: wholeNumber('--rounds', values.rounds, 1),
    ackBudgetsMs,
    maxConnections: wholeNumber('--max-connections', values['max-connections'], 1),
    warmupBatches: wholeNumber('--warmup', values.warmup, 0),
    out: values.out ?? `${resultsDir}/slack-ack.md`,
  };
}

function wholeNumber(flag: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isInteger(value) || value < min) throw new Error(`${flag} must be a whole number of at least ${min}, got "${String(text)}"`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function benchCommands(toolSeconds: number): { help: BenchCommand; echo: BenchCommand; sleep: BenchCommand } {
  const help: BenchCommand = {
    name: 'help',
    label: 'help (no database)',
    delivery: 'inline',
    toolYaml: undefined,
    timeoutMs: 0,
    text: () => 'help',
    progressText: () => undefined,
    answerText: () => 'Tools you can run',
  };
  const echo: BenchCommand = {
    name: 'echo',
    label: 'echo (no sleep)',
    delivery: 'either',
    toolYaml: ['name: echo', 'title: Echo the tag', 'inputs:', '  tag:', '    type: string', 'slack:', '  progress: Echoing {{tag}}...', 'steps:', '  - id: result', '    expect: one', '    sql: select :tag as tag', 'output:', '  text: "Echo of {{result.tag}}"', ''].join('\n'),
    timeoutMs: 5_000,
    text: (tag) => `echo ${tag}`,
    progressText: (tag) => `Echoing ${tag}...`,
    answerText: (tag) => `Echo of ${tag}`,
  };
  // The timeout must outlast the sleep, and 25 s more leaves room for many runs starting at once.
  const sleepTimeoutSeconds = Math.ceil(toolSeconds) + 25;
  const sleep: BenchCommand = {
    name: 'sleep-then-echo',
    label: `sleep-then-echo (${toolSeconds} s)`,
    delivery: 'deferred',
    toolYaml: [
      'name: sleep-then-echo',
      'title: Sleep, then echo the tag',
      `timeout: ${sleepTimeoutSeconds}s`,
      'inputs:',
      '  tag:',
      '    type: string',
      'slack:',
      `  progress: Sleeping ${toolSeconds} s for {{tag}}...`,
      'steps:',
      '  - id: result',
      '    expect: one',
      `    sql: select pg_sleep(${toolSeconds}) as slept, :tag as tag`,
      'output:',
      `  text: "Slept ${toolSeconds} s for {{result.tag}}"`,
      '',
    ].join('\n'),
    timeoutMs: sleepTimeoutSeconds * 1000,
    text: (tag) => `sleep-then-echo ${tag}`,
    progressText: (tag) => `Sleeping ${toolSeconds} s for ${tag}...`,
    answerText: (tag) => `Slept ${toolSeconds} s for ${tag}`,
  };
  return { help, echo, sleep };
}

interface RecordedPost {
  path: string;
  arrivedAt: number;
  body: Record<string, unknown>;
}

/** A local HTTP server that stands in for Slack's response_url. It records every post and its arrival time. */
class ResponseUrlRecorder {
  readonly posts: RecordedPost[] = [];
  private readonly server = http.createServer((request, response) => this.record(request, response));
  private waiters: Array<() => void> = [];
  host = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` posts under `prefix` have arrived, or when `deadline` (performance.now()) passes. */
  async waitFor(prefix: string, count: number, deadline: number): Promise<void> {
    while (this.postsUnder(prefix).length < count && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  postsUnder(prefix: string): RecordedPost[] {
    return this.posts.filter((post) => post.path.startsWith(prefix));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(request: http.IncomingMessage, response: http.ServerResponse): void {
    const arrivedAt = performance.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { unparsable: text.slice(0, 200) };
      }
      this.posts.push({ path: (request.url ?? '/').split('?')[0] ?? '/', arrivedAt, body });
      response.end('ok');
      for (const wake of this.waiters.splice(0)) wake();
    });
  }
}

/** Clock ticks per second of /proc/PID/stat and /proc/stat times. */
function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

const CLOCK_TICKS = clockTicksPerSecond();

/** User plus system CPU time, in milliseconds, from the text of a /proc/PID/stat file. */
function statCpuMs(stat: string): number {
  // Fields after the parenthesized command name start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/**
 * CPU time, in milliseconds, of the processes the benchmark consists of: this process, the
 * toolshed child and every process named "postgres". Undefined where /proc is missing.
 */
function benchmarkCpuMs(childPid: number | undefined): number | undefined {
  try {
    const usage = process.cpuUsage();
    let total = (usage.user + usage.system) / 1000;
    if (childPid !== undefined) total += statCpuMs(readFileSync(`/proc/${childPid}/stat`, 'utf8'));
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // The process exited while the directory was read.
      }
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres') total += statCpuMs(stat);
    }
    return total;
  } catch {
    return undefined;
  }
}

/** CPU time all CPUs spent busy since boot (the first line of /proc/stat, less idle and iowait), in milliseconds. */
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
  benchmarkMs: number | undefined;
  machineMs: number | undefined;
}

function cpuSnapshot(childPid: number | undefined): CpuSnapshot {
  return { wallMs: performance.now(), benchmarkMs: benchmarkCpuMs(childPid), machineMs: machineBusyCpuMs() };
}

/** CPU that processes outside the benchmark used between two snapshots, in percent of one CPU. */
function otherCpuPercent(before: CpuSnapshot, after: CpuSnapshot): number | undefined {
  if (before.benchmarkMs === undefined || after.benchmarkMs === undefined || before.machineMs === undefined || after.machineMs === undefined) return undefined;
  const otherMs = after.machineMs - before.machineMs - (after.benchmarkMs - before.benchmarkMs);
  return Math.max(0, (otherMs / (after.wallMs - before.wallMs)) * 100);
}

type AckKind = 'progress' | 'answer' | 'other';

interface CommandResult {
  tag: string;
  path: string;
  sentAt: number;
  ackMs: number;
  ackKind: AckKind;
  ackBody: string;
}

interface BatchResult {
  ackBudgetMs: number;
  command: BenchCommand;
  round: number;
  commands: number;
  progressAcks: number;
  answerAcks: number;
  otherAcks: number;
  ackMs: number[];
  /** Acknowledged commands whose answer arrived at response_url exactly once with the expected text. */
  deliveredOnce: number;
  /** Acknowledged commands whose answer never arrived. */
  missing: number;
  /** Posts beyond the first for one command, and posts for commands already answered in the response. */
  extraPosts: number;
  /** Deferred answers without the expected text, such as error messages. */
  wrongAnswers: number;
  arrivalMs: number[];
  responseTypes: string[];
  /** CPU that processes outside the benchmark used during the batch, in percent of one CPU. */
  otherCpuPercent: number | undefined;
  /** The first unexpected ack or deferred answer, for the log. */
  sample: string | undefined;
}

function slackForm(command: BenchCommand, tag: string, responseUrl: string): string {
  return new URLSearchParams({
    token: 'unused',
    team_id: TEAM_ID,
    user_id: USER_ID,
    user_name: 'bench',
    command: SLACK_COMMAND,
    text: command.text(tag),
    response_url: responseUrl,
    channel_id: 'C0BENCH',
  }).toString();
}

function classifyAck(command: BenchCommand, tag: string, status: number, text: string): AckKind {
  if (status !== 200) return 'other';
  let body: { text?: unknown; blocks?: Array<{ type?: unknown }> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return 'other';
  }
  const progress = command.progressText(tag);
  if (progress !== undefined && body.text === progress && body.blocks?.[0]?.type === 'context') return 'progress';
  if (typeof body.text === 'string' && body.text.includes(command.answerText(tag))) return 'answer';
  return 'other';
}

/**
 * Sends `count` signed commands at once and waits for every deferred answer. `batchId`, such as
 * r2 for round 2, keeps the response_url paths and tags of different batches apart.
 */
async function runBatch(server: ChildServer, recorder: ResponseUrlRecorder, secret: string, command: BenchCommand, ackBudgetMs: number, round: number, batchId: string, count: number): Promise<BatchResult> {
  const prefix = `/response/budget-${ackBudgetMs}/${batchId}/${command.name}/`;
  const prepared = Array.from({ length: count }, (_, index) => {
    const tag = `${batchId}c${index}`;
    const path = `${prefix}${index}`;
    const body = slackForm(command, tag, `http://${recorder.host}${path}`);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signSlackRequest(secret, timestamp, body) };
    return { tag, path, body, headers };
  });

  const url = `http://127.0.0.1:${server.port}/slack/commands`;
  const cpuBefore = cpuSnapshot(server.process.pid);
  const results = await Promise.all(
    prepared.map(async ({ tag, path, body, headers }): Promise<CommandResult> => {
      const sentAt = performance.now();
      const response = await fetch(url, { method: 'POST', headers, body });
      const text = await response.text();
      const ackMs = performance.now() - sentAt;
      return { tag, path, sentAt, ackMs, ackKind: classifyAck(command, tag, response.status, text), ackBody: text };
    }),
  );

  const acknowledged = results.filter((result) => result.ackKind === 'progress');
  const lastSentAt = Math.max(...results.map((result) => result.sentAt));
  await recorder.waitFor(prefix, acknowledged.length, lastSentAt + command.timeoutMs + DELIVERY_MARGIN_MS);
  await new Promise((resolve) => setTimeout(resolve, DUPLICATE_WAIT_MS));
  const cpuAfter = cpuSnapshot(server.process.pid);

  const postsByPath = new Map<string, RecordedPost[]>();
  for (const post of recorder.postsUnder(prefix)) postsByPath.set(post.path, [...(postsByPath.get(post.path) ?? []), post]);

  let sample: string | undefined = results.find((result) => result.ackKind === 'other')?.ackBody;
  let deliveredOnce = 0;
  let missing = 0;
  let extraPosts = 0;
  let wrongAnswers = 0;
  const arrivalMs: number[] = [];
  const responseTypes = new Set<string>();
  for (const result of results) {
    const posts = postsByPath.get(result.path) ?? [];
    if (result.ackKind !== 'progress') {
      extraPosts += posts.length;
      continue;
    }
    const [first] = posts;
    if (first === undefined) {
      missing += 1;
      continue;
    }
    extraPosts += posts.length - 1;
    arrivalMs.push(first.arrivedAt - result.sentAt);
    responseTypes.add(String(first.body.response_type));
    const text = typeof first.body.text === 'string' ? first.body.text : '';
    if (!text.includes(command.answerText(result.tag)) || first.body.replace_original !== false) {
      wrongAnswers += 1;
      sample ??= JSON.stringify(first.body);
    } else if (posts.length === 1) {
      deliveredOnce += 1;
    }
  }

  return {
    ackBudgetMs,
    command,
    round,
    commands: count,
    progressAcks: acknowledged.length,
    answerAcks: results.filter((result) => result.ackKind === 'answer').length,
    otherAcks: results.filter((result) => result.ackKind === 'other').length,
    ackMs: results.map((result) => result.ackMs),
    deliveredOnce,
    missing,
    extraPosts,
    wrongAnswers,
    arrivalMs,
    responseTypes: [...responseTypes].sort(),
    otherCpuPercent: otherCpuPercent(cpuBefore, cpuAfter),
    sample,
  };
}

/** Checks that every command got a valid ack and exactly one answer, in the response or at response_url. */
function batchIsValid(batch: BatchResult): boolean {
  const answeredOnce = batch.answerAcks + batch.deliveredOnce === batch.commands;
  const deliveredAsExpected = (batch.command.delivery !== 'deferred' || batch.progressAcks === batch.commands) && (batch.command.delivery !== 'inline' || batch.answerAcks === batch.commands);
  return batch.otherAcks === 0 && batch.missing === 0 && batch.extraPosts === 0 && batch.wrongAnswers === 0 && answeredOnce && deliveredAsExpected;
}

/** Returns the nearest-rank percentile, so in a sample of fewer than 100 values p99 is the largest. */
function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(fraction * sorted.length)) - 1] as number;
}

function formatMs(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(1);
}

/** Reads max_connections and estimates the connections still free: max_connections less reserved slots and open connections. */
async function describeConnections(databaseUrl: string): Promise<{ maxConnections: number; free: number }> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const result = await client.query<{ max_connections: number; reserved: number; open: number }>(
      `select current_setting('max_connections')::int as max_connections,
              current_setting('superuser_reserved_connections')::int as reserved,
              (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as open`,
    );
    const row = result.rows[0];
    if (row === undefined) throw new Error('reading max_connections returned no row');
    // This client's own connection closes before the servers start, so it is not counted as open.
    return { maxConnections: row.max_connections, free: row.max_connections - row.reserved - (row.open - 1) };
  } finally {
    await client.end();
  }
}

function commandLine(options: BenchOptions): string {
  return `npx tsx bench/slack-ack.ts --commands ${options.commands} --tool-seconds ${options.toolSeconds} --rounds ${options.rounds} --ack-budgets ${options.ackBudgetsMs.join(',')} --max-connections ${options.maxConnections} --warmup ${options.warmupBatches}`;
}

function batchRow(batch: BatchResult, round: string): string {
  return [
    '',
    batch.ackBudgetMs,
    batch.command.label,
    round,
    `${batch.progressAcks} / ${batch.answerAcks} / ${batch.otherAcks}`,
    formatMs(percentile(batch.ackMs, 0.5)),
    formatMs(percentile(batch.ackMs, 0.99)),
    formatMs(Math.max(...batch.ackMs)),
    `${batch.deliveredOnce} of ${batch.progressAcks}`,
    batch.missing,
    batch.extraPosts,
    batch.wrongAnswers,
    formatMs(percentile(batch.arrivalMs, 0.5)),
    formatMs(percentile(batch.arrivalMs, 0.99)),
    batch.responseTypes.join(', ') || 'n/a',
    batch.otherCpuPercent === undefined ? 'n/a' : batch.otherCpuPercent.toFixed(0),
    '',
  ]
    .join(' | ')
    .trim();
}

/** Merges all rounds of a budget and command into one row, with counts summed, latencies pooled and the median of other CPU. */
function pooledBatch(batches: readonly BatchResult[]): BatchResult {
  const first = batches[0] as BatchResult;
  const sum = (pick: (batch: BatchResult) => number): number => batches.reduce((total, batch) => total + pick(batch), 0);
  const otherCpu = batches.map((batch) => batch.otherCpuPercent);
  const knownOtherCpu = otherCpu.filter((value): value is number => value !== undefined);
  return {
    ...first,
    commands: sum((batch) => batch.commands),
    progressAcks: sum((batch) => batch.progressAcks),
    answerAcks: sum((batch) => batch.answerAcks),
    otherAcks: sum((batch) => batch.otherAcks),
    ackMs: batches.flatMap((batch) => batch.ackMs),
    deliveredOnce: sum((batch) => batch.deliveredOnce),
    missing: sum((batch) => batch.missing),
    extraPosts: sum((batch) => batch.extraPosts),
    wrongAnswers: sum((batch) => batch.wrongAnswers),
    arrivalMs: batches.flatMap((batch) => batch.arrivalMs),
    responseTypes: [...new Set(batches.flatMap((batch) => batch.responseTypes))].sort(),
    otherCpuPercent: knownOtherCpu.length === otherCpu.length ? percentile(knownOtherCpu, 0.5) : undefined,
  };
}

interface BatchGroup {
  pooled: BatchResult;
  rounds: BatchResult[];
}

function findings(options: BenchOptions, groups: readonly BatchGroup[]): string[] {
  const lines: string[] = [];
  for (const { pooled, rounds } of groups) {
    const p99 = formatMs(percentile(pooled.ackMs, 0.99));
    const valid = batchIsValid(pooled) ? 'every command was answered exactly once' : 'some commands were not answered exactly once (see the table)';
    const perRound = `per-round ack p99 ${rounds.map((batch) => formatMs(percentile(batch.ackMs, 0.99))).join(', ')} ms with other CPU ${rounds.map((batch) => (batch.otherCpuPercent === undefined ? 'n/a' : batch.otherCpuPercent.toFixed(0))).join(', ')} %`;
    const prefix = `- ack_budget_ms ${pooled.ackBudgetMs}, ${pooled.command.label}:`;
    if (pooled.command.delivery === 'deferred') {
      const roundsMet = rounds.filter((batch) => percentile(batch.ackMs, 0.99) < ACK_P99_TARGET_MS).length;
      lines.push(`${prefix} ack p99 ${p99} ms over all rounds; ${perRound}; under the ${ACK_P99_TARGET_MS} ms target in ${roundsMet} of ${rounds.length} rounds. ${pooled.deliveredOnce} of ${pooled.commands} deferred answers arrived once, arrival p99 ${formatMs(percentile(pooled.arrivalMs, 0.99))} ms; ${valid}.`);
    } else {
      lines.push(`${prefix} ${pooled.answerAcks} of ${pooled.commands} answered in the response and ${pooled.progressAcks} acknowledged and answered at response_url; ack p99 ${p99} ms over all rounds; ${perRound}; ${valid}.`);
    }
  }
  lines.push(
    '',
    'toolshed holds a slash command open for up to ack_budget_ms while the tool runs. A tool that finishes in time is answered in the HTTP response, as one message. A slower tool gets the progress message when the budget runs out and its answer at response_url later, so its ack latency is the budget plus overhead.',
    `The ${ACK_P99_TARGET_MS} ms target for a ${options.toolSeconds} s tool therefore needs a budget well below ${ACK_P99_TARGET_MS} ms, and a budget of 0 defers every tool, fast ones included, to a second message. The help rows show the latency of ${options.commands} concurrent commands that never touch the database, which no budget can lower.`,
  );
  return lines;
}

function formatReport(options: BenchOptions, machineLines: string[], postgresMaxConnections: number, batches: readonly BatchResult[]): string {
  const groups: BatchGroup[] = [];
  for (const ackBudgetMs of options.ackBudgetsMs) {
    for (const name of new Set(batches.map((batch) => batch.command.name))) {
      const rounds = batches.filter((batch) => batch.ackBudgetMs === ackBudgetMs && batch.command.name === name);
      if (rounds.length > 0) groups.push({ pooled: pooledBatch(rounds), rounds });
    }
  }
  const header = [
    '| ack_budget_ms | Command | Round | Acks: progress / answer / other | Ack p50 (ms) | Ack p99 (ms) | Ack max (ms) | Deferred answers arrived once | Missing | Extra posts | Wrong answers | Arrival p50 (ms) | Arrival p99 (ms) | response_type | Other CPU (%) |',
    '| ---: | --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  return [
    `# Slack slash commands: acknowledgement latency and deferred answers (${new Date().toISOString()})`,
    '',
    `Command: \`${commandLine(options)}\``,
    '',
    `Each round sends ${options.commands} signed slash commands at once over HTTP to POST /slack/commands for each command below, each with its own response_url path on a local recorder. ${options.warmupBatches} unrecorded batch(es) of echo warm up each server first. toolshed runs in its own process with a PostgreSQL pool of ${options.maxConnections} connections (PgDatabase maxConnections; the server's max_connections is ${postgresMaxConnections}).`,
    'Ack latency runs from just before fetch() to the end of the response body. Arrival runs from the same start to the deferred answer reaching the recorder. Percentiles are nearest-rank, so in a round of fewer than 100 commands p99 is the slowest command.',
    'Other CPU is what processes outside the benchmark (not this script, the toolshed child or PostgreSQL) used during the batch, in percent of one CPU; the all-rounds rows show the median. Other work on the machine skews the figures. Queries of other PostgreSQL clients count as PostgreSQL, so they are missing from Other CPU.',
    '',
    ...machineLines,
    '',
    '## Per round',
    '',
    ...header,
    ...batches.map((batch) => batchRow(batch, String(batch.round))),
    '',
    '## All rounds',
    '',
    ...header,
    ...groups.map((group) => batchRow(group.pooled, 'all')),
    '',
    '## Findings',
    '',
    ...findings(options, groups),
    '',
  ].join('\n');
}

async function runServer(options: BenchOptions, ackBudgetMs: number, databaseUrl: string, toolsDir: string, recorder: ResponseUrlRecorder, secret: string): Promise<BatchResult[]> {
  const { help, echo, sleep } = benchCommands(options.toolSeconds);
  const server = await startChildServer({
    name: `toolshed (ack_budget_ms ${ackBudgetMs})`,
    script: fileURLToPath(new URL('./slack-ack-server.ts', import.meta.url)),
    cwd: repoRoot,
    env: {
      ...process.env,
      BENCH_DATABASE_URL: databaseUrl,
      BENCH_TOOLS_DIR: toolsDir,
      BENCH_SLACK_SIGNING_SECRET: secret,
      BENCH_ACK_BUDGET_MS: String(ackBudgetMs),
      BENCH_RESPONSE_URL_HOST: recorder.host,
      BENCH_MAX_CONNECTIONS: String(options.maxConnections),
    },
  });
  const batches: BatchResult[] = [];
  try {
    for (let warmup = 1; warmup <= options.warmupBatches; warmup++) {
      log(`ack_budget_ms ${ackBudgetMs}, warm-up ${warmup}/${options.warmupBatches}: ${options.commands} commands of ${echo.name}...`);
      const batch = await runBatch(server, recorder, secret, echo, ackBudgetMs, 0, `w${warmup}`, options.commands);
      if (!batchIsValid(batch)) throw new Error(`the warm-up batch against ack_budget_ms ${ackBudgetMs} had unexpected acks or answers: ${batch.sample ?? 'no sample'}`);
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const command of [help, echo, sleep]) {
        log(`ack_budget_ms ${ackBudgetMs}, round ${round}/${options.rounds}: ${options.commands} commands of ${command.name}...`);
        const batch = await runBatch(server, recorder, secret, command, ackBudgetMs, round, `r${round}`, options.commands);
        log(`  acks ${batch.progressAcks} progress / ${batch.answerAcks} answer / ${batch.otherAcks} other, ack p99 ${formatMs(percentile(batch.ackMs, 0.99))} ms; ${batch.deliveredOnce} deferred answers arrived once, ${batch.missing} missing, ${batch.extraPosts} extra, ${batch.wrongAnswers} wrong`);
        if (batch.sample !== undefined) log(`  first unexpected message: ${batch.sample.slice(0, 500)}`);
        batches.push(batch);
      }
    }
  } finally {
    await server.stop();
  }
  return batches;
}

async function main(): Promise<number> {
  const options = parseOptions();
  const databaseUrl = benchDatabaseUrl();
  const machine = await describeMachine(databaseUrl);
  const connections = await describeConnections(databaseUrl);
  log(`PostgreSQL max_connections is ${connections.maxConnections}; about ${connections.free} are free and the pool may open ${options.maxConnections}.`);
  if (connections.free < options.maxConnections) {
    log(`Warning: fewer connections are free than --max-connections ${options.maxConnections}, so some runs may fail to connect.`);
  }

  const toolsDir = await mkdtemp(join(tmpdir(), 'toolshed-slack-ack-'));
  for (const command of Object.values(benchCommands(options.toolSeconds))) {
    if (command.toolYaml !== undefined) await writeFile(join(toolsDir, `${command.name}.yaml`), command.toolYaml);
  }

  const recorder = new ResponseUrlRecorder();
  await recorder.start();
  const secret = randomBytes(24).toString('hex');
  const batches: BatchResult[] = [];
  try {
    for (const ackBudgetMs of options.ackBudgetsMs) batches.push(...(await runServer(options, ackBudgetMs, databaseUrl, toolsDir, recorder, secret)));
  } finally {
    await recorder.stop();
    await rm(toolsDir, { recursive: true, force: true });
  }

  const report = formatReport(options, formatMachine(machine), connections.maxConnections, batches);
  process.stdout.write(report);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(options.out, report);
  log(`Wrote ${options.out}.`);

  const invalid = batches.filter((batch) => !batchIsValid(batch));
  if (invalid.length > 0) {
    log(`${invalid.length} batch(es) had unexpected acks or commands not answered exactly once; see the table.`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`bench/slack-ack.ts failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);

/** Describes the machine and the PostgreSQL server a benchmark ran on, for its results page. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import pg from 'pg';

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs the operating system reports. */
  cores: number;
  ramGiB: number;
  node: string;
  postgres: string;
  /** The toolshed revision measured: a commit, and whether the working tree had changes. */
  revision: string;
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Returns the URL of the PostgreSQL server the benchmarks use: BENCH_DATABASE_URL, or the local test database. */
export function benchDatabaseUrl(): string {
  return process.env.BENCH_DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

export async function describeMachine(databaseUrl: string): Promise<MachineInfo> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  let postgres: string;
  try {
    const result = await client.query<{ version: string }>('select version()');
    postgres = result.rows[0]?.version ?? 'unknown';
  } finally {
    await client.end();
  }
  return { cpuModel: cpuModel(), cores: cpus().length, ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, postgres, revision: gitRevision() };
}

/** Returns the commit checked out, plus a note when files the benchmarks load have uncommitted changes. */
function gitRevision(): string {
  const repoRoot = new URL('..', import.meta.url);
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'runtime', 'tools', 'schemas', 'examples'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return changed === '' ? `commit ${commit}` : `commit ${commit} with uncommitted changes under runtime/, tools/, schemas/ or examples/`;
  } catch {
    return 'unknown (git is not available)';
  }
}

/** Returns the "model name" of /proc/cpuinfo, or what os.cpus() reports where that file is missing. */
function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('model name'));
    const model = line?.split(':')[1]?.trim();
    if (model !== undefined && model !== '') return model;
  } catch {
    // Not Linux: fall through to os.cpus().
  }
  return cpus()[0]?.model ?? 'unknown';
}

export function formatMachine(machine: MachineInfo): string[] {
  return [
    `- CPU: ${machine.cpuModel}, ${machine.cores} logical CPUs`,
    `- RAM: ${machine.ramGiB} GiB`,
    `- Node.js: ${machine.node}`,
    `- PostgreSQL: ${machine.postgres}`,
    `- toolshed: ${machine.revision}`,
  ];
}

/**
 * Summarizes a V8 CPU profile (a .cpuprofile file from `node --cpu-prof`): where the samples
 * fall, grouped by npm package, by file of this repository, and by function.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25] [--requests N] [--skip-ms MS]
 *
 * "Self" time is spent in a function's own code. "Attributed" time is self time charged to the
 * nearest npm package or repository file on the stack, so a socket write that pg starts counts
 * for pg and not for Node.js. "Inclusive" time also counts what a group calls, and each sample
 * counts once per group even when the group appears several times on its stack. Times are sample
 * counts times the mean sampling interval, so they are estimates. With --requests, the number of
 * requests the process served, each table also shows microseconds per request. --skip-ms leaves
 * out the first MS milliseconds of the profile, such as module loading and tool compilation
 * before the server listens.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds between consecutive samples; the first is relative to startTime. */
  timeDeltas: number[];
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Returns the group a frame belongs to: an npm package, a file of this repository, Node.js itself, or a V8 pseudo-frame. */
function groupOf(frame: CallFrame): string {
  const { url } = frame;
  if (url === '') return frame.functionName === '' ? '(anonymous native)' : frame.functionName;
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (packageMatch?.[1] !== undefined) return packageMatch[1];
  if (url.startsWith('node:')) return 'node (built-in modules)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return relative(repoRoot, path);
}

function functionLabel(frame: CallFrame): string {
  return `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${groupOf(frame)}:${frame.lineNumber + 1}`;
}

function addTo(map: Map<string, number>, key: string, amount: number): void {
  map.set(key, (map.get(key) ?? 0) + amount);
}

/** True for groups that are this repository's files or npm packages, not Node.js or V8 pseudo-frames. */
function isCodeGroup(frame: CallFrame): boolean {
  return frame.url !== '' && !frame.url.startsWith('node:');
}

function table(title: string, totals: Map<string, number>, totalMs: number, top: number, requests: number | undefined): string[] {
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const perRequest = (ms: number): string => (requests === undefined ? '' : ` ${((ms * 1000) / requests).toFixed(1)} |`);
  return [
    `## ${title}`,
    '',
    `| | ms | share |${requests === undefined ? '' : ' µs per request |'}`,
    `| --- | ---: | ---: |${requests === undefined ? '' : ' ---: |'}`,
    ...rows.map(([name, ms]) => `| ${name.replace(/\|/g, '\\|')} | ${ms.toFixed(0)} | ${((ms / totalMs) * 100).toFixed(1)}% |${perRequest(ms)}`),
    '',
  ];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, requests: { type: 'string' }, 'skip-ms': { type: 'string', default: '0' } } });
  const file = positionals[0];
  if (file === undefined) throw new Error('give a .cpuprofile file: npx tsx bench/profile-summary.ts FILE.cpuprofile');
  const top = Number(values.top);
  const requests = values.requests === undefined ? undefined : Number(values.requests);
  if (requests !== undefined && !(requests > 0)) throw new Error(`--requests must be a positive number, got "${values.requests}"`);
  const skipMs = Number(values['skip-ms']);
  if (!(skipMs >= 0)) throw new Error(`--skip-ms must be a number of milliseconds, got "${values['skip-ms']}"`);
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;

  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const hits = new Map<number, number>();
  let sampleCount = 0;
  let atMs = 0;
  profile.samples.forEach((id, index) => {
    atMs += (profile.timeDeltas[index] ?? 0) / 1000;
    if (atMs < skipMs) return;
    hits.set(id, (hits.get(id) ?? 0) + 1);
    sampleCount += 1;
  });
  const totalMs = Math.max(0, (profile.endTime - profile.startTime) / 1000 - skipMs);
  const sampleMs = totalMs / Math.max(1, sampleCount);

  const selfByGroup = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const attributedByGroup = new Map<string, number>();
  const inclusiveByGroup = new Map<string, number>();
  for (const [id, count] of hits) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const ms = count * sampleMs;
    addTo(selfByGroup, groupOf(node.callFrame), ms);
    addTo(selfByFunction, functionLabel(node.callFrame), ms);

    let owner: CallFrame = node.callFrame;
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const frame = byId.get(current)?.callFrame;
      if (frame !== undefined && isCodeGroup(frame)) {
        owner = frame;
        break;
      }
    }
    addTo(attributedByGroup, groupOf(owner), ms);

    const groups = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const frame = byId.get(current)?.callFrame;
      if (frame !== undefined && frame.url !== '') groups.add(groupOf(frame));
    }
    for (const group of groups) addTo(inclusiveByGroup, group, ms);
  }

  const idleMs = selfByGroup.get('(idle)') ?? 0;
  const lines = [
    `# CPU profile ${file}`,
    '',
    `${totalMs.toFixed(0)} ms profiled${skipMs > 0 ? ` after the first ${skipMs} ms` : ''}, ${sampleCount} samples, ${idleMs.toFixed(0)} ms idle (${((idleMs / totalMs) * 100).toFixed(1)}%). Shares are of the whole profile.`,
    '',
    ...table('Self time by package or file', selfByGroup, totalMs, top, requests),
    ...table('Self time attributed to the nearest package or file', attributedByGroup, totalMs, top, requests),
    ...table('Inclusive time by package or file', inclusiveByGroup, totalMs, top, requests),
    ...table('Self time by function', selfByFunction, totalMs, top, requests),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/profile-summary.ts failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});

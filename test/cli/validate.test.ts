import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../runtime/cli/main.js';
import { loadToolDir } from '../../runtime/tool/load-dir.js';

const CORPUS_DIR = 'test/fixtures/broken-tools';
const PROBLEM_LINE = /^[^:]+:\d+:\d+: TOOLSHED_ERR_[A-Z_]+ /;

/** Runs the CLI with output captured line by line. */
async function runCli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const code = await main(argv, io);
  return { code, out, err };
}

describe('toolshed validate', () => {
  it('exits 2 on the broken corpus', async () => {
    const { code } = await runCli(['validate', CORPUS_DIR]);
    expect(code).toBe(2);
  });

  it('prints one line per problem', async () => {
    const { out } = await runCli(['validate', CORPUS_DIR]);
    const loaded = await loadToolDir(CORPUS_DIR, { connections: ['default'] });
    expect(out).toHaveLength(loaded.problems.length);
  });

  it('prints every problem as file:line:column: CODE message', async () => {
    const { out } = await runCli(['validate', CORPUS_DIR]);
    const malformed = out.filter((line) => !PROBLEM_LINE.test(line));
    expect(malformed).toEqual([]);
  });

  it('names every corpus file', async () => {
    const { out } = await runCli(['validate', CORPUS_DIR]);
    const named = new Set(out.map((line) => line.slice(0, line.indexOf(':'))));
    const files = readdirSync(CORPUS_DIR).filter((name) => name.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(30);
    for (const file of files) expect(named).toContain(`${CORPUS_DIR}/${file}`);
  });

  it('summarizes on stderr', async () => {
    const { err } = await runCli(['validate', CORPUS_DIR]);
    expect(err.join('\n')).toMatch(/file\(s\) checked: 0 valid/);
  });

  it('exits 0 on the shipped tools', async () => {
    const { code, out } = await runCli(['validate', 'tools']);
    expect(out).toEqual([]);
    expect(code).toBe(0);
  });

  it('reports a duplicate tool name', async () => {
    const { code, out } = await runCli(['validate', 'test/fixtures/duplicate-tools']);
    expect(code).toBe(2);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^test\/fixtures\/duplicate-tools\/lookup-two\.yaml:2:7: TOOLSHED_ERR_DUPLICATE_TOOL /);
    expect(out[0]).toContain('"worker-lookup"');
  });

  it('exits 2 on a missing directory', async () => {
    const { code, out, err } = await runCli(['validate', 'test/fixtures/no-such-directory']);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain('no-such-directory');
    expect(err[0]).toContain('does not exist');
  });
});

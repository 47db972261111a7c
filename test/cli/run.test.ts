import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../runtime/cli/main.js';
import { createTestSchema, SERVER_URL, type TestSchema } from '../helpers/postgres.js';

function captureIo(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('toolshed run with a configuration file', () => {
  let db: TestSchema;
  let config: string;

  beforeAll(async () => {
    db = await createTestSchema(300);
    const directory = await mkdtemp(join(tmpdir(), 'toolshed-cli-'));
    config = join(directory, 'toolshed.yaml');
    const url = new URL(SERVER_URL);
    url.searchParams.set('options', `-c search_path=${db.schema}`);
    process.env.TOOLSHED_TEST_CLI_URL = url.toString();
    await writeFile(config, `tools_dir: ${join(process.cwd(), 'tools')}\nconnections:\n  default:\n    type: postgres\n    url: \${env:TOOLSHED_TEST_CLI_URL}\ncli:\n  roles: [support]\n`);
  });

  afterAll(async () => {
    await db.drop();
  });

  it('positional email prints the worker', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', db.summary.sampleEmail, '--config', config], io);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toContain(db.summary.sampleEmail);
  });

  it('flag input with --json prints the result', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', '--email', db.summary.sampleEmail, '--json', '--config', config], io);
    expect(code).toBe(0);
    const result = JSON.parse(io.stdout.join('\n'));
    expect(result.ok).toBe(true);
    expect(result.data.worker.email).toBe(db.summary.sampleEmail);
  });

  it('name=value input works', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', `email=${db.summary.sampleEmail}`, '--config', config], io);
    expect(code).toBe(0);
  });

  it('not found exits 1 with the message', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', 'nobody.here@example.com', '--config', config], io);
    expect(code).toBe(1);
    expect(io.stdout.join('\n')).toContain('No worker has the email nobody.here@example.com');
  });

  it('invalid input exits 2 with usage', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', 'not-an-email', '--config', config], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain('must be an email address');
    expect(io.stderr.join('\n')).toContain('usage: toolshed run worker-lookup EMAIL');
  });

  it('extra positional value exits 2', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', 'a@example.com', 'b@example.com', '--config', config], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain('one value too many');
  });

  it('same input twice exits 2', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', 'a@example.com', '--email', 'b@example.com', '--config', config], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain('given twice');
  });

  it('unknown tool exits 2', async () => {
    const io = captureIo();
    const code = await main(['run', 'no-such-tool', '--config', config], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain('no valid tool named "no-such-tool"');
  });

  it('list shows usage lines', async () => {
    const io = captureIo();
    const code = await main(['list', '--config', config], io);
    expect(code).toBe(0);
    expect(io.stdout).toContain('  usage: toolshed run worker-lookup EMAIL');
  });

  it('missing environment variable exits 2 naming it', async () => {
    const io = captureIo();
    const saved = process.env.TOOLSHED_TEST_CLI_URL;
    delete process.env.TOOLSHED_TEST_CLI_URL;
    try {
      const code = await main(['run', 'worker-lookup', 'a@example.com', '--config', config], io);
      expect(code).toBe(2);
      expect(io.stderr.join('\n')).toContain('TOOLSHED_TEST_CLI_URL is not set');
    } finally {
      process.env.TOOLSHED_TEST_CLI_URL = saved;
    }
  });

  it('serve --strict refuses invalid tools', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'toolshed-strict-'));
    await writeFile(join(directory, 'broken.yaml'), 'name: broken\ntitle: Broken\n');
    const strictConfig = join(directory, 'toolshed.yaml');
    await writeFile(strictConfig, `tools_dir: ${directory}\nconnections:\n  default:\n    type: postgres\n    url: \${env:TOOLSHED_TEST_CLI_URL}\n`);
    const io = captureIo();
    const code = await main(['serve', '--config', strictConfig, '--strict', '--port', '0'], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/broken\.yaml:1:1: TOOLSHED_ERR_MISSING_KEY/);
    expect(io.stderr.join('\n')).toContain('--strict refuses to start');
  });

  it('serve without a configuration exits 2', async () => {
    const io = captureIo();
    const code = await main(['serve', '--config', join(tmpdir(), 'does-not-exist.yaml')], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain('cannot read the configuration file');
  });
});

describe('toolshed command line', () => {
  it.each(['serve', 'demo', 'run', 'validate', 'list'])('%s --help exits 0', async (command) => {
    const io = captureIo();
    const code = await main([command, '--help'], io);
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toContain('Usage: toolshed');
  });

  it('run TOOL --help lists its inputs', async () => {
    const io = captureIo();
    expect(await main(['run', 'worker-lookup', '--help'], io)).toBe(0);
    const help = io.stdout.join('\n');
    expect(help).toContain('usage: toolshed run worker-lookup EMAIL');
    expect(help).toContain("email (email, required): The worker's email address, in any letter case. Example: sarah.le1@example.com");
  });

  it('unknown command exits 2', async () => {
    const io = captureIo();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain("unknown command 'frobnicate'");
  });

  it.each([['--workers', 'many'], ['--workers', '1'], ['--port', '70000'], ['--port', '-1']])('demo %s %s exits 2', async (flag, value) => {
    const io = captureIo();
    expect(await main(['demo', flag, value], io)).toBe(2);
  });

  it('run on the embedded demo data without configuration', async () => {
    const io = captureIo();
    const code = await main(['run', 'worker-lookup', 'SARAH.LE1@example.com', '--tools', 'tools'], io);
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toContain('Sarah Le');
    expect(io.stderr.join('\n')).toContain('embedded demo database');
  });
});

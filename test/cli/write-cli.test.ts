import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../runtime/cli/main.js';
import { createTestSchema, SERVER_URL, type TestSchema } from '../helpers/postgres.js';

const REASON = 'Blacklisted by mistake after a mix-up';
const TOOL = 'unblacklist-worker';
const URL_VARIABLE = 'TOOLSHED_TEST_WRITE_CLI_URL';

interface CapturedIo extends CliIo {
  stdout: string[];
  stderr: string[];
  questions: string[];
}

/** Captures output. With `answer`, it also answers the confirmation prompt and records each question. */
function captureIo(answer?: boolean): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const questions: string[] = [];
  const io: CapturedIo = { stdout, stderr, questions, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
  if (answer !== undefined) {
    io.confirm = async (question) => {
      questions.push(question);
      return answer;
    };
  }
  return io;
}

describe('toolshed run with a write tool', () => {
  let db: TestSchema;
  let leadConfig: string;
  let supportConfig: string;
  const used = new Set<string>();

  beforeAll(async () => {
    db = await createTestSchema(1000);
    const directory = await mkdtemp(join(tmpdir(), 'toolshed-write-cli-'));
    const tools = join(directory, 'tools');
    await mkdir(tools);
    await copyFile(new URL(`../../tools/${TOOL}.yaml`, import.meta.url), join(tools, `${TOOL}.yaml`));

    const url = new URL(SERVER_URL);
    url.searchParams.set('options', `-c search_path=${db.schema}`);
    process.env[URL_VARIABLE] = url.toString();
    const config = (roles: string) => `tools_dir: ${tools}\nconnections:\n  default:\n    type: postgres\n    url: \${env:${URL_VARIABLE}}\ncli:\n  roles: [${roles}]\n`;
    leadConfig = join(directory, 'lead.yaml');
    supportConfig = join(directory, 'support.yaml');
    await writeFile(leadConfig, config('support-lead'));
    await writeFile(supportConfig, config('support'));
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** Returns an md5 digest over every worker_applications row, to compare the table before and after. */
  async function applicationsDigest(): Promise<string> {
    const result = await db.admin.query(`select md5(string_agg(a::text, '|' order by id)) as digest from ${db.schema}.worker_applications a`);
    return String(result.rows[0].digest);
  }

  async function applicationStatuses(email: string): Promise<string[]> {
    const result = await db.admin.query(
      `select a.status from ${db.schema}.worker_applications a join ${db.schema}.workers w on w.id = a.worker_id
       where lower(w.email) = lower($1) and a.status in ('blacklisted', 'reinstated') order by a.id`,
      [email],
    );
    return result.rows.map((row) => String(row.status));
  }

  /** Picks a worker with exactly one blacklisted application that no earlier test used. */
  async function freshBlacklisted(): Promise<string> {
    const result = await db.admin.query(
      `select w.email from ${db.schema}.workers w join ${db.schema}.worker_applications a on a.worker_id = w.id
       where not (w.email = any($1::text[]))
       group by w.id, w.email having count(*) filter (where a.status = 'blacklisted') = 1
         and count(*) filter (where a.status = 'reinstated') = 0
       order by w.id limit 1`,
      [[...used]],
    );
    const email = String(result.rows[0].email);
    used.add(email);
    return email;
  }

  const run = (io: CliIo, email: string, flags: string[] = [], config = leadConfig) => main(['run', TOOL, email, REASON, ...flags, '--config', config], io);

  it('--yes makes the change', async () => {
    const email = await freshBlacklisted();
    const io = captureIo();
    const code = await run(io, email, ['--yes']);
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toContain('Lift the blacklist on');
    expect(io.stdout.join('\n')).toMatch(/Lifted the blacklist on .+: application #\d+ is reinstated/);
    expect(await applicationStatuses(email)).toEqual(['reinstated']);
  });

  it('--yes records the operator', async () => {
    const email = await freshBlacklisted();
    await run(captureIo(), email, ['--yes']);
    const result = await db.admin.query(
      `select a.reinstated_by, a.reinstate_reason from ${db.schema}.worker_applications a
       join ${db.schema}.workers w on w.id = a.worker_id where lower(w.email) = lower($1) and a.status = 'reinstated'`,
      [email],
    );
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0].reinstated_by).toMatch(/^cli:/);
    expect(result.rows[0].reinstate_reason).toBe(REASON);
  });

  it('--dry-run prints the preview only', async () => {
    const email = await freshBlacklisted();
    const before = await applicationsDigest();
    const io = captureIo();
    const code = await run(io, email, ['--dry-run']);
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toContain(`(${email})?`);
    expect(io.stdout.join('\n')).toContain('(This would change 1 row.)');
    expect(io.stderr).toContain('Dry run: nothing was changed.');
    expect(await applicationsDigest()).toBe(before);
  });

  it('no terminal without --yes exits 2', async () => {
    const email = await freshBlacklisted();
    const before = await applicationsDigest();
    const io = captureIo();
    const code = await run(io, email);
    expect(code).toBe(2);
    expect(io.stdout.join('\n')).toContain('(This would change 1 row.)');
    expect(io.stderr.join('\n')).toContain('Run again with --yes');
    expect(await applicationsDigest()).toBe(before);
  });

  it('declined prompt exits 1', async () => {
    const email = await freshBlacklisted();
    const before = await applicationsDigest();
    const io = captureIo(false);
    const code = await run(io, email);
    expect(code).toBe(1);
    expect(io.questions).toHaveLength(1);
    expect(io.stderr.join('\n')).toContain('Cancelled');
    expect(await applicationsDigest()).toBe(before);
  });

  it('accepted prompt makes the change', async () => {
    const email = await freshBlacklisted();
    const io = captureIo(true);
    const code = await run(io, email);
    expect(code).toBe(0);
    expect(io.questions).toHaveLength(1);
    expect(io.stdout.join('\n')).toContain('Lifted the blacklist');
    expect(await applicationStatuses(email)).toEqual(['reinstated']);
  });

  it('--yes skips the prompt', async () => {
    const email = await freshBlacklisted();
    const io = captureIo(false);
    const code = await run(io, email, ['--yes']);
    expect(code).toBe(0);
    expect(io.questions).toEqual([]);
    expect(await applicationStatuses(email)).toEqual(['reinstated']);
  });

  it('double blacklist exits 1 unchanged', async () => {
    const before = await applicationsDigest();
    const io = captureIo();
    const code = await main(['run', TOOL, db.summary.doubleBlacklistedEmail, REASON, '--yes', '--config', leadConfig], io);
    expect(code).toBe(1);
    expect(io.stderr.join('\n')).toContain('would change 2 rows');
    expect(await applicationsDigest()).toBe(before);
  });

  it('short reason exits 2 unchanged', async () => {
    const email = await freshBlacklisted();
    const before = await applicationsDigest();
    const io = captureIo();
    const code = await main(['run', TOOL, email, 'oops', '--yes', '--config', leadConfig], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toContain('usage: toolshed run unblacklist-worker');
    expect(await applicationsDigest()).toBe(before);
  });

  it('unknown email exits 1', async () => {
    const io = captureIo();
    const code = await main(['run', TOOL, 'nobody.here@example.com', REASON, '--yes', '--config', leadConfig], io);
    expect(code).toBe(1);
    expect(io.stdout.join('\n')).toContain('No worker has the email nobody.here@example.com. Nothing was changed.');
  });

  it('support role is rejected', async () => {
    const email = await freshBlacklisted();
    const before = await applicationsDigest();
    const io = captureIo(true);
    const code = await run(io, email, ['--yes'], supportConfig);
    expect(code).toBe(1);
    expect(io.stderr.join('\n')).toContain('needs the role support-lead');
    expect(io.questions).toEqual([]);
    expect(await applicationsDigest()).toBe(before);
  });

  it('runs are in the audit log', async () => {
    const email = await freshBlacklisted();
    await run(captureIo(), email, ['--yes']);
    const result = await db.admin.query(
      `select phase, mode, outcome, surface from ${db.schema}.toolshed_audit where tool = $1 and inputs->>'email' = $2 order by id`,
      [TOOL, email],
    );
    expect(result.rows.map((row) => [row.phase, row.mode, row.outcome])).toEqual([
      ['result', 'preview', 'rolled_back'],
      ['attempt', 'execute', 'confirmed'],
      ['result', 'execute', 'ok'],
    ]);
    expect(new Set(result.rows.map((row) => row.surface))).toEqual(new Set(['cli']));
  });
});

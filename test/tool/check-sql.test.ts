import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CliIo } from '../../runtime/cli/main.js';
import { checkSqlAgainstDatabases } from '../../runtime/tool/check-sql.js';
import { createTestSchema, type TestSchema } from '../helpers/postgres.js';
import { toolFrom } from '../helpers/tools.js';

const tool = (name: string, sql: string): string => `name: ${name}\ntitle: T\ninputs:\n  zip:\n    type: string\nsteps:\n  - id: rows\n    sql: |\n      ${sql}\noutput:\n  text: ok\n`;

describe('SQL checked against a database', () => {
  let db: TestSchema;

  beforeAll(async () => {
    db = await createTestSchema(10);
  });

  afterAll(async () => {
    await db.drop();
  });

  it('unknown column is a located problem', async () => {
    const problems = await checkSqlAgainstDatabases([toolFrom(tool('bad-column', 'select pay_cent from tickets where zip_code = :zip'), 'bad.yaml')], new Map([['default', db.database]]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'bad.yaml', line: 9, column: 7, code: 'TOOLSHED_ERR_SQL_CHECK' });
    expect(problems[0]?.message).toContain('column "pay_cent" does not exist');
  });

  it('unknown table is a problem', async () => {
    const problems = await checkSqlAgainstDatabases([toolFrom(tool('bad-table', 'select * from ticket where zip_code = :zip'))], new Map([['default', db.database]]));
    expect(problems[0]?.message).toContain('relation "ticket" does not exist');
  });

  it('valid statement has no problem', async () => {
    const problems = await checkSqlAgainstDatabases([toolFrom(tool('good', 'select id from tickets where zip_code = :zip'))], new Map([['default', db.database]]));
    expect(problems).toEqual([]);
  });

  it('write statement is prepared, not run', async () => {
    const before = await db.admin.query(`select count(*)::int as n from ${db.schema}.tickets where status = 'cancelled'`);
    const write = `name: cancel-all\ntitle: T\naccess: { roles: [lead] }\ninputs:\n  zip:\n    type: string\nsteps:\n  - id: cancelled\n    write: true\n    max_rows: 1000\n    sql: update tickets set status = 'cancelled' where zip_code = :zip or true\noutput:\n  text: ok\n`;
    const problems = await checkSqlAgainstDatabases([toolFrom(write)], new Map([['default', db.database]]));
    expect(problems).toEqual([]);
    const after = await db.admin.query(`select count(*)::int as n from ${db.schema}.tickets where status = 'cancelled'`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});

describe('toolshed validate --check-sql', () => {
  it('reports the column on the demo schema', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'toolshed-check-sql-'));
    await writeFile(join(directory, 'bad.yaml'), tool('bad-column', 'select pay_cent from tickets where zip_code = :zip'));
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line) };
    const code = await main(['validate', directory, '--check-sql'], io);
    expect(code).toBe(2);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/bad\.yaml:9:7: TOOLSHED_ERR_SQL_CHECK .*column "pay_cent" does not exist/);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTool } from '../../runtime/tool/load-tool.js';
import { loadToolDir } from '../../runtime/tool/load-dir.js';
import type { ProblemCode } from '../../runtime/tool/problem.js';

const CORPUS_DIR = fileURLToPath(new URL('../fixtures/broken-tools/', import.meta.url));
const DUPLICATES_DIR = fileURLToPath(new URL('../fixtures/duplicate-tools/', import.meta.url));
const TOOLS_DIR = fileURLToPath(new URL('../../tools/', import.meta.url));

/** One broken tool file and the first problem the loader must report for it. */
interface ExpectedProblem {
  file: string;
  code: ProblemCode;
  line: number;
  column: number;
  /** Total number of problems, when the loader alone decides it. */
  problems?: number;
  /** Connections declared in toolshed.yaml, ['default'] when absent. */
  connections?: string[];
}

const expected = JSON.parse(readFileSync(`${CORPUS_DIR}expected.json`, 'utf8')) as ExpectedProblem[];

// Empty and non-UTF-8 files are rejected by the directory loader before any YAML is parsed.
const fileRows = expected.filter((row) => row.code === 'TOOLSHED_ERR_FILE');
const toolRows = expected.filter((row) => row.code !== 'TOOLSHED_ERR_FILE');

function loadCorpusFile(file: string, connections: readonly string[] = ['default']) {
  return loadTool(file, readFileSync(`${CORPUS_DIR}${file}`, 'utf8'), { connections });
}

const WORKER_LOOKUP = `name: worker-lookup
title: Look up a worker
inputs:
  email:
    type: string
    format: email
steps:
  - id: worker
    expect: one
    sql: |
      select id, full_name, ':not_an_input' as quoted, created_at::date as joined,
        $body$ :inside_dollar_quotes $body$ as dollar_quoted
      from workers -- :in_a_comment
      where lower(email) = lower(:email) /* :in_a_block_comment */
  - id: applications
    sql: |
      select a.status, a.applied_at::text from ticket_applications a
      where a.worker_id = :worker.id and a.status <> 'x:y'
output:
  text: "{{worker.full_name}}: {{count applications}} applications"
`;

describe('broken tool corpus', () => {
  it('lists every corpus file in expected.json', () => {
    const files = readdirSync(CORPUS_DIR).filter((name) => name.endsWith('.yaml')).sort();
    expect(expected.map((row) => row.file).sort()).toEqual(files);
  });

  it('holds at least 30 broken files', () => {
    expect(expected.length).toBeGreaterThanOrEqual(30);
  });

  it.each(toolRows)('$file: $code at $line:$column', (row) => {
    const { tool, problems } = loadCorpusFile(row.file, row.connections);

    expect(tool).toBeUndefined();
    expect(problems[0]?.code).toBe(row.code);
    expect(problems[0]?.line).toBe(row.line);
    expect(problems[0]?.column).toBe(row.column);
    if (row.problems !== undefined) expect(problems).toHaveLength(row.problems);
  });

  it.each(fileRows)('$file: $code through loadToolDir', async (row) => {
    const loaded = await loadToolDir(CORPUS_DIR, { connections: ['default'] }, CORPUS_DIR);
    const problems = loaded.problems.filter((problem) => problem.file === row.file);

    expect(loaded.tools).toEqual([]);
    expect(problems[0]?.code).toBe(row.code);
    expect(problems[0]?.line).toBe(row.line);
    expect(problems[0]?.column).toBe(row.column);
    expect(problems).toHaveLength(row.problems ?? 1);
  });
});

describe('problem messages', () => {
  const cases: Array<{ file: string; field: string; suggestion: string }> = [
    { file: 'misspelled-inputs-key.yaml', field: 'the top level', suggestion: 'did you mean `inputs`?' },
    { file: 'misspelled-expect-key.yaml', field: 'steps[0]', suggestion: 'did you mean `expect`?' },
    { file: 'sql-unknown-input.yaml', field: 'steps[0].sql', suggestion: 'did you mean :email?' },
    { file: 'sql-unknown-step.yaml', field: 'steps[1].sql', suggestion: 'did you mean :worker.id?' },
    { file: 'template-unknown-step.yaml', field: 'output.text', suggestion: 'did you mean {{worker}}?' },
    { file: 'template-unknown-input.yaml', field: 'not_found', suggestion: 'did you mean {{email}}?' },
    { file: 'output-data-unknown-step.yaml', field: 'output.data[1]', suggestion: 'did you mean "applications"?' },
    { file: 'bad-expect-value.yaml', field: 'steps[0].expect', suggestion: '"one", "optional", "many"' },
  ];

  it.each(cases)('$file names $field', ({ file, field }) => {
    const { problems } = loadCorpusFile(file);
    expect(problems[0]?.message).toContain(field);
  });

  it.each(cases)('$file suggests the fix', ({ file, suggestion }) => {
    const { problems } = loadCorpusFile(file);
    expect(problems[0]?.message).toContain(suggestion);
  });

  it('names the unknown key', () => {
    const { problems } = loadCorpusFile('misspelled-inputs-key.yaml');
    expect(problems[0]?.message).toContain('`inptus`');
  });

  it('suggests quoting a * value', () => {
    const { problems } = loadCorpusFile('unquoted-star-value.yaml');
    expect(problems[0]?.message).toContain('*not is read as a YAML alias');
    expect(problems[0]?.message).toContain('quote');
  });

  it('suggests quoting a zip code', () => {
    const { problems } = loadCorpusFile('unquoted-zip-default.yaml');
    expect(problems[0]?.message).toContain('inputs.home_zip.default');
    expect(problems[0]?.message).toContain('"02134"');
  });

  it('names the block left open', () => {
    const { problems } = loadCorpusFile('template-unclosed-each.yaml');
    expect(problems[0]?.message).toContain('{{/each}}');
  });

  it('names the mismatched closing tag', () => {
    const { problems } = loadCorpusFile('template-mismatched-close.yaml');
    expect(problems[0]?.message).toContain('{{#each}} is closed by {{/if}}');
  });

  it('lists the declared connections', () => {
    const { problems } = loadCorpusFile('unknown-connection.yaml');
    expect(problems[0]?.message).toContain('"reporting"');
    expect(problems[0]?.message).toContain('default');
  });

  it('names the misplaced input keyword', () => {
    const { problems } = loadCorpusFile('min-length-on-integer.yaml');
    expect(problems[0]?.message).toContain('inputs.max_rows.minLength');
  });
});

describe('mixed connections', () => {
  it('reports both problems with one connection declared', () => {
    const { problems } = loadCorpusFile('mixed-connections.yaml', ['default']);
    expect(problems.map((problem) => problem.code)).toEqual(['TOOLSHED_ERR_UNKNOWN_CONNECTION', 'TOOLSHED_ERR_UNKNOWN_CONNECTION']);
    expect(problems[0]?.message).toContain('does not declare');
    expect(problems[1]?.message).toContain('must share one connection');
  });
});

describe('loadToolDir', () => {
  it('loads every shipped tool without problems', async () => {
    const loaded = await loadToolDir(TOOLS_DIR, { connections: ['default', 'queue'], connectionTypes: { default: 'postgres', queue: 'mongodb' } });
    expect(loaded.problems).toEqual([]);
    expect(loaded.files.length).toBeGreaterThan(0);
    expect(loaded.tools).toHaveLength(loaded.files.length);
  });

  it('reports a tool name used twice', async () => {
    const loaded = await loadToolDir(DUPLICATES_DIR, { connections: ['default'] }, DUPLICATES_DIR);

    expect(loaded.tools.map((tool) => tool.file)).toEqual(['lookup-one.yaml']);
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]?.code).toBe('TOOLSHED_ERR_DUPLICATE_TOOL');
    expect(loaded.problems[0]?.file).toBe('lookup-two.yaml');
    expect(loaded.problems[0]?.line).toBe(2);
    expect(loaded.problems[0]?.column).toBe(7);
    expect(loaded.problems[0]?.message).toContain('lookup-one.yaml');
  });

  it('reports no tool from the broken corpus', async () => {
    const loaded = await loadToolDir(CORPUS_DIR, { connections: ['default'] }, CORPUS_DIR);
    expect(loaded.tools).toEqual([]);
    expect(new Set(loaded.problems.map((problem) => problem.file))).toEqual(new Set(expected.map((row) => row.file)));
  });
});

describe('SQL compiled by the loader', () => {
  const { tool, problems } = loadTool('worker-lookup.yaml', WORKER_LOOKUP, { connections: ['default'] });
  const [worker, applications] = tool?.steps ?? [];

  it('loads the tool', () => {
    expect(problems).toEqual([]);
    expect(tool).toBeDefined();
  });

  it('binds :email as $1', () => {
    expect(worker?.compiled.text).toContain('lower($1)');
    expect(worker?.compiled.text).not.toContain(':email');
    expect(worker?.compiled.params).toEqual([{ kind: 'input', name: 'email' }]);
  });

  it('binds :worker.id as $1', () => {
    expect(applications?.compiled.text).toContain('a.worker_id = $1');
    expect(applications?.compiled.text).not.toContain(':worker.id');
    expect(applications?.compiled.params).toEqual([{ kind: 'step', step: 'worker', column: 'id' }]);
  });

  it('leaves a colon in a string literal', () => {
    expect(worker?.compiled.text).toContain("':not_an_input' as quoted");
    expect(applications?.compiled.text).toContain("'x:y'");
  });

  it('leaves a ::type cast', () => {
    expect(worker?.compiled.text).toContain('created_at::date');
    expect(applications?.compiled.text).toContain('a.applied_at::text');
  });

  it('leaves a colon in comments', () => {
    expect(worker?.compiled.text).toContain('-- :in_a_comment');
    expect(worker?.compiled.text).toContain('/* :in_a_block_comment */');
  });

  it('leaves a colon in a dollar-quoted body', () => {
    expect(worker?.compiled.text).toContain('$body$ :inside_dollar_quotes $body$');
  });
});

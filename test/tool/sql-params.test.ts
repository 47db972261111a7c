import { describe, expect, it } from 'vitest';
import { compileSql } from '../../runtime/tool/sql-params.js';

const EMAIL = { kind: 'input', name: 'email' } as const;

describe('compileSql references', () => {
  it('binds an input as $1', () => {
    const compiled = compileSql('select id from workers where email = :email');
    expect(compiled.text).toBe('select id from workers where email = $1');
    expect(compiled.params).toEqual([EMAIL]);
    expect(compiled.problems).toEqual([]);
  });

  it('binds a step column', () => {
    const compiled = compileSql('select * from tickets where worker_id = :worker.id');
    expect(compiled.text).toBe('select * from tickets where worker_id = $1');
    expect(compiled.params).toEqual([{ kind: 'step', step: 'worker', column: 'id' }]);
  });

  it('reuses $n for a repeated reference', () => {
    const compiled = compileSql('select :email, :worker.id, lower(:email), :worker.id');
    expect(compiled.text).toBe('select $1, $2, lower($1), $2');
    expect(compiled.params).toEqual([EMAIL, { kind: 'step', step: 'worker', column: 'id' }]);
  });

  it('records the offset of each first reference', () => {
    const compiled = compileSql('select :email, :zip, :email');
    expect(compiled.offsets).toEqual([7, 15]);
  });

  it('numbers references in order of first use', () => {
    const compiled = compileSql('select :zip, :email');
    expect(compiled.params).toEqual([{ kind: 'input', name: 'zip' }, EMAIL]);
  });

  it('binds a reference followed by a cast', () => {
    const compiled = compileSql('select :email::text');
    expect(compiled.text).toBe('select $1::text');
    expect(compiled.params).toEqual([EMAIL]);
  });
});

describe('compileSql leaves quoted text alone', () => {
  it('skips a string with doubled quotes', () => {
    const compiled = compileSql("select 'it''s :not_a_ref' as s, :email");
    expect(compiled.text).toBe("select 'it''s :not_a_ref' as s, $1");
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('skips an E-string with a backslash quote', () => {
    const compiled = compileSql("select E'it\\'s :not_a_ref' as s, :email");
    expect(compiled.text).toBe("select E'it\\'s :not_a_ref' as s, $1");
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('ends an E-string after an escaped backslash', () => {
    const compiled = compileSql("select e'a\\\\', :email");
    expect(compiled.text).toBe("select e'a\\\\', $1");
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('treats a backslash as text in a standard string', () => {
    const compiled = compileSql("select 'C:\\', :email");
    expect(compiled.text).toBe("select 'C:\\', $1");
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('skips a quoted identifier', () => {
    const compiled = compileSql('select "odd:name", "with "" quote:x" from t where x = :email');
    expect(compiled.text).toBe('select "odd:name", "with "" quote:x" from t where x = $1');
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('skips a line comment', () => {
    const compiled = compileSql('select 1 -- :not_a_ref\n, :email');
    expect(compiled.text).toBe('select 1 -- :not_a_ref\n, $1');
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('skips nested block comments', () => {
    const compiled = compileSql('select /* outer /* :inner */ :still_comment */ :email');
    expect(compiled.text).toBe('select /* outer /* :inner */ :still_comment */ $1');
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('skips a tagged dollar-quoted body', () => {
    const compiled = compileSql("select $fn$ it's :not_a_ref $x$ $fn$, :email");
    expect(compiled.text).toBe("select $fn$ it's :not_a_ref $x$ $fn$, $1");
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('skips an untagged dollar-quoted body', () => {
    const compiled = compileSql('select $$ :not_a_ref $$, :email');
    expect(compiled.text).toBe('select $$ :not_a_ref $$, $1');
    expect(compiled.params).toEqual([EMAIL]);
  });

  it('skips a ::type cast', () => {
    const compiled = compileSql('select created_at::date from workers');
    expect(compiled.text).toBe('select created_at::date from workers');
    expect(compiled.params).toEqual([]);
  });
});

describe('compileSql statements', () => {
  it('drops a trailing semicolon', () => {
    const compiled = compileSql('select :email;\n');
    expect(compiled.text).toBe('select $1');
    expect(compiled.problems).toEqual([]);
  });

  it('drops a semicolon before a comment', () => {
    const compiled = compileSql('select :email; -- the worker\n/* done */');
    expect(compiled.problems).toEqual([]);
    expect(compiled.text).not.toContain(';');
  });

  it('allows a semicolon in a string', () => {
    const compiled = compileSql("select ';' as separator, :email");
    expect(compiled.text).toBe("select ';' as separator, $1");
    expect(compiled.problems).toEqual([]);
  });

  it('rejects two statements', () => {
    const compiled = compileSql('select 1; select 2');
    expect(compiled.problems).toHaveLength(1);
    expect(compiled.problems[0]?.kind).toBe('text');
    expect(compiled.problems[0]?.offset).toBe(8);
    expect(compiled.problems[0]?.message).toContain('one SQL statement');
  });

  it('rejects a positional parameter', () => {
    const compiled = compileSql('select * from workers where id = $1');
    expect(compiled.problems).toHaveLength(1);
    expect(compiled.problems[0]?.kind).toBe('param');
    expect(compiled.problems[0]?.offset).toBe(33);
    expect(compiled.problems[0]?.message).toContain('$1');
    expect(compiled.params).toEqual([]);
  });

  it('rejects a positional parameter beside a named one', () => {
    const compiled = compileSql('select :email, $12');
    expect(compiled.problems.map((problem) => problem.message)).toEqual([expect.stringContaining('$12')]);
  });
});

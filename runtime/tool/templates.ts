/**
 * Handlebars for tool output: one private instance with the helpers tool authors need, and a
 * walk over a template's syntax tree to find which inputs and steps it references.
 *
 * Templates compile with `noEscape`, because escaping depends on where the text goes (Slack
 * mrkdwn, plain text, JSON). The caller escapes the values for its surface before rendering, and
 * the template text, which the author wrote, stays as written.
 */
import Handlebars from 'handlebars';

export const MISSING = '-';

const handlebars = Handlebars.create();

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/** Handlebars passes its options object as the last argument; helpers drop it. */
function args(values: unknown[]): unknown[] {
  return values.slice(0, -1);
}

const helpers: Record<string, (...values: unknown[]) => unknown> = {
  /** `{{default worker.phone "none"}}`: the value, or the fallback (a dash by default) when missing. */
  default: (...values) => {
    const [value, fallback] = args(values);
    return isMissing(value) ? (fallback ?? MISSING) : value;
  },
  /** `{{date applied_at}}`: 2026-10-02, in UTC. A date-only string passes through unchanged. */
  date: (...values) => {
    const [value] = args(values);
    if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
    const date = toDate(value);
    return date === undefined ? MISSING : date.toISOString().slice(0, 10);
  },
  /** `{{datetime applied_at}}`: 2026-10-02 14:05 UTC. */
  datetime: (...values) => {
    const date = toDate(args(values)[0]);
    return date === undefined ? MISSING : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  },
  /** `{{count applications}}`: the number of rows in a list, 0 when missing. */
  count: (...values) => {
    const [value] = args(values);
    return Array.isArray(value) ? value.length : 0;
  },
  /** `{{plural (count rows) "application"}}`: "1 application", "3 applications"; an irregular plural may follow. */
  plural: (...values) => {
    const [count, singular, plural] = args(values);
    const n = Number(count ?? 0);
    const word = n === 1 ? String(singular) : String(plural ?? `${String(singular)}s`);
    return `${n} ${word}`;
  },
  /** `{{truncate description 80}}`: at most N characters, ending in an ellipsis when cut. */
  truncate: (...values) => {
    const [value, length] = args(values);
    if (isMissing(value)) return '';
    const text = String(value);
    const max = Number(length ?? 80);
    const chars = Array.from(text);
    return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
  },
  /** `{{number pay_cents}}`: thousands separators; `{{number x 2}}` fixes the decimals. */
  number: (...values) => {
    const [value, decimals] = args(values);
    const n = Number(value);
    if (isMissing(value) || Number.isNaN(n)) return MISSING;
    const digits = decimals === undefined ? undefined : Number(decimals);
    return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits ?? 20 });
  },
  /** `{{money pay_cents}}`: cents as dollars, $1,234.50. */
  money: (...values) => {
    const [value] = args(values);
    const n = Number(value);
    if (isMissing(value) || Number.isNaN(n)) return MISSING;
    return (n / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
  },
  upper: (...values) => (isMissing(args(values)[0]) ? '' : String(args(values)[0]).toUpperCase()),
  lower: (...values) => (isMissing(args(values)[0]) ? '' : String(args(values)[0]).toLowerCase()),
  eq: (...values) => {
    const [a, b] = args(values);
    return a === b;
  },
  /** `{{join tags ", "}}`. */
  join: (...values) => {
    const [list, separator] = args(values);
    return Array.isArray(list) ? list.map((item) => (isMissing(item) ? MISSING : String(item))).join(String(separator ?? ', ')) : '';
  },
  /**
   * `{{table certifications "name" "status" "certified_on"}}`: a fixed-width text table of the
   * named columns, with a header row. Dates print as dates and missing cells as a dash.
   */
  table: (...values) => {
    const [rows, ...columns] = args(values);
    if (!Array.isArray(rows) || rows.length === 0) return '';
    const names = columns.length > 0 ? columns.map(String) : Object.keys((rows[0] ?? {}) as object);
    const cells = rows.map((row) => names.map((name) => cellText((row as Record<string, unknown>)[name])));
    const widths = names.map((name, index) => Math.max(name.length, ...cells.map((line) => (line[index] ?? '').length)));
    const format = (line: string[]): string => line.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
    return [format(names), format(widths.map((width) => '-'.repeat(width))), ...cells.map(format)].join('\n');
  },
};

function cellText(value: unknown): string {
  if (isMissing(value)) return MISSING;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value);
}

for (const [name, helper] of Object.entries(helpers)) handlebars.registerHelper(name, helper);

export const HELPER_NAMES: ReadonlySet<string> = new Set([...Object.keys(helpers), 'if', 'unless', 'each', 'with', 'lookup', 'log']);

export type RenderTemplate = (context: Record<string, unknown>) => string;

/** Compiles a template; throws Handlebars' parse error, which carries the line inside the template. */
export function compileTemplate(source: string): RenderTemplate {
  const program = parseOnce(source);
  // compile() takes the syntax tree too, so a template is parsed once for checking and rendering.
  const template = handlebars.compile(program, { noEscape: true, strict: false, knownHelpersOnly: false });
  return (context) => template(context, { allowProtoPropertiesByDefault: false });
}

/** Syntax trees of templates parsed while loading, so templateRefs does not parse them again. */
const parsed = new Map<string, hbs.AST.Program>();
const MAX_PARSED = 1_000;

function parseOnce(source: string): hbs.AST.Program {
  let program = parsed.get(source);
  if (program === undefined) {
    program = handlebars.parse(source);
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(source, program);
  }
  return program;
}

/** A 1-based line and column inside a template. */
export interface TemplatePosition {
  line: number;
  column: number;
}

/** The parts of Handlebars' Jison-generated parser used to locate parse errors; its type declarations omit them. */
interface JisonParser {
  terminals_: Record<number, string>;
  lexer: {
    EOF: number;
    yytext: string;
    yylloc: { first_line: number; first_column: number };
    setInput(input: string): void;
    lex(): number | string;
  };
}

const parser = (handlebars as unknown as { Parser: JisonParser }).Parser;

/**
 * Returns where the lexer stopped when `compileTemplate` threw a parse error. Handlebars' message
 * gives the line but no usable column, so this reads the location of the token the parser
 * rejected. Call it before anything else parses a template, because every Handlebars instance
 * shares the lexer.
 */
export function parseErrorPosition(): TemplatePosition {
  const { first_line: line, first_column: column } = parser.lexer.yylloc;
  return { line, column: column + 1 };
}

/** A block's opening tag: `{{#each}}` has the sigil `#` and the name `each`. */
export interface OpenBlock extends TemplatePosition {
  sigil: '#' | '^';
  name: string;
}

/**
 * Finds the innermost block (`{{#each}}`, `{{^if}}`, `{{#> partial}}`) that the template leaves
 * open. It uses Handlebars' own lexer, so comments and raw blocks are skipped as Handlebars skips
 * them. Returns undefined when every block is closed or the lexer rejects the text.
 */
export function unclosedBlock(source: string): OpenBlock | undefined {
  const open: OpenBlock[] = [];
  const lexer = parser.lexer;
  lexer.setInput(source);
  let expectName = false;
  try {
    // One token per character plus the end is more than any template yields, so the cap only
    // stops a lexer that no longer advances.
    for (let count = 0; count <= source.length + 1; count += 1) {
      const token = lexer.lex();
      const kind = typeof token === 'number' ? parser.terminals_[token] : token;
      if (token === lexer.EOF || kind === 'EOF') break;
      if (expectName && kind === 'ID') {
        const innermost = open.at(-1);
        if (innermost !== undefined) innermost.name = lexer.yytext;
      }
      expectName = false;
      if (kind === 'OPEN_BLOCK' || kind === 'OPEN_INVERSE' || kind === 'OPEN_PARTIAL_BLOCK' || kind === 'OPEN_RAW_BLOCK') {
        const sigil = kind === 'OPEN_INVERSE' ? '^' : '#';
        open.push({ line: lexer.yylloc.first_line, column: lexer.yylloc.first_column + 1, sigil, name: '' });
        expectName = true;
      } else if (kind === 'OPEN_ENDBLOCK' || kind === 'END_RAW_BLOCK') {
        open.pop();
      }
    }
  } catch {
    return undefined;
  }
  return open.at(-1);
}

export interface TemplateRef {
  /** First segment of the path: an input name or a step id. */
  root: string;
  /** Line inside the template, 1-based. */
  line: number;
  column: number;
}

/**
 * Returns the paths a template reads from the top-level context. Paths inside `#each` and `#with`
 * blocks are relative to the current item, so they are checked only when they start at `@root`.
 */
export function templateRefs(source: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  const program = parseOnce(source);

  const visitPath = (path: hbs.AST.PathExpression, topLevel: boolean): void => {
    if (path.data) {
      const root = path.parts[1];
      if (path.parts[0] === 'root' && root !== undefined) refs.push({ root, line: path.loc.start.line, column: path.loc.start.column + 1 });
      return;
    }
    const isThis = path.original === 'this' || path.original.startsWith('this.') || path.original.startsWith('./');
    if (!topLevel || path.depth > 0 || isThis || path.parts.length === 0) return;
    const root = path.parts[0];
    if (root !== undefined) refs.push({ root, line: path.loc.start.line, column: path.loc.start.column + 1 });
  };

  const visitExpression = (node: hbs.AST.Expression, topLevel: boolean): void => {
    if (node.type === 'PathExpression') visitPath(node as hbs.AST.PathExpression, topLevel);
    if (node.type === 'SubExpression') visitCall(node as hbs.AST.SubExpression, topLevel);
  };

  const visitCall = (node: { path: hbs.AST.PathExpression | hbs.AST.Expression; params: hbs.AST.Expression[]; hash: hbs.AST.Hash }, topLevel: boolean): void => {
    const isHelperCall = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    const path = node.path as hbs.AST.PathExpression;
    const isKnownHelper = path.type === 'PathExpression' && HELPER_NAMES.has(path.original);
    if (!isHelperCall && !isKnownHelper) visitExpression(node.path, topLevel);
    for (const param of node.params) visitExpression(param, topLevel);
    for (const pair of node.hash?.pairs ?? []) visitExpression(pair.value, topLevel);
  };

  const visitProgram = (body: hbs.AST.Statement[], topLevel: boolean): void => {
    for (const statement of body) {
      if (statement.type === 'MustacheStatement') visitCall(statement as hbs.AST.MustacheStatement, topLevel);
      if (statement.type === 'BlockStatement') {
        const block = statement as hbs.AST.BlockStatement;
        visitCall(block, topLevel);
        const name = (block.path as hbs.AST.PathExpression).original;
        const changesContext = name === 'each' || name === 'with' || !HELPER_NAMES.has(name);
        if (block.program) visitProgram(block.program.body, topLevel && !changesContext);
        if (block.inverse) visitProgram(block.inverse.body, topLevel);
      }
    }
  };

  visitProgram(program.body, true);
  return refs;
}

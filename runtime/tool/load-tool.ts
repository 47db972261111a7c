/**
 * Loads one tool file: YAML syntax, then the JSON Schema, then the checks a schema cannot make
 * (references between inputs, steps, SQL and templates). Every problem carries the file, line and
 * column it is about; a file with problems yields no tool.
 */
import { createHash } from 'node:crypto';
import { isScalar, Scalar, type Node } from 'yaml';
import type { Problem, ProblemCode } from './problem.js';
import { YamlSource, type PathSegment, type Position } from './yaml-source.js';
import { checkAgainstSchema, fieldName } from './schema-check.js';
import { compileSql } from './sql-params.js';
import { compileTemplate, parseErrorPosition, templateRefs, unclosedBlock, type RenderTemplate } from './templates.js';
import { checkInputValue, compileInputsValidator } from './input-schema.js';
import { closestName } from './suggest.js';
import type { InputSpec, SqlStep, Tool, ToolCheck, ValueRef } from './types.js';
import type { CheckSpec } from '../checks/types.js';
import { RUN_VALUE_NAMES } from '../engine/run-steps.js';
import { scanMongoQuery, type MongoQuery } from './mongo-query.js';
import type { Condition } from '../checks/types.js';
import type { NotifierSpec } from '../notify/types.js';
import { validateSchedule } from '../checks/schedule.js';

export const DEFAULT_TIMEOUT_MS = 5_000;
export const MAX_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

/** Types given to input parameters; strings stay untyped so PostgreSQL reads them as the column's type. */
const SQL_CASTS: Record<string, string | undefined> = { number: 'numeric', integer: 'int8', boolean: 'boolean', string: undefined };

/** Input keywords that apply to one value type only. */
const STRING_KEYWORDS = ['format', 'pattern', 'minLength', 'maxLength'] as const;
const NUMBER_KEYWORDS = ['minimum', 'maximum'] as const;

export interface LoadContext {
  /** Connection names from toolshed.yaml; when given, steps naming another connection are problems. */
  connections?: readonly string[];
  /** Kind of each connection; when given, SQL steps need a postgres one and MongoDB steps a mongodb one. */
  connectionTypes?: Readonly<Record<string, 'postgres' | 'mongodb'>>;
}

export interface LoadResult {
  tool: Tool | undefined;
  problems: Problem[];
}

interface MongoStepFile {
  collection: string;
  count?: Record<string, unknown>;
  find?: { filter?: Record<string, unknown>; projection?: Record<string, unknown>; sort?: Record<string, unknown>; limit?: number };
  aggregate?: Array<Record<string, unknown>>;
}

interface CheckFile {
  value?: string;
  count?: string;
  any?: string;
  unit?: string;
  warning?: Condition;
  critical?: Condition;
  for?: number;
  recover_for?: number;
  repeat?: string;
}

/** The tool file as the schema describes it, before compiling. */
interface ToolFile {
  name: string;
  title: string;
  description?: string;
  inputs?: Record<string, InputSpec>;
  steps: Array<{ id: string; connection?: string; sql?: string; mongodb?: MongoStepFile; expect?: SqlStep['expect']; limit?: number; write?: boolean; max_rows?: number; expect_rows?: number }>;
  output: { text: string; data?: string[] };
  not_found?: string;
  timeout?: string;
  access?: { roles: string[] };
  preview?: string;
  audit?: boolean;
  approval?: { roles: string[] };
  schedule?: string | { cron: string; timezone?: string };
  check?: CheckFile;
  notify?: NotifierSpec[];
  slack?: { command?: string; response_type?: 'ephemeral' | 'in_channel'; progress?: string };
}

export function loadTool(file: string, text: string, context: LoadContext = {}): LoadResult {
  const source = new YamlSource(file, text);
  const syntax = source.syntaxProblems();
  if (syntax.length > 0) return { tool: undefined, problems: syntax };

  const value: unknown = source.document.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { tool: undefined, problems: [problem(source, [], 'TOOLSHED_ERR_TYPE', 'a tool file must be a YAML mapping with name, title, steps and output')] };
  }

  const schemaProblems = checkAgainstSchema(source, value);
  const changed = changedScalars(source, value as ToolFile);
  if (schemaProblems.length > 0) return { tool: undefined, problems: [...schemaProblems, ...changed] };

  const checker = new SemanticChecker(source, value as ToolFile, context);
  const tool = checker.build();
  const problems = [...changed, ...checker.problems];
  return problems.length > 0 ? { tool: undefined, problems } : { tool, problems: [] };
}

function problem(source: YamlSource, path: readonly PathSegment[], code: ProblemCode, message: string, position?: Position): Problem {
  return { file: source.file, ...(position ?? source.locate(path)), code, message };
}

/**
 * Finds values YAML reads differently from how they look: an unquoted `02134` is the number 2134
 * and an unquoted `no` in a YAML 1.1 reader is false. For string inputs this silently changes a
 * default, an enum value or an example.
 */
function changedScalars(source: YamlSource, tool: ToolFile): Problem[] {
  const problems: Problem[] = [];
  for (const [name, spec] of Object.entries(tool.inputs ?? {})) {
    if (typeof spec !== 'object' || spec === null || spec.type !== 'string') continue;
    const places: PathSegment[][] = [['inputs', name, 'default']];
    for (const key of ['enum', 'examples'] as const) {
      const list = spec[key];
      if (Array.isArray(list)) list.forEach((_, index) => places.push(['inputs', name, key, index]));
    }
    for (const path of places) {
      const node = source.nodeAt(path);
      if (!isScalar(node) || node.type !== Scalar.PLAIN || typeof node.value === 'string') continue;
      if (path.length > 3 && node === source.nodeAt(path.slice(0, -1))) continue;
      const written = source.text.slice(node.range?.[0] ?? 0, node.range?.[1] ?? 0);
      if (written === String(node.value)) continue;
      problems.push(problem(source, path, 'TOOLSHED_ERR_YAML_CHANGED_VALUE', `${fieldName(path)} is written ${written}, which YAML reads as ${JSON.stringify(node.value)}; quote it ("${written}") to keep it as written`));
    }
  }
  return problems;
}

class SemanticChecker {
  readonly problems: Problem[] = [];
  private readonly inputNames: string[];

  constructor(
    private readonly source: YamlSource,
    private readonly file: ToolFile,
    private readonly context: LoadContext,
  ) {
    this.inputNames = Object.keys(file.inputs ?? {});
  }

  build(): Tool | undefined {
    const inputs = this.file.inputs ?? {};
    this.checkInputs(inputs);
    const steps = this.compileSteps();
    const stepIds = steps.map((step) => step.id);
    const text = this.compileTemplateAt(['output', 'text'], this.file.output.text, [...this.inputNames, ...stepIds, 'run']);
    const notFound = this.file.not_found === undefined ? undefined : this.compileTemplateAt(['not_found'], this.file.not_found, [...this.inputNames, ...stepIds]);
    const writes = steps.some((step) => step.write);
    const check = this.compileCheck(steps);
    this.checkWriteTool(writes);
    const preview = this.file.preview === undefined ? undefined : this.compileTemplateAt(['preview'], this.file.preview, [...this.inputNames, ...stepIds, 'run']);
    const progress = this.file.slack?.progress === undefined ? undefined : this.compileTemplateAt(['slack', 'progress'], this.file.slack.progress, this.inputNames);
    const data = this.checkData(stepIds);
    const timeoutMs = this.timeout();
    if (this.problems.length > 0 || text === undefined) return undefined;

    return {
      name: this.file.name,
      title: this.file.title,
      description: this.file.description ?? '',
      inputs,
      inputOrder: this.inputNames,
      steps,
      output: { text: this.file.output.text, data },
      notFound: this.file.not_found,
      timeoutMs,
      roles: this.file.access?.roles ?? [],
      writes,
      audit: writes || this.file.audit === true,
      approvalRoles: this.file.approval?.roles ?? [],
      check,
      slack: { command: this.file.slack?.command, responseType: this.file.slack?.response_type ?? 'ephemeral', progress: this.file.slack?.progress },
      file: this.source.file,
      hash: createHash('sha256').update(this.source.text).digest('hex'),
      compiled: { text, notFound, progress, preview, validateInputs: compileInputsValidator(inputs) },
    };
  }

  private add(path: readonly PathSegment[], code: ProblemCode, message: string, position?: Position): void {
    this.problems.push(problem(this.source, path, code, message, position));
  }

  private checkInputs(inputs: Record<string, InputSpec>): void {
    for (const [name, spec] of Object.entries(inputs)) {
      // Ajv in strict mode throws on a keyword that does not fit the type, so the default and the
      // enum values are checked only once every keyword fits.
      const keywordsFit = this.checkKeywordsFitType(name, spec);
      if (keywordsFit && spec.default !== undefined) {
        const errors = checkInputValue(spec, spec.default);
        if (errors.length > 0) this.add(['inputs', name, 'default'], 'TOOLSHED_ERR_INVALID_DEFAULT', `inputs.${name}.default ${JSON.stringify(spec.default)} is not valid for this input: it ${errors.join('; ')}`);
      }
      for (const [index, value] of (keywordsFit ? (spec.enum ?? []) : []).entries()) {
        const errors = checkInputValue({ ...spec, enum: undefined }, value);
        if (errors.length > 0) this.add(['inputs', name, 'enum', index], 'TOOLSHED_ERR_VALUE', `inputs.${name}.enum[${index}] ${JSON.stringify(value)} is not a valid ${spec.type}: it ${errors.join('; ')}`);
      }
      if ((spec.unit !== undefined || spec.unit_aliases !== undefined) && spec.type !== 'number' && spec.type !== 'integer') {
        this.add(['inputs', name, 'unit'], 'TOOLSHED_ERR_VALUE', `inputs.${name} has a unit, but only number and integer inputs take one`);
      }
      if (spec.required === true && spec.default !== undefined) {
        this.add(['inputs', name, 'required'], 'TOOLSHED_ERR_VALUE', `inputs.${name} is required and also has a default, so the default is never used; remove one of them`);
      }
    }
  }

  /** Reports each string-only or number-only keyword on an input of another type, and returns true when there is none. */
  private checkKeywordsFitType(name: string, spec: InputSpec): boolean {
    const isNumber = spec.type === 'number' || spec.type === 'integer';
    const misplaced = [
      ...(spec.type === 'string' ? [] : STRING_KEYWORDS.filter((key) => spec[key] !== undefined)),
      ...(isNumber ? [] : NUMBER_KEYWORDS.filter((key) => spec[key] !== undefined)),
    ];
    for (const key of misplaced) {
      const appliesTo = (STRING_KEYWORDS as readonly string[]).includes(key) ? 'string inputs' : 'number and integer inputs';
      const position = this.source.positionOf(this.source.keyAt(['inputs', name], key));
      this.add(['inputs', name, key], 'TOOLSHED_ERR_VALUE', `inputs.${name}.${key} applies only to ${appliesTo}, but this input's type is ${spec.type}; remove ${key} or change the type`, position);
    }
    return misplaced.length === 0;
  }

  private compileSteps(): SqlStep[] {
    const steps: SqlStep[] = [];
    const seen = new Map<string, number>();

    this.file.steps.forEach((declared, index) => {
      const path: PathSegment[] = ['steps', index];
      const first = seen.get(declared.id);
      if (first !== undefined) {
        this.add([...path, 'id'], 'TOOLSHED_ERR_DUPLICATE_ID', `step id "${declared.id}" is already used by steps[${first}]; give each step its own id`);
      } else if (declared.id === 'run') {
        this.add([...path, 'id'], 'TOOLSHED_ERR_DUPLICATE_ID', 'step id "run" is reserved for the values of the run (:run.principal, :run.id); rename the step');
      } else if (this.inputNames.includes(declared.id)) {
        this.add([...path, 'id'], 'TOOLSHED_ERR_DUPLICATE_ID', `step id "${declared.id}" is also an input name, so templates could not tell them apart; rename the step`);
      }
      seen.set(declared.id, first ?? index);

      const connection = declared.connection ?? 'default';
      const known = this.context.connections;
      if (known !== undefined && !known.includes(connection)) {
        const suggestion = closestName(connection, known);
        const hint = suggestion === undefined ? `connections in toolshed.yaml: ${known.join(', ') || 'none'}` : `did you mean "${suggestion}"?`;
        this.add(declared.connection === undefined ? [...path, 'sql'] : [...path, 'connection'], 'TOOLSHED_ERR_UNKNOWN_CONNECTION', `steps[${index}] uses the connection "${connection}", which toolshed.yaml does not declare; ${hint}`);
      }

      const kind = declared.mongodb === undefined ? 'postgres' : 'mongodb';
      const connectionType = this.context.connectionTypes?.[connection];
      if (connectionType !== undefined && connectionType !== kind) {
        this.add(declared.connection === undefined ? [...path, 'id'] : [...path, 'connection'], 'TOOLSHED_ERR_UNKNOWN_CONNECTION', `steps[${index}] is a ${kind === 'mongodb' ? 'MongoDB' : 'SQL'} step, but the connection "${connection}" is ${connectionType}; name a ${kind} connection`);
      }

      if (declared.mongodb !== undefined) {
        steps.push(this.compileMongoStep(declared, declared.mongodb, connection, path, steps));
        return;
      }
      const sql = declared.sql ?? '';

      const firstConnection = this.file.steps[0]?.connection ?? 'default';
      if (connection !== firstConnection) {
        this.add([...path, 'connection'], 'TOOLSHED_ERR_UNKNOWN_CONNECTION', `steps[${index}] uses the connection "${connection}" but steps[0] uses "${firstConnection}"; a tool's steps run in one transaction, so they must share one connection`);
      }

      const compiled = compileSql(sql, (ref) => (ref.kind === 'input' ? SQL_CASTS[this.file.inputs?.[ref.name]?.type ?? 'string'] : undefined));
      for (const sqlProblem of compiled.problems) {
        const code = sqlProblem.kind === 'param' ? 'TOOLSHED_ERR_SQL_PARAM' : 'TOOLSHED_ERR_SQL_TEXT';
        this.add([...path, 'sql'], code, `steps[${index}].sql: ${sqlProblem.message}`, this.positionInScalar([...path, 'sql'], sqlProblem.offset));
      }
      const statementProblem = declared.write === true ? writeStatementProblem(compiled.words) : readOnlyProblem(compiled.words);
      if (statementProblem !== undefined) this.add([...path, 'sql'], 'TOOLSHED_ERR_SQL_TEXT', `steps[${index}].sql ${statementProblem}`);
      this.checkWriteBounds(declared, path, index);
      compiled.params.forEach((ref, refIndex) => {
        const message = this.checkRef(ref, steps);
        if (message !== undefined) this.add([...path, 'sql'], 'TOOLSHED_ERR_SQL_PARAM', `steps[${index}].sql: ${message}`, this.positionInScalar([...path, 'sql'], compiled.offsets[refIndex] ?? 0));
      });

      steps.push({
        id: declared.id,
        connection,
        sql,
        mongo: undefined,
        expect: declared.write === true ? 'many' : (declared.expect ?? 'many'),
        limit: declared.limit ?? DEFAULT_LIMIT,
        write: declared.write === true,
        maxRows: declared.max_rows,
        expectRows: declared.expect_rows,
        compiled: { text: compiled.text, params: compiled.params },
        position: this.positionInScalar([...path, 'sql'], 0),
      });
    });
    return steps;
  }

  private compileMongoStep(declared: ToolFile['steps'][number], mongodb: MongoStepFile, connection: string, path: PathSegment[], earlier: readonly SqlStep[]): SqlStep {
    let operation: MongoQuery['operation'] = 'aggregate';
    if (mongodb.count !== undefined) operation = 'count';
    else if (mongodb.find !== undefined) operation = 'find';
    const body = mongodb[operation];
    const scanned = scanMongoQuery(body, [...path, 'mongodb', operation]);
    for (const problem of scanned.problems) this.add(problem.path, 'TOOLSHED_ERR_MONGO_OPERATOR', `${fieldName(problem.path)}: ${problem.message}`, this.source.positionOf(this.source.keyAt(problem.path.slice(0, -1), String(problem.path.at(-1)))));
    for (const { ref, path: at } of scanned.refs) {
      const message = this.checkRef(ref, earlier);
      if (message !== undefined) this.add(at, 'TOOLSHED_ERR_SQL_PARAM', `${fieldName(at)}: ${message}`);
    }
    if (declared.write === true || declared.max_rows !== undefined || declared.expect_rows !== undefined) {
      this.add([...path, 'write'], 'TOOLSHED_ERR_VALUE', 'MongoDB steps only read; write, max_rows and expect_rows apply to SQL steps');
    }
    const query: MongoQuery = { collection: mongodb.collection, operation, body };
    return {
      id: declared.id,
      connection,
      sql: '',
      mongo: query,
      expect: operation === 'count' ? 'one' : 'many',
      limit: Math.min(mongodb.find?.limit ?? declared.limit ?? DEFAULT_LIMIT, declared.limit ?? MAX_LIMIT),
      write: false,
      maxRows: undefined,
      expectRows: undefined,
      compiled: { text: '', params: scanned.refs.map((entry) => entry.ref) },
      position: this.source.locate([...path, 'mongodb']),
    };
  }

  private compileCheck(steps: readonly SqlStep[]): ToolCheck | undefined {
    const check = this.file.check;
    const schedule = this.file.schedule;
    if (check === undefined && schedule === undefined) {
      if (this.file.notify !== undefined) this.add(['notify'], 'TOOLSHED_ERR_CHECK', 'notify applies only to tools with schedule and check; add them or remove notify');
      return undefined;
    }
    if (check === undefined || schedule === undefined) {
      this.add([check === undefined ? 'schedule' : 'check'], 'TOOLSHED_ERR_CHECK', check === undefined ? 'a schedule needs a check that says which value to watch' : 'a check needs a schedule that says when it runs, such as schedule: "*/20 * * * *"');
      return undefined;
    }
    const cron = typeof schedule === 'string' ? schedule : schedule.cron;
    const timezone = typeof schedule === 'string' ? 'UTC' : (schedule.timezone ?? 'UTC');
    const scheduleProblem = validateSchedule(cron, timezone);
    if (scheduleProblem !== undefined) this.add(['schedule'], 'TOOLSHED_ERR_CHECK', `schedule: ${scheduleProblem}`);
    if (steps.some((step) => step.write)) this.add(['check'], 'TOOLSHED_ERR_CHECK', 'a tool with a write step cannot run on a schedule, because writes need a person to confirm them');
    if (Object.keys(this.file.inputs ?? {}).some((name) => this.file.inputs?.[name]?.default === undefined && this.file.inputs?.[name]?.required !== false)) {
      this.add(['inputs'], 'TOOLSHED_ERR_CHECK', 'a scheduled tool runs without a person to give inputs, so every input needs a default');
    }

    let source: ToolCheck['source'];
    if (check.value !== undefined) {
      const [step = '', field = ''] = check.value.split('.');
      source = { kind: 'value', step, field };
      const target = steps.find((candidate) => candidate.id === step);
      if (target !== undefined && target.expect === 'many') this.add(['check', 'value'], 'TOOLSHED_ERR_CHECK', `check.value reads ${check.value}, but the step ${step} returns a list; use count: ${step}, or give the step expect: one`);
    } else if (check.count !== undefined) {
      source = { kind: 'count', step: check.count };
    } else {
      source = { kind: 'any', step: check.any ?? '' };
    }
    if (!steps.some((candidate) => candidate.id === source.step)) {
      const suggestion = closestName(source.step, steps.map((candidate) => candidate.id));
      this.add(['check', source.kind], 'TOOLSHED_ERR_CHECK', `check.${source.kind} names the step "${source.step}", which does not exist${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`}`);
    }
    if (this.file.notify === undefined) this.add(['check'], 'TOOLSHED_ERR_CHECK', 'a check needs notify: a list of where alerts go (sns, slack or webhook)');

    const repeat = check.repeat === undefined ? undefined : durationMs(check.repeat);
    const levels: CheckSpec['levels'] = {};
    if (check.warning !== undefined) levels.warning = check.warning;
    if (check.critical !== undefined) levels.critical = check.critical;
    const spec: CheckSpec = { tool: this.file.name, schedule: cron, timezone, levels, for: check.for ?? 1, recoverFor: check.recover_for ?? 1, repeatMs: repeat };
    return { spec, source, unit: check.unit, notify: this.file.notify ?? [] };
  }

  private checkWriteBounds(declared: ToolFile['steps'][number], path: PathSegment[], index: number): void {
    const bounded = declared.max_rows !== undefined || declared.expect_rows !== undefined;
    if (declared.write === true) {
      if (!bounded) this.add([...path, 'write'], 'TOOLSHED_ERR_MISSING_KEY', `steps[${index}] writes but does not bound how many rows it may change; add max_rows (a limit) or expect_rows (an exact count)`);
      if (declared.max_rows !== undefined && declared.expect_rows !== undefined) this.add([...path, 'expect_rows'], 'TOOLSHED_ERR_VALUE', `steps[${index}] has both max_rows and expect_rows; keep one`);
      if (declared.expect !== undefined) this.add([...path, 'expect'], 'TOOLSHED_ERR_VALUE', `steps[${index}] writes, so expect does not apply; its result is the list of RETURNING rows`);
      return;
    }
    if (bounded) this.add([...path, declared.max_rows !== undefined ? 'max_rows' : 'expect_rows'], 'TOOLSHED_ERR_VALUE', `steps[${index}] has a row bound but is not a write step; add write: true or remove the bound`);
  }

  private checkRef(ref: ValueRef, earlier: readonly SqlStep[]): string | undefined {
    if (ref.kind === 'input') {
      if (this.inputNames.includes(ref.name)) return undefined;
      const suggestion = closestName(ref.name, this.inputNames);
      const hint = suggestion === undefined ? `declare it under inputs` : `did you mean :${suggestion}?`;
      return `:${ref.name} names no input; ${hint}`;
    }
    if (ref.step === 'run') {
      if ((RUN_VALUE_NAMES as readonly string[]).includes(ref.column)) return undefined;
      return `:run.${ref.column} is not a value of the run; use :run.principal, :run.id or :run.surface`;
    }
    const step = earlier.find((candidate) => candidate.id === ref.step);
    if (step === undefined) {
      const laterStep = this.file.steps.some((candidate) => candidate.id === ref.step);
      if (laterStep) return `:${ref.step}.${ref.column} refers to a step that runs later; a step can use only earlier steps`;
      const suggestion = closestName(ref.step, earlier.map((candidate) => candidate.id));
      const hint = suggestion === undefined ? 'reference an input as :name or an earlier step as :step.column' : `did you mean :${suggestion}.${ref.column}?`;
      return `:${ref.step}.${ref.column} names no earlier step; ${hint}`;
    }
    if (step.expect === 'many') return `:${ref.step}.${ref.column} refers to a step that returns a list; only steps with expect: one or optional can be used as values`;
    return undefined;
  }

  private compileTemplateAt(path: PathSegment[], template: string, names: readonly string[]): RenderTemplate | undefined {
    let render: RenderTemplate;
    try {
      render = compileTemplate(template);
    } catch (error) {
      const { line, column, message } = templateError(error, template);
      this.add(path, 'TOOLSHED_ERR_TEMPLATE_SYNTAX', `${fieldName(path)}: ${message}`, this.positionInTemplate(path, line, column));
      return undefined;
    }
    for (const ref of templateRefs(template)) {
      if (names.includes(ref.root)) continue;
      const suggestion = closestName(ref.root, names);
      const hint = suggestion === undefined ? `inputs and steps: ${names.join(', ')}` : `did you mean {{${suggestion}}}?`;
      this.add(path, 'TOOLSHED_ERR_TEMPLATE_REF', `${fieldName(path)} uses {{${ref.root}}}, which is neither an input nor a step; ${hint}`, this.positionInTemplate(path, ref.line, ref.column));
    }
    return render;
  }

  private checkWriteTool(writes: boolean): void {
    if (writes) {
      if (this.file.access === undefined) this.add(['name'], 'TOOLSHED_ERR_MISSING_KEY', 'this tool writes, so it must say who may run it; add access: { roles: [ROLE] }');
      return;
    }
    if (this.file.preview !== undefined) this.add(['preview'], 'TOOLSHED_ERR_VALUE', 'preview applies only to tools with a write step; remove it');
    if (this.file.approval !== undefined) this.add(['approval'], 'TOOLSHED_ERR_VALUE', 'approval applies only to tools with a write step; remove it');
  }

  private checkData(stepIds: readonly string[]): string[] {
    const data = this.file.output.data;
    if (data === undefined) return [...stepIds];
    data.forEach((id, index) => {
      if (stepIds.includes(id)) return;
      const suggestion = closestName(id, stepIds);
      this.add(['output', 'data', index], 'TOOLSHED_ERR_VALUE', `output.data[${index}] "${id}" names no step; ${suggestion === undefined ? `steps: ${stepIds.join(', ')}` : `did you mean "${suggestion}"?`}`);
    });
    return data;
  }

  private timeout(): number {
    const written = this.file.timeout;
    if (written === undefined) return DEFAULT_TIMEOUT_MS;
    const milliseconds = durationMs(written);
    if (milliseconds > MAX_TIMEOUT_MS) this.add(['timeout'], 'TOOLSHED_ERR_VALUE', `timeout ${written} is longer than the maximum of 5m`);
    return milliseconds;
  }

  /** Maps an offset inside a string value to the file, for plain, quoted and literal block scalars. */
  private positionInScalar(path: readonly PathSegment[], offset: number): Position {
    const node = this.source.nodeAt(path);
    if (!isScalar(node) || typeof node.value !== 'string') return this.source.positionOf(node);
    const before = node.value.slice(0, offset);
    const lineIndex = before.split('\n').length - 1;
    const column = before.length - (before.lastIndexOf('\n') + 1);
    return this.positionInTemplate(path, lineIndex + 1, column + 1);
  }

  /** Maps a 1-based line and column inside a string value to the file. */
  private positionInTemplate(path: readonly PathSegment[], line: number, column: number): Position {
    const node = this.source.nodeAt(path) as Node | undefined;
    const start = this.source.positionOf(node);
    if (!isScalar(node)) return start;
    if (node.type === Scalar.BLOCK_LITERAL) {
      const contentLine = start.line + line;
      // Each file line is the block's indentation followed by the value's line, which keeps any
      // deeper indentation of its own, so the difference in length is the block's indentation.
      const fileLine = (this.source.text.split('\n')[contentLine - 1] ?? '').replace(/\r$/, '');
      const valueLine = String(node.value).split('\n')[line - 1] ?? '';
      return { line: contentLine, column: Math.max(0, fileLine.length - valueLine.length) + column };
    }
    // NOTE: folded blocks and multi-line plain or quoted values join their lines. A position in a
    // folded block points at its first line, and one after the first line of a plain or quoted
    // value points at the value's start.
    if (node.type === Scalar.BLOCK_FOLDED) return { line: start.line + 1, column: start.column };
    const quote = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0;
    return line === 1 ? { line: start.line, column: start.column + quote + column - 1 } : start;
  }
}

/** Milliseconds per unit of the durations tool files use: timeout (ms, s, m) and repeat (m, h, d). */
const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Converts a duration the schema has already checked, such as 500ms, 5s, 30m, 1h or 2d, to milliseconds. */
function durationMs(text: string): number {
  const match = /^(\d+)([a-z]+)$/.exec(text);
  return Number(match?.[1]) * (DURATION_UNITS_MS[match?.[2] ?? ''] ?? Number.NaN);
}

/** Statements a read step may run. */
const READ_STATEMENTS = new Set(['select', 'with', 'values', 'table']);
/** Keywords that change data or lock rows, which a read step must not contain anywhere (CTEs included). */
const WRITE_KEYWORDS = new Set(['insert', 'update', 'delete', 'merge', 'truncate']);

/** Explains why a step's SQL is not a plain read, or returns undefined when it is. */
function readOnlyProblem(words: readonly string[]): string | undefined {
  const first = words[0];
  if (first === undefined) return 'has no statement; write a SELECT';
  if (!READ_STATEMENTS.has(first)) return `is a ${first.toUpperCase()} statement, but this step only reads; a read step runs SELECT, WITH, VALUES or TABLE`;
  const write = words.find((word) => WRITE_KEYWORDS.has(word));
  if (write !== undefined) return `contains ${write.toUpperCase()}, but this step only reads; mark a step that changes data with write: true`;
  return undefined;
}

/** Statements a write step may run. */
const WRITE_STATEMENTS = new Set(['insert', 'update', 'delete', 'with']);

/** Explains why a write step's SQL is not a bounded INSERT, UPDATE or DELETE, or returns undefined. */
function writeStatementProblem(words: readonly string[]): string | undefined {
  const first = words[0];
  if (first === undefined || !WRITE_STATEMENTS.has(first)) return `is ${first === undefined ? 'empty' : `a ${first.toUpperCase()} statement`}; a write step runs INSERT, UPDATE or DELETE`;
  if (first === 'with' && !words.some((word) => WRITE_KEYWORDS.has(word))) return 'is marked write: true but changes nothing; remove write: true or write an INSERT, UPDATE or DELETE';
  if (words.includes('truncate') || words.includes('merge')) return 'uses TRUNCATE or MERGE, which toolshed does not run; write an UPDATE, DELETE or INSERT with a WHERE clause';
  for (const verb of ['update', 'delete'] as const) {
    const at = words.indexOf(verb);
    if (at !== -1 && !words.slice(at).includes('where')) return `has ${verb.toUpperCase()} without WHERE, which would change every row; add a WHERE clause`;
  }
  return undefined;
}

/**
 * Handlebars reports a block mismatch with `lineNumber` and `column` properties, but a parse error
 * only as a message ("Parse error on line 3"), so its column comes from the lexer. A template that
 * ends inside a block is reported at the block left open, which is where the fix goes.
 */
function templateError(error: unknown, template: string): { line: number; column: number; message: string } {
  const raw = error instanceof Error ? error.message : String(error);
  const withProperties = error as { lineNumber?: number; column?: number };
  if (withProperties.lineNumber !== undefined) {
    const column = withProperties.column === undefined ? 1 : withProperties.column + 1;
    // The message ends with " - 3:3", the position inside the template, which the problem replaces.
    const firstLine = (raw.split('\n')[0] ?? raw).replace(/ - \d+:\d+$/, '');
    const mismatch = /^(\S+) doesn't match (\S+)$/.exec(firstLine);
    const explained = mismatch === null ? firstLine : `{{#${mismatch[1]}}} is closed by {{/${mismatch[2]}}}; close it with {{/${mismatch[1]}}}`;
    return { line: withProperties.lineNumber, column, message: `Handlebars syntax error: ${explained}` };
  }

  const stopped = parseErrorPosition();
  const expecting = /Expecting (.*), got '([^']*)'/.exec(raw);
  if (expecting === null) return { ...stopped, message: `Handlebars syntax error: ${raw.split('\n')[0] ?? raw}` };

  const block = expecting[2] === 'EOF' ? unclosedBlock(template) : undefined;
  if (block !== undefined) {
    const name = block.name === '' ? 'block' : block.name;
    return { line: block.line, column: block.column, message: `Handlebars syntax error: the {{${block.sigil}${name}}} block opened here is never closed; add {{/${name}}} where it should end` };
  }
  const got = expecting[2] === 'EOF' ? 'the end of the template' : `'${expecting[2]}'`;
  const message = `Handlebars syntax error: found ${got} where ${expecting[1]} was expected; check that every {{#block}} has its {{/block}} and every {{ has its }}`;
  return { ...stopped, message };
}

/** A tool as loaded from its file: the author's declarations plus what the loader compiled. */
import type { RenderTemplate } from './templates.js';
import type { MongoQuery } from './mongo-query.js';
import type { CheckSpec } from '../checks/types.js';
import type { NotifierSpec } from '../notify/types.js';
import type { ValidateFunction } from 'ajv';

export type InputType = 'string' | 'number' | 'integer' | 'boolean';

export interface InputSpec {
  type: InputType;
  description?: string;
  required?: boolean;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  unit?: string;
  unit_aliases?: string[];
  examples?: unknown[];
  sensitive?: boolean;
}

export type Expect = 'one' | 'optional' | 'many';

/** A reference to a value in SQL: an input (`:email`) or a column of an earlier step (`:worker.id`). */
export type ValueRef = { kind: 'input'; name: string } | { kind: 'step'; step: string; column: string };

export interface SqlStep {
  id: string;
  connection: string;
  sql: string;
  expect: Expect;
  limit: number;
  /** True for INSERT, UPDATE and DELETE steps; they run unwrapped and their row count is bounded. */
  write: boolean;
  /** Most rows a write step may change. */
  maxRows: number | undefined;
  /** Exact number of rows a write step must change. */
  expectRows: number | undefined;
  /** For MongoDB steps, the query; `sql` and `compiled` are then empty. */
  mongo: MongoQuery | undefined;
  /** Position in the tool file where the step's `sql` (or `mongodb`) value starts, for problems found later. */
  position: { line: number; column: number };
  /** The SQL with `$1..$n` in place of named references, and what each `$n` binds. */
  compiled: { text: string; params: ValueRef[] };
}

export type Step = SqlStep;

export interface Tool {
  name: string;
  title: string;
  description: string;
  inputs: Record<string, InputSpec>;
  /** Input names in declaration order: the order of positional values. */
  inputOrder: string[];
  steps: Step[];
  output: { text: string; data: string[] };
  notFound: string | undefined;
  timeoutMs: number;
  slack: { command: string | undefined; responseType: 'ephemeral' | 'in_channel'; progress: string | undefined };
  /** True when any step writes: the tool then needs confirmation and is always audited. */
  writes: boolean;
  /** Whether runs go to the audit log (always for write tools). */
  audit: boolean;
  /** Roles that may approve a write after confirmation; empty means no approval step. */
  approvalRoles: string[];
  /** Set when the tool runs on a schedule and watches a value. */
  check: ToolCheck | undefined;
  /** Roles allowed to run the tool; empty means any authenticated principal. */
  roles: string[];
  file: string;
  /** sha256 of the file's bytes: identifies the version of the tool that ran. */
  hash: string;
  compiled: {
    text: RenderTemplate;
    notFound: RenderTemplate | undefined;
    /** The confirmation prompt of a write tool. */
    preview: RenderTemplate | undefined;
    /** Slack's acknowledgement while the tool runs, over the inputs. */
    progress: RenderTemplate | undefined;
    validateInputs: ValidateFunction;
  };
}

/** Check of a scheduled tool: the spec the state machine uses, and the source of the watched value. */
export interface ToolCheck {
  spec: CheckSpec;
  source: { kind: 'value'; step: string; field: string } | { kind: 'count'; step: string } | { kind: 'any'; step: string };
  /** Unit of the watched value, such as "pending documents", for messages. */
  unit: string | undefined;
  /** Notifier specs as written; `${env:NAME}` is resolved when the notifiers are created. */
  notify: NotifierSpec[];
}

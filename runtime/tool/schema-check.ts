/**
 * Checks a tool file against schemas/tool.schema.json and turns each Ajv error into a problem at
 * the YAML position of the offending node, with the field path, what was found and what is
 * allowed.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Problem, ProblemCode } from './problem.js';
import type { PathSegment, YamlSource } from './yaml-source.js';
import { closestName } from './suggest.js';
import { resolvePackagePath } from '../package-root.js';

export type SchemaName = 'tool' | 'config';

const schemas = new Map<SchemaName, Record<string, unknown>>();
const validators = new Map<SchemaName, ValidateFunction>();

/** Reads schemas/NAME.schema.json once. */
export function loadSchema(name: SchemaName): Record<string, unknown> {
  let schema = schemas.get(name);
  if (schema === undefined) {
    schema = JSON.parse(readFileSync(resolvePackagePath(`schemas/${name}.schema.json`), 'utf8')) as Record<string, unknown>;
    schemas.set(name, schema);
  }
  return schema;
}

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (validate === undefined) {
    validate = precompiledValidator(name) ?? compileValidator(name);
    validators.set(name, validate);
  }
  return validate;
}

function compileValidator(name: SchemaName): ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
  addFormats.default(ajv);
  return ajv.compile(loadSchema(name));
}

/**
 * Returns the validator `npm run build` generated from the same schema (scripts/build-validators.mjs),
 * which saves compiling it at every start. It is used only when it is newer than the schema file.
 */
function precompiledValidator(name: SchemaName): ValidateFunction | undefined {
  const generated = resolvePackagePath(`dist/schemas/${name}.validate.cjs`);
  try {
    if (statSync(generated).mtimeMs < statSync(resolvePackagePath(`schemas/${name}.schema.json`)).mtimeMs) return undefined;
    const loaded = createRequire(import.meta.url)(generated) as { default?: ValidateFunction } & ValidateFunction;
    return loaded.default ?? loaded;
  } catch {
    return undefined;
  }
}

/** Validates a parsed YAML document against one of toolshed's schemas; problems point into the YAML. */
export function checkAgainstSchema(source: YamlSource, value: unknown, name: SchemaName = 'tool'): Problem[] {
  const validate = validatorFor(name);
  if (validate(value)) return [];
  const problems = (validate.errors ?? []).filter(isUseful).map((error) => toProblem(source, value, error, loadSchema(name)));
  return dedupe(problems);
}

/** `anyOf`/`oneOf` and `propertyNames` summaries repeat what the errors beneath them already report. */
function isUseful(error: ErrorObject): boolean {
  return error.keyword !== 'anyOf' && error.keyword !== 'oneOf' && error.keyword !== 'if' && error.keyword !== 'propertyNames';
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.line}:${problem.column}:${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function pathOf(instancePath: string): PathSegment[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/** Formats a path the way authors read it: `steps[1].expect`. */
export function fieldName(path: readonly PathSegment[]): string {
  let name = '';
  for (const segment of path) name += typeof segment === 'number' ? `[${segment}]` : name === '' ? segment : `.${segment}`;
  return name === '' ? 'the tool file' : name;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 57)}...` : value}"`;
  return String(value);
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let value = root;
  for (const segment of path) value = (value as Record<string | number, unknown> | undefined)?.[segment];
  return value;
}

/** Keys the schema object that rejected a key allows; Ajv passes that object as `parentSchema`. */
function allowedKeys(error: ErrorObject): string[] {
  return Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
}

function toProblem(source: YamlSource, root: unknown, error: ErrorObject, schema: Record<string, unknown>): Problem {
  const path = pathOf(error.instancePath);
  const field = fieldName(path);
  const found = valueAt(root, path);
  const at = (code: ProblemCode, message: string, position = source.locate(path)): Problem => ({ file: source.file, ...position, code, message });

  // An error about a mapping key (from `propertyNames`) carries the key, and its path is the mapping's.
  if (error.propertyName !== undefined) {
    const name = error.propertyName;
    const rule = error.keyword === 'maxLength' ? `names may have at most ${String(error.params.limit)} characters` : 'names must be lowercase snake_case such as customer_email';
    return at('TOOLSHED_ERR_VALUE', `${field} has the name "${name}"; ${rule}`, source.positionOf(source.keyAt(path, name)));
  }

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      const suggestion = closestName(key, allowed);
      const hint = suggestion === undefined ? `allowed keys: ${allowed.join(', ')}` : `did you mean \`${suggestion}\`?`;
      const where = path.length === 0 ? 'the top level' : field;
      return at('TOOLSHED_ERR_UNKNOWN_KEY', `unknown key \`${key}\` in ${where}; ${hint}`, source.positionOf(source.keyAt(path, key)));
    }
    case 'required':
      return at('TOOLSHED_ERR_MISSING_KEY', `${field} is missing the required key \`${String(error.params.missingProperty)}\``);
    case 'type':
      return at('TOOLSHED_ERR_TYPE', `${field} must be ${article(String(error.params.type))}, found ${describe(found)}`);
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value));
      const suggestion = typeof found === 'string' ? closestName(found, (error.params.allowedValues as unknown[]).map(String)) : undefined;
      const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
      return at('TOOLSHED_ERR_VALUE', `${field} is ${describe(found)}; allowed: ${allowed.join(', ')}${hint}`);
    }
    case 'pattern':
      return at('TOOLSHED_ERR_VALUE', `${field} is ${describe(found)}; ${patternHint(path, String(error.params.pattern))}`);
    default:
      return at('TOOLSHED_ERR_VALUE', `${field} ${error.message ?? 'is invalid'}, found ${describe(found)}`);
  }
}

function article(type: string): string {
  if (type === 'object') return 'a mapping';
  if (type === 'array') return 'a list';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function patternHint(path: readonly PathSegment[], pattern: string): string {
  const last = path.at(-1);
  if (last === 'name') return 'a tool name is kebab-case: lowercase letters, digits and single dashes, such as worker-lookup';
  if (last === 'id') return 'a step id is lowercase snake_case, such as worker or open_tickets';
  if (last === 'timeout') return 'write a duration such as 500ms, 5s or 1m';
  return `it must match the pattern ${pattern}`;
}

// Compiles the JSON Schemas of tool files and toolshed.yaml to JavaScript at build time, so that
// starting toolshed does not spend time compiling them. runtime/tool/schema-check.ts loads these
// modules when they exist and compiles the schemas itself otherwise (tests run from the sources).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import addFormats from 'ajv-formats';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true, code: { source: true } });
addFormats.default(ajv);
mkdirSync('dist/schemas', { recursive: true });
for (const name of ['tool', 'config']) {
  const validate = ajv.compile(JSON.parse(readFileSync(`schemas/${name}.schema.json`, 'utf8')));
  writeFileSync(`dist/schemas/${name}.validate.cjs`, standaloneCode.default(ajv, validate));
}

#!/usr/bin/env node
// Entry point of the `toolshed` command. The TypeScript sources are compiled to dist/ by
// `npm install` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/runtime/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('toolshed is not built yet: run npm install (or npm run build) in the toolshed directory.\n');
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;

/**
 * Locates files shipped with the package (schemas, tools, demo data) whether the code runs from
 * the TypeScript sources or from the compiled `dist/` directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The directory that holds toolshed's package.json. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json')) || !existsSync(join(directory, 'schemas'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error('toolshed cannot find its package directory (package.json next to schemas/)');
    directory = parent;
  }
  root = directory;
  return root;
}

export function resolvePackagePath(relative: string): string {
  return join(packageRoot(), relative);
}

/**
 * API keys of the demo, kept in .toolshed/demo-keys.json in the working directory (mode 0600), so
 * that the keys a user exported stay valid when the demo restarts. The demo listens on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEMO_KEYS_FILE = join('.toolshed', 'demo-keys.json');

export interface DemoKeys {
  lead: string;
  csm: string;
}

const KEY_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export async function demoKeys(directory = process.cwd()): Promise<DemoKeys> {
  const file = join(directory, DEMO_KEYS_FILE);
  try {
    const stored = JSON.parse(await readFile(file, 'utf8')) as Partial<DemoKeys>;
    if (typeof stored.lead === 'string' && typeof stored.csm === 'string' && KEY_PATTERN.test(stored.lead) && KEY_PATTERN.test(stored.csm)) {
      return { lead: stored.lead, csm: stored.csm };
    }
  } catch {
    // No stored keys yet, or unreadable ones: make new keys below.
  }
  const keys = { lead: randomBytes(24).toString('base64url'), csm: randomBytes(24).toString('base64url') };
  try {
    await mkdir(join(directory, '.toolshed'), { recursive: true });
    await writeFile(file, `${JSON.stringify(keys)}\n`, { mode: 0o600 });
  } catch {
    // A read-only directory only means new keys on the next start.
  }
  return keys;
}

/**
 * Bearer API keys. Keys are kept only as SHA-256 digests and every presented token is compared
 * with every digest using a timing-safe compare, so neither the match nor its position leaks
 * through response time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../../config/load-config.js';
import type { Principal } from '../../engine/principal.js';

/** Longest Authorization header value examined; longer ones are rejected before hashing. */
const MAX_AUTHORIZATION_LENGTH = 512;

export type Authentication =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown_key' };

interface StoredKey {
  digest: Buffer;
  principal: Principal;
}

export class ApiKeys {
  private readonly keys: StoredKey[];

  constructor(keys: readonly ApiKeyConfig[]) {
    this.keys = keys.map((entry) => ({ digest: sha256(entry.key), principal: { id: `key:${entry.name}`, name: entry.name, roles: entry.roles } }));
  }

  get size(): number {
    return this.keys.length;
  }

  authenticate(authorization: string | undefined): Authentication {
    if (authorization === undefined || authorization.trim() === '') return { ok: false, reason: 'missing' };
    if (authorization.length > MAX_AUTHORIZATION_LENGTH) return { ok: false, reason: 'malformed' };
    const match = /^Bearer +([A-Za-z0-9._~+/=-]+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined) return { ok: false, reason: 'malformed' };

    const presented = sha256(match[1]);
    let found: Principal | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(presented, key.digest)) found = key.principal;
    }
    return found === undefined ? { ok: false, reason: 'unknown_key' } : { ok: true, principal: found };
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

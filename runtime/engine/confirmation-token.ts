/**
 * Confirmation tokens for write tools: signed (HMAC-SHA256), bound to the tool version, the
 * inputs and the principal, and valid for a few minutes. Single use is enforced by the database
 * (toolshed_confirmations), not by the token.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a preview may be confirmed. */
export const CONFIRMATION_TTL_MS = 5 * 60_000;

export interface ConfirmationClaims {
  tool: string;
  toolHash: string;
  inputs: Record<string, unknown>;
  principal: string;
  expiresAt: number;
  nonce: string;
  runId: string;
}

export type TokenCheck = { ok: true; claims: ConfirmationClaims } | { ok: false; reason: string };

export class ConfirmationTokens {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(secret).digest();
  }

  issue(claims: Omit<ConfirmationClaims, 'expiresAt' | 'nonce'>, now = Date.now()): { token: string; claims: ConfirmationClaims } {
    const full: ConfirmationClaims = { ...claims, expiresAt: now + CONFIRMATION_TTL_MS, nonce: randomBytes(16).toString('base64url') };
    const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, claims: full };
  }

  /** Checks the signature and expiry; the caller compares tool, inputs and principal. */
  verify(token: string, now = Date.now()): TokenCheck {
    const [payload, signature, extra] = token.split('.');
    if (payload === undefined || signature === undefined || extra !== undefined || token.length > 8_192) return { ok: false, reason: 'The confirmation token is malformed.' };
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'The confirmation token is not valid; it may have been altered.' };
    let claims: ConfirmationClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ConfirmationClaims;
    } catch {
      return { ok: false, reason: 'The confirmation token is malformed.' };
    }
    if (typeof claims.expiresAt !== 'number' || claims.expiresAt < now) return { ok: false, reason: 'The confirmation token has expired. Run the tool again to get a new preview.' };
    return { ok: true, claims };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/**
 * Reads a token's tool and inputs without checking it, so a surface that holds only the token (a
 * Slack button) can pass them back to the engine, which checks the token in full.
 */
export function peekClaims(token: string): Pick<ConfirmationClaims, 'tool' | 'inputs'> | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Partial<ConfirmationClaims>;
    if (typeof claims.tool !== 'string' || typeof claims.inputs !== 'object' || claims.inputs === null) return undefined;
    return { tool: claims.tool, inputs: claims.inputs };
  } catch {
    return undefined;
  }
}

/** Returns a digest of inputs that does not depend on key order. */
export function inputsDigest(inputs: Record<string, unknown>): string {
  const sorted = Object.keys(inputs)
    .sort()
    .map((key) => [key, inputs[key]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Tests for Slack request signature verification and signing. */

import { describe, expect, it } from 'vitest';

import { signSlackRequest, verifySlackSignature } from '../../../runtime/surfaces/slack/signature.js';

const SECRET = 'test-signing-secret-0123456789';
const OTHER_SECRET = 'another-signing-secret-9876543210';
const NOW = 1_700_000_000;
const BODY = Buffer.from(
  'token=x&team_id=T1&user_id=U1&command=%2Ftoolshed&text=worker-lookup%20email%3Da%40b.com&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fabc',
  'utf8',
);

/** A request and signature that several Slack libraries test against, signed with secret 8f742231…85a5. */
const KNOWN_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const KNOWN_TIMESTAMP = '1531420618';
const KNOWN_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const KNOWN_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

function verify(overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) {
  const timestamp = String(NOW);
  return verifySlackSignature({
    rawBody: BODY,
    timestamp,
    signature: signSlackRequest(SECRET, timestamp, BODY),
    secrets: [SECRET],
    nowSeconds: NOW,
    ...overrides,
  });
}

describe('signSlackRequest', () => {
  it('matches a known Slack request', () => {
    expect(signSlackRequest(KNOWN_SECRET, KNOWN_TIMESTAMP, KNOWN_BODY)).toBe(KNOWN_SIGNATURE);
  });

  it('gives the same result for string and Buffer bodies', () => {
    expect(signSlackRequest(SECRET, NOW, BODY.toString('utf8'))).toBe(signSlackRequest(SECRET, String(NOW), BODY));
  });

  it('signs the raw bytes of a non-UTF-8 body', () => {
    const latin1Body = Buffer.from([0x74, 0x65, 0x78, 0x74, 0x3d, 0xe9]);
    const utf8Body = Buffer.from('text=\u00e9', 'utf8');
    expect(signSlackRequest(SECRET, NOW, latin1Body)).not.toBe(signSlackRequest(SECRET, NOW, utf8Body));
  });
});

describe('verifySlackSignature', () => {
  it('accepts a valid signature', () => {
    expect(verify()).toEqual({ ok: true });
  });

  it('accepts the known Slack request', () => {
    const result = verifySlackSignature({
      rawBody: Buffer.from(KNOWN_BODY, 'utf8'),
      timestamp: KNOWN_TIMESTAMP,
      signature: KNOWN_SIGNATURE,
      secrets: [KNOWN_SECRET],
      nowSeconds: Number(KNOWN_TIMESTAMP),
    });
    expect(result).toEqual({ ok: true });
  });

  it('rejects a signature made with another secret', () => {
    const signature = signSlackRequest(OTHER_SECRET, NOW, BODY);
    expect(verify({ signature })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature of the wrong length', () => {
    expect(verify({ signature: 'v0=abc' })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature with another version prefix', () => {
    const signature = signSlackRequest(SECRET, NOW, BODY).replace(/^v0=/, 'v1=');
    expect(verify({ signature })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a timestamp 301 seconds old', () => {
    const timestamp = String(NOW - 301);
    const signature = signSlackRequest(SECRET, timestamp, BODY);
    expect(verify({ timestamp, signature })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('rejects a timestamp 301 seconds ahead', () => {
    const timestamp = String(NOW + 301);
    const signature = signSlackRequest(SECRET, timestamp, BODY);
    expect(verify({ timestamp, signature })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('accepts timestamps exactly 300 seconds off', () => {
    for (const timestamp of [String(NOW - 300), String(NOW + 300)]) {
      const signature = signSlackRequest(SECRET, timestamp, BODY);
      expect(verify({ timestamp, signature })).toEqual({ ok: true });
    }
  });

  it('applies a custom tolerance', () => {
    const timestamp = String(NOW - 61);
    const signature = signSlackRequest(SECRET, timestamp, BODY);
    expect(verify({ timestamp, signature, toleranceSeconds: 60 })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('uses the system clock by default', () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = signSlackRequest(SECRET, timestamp, BODY);
    expect(verify({ timestamp, signature, nowSeconds: undefined })).toEqual({ ok: true });
  });

  it('rejects missing headers', () => {
    const cases = [{ timestamp: undefined }, { signature: undefined }, { timestamp: '' }, { signature: '' }];
    for (const overrides of cases) {
      expect(verify(overrides), JSON.stringify(overrides)).toEqual({ ok: false, reason: 'missing_headers' });
    }
  });

  it('rejects malformed timestamps', () => {
    for (const timestamp of ['abc', '1.5', '-300', ' 1700000000', '1700000000 ', '1e9', '0x10', '9999999999999999']) {
      const signature = signSlackRequest(SECRET, timestamp, BODY);
      expect(verify({ timestamp, signature }), timestamp).toEqual({ ok: false, reason: 'malformed_timestamp' });
    }
  });

  it('rejects a body altered by one byte', () => {
    const altered = Buffer.from(BODY);
    altered[altered.length - 1] = (altered[altered.length - 1] ?? 0) ^ 0x01;
    expect(verify({ rawBody: altered })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a body re-encoded with + for spaces', () => {
    const reEncoded = Buffer.from(BODY.toString('utf8').replace('%20', '+'), 'utf8');
    expect(reEncoded.equals(BODY)).toBe(false);
    expect(verify({ rawBody: reEncoded })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts the second secret during rotation', () => {
    const signature = signSlackRequest(OTHER_SECRET, NOW, BODY);
    expect(verify({ signature, secrets: [SECRET, OTHER_SECRET] })).toEqual({ ok: true });
  });

  it('accepts the first secret during rotation', () => {
    expect(verify({ secrets: [SECRET, OTHER_SECRET] })).toEqual({ ok: true });
  });

  it('rejects when no secret is configured', () => {
    expect(verify({ secrets: [] })).toEqual({ ok: false, reason: 'no_secret' });
  });

  it('ignores empty secrets', () => {
    const signature = signSlackRequest('', NOW, BODY);
    expect(verify({ signature, secrets: [''] })).toEqual({ ok: false, reason: 'no_secret' });
    expect(verify({ signature, secrets: ['', SECRET] })).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

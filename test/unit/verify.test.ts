import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.js';
import { readSessionClaims, verifyIdToken, type VerifyOptions } from '../../src/verify.js';

const ISSUER = 'https://idp.example';
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const nowSec = NOW / 1000;

let privateKey: CryptoKey;
let options: VerifyOptions;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1' };
  options = { issuer: ISSUER, audience: 'my-spa', keys: createLocalJWKSet({ keys: [jwk] }), algorithms: ['RS256'], now: NOW };
});

function token(claims: Record<string, unknown> = {}, key: CryptoKey = privateKey, alg = 'RS256'): Promise<string> {
  const payload = { iss: ISSUER, aud: 'my-spa', sub: 'alice', iat: nowSec - 10, exp: nowSec + 3600, auth_time: nowSec - 60, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg, kid: 'k1' }).sign(key);
}

async function rejection(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(SessionError);
  return error as SessionError;
}

describe('verifyIdToken', () => {
  it('accepts a well-signed token and reads auth_time', async () => {
    const verified = await verifyIdToken(await token(), options);
    expect(verified.claims.sub).toBe('alice');
    expect(verified.authTime).toBe(NOW - 60_000);
    expect(verified.issuedAt).toBe(NOW - 10_000);
  });

  it('rejects a bad signature', async () => {
    const good = await token();
    const [h, p] = good.split('.');
    const forged = await token({}, otherKey);
    const error = await rejection(verifyIdToken(`${h}.${p}.${forged.split('.')[2]}`, options));
    expect(error.code).toBe('ID_TOKEN_INVALID');
  });

  it('rejects a payload changed after signing', async () => {
    const [h, , s] = (await token()).split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'mallory', iss: ISSUER, aud: 'my-spa', iat: nowSec, exp: nowSec + 60 })).toString('base64url');
    expect((await rejection(verifyIdToken(`${h}.${payload}.${s}`, options))).code).toBe('ID_TOKEN_INVALID');
  });

  it('rejects the wrong issuer', async () => {
    const error = await rejection(verifyIdToken(await token({ iss: 'https://evil.example' }), options));
    expect(error.code).toBe('ID_TOKEN_INVALID');
    expect(error.message).toContain('iss');
  });

  it('rejects the wrong audience', async () => {
    const error = await rejection(verifyIdToken(await token({ aud: 'someone-else' }), options));
    expect(error.code).toBe('ID_TOKEN_INVALID');
    expect(error.message).toContain('aud');
  });

  it('rejects several audiences without azp naming this client', async () => {
    const error = await rejection(verifyIdToken(await token({ aud: ['my-spa', 'other'] }), options));
    expect(error.message).toContain('azp');
  });

  it('rejects an expired token', async () => {
    const error = await rejection(verifyIdToken(await token(), { ...options, now: NOW + 3600_000 + 61_000 }));
    expect(error.code).toBe('ID_TOKEN_INVALID');
    expect(error.message).toContain('exp');
  });

  it('rejects alg none', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'alice', iss: ISSUER, aud: 'my-spa', iat: nowSec, exp: nowSec + 60 })).toString('base64url');
    const error = await rejection(verifyIdToken(`${header}.${payload}.`, { ...options, algorithms: ['none', 'RS256'] }));
    expect(error.code).toBe('ID_TOKEN_INVALID');
  });

  it('rejects an HMAC token even when HS256 is listed', async () => {
    const hs = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience('my-spa')
      .setIssuedAt(nowSec).setExpirationTime(nowSec + 60).sign(new TextEncoder().encode('x'.repeat(32)));
    const error = await rejection(verifyIdToken(hs, { ...options, algorithms: ['HS256', 'RS256'] }));
    expect(error.code).toBe('ID_TOKEN_INVALID');
  });

  it('rejects an algorithm outside the profile\'s allow-list (NHS login: RS512 only)', async () => {
    const error = await rejection(verifyIdToken(await token(), { ...options, algorithms: ['RS512'] }));
    expect(error.code).toBe('ID_TOKEN_INVALID');
  });

  it('rejects a token without iat', async () => {
    const noIat = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setAudience('my-spa')
      .setExpirationTime(nowSec + 60).sign(privateKey);
    expect((await rejection(verifyIdToken(noIat, options))).code).toBe('ID_TOKEN_INVALID');
  });
});

describe('readSessionClaims', () => {
  const base = { iat: nowSec };

  it('reads session_expiry as a number', () => {
    expect(readSessionClaims({ ...base, session_expiry: 1781823778 }).sessionExpiresAt).toBe(1781823778_000);
  });

  it('reads session_expiry as a numeric string (the Broker\'s documented form)', () => {
    expect(readSessionClaims({ ...base, session_expiry: '1781823778' }).sessionExpiresAt).toBe(1781823778_000);
  });

  it.each([['soon'], ['1781823778.5'], [''], [' 1781823778'], ['-1'], [-5], [Number.NaN], [true], [{}]])(
    'fails closed on a session_expiry that does not parse: %j',
    (value) => {
      expect(() => readSessionClaims({ ...base, session_expiry: value })).toThrow(SessionError);
    },
  );

  it('has no session_expiry when the claim is absent', () => {
    expect(readSessionClaims(base).sessionExpiresAt).toBeNull();
  });

  it('reports a missing auth_time as null (the caller falls back to sign-in time)', () => {
    expect(readSessionClaims(base).authTime).toBeNull();
  });

  it('fails closed on an auth_time that is not a number', () => {
    expect(() => readSessionClaims({ ...base, auth_time: '1781823778' })).toThrow('"auth_time"');
  });

  it('takes sid, else the Broker\'s neb_sid', () => {
    expect(readSessionClaims({ ...base, sid: 'a', neb_sid: 'b' }).sid).toBe('a');
    expect(readSessionClaims({ ...base, neb_sid: 'b' }).sid).toBe('b');
    expect(readSessionClaims(base).sid).toBeNull();
    expect(() => readSessionClaims({ ...base, sid: 7 })).toThrow('"sid"');
  });
});

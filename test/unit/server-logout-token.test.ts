// The logout token rules of OpenID Connect Back-Channel Logout 1.0 §2.6, one test per rule,
// with the negative cases of the OpenID Foundation's RP conformance plan
// (oidcc-client-back-channel-logout-rp): alg none, a wrong alg, a wrong iss, a wrong aud,
// a nonce, a wrong or missing events member; and the rules the plan leaves out.
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutTokenError, validateLogoutToken, type LogoutTokenOptions } from '../../src/server/logout-token.js';

const ISSUER = 'https://op.example';
const CLIENT = 'rp-1';
const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const sec = Math.floor(NOW / 1000);
let privateKey: CryptoKey;
let options: LogoutTokenOptions;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
  options = { issuer: ISSUER, audience: CLIENT, keys: createLocalJWKSet({ keys: [jwk] }), algorithms: ['RS256'], now: NOW };
});

const claims = (over: Record<string, unknown> = {}): JWTPayload => ({
  iss: ISSUER, aud: CLIENT, iat: sec, exp: sec + 120, jti: 'jti-1', sid: 'sid-1', sub: 'alice',
  events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...over,
});

const sign = (payload: JWTPayload, header: Record<string, unknown> = {}) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt', ...header }).sign(privateKey);

const without = (name: string) => {
  const c = claims();
  delete c[name];
  return c;
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refused(token: string | Promise<string>): Promise<string> {
  const error = await validateLogoutToken(await token, options).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(LogoutTokenError);
  return (error as Error).message;
}

describe('a valid logout token', () => {
  it('is accepted, with its sub, sid, jti and expiry', async () => {
    await expect(validateLogoutToken(await sign(claims()), options)).resolves.toEqual({ iss: ISSUER, sub: 'alice', sid: 'sid-1', jti: 'jti-1', expiresAt: (sec + 120) * 1000 });
  });

  it('is accepted with sid only, and with sub only', async () => {
    await expect(validateLogoutToken(await sign(without('sub')), options)).resolves.toMatchObject({ sub: null, sid: 'sid-1' });
    await expect(validateLogoutToken(await sign(without('sid')), options)).resolves.toMatchObject({ sub: 'alice', sid: null });
  });

  it('is accepted without typ (explicit typing is recommended, not required)', async () => {
    await expect(validateLogoutToken(await sign(claims(), { typ: undefined }), options)).resolves.toMatchObject({ sid: 'sid-1' });
  });
});

describe('the conformance plan\'s negative cases', () => {
  it('refuses alg none', async () => {
    expect(await refused(`${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64(claims())}.`)).toMatch(/algorithm "none"/);
  });

  it('refuses a wrong alg (HS256 keyed with the public key, and an algorithm outside the list)', async () => {
    expect(await refused(`${b64({ alg: 'HS256', typ: 'logout+jwt' })}.${b64(claims())}.c2ln`)).toMatch(/algorithm "HS256"/);
    const es = await generateKeyPair('ES256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(es.privateKey);
    expect(await refused(token)).toMatch(/algorithm "ES256"/);
  });

  it('refuses a wrong iss', async () => {
    expect(await refused(sign(claims({ iss: 'https://evil.example' })))).toMatch(/iss/);
  });

  it('refuses a wrong aud', async () => {
    expect(await refused(sign(claims({ aud: 'another-rp' })))).toMatch(/aud/);
  });

  it('refuses a nonce', async () => {
    expect(await refused(sign(claims({ nonce: 'n-1' })))).toMatch(/nonce/);
  });

  it.each([
    ['missing', undefined],
    ['not an object', 'logout'],
    ['without the back-channel logout member', { 'http://schemas.openid.net/event/other': {} }],
    ['with the member not an object', { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' }],
  ])('refuses events %s', async (_name, events) => {
    const c = claims({ events });
    if (events === undefined) delete c.events;
    expect(await refused(sign(c))).toMatch(/events/);
  });
});

describe('the other rules of §2.6', () => {
  it('refuses a bad signature', async () => {
    const other = await generateKeyPair('RS256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(other.privateKey);
    expect(await refused(token)).toMatch(/verification/);
  });

  it('refuses neither sub nor sid', async () => {
    const c = without('sub');
    delete c.sid;
    expect(await refused(sign(c))).toMatch(/neither "sub" nor "sid"/);
  });

  it.each(['iat', 'exp', 'jti'])('refuses a token without %s', async (name) => {
    expect(await refused(sign(without(name)))).toMatch(new RegExp(name));
  });

  it('refuses an expired token, and one issued long ago', async () => {
    expect(await refused(sign(claims({ iat: sec - 300, exp: sec - 120 })))).toMatch(/exp/);
    expect(await refused(sign(claims({ iat: sec - 3600, exp: sec + 3600 })))).toMatch(/iat|age/i);
  });

  it('takes a token without exp from a provider whose profile says it omits it (logoutTokenRequiresExp: false), its jti kept as long as its age allows', async () => {
    await expect(validateLogoutToken(await sign(without('exp')), { ...options, requireExp: false })).resolves.toMatchObject({ jti: 'jti-1', expiresAt: (sec + 600) * 1000 });
    // Its age is still bounded by iat.
    const old = claims({ iat: sec - 3600 });
    delete old.exp;
    await expect(validateLogoutToken(await sign(old), { ...options, requireExp: false })).rejects.toThrow(/iat|age/i);
  });

  it('refuses a typ other than logout+jwt', async () => {
    expect(await refused(sign(claims(), { typ: 'at+jwt' }))).toMatch(/typ/);
  });

  it('refuses a sid that is not a non-empty string', async () => {
    expect(await refused(sign(claims({ sid: 42 })))).toMatch(/sid/);
  });

  it('refuses what is not a JWS at all', async () => {
    expect(await refused('not-a-token')).toMatch(/not a JWS/);
  });
});

// @vitest-environment happy-dom
// The protocol adapter on oidc-client-ts's OidcClient, against a stand-in token endpoint
// (fetch is stubbed: no provider runs in a unit test; the end-to-end tests use a real one).
import { expect, it, vi } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import { REQUEST_TIMEOUT_MS } from '../../src/constants.js';
import { profiles } from '../../src/profiles.js';
import { createProtocol } from '../../src/protocol/index.js';
import { LostAnswer } from '../../src/protocol/types.js';
import { CLIENT_ID, FakeClock, ISSUER } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const metadata = {
  issuer: ISSUER, jwksUri: `${ISSUER}/jwks`, endSessionEndpoint: null,
  raw: { issuer: ISSUER, authorization_endpoint: `${ISSUER}/auth`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks` },
};
const tokens = { idToken: 'header.payload.sig', accessToken: 'at-0', refreshToken: 'rt-0', accessTokenExpiresAt: T0 };

function tokenEndpoint(body: Record<string, unknown>) {
  const requests: URLSearchParams[] = [];
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    requests.push(new URLSearchParams(String(init.body)));
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  });
  return requests;
}

it('keeps the refresh token and ID token a refresh response leaves out (no rotation, RFC 6749 §6), and counts expiry on the session clock', async () => {
  const requests = tokenEndpoint({ access_token: 'at-1', token_type: 'Bearer', expires_in: 300 });
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
  // The session's time runs an hour ahead of Date.now() here (its clock was set back and never goes back).
  const sessionNow = () => Date.now() + 3600_000;
  const port = createProtocol(settings, metadata, clock, sessionNow, profiles.generic);
  const renewed = await port.refresh(tokens, { sub: 'alice' });
  expect(requests[0]?.get('grant_type')).toBe('refresh_token');
  expect(requests[0]?.get('refresh_token')).toBe('rt-0');
  expect(requests[0]?.has('scope')).toBe(false);
  expect(renewed).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-0', idToken: 'header.payload.sig' });
  expect(Math.abs(renewed.accessTokenExpiresAt! - (sessionNow() + 300_000))).toBeLessThan(2000);
});

it('takes a rotated refresh token', async () => {
  tokenEndpoint({ access_token: 'at-1', token_type: 'Bearer', refresh_token: 'rt-1' });
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
  const renewed = await createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' });
  expect(renewed).toMatchObject({ refreshToken: 'rt-1', accessTokenExpiresAt: null });
});

it('asks for no scope on refresh, whatever scope sign-in asked for: a provider may have granted less (RFC 6749 §6)', async () => {
  const requests = tokenEndpoint({ access_token: 'at-1', token_type: 'Bearer' });
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, scope: 'openid profile email offline_access' });
  await createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' });
  expect([...requests[0]!.keys()].sort()).toEqual(['client_id', 'grant_type', 'refresh_token']);
});

it('sends nothing while the browser is offline: NETWORK, and the refresh token stays good', async () => {
  const requests = tokenEndpoint({ access_token: 'at-1', token_type: 'Bearer' });
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
  try {
    const clock = new FakeClock(T0);
    const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
    const error = await createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK', message: expect.stringContaining('not sent') });
    expect((error as Error).cause).not.toBeInstanceOf(LostAnswer);
    expect(requests).toEqual([]);
  } finally {
    vi.restoreAllMocks();
  }
});

it('a connection lost after the request went out: the answer is lost (RENEW_FAILED caused by LostAnswer), never NETWORK', async () => {
  vi.stubGlobal('fetch', async () => {
    throw new TypeError('Failed to fetch');
  });
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
  const error = await createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' }).catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'RENEW_FAILED', message: expect.stringContaining('answer was lost') });
  expect((error as Error).cause).toBeInstanceOf(LostAnswer);
});

it('a token endpoint that never answers: the answer is lost after the request time limit', async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    // A fetch that hangs until aborted, as a provider that accepts the connection and never answers.
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => new Promise((_resolve, reject) => {
      init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    }));
    const clock = new FakeClock(T0);
    const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
    const outcome = createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(REQUEST_TIMEOUT_MS - 1);
    let settled = false;
    void outcome.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toMatchObject({ code: 'RENEW_FAILED', cause: expect.any(LostAnswer) });
  } finally {
    vi.useRealTimers();
  }
});

it.each([
  ['server_error', 500],
  ['temporarily_unavailable', 503],
])('the provider\'s own error answer %s (RFC 6749 §5.2: nothing issued) is NETWORK: the token holds, for a later renewal', async (error, status) => {
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error }), { status, headers: { 'content-type': 'application/json' } }));
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
  const failure = await createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' }).catch((e: unknown) => e);
  expect(failure).toMatchObject({ code: 'NETWORK', message: expect.stringContaining(error) });
  expect((failure as Error).cause).not.toBeInstanceOf(LostAnswer);
});

it.each([
  ['HTTP 504 from a gateway, without a body', () => new Response('', { status: 504, statusText: 'Gateway Timeout' })],
  ['HTTP 502 with an HTML page', () => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } })],
  ['HTTP 200 whose body does not parse', () => new Response('{"access_token":', { status: 200, headers: { 'content-type': 'application/json' } })],
])('no answer from the provider itself (%s) is a lost answer: the token may have been used', async (_name, answer) => {
  vi.stubGlobal('fetch', async () => answer());
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
  const failure = await createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' }).catch((e: unknown) => e);
  expect(failure).toMatchObject({ code: 'RENEW_FAILED', cause: expect.any(LostAnswer) });
});

it('a refusal of the grant (invalid_grant) is not a network failure', async () => {
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: 'invalid_grant' }), { status: 400, headers: { 'content-type': 'application/json' } }));
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
  await expect(createProtocol(settings, metadata, clock, () => Date.now(), profiles.generic).refresh(tokens, { sub: 'alice' })).rejects.toMatchObject({ code: 'RENEW_FAILED' });
});

it('a token endpoint that sends its headers and never the body: the answer is lost after the request time limit', async () => {
  // oidc-client-ts's own time limit stops when the headers arrive; the SDK's covers the whole call.
  vi.stubGlobal('fetch', async () => ({
    ok: true, status: 200, headers: new Headers({ 'content-type': 'application/json' }),
    text: () => new Promise(() => undefined), json: () => new Promise(() => undefined),
  }));
  const clock = new FakeClock(T0);
  const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
  const outcome = createProtocol(settings, metadata, clock, () => clock.now(), profiles.generic).refresh(tokens, { sub: 'alice' }).catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 0));
  clock.advance(REQUEST_TIMEOUT_MS);
  expect(await outcome).toMatchObject({ code: 'RENEW_FAILED', cause: expect.any(LostAnswer) });
});

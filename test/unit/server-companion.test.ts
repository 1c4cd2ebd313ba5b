// The server companion against the real local provider (oidc-provider, demo/idp), both on
// 127.0.0.1 on ports picked here: metadata and keys passed through, the code exchange with
// private_key_jwt (the NHS login client), the proxy's refusals, back-channel logout to an
// event stream, sign-out, and the options' errors. The sign-in at the provider is driven by
// HTTP requests, as a browser would make them.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, startIdp, TEST_USER, type Idp } from '../../demo/idp/index.js';
import { BACKCHANNEL_LOGOUT_EVENT, createCompanion, memoryStore, type Companion } from '../../src/server/index.js';
import { resolveCompanionOptions } from '../../src/server/options.js';

let idp: Idp;
let server: Server;
let companion: Companion;
let base: string;
const redirectUri = () => `${base}/callback`;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp = await startIdp({ appOrigins: [base] });
  companion = createCompanion({
    issuer: idp.issuer, clientId: CLIENTS.nhsLogin, redirectUris: [redirectUri()], provider: 'nhs-login',
    clientAuth: { method: 'private_key_jwt', privateJwk: idp.nhsLoginClientKey },
  });
  server.on('request', (req, res) => companion.handler(req, res));
});

afterAll(async () => {
  await companion.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await idp.close();
});

/** A cookie jar for the requests a browser would make. */
function jar() {
  const cookies = new Map<string, string>();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    take(response: Response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const [name, ...value] = pair!.split('=');
        cookies.set(name!.trim(), value.join('='));
      }
    },
  };
}

/** Signs in at the provider as the test user and returns the authorization code and PKCE verifier. */
async function authorize(clientId = CLIENTS.nhsLogin): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const cookies = jar();
  const go = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: cookies.header() } });
    cookies.take(response);
    return response;
  };
  const query = new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri(), scope: 'openid', state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256' });
  let response = await go(`${idp.issuer}/auth?${query}`);
  const interaction = new URL(response.headers.get('location')!, idp.issuer).href;
  await go(interaction);
  response = await go(`${interaction}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: TEST_USER.username, password: TEST_USER.password }) });
  for (let hops = 0; hops < 5; hops++) {
    const location = new URL(response.headers.get('location')!, idp.issuer);
    if (location.href.startsWith(redirectUri())) return { code: location.searchParams.get('code')!, verifier };
    response = await go(location.href);
  }
  throw new Error('the provider did not redirect back');
}

const post = (path: string, body: URLSearchParams | string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

async function exchange(at?: string) {
  const { code, verifier } = await authorize();
  const response = await fetch(`${at ?? base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri(), client_id: CLIENTS.nhsLogin }) });
  const body = (await response.json()) as { id_token: string; access_token: string; refresh_token?: string };
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('osg_session='));
  return { response, body, cookie, handle: cookie?.split(';')[0] ?? '' };
}

/** A logout token as the provider would send it, signed with its key. */
async function logoutToken(claims: Record<string, unknown>): Promise<string> {
  const key = idp.idTokenSigningKey;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: idp.issuer, aud: CLIENTS.nhsLogin, iat: now, exp: now + 120, jti: randomBytes(8).toString('hex'), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...claims })
    // RS512, as the provider signs for this client (id_token_signed_response_alg).
    .setProtectedHeader({ alg: 'RS512', kid: key.kid!, typ: 'logout+jwt' })
    .sign(await importJWK(key, 'RS512'));
}

/** Opens the event stream and reads it: the events as they come, until it ends. */
async function stream(cookie: string) {
  const response = await fetch(`${base}/events`, { headers: { cookie } });
  const events: string[] = [];
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const done = (async () => {
    if (!reader) return;
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      text += decoder.decode(value);
      for (const match of text.matchAll(/^event: (\w+)$/gm)) if (!events.includes(`${match.index}:${match[1]}`)) events.push(`${match.index}:${match[1]}`);
    }
  })();
  const names = () => events.map((e) => e.split(':')[1]);
  const until = async (name: string) => {
    for (let i = 0; i < 200 && !names().includes(name); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    return names();
  };
  return { response, names, until, done };
}

describe('metadata and keys pass through', () => {
  it('serves the provider\'s discovery document with its issuer, and token_endpoint and jwks_uri here', async () => {
    const doc = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(doc).toMatchObject({ issuer: idp.issuer, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks`, authorization_endpoint: `${idp.issuer}/auth` });
  });

  it('serves the provider\'s keys', async () => {
    const theirs = await (await fetch(`${idp.issuer}/jwks`)).json();
    expect(await (await fetch(`${base}/jwks`)).json()).toEqual(theirs);
  });
});

describe('the token proxy', () => {
  it('exchanges a code for the NHS login client with private_key_jwt (RS512), and names the session in an HttpOnly, SameSite=Strict cookie', async () => {
    const mark = idp.events.length;
    const { response, body, cookie } = await exchange();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(decodeProtectedHeader(body.id_token).alg).toBe('RS512');
    expect(cookie).toMatch(/^osg_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict/);
    // The provider authenticated the client by its assertion (it accepts no public client).
    expect(idp.events.slice(mark).filter((e) => e.type === 'token' && e.clientId === CLIENTS.nhsLogin)).toHaveLength(1);
  });

  it('renews with the refresh token through the companion', async () => {
    const { body } = await exchange();
    expect(body.refresh_token).toBeTruthy();
    const response = await post('/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: body.refresh_token!, client_id: CLIENTS.nhsLogin }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { access_token: string }).access_token).not.toBe(body.access_token);
  });

  it('a refresh the provider served and whose answer was lost on the way: 502 without an OAuth error, so the browser never sends that refresh token again', async () => {
    const { body } = await exchange();
    idp.strict.loseRefreshAnswers = true;
    try {
      const response = await post('/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: body.refresh_token!, client_id: CLIENTS.nhsLogin }));
      expect(response.status).toBe(502);
      const answer = (await response.json()) as Record<string, unknown>;
      expect(answer).not.toHaveProperty('error');
      expect(answer.error_description).toMatch(/answer was lost/);
    } finally {
      idp.strict.loseRefreshAnswers = false;
    }
    // The provider did rotate it: sent again, it is a reuse.
    const again = await post('/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: body.refresh_token!, client_id: CLIENTS.nhsLogin }));
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('a token endpoint that refuses the connection (nothing sent): 503 temporarily_unavailable, an OAuth error the browser may retry', async () => {
    // A provider whose discovery answers and whose token endpoint is down (a port closed again).
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const tokenEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/token`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: downIssuer, token_endpoint: tokenEndpoint, jwks_uri: `${downIssuer}/jwks`, authorization_endpoint: `${downIssuer}/auth` }));
    });
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', () => resolve()));
    const downIssuer = `http://127.0.0.1:${(down.address() as AddressInfo).port}`;
    const proxy = createCompanion({ issuer: downIssuer, clientId: 'c', redirectUris: [redirectUri()] });
    const local = createServer((req, res) => proxy.handler(req, res));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', () => resolve()));
    try {
      const response = await fetch(`http://127.0.0.1:${(local.address() as AddressInfo).port}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r' }) });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable', error_description: expect.stringContaining('nothing was sent') });
    } finally {
      await proxy.close();
      for (const s of [local, down]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    }
  });

  it.each([
    ['another grant', new URLSearchParams({ grant_type: 'client_credentials' }), 400, 'unsupported_grant_type'],
    ['another client', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r', client_id: 'someone-else' }), 400, 'invalid_client'],
    ['an unregistered redirect URI', new URLSearchParams({ grant_type: 'authorization_code', code: 'c', code_verifier: 'v', redirect_uri: 'https://evil.example/callback' }), 400, 'invalid_grant'],
    ['a code without its PKCE verifier', new URLSearchParams({ grant_type: 'authorization_code', code: 'c', redirect_uri: 'x' }), 400, 'invalid_request'],
  ])('refuses %s without asking the provider', async (_name, form, status, error) => {
    const mark = idp.events.length;
    const response = await post('/token', form);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error });
    expect(idp.events.length).toBe(mark);
  });

  it('refuses a body that is not a form (400), one too large (413), a wrong method (405) and an unknown route (404)', async () => {
    expect((await post('/token', '{"grant_type":"refresh_token"}', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post('/token', `grant_type=refresh_token&refresh_token=${'x'.repeat(70_000)}`)).status).toBe(413);
    const wrong = await fetch(`${base}/token`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('back-channel logout reaches the event stream of that session', () => {
  it('a valid logout token for the session: 200 with no-store, and the stream hears "logout"', async () => {
    const { body, handle } = await exchange();
    const { sid } = decodeJwt(body.id_token);
    expect(sid).toEqual(expect.any(String));
    const events = await stream(handle);
    expect(events.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await events.until('ready')).toEqual(['ready']);
    const response = await post('/backchannel-logout', new URLSearchParams({ logout_token: await logoutToken({ sid }) }));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await events.until('logout')).toEqual(['ready', 'logout']);
    await events.done;
    // A stream opened afterwards hears it at once: the mark stays.
    const later = await stream(handle);
    expect(await later.until('logout')).toEqual(['logout']);
    // A session that begins after the logout is not about it.
    const next = await exchange();
    const fresh = await stream(next.handle);
    expect(await fresh.until('ready')).toEqual(['ready']);
  });

  it('a logout for another session is not heard; a sub-only logout ends every session of the user', async () => {
    const { handle } = await exchange();
    const events = await stream(handle);
    await events.until('ready');
    expect((await post('/backchannel-logout', new URLSearchParams({ logout_token: await logoutToken({ sid: 'someone-elses' }) }))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.names()).toEqual(['ready']);
    expect((await post('/backchannel-logout', new URLSearchParams({ logout_token: await logoutToken({ sub: TEST_USER.sub }) }))).status).toBe(200);
    expect(await events.until('logout')).toEqual(['ready', 'logout']);
  });

  it('refuses a replayed jti, a token with a nonce, and a missing logout_token with 400, JSON and no-store', async () => {
    const token = await logoutToken({ sid: 'sid-x' });
    expect((await post('/backchannel-logout', new URLSearchParams({ logout_token: token }))).status).toBe(200);
    const replay = await post('/backchannel-logout', new URLSearchParams({ logout_token: token }));
    expect(replay.status).toBe(400);
    expect(replay.headers.get('cache-control')).toBe('no-store');
    expect(await replay.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('jti') });
    expect((await post('/backchannel-logout', new URLSearchParams({ logout_token: await logoutToken({ sid: 'sid-y', nonce: 'n' }) }))).status).toBe(400);
    expect((await post('/backchannel-logout', new URLSearchParams({}))).status).toBe(400);
  });

  it('a browser without a session cookie gets 401 from the event stream', async () => {
    expect((await fetch(`${base}/events`)).status).toBe(401);
    expect((await fetch(`${base}/events`, { headers: { cookie: 'osg_session=unknown' } })).status).toBe(401);
  });
});

describe('sign-out through the companion', () => {
  it('POST /logout with the ID token ends the session here: its stream hears "logout"', async () => {
    const { body, handle } = await exchange();
    const events = await stream(handle);
    await events.until('ready');
    const response = await fetch(`${base}/logout`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: handle }, body: JSON.stringify({ id_token: body.id_token }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ provider: 'none' }); // NHS login has no logout API
    expect(await events.until('logout')).toEqual(['ready', 'logout']);
  });

  it('refuses a sign-out that is not JSON (415), without the session cookie (401), and with an ID token that fails verification (400)', async () => {
    const { body, handle } = await exchange();
    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { 'content-type': 'text/plain', cookie: handle }, body: 'x' })).status).toBe(415);
    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: body.id_token }) })).status).toBe(401);
    const forged = `${Buffer.from('{"alg":"RS512"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: idp.issuer, sub: 'alice', iat: 1 })).toString('base64url')}.c2ln`;
    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: handle }, body: JSON.stringify({ id_token: forged }) })).status).toBe(400);
  });
});

describe("the provider's logout API (the Signaturgruppen Broker's)", () => {
  // The Broker's logout API is not part of oidc-provider: a stand-in HTTP server takes its
  // place here and records what it is sent. The ID token is the local provider's own.
  it('is called with the latest ID token as JSON; the session is ended here whether or not it answers', async () => {
    const calls: { method: string; type: string; body: string }[] = [];
    let status = 200;
    const api = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      calls.push({ method: req.method!, type: String(req.headers['content-type']), body });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', () => resolve()));
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/v1/session/logout`;
    const broker = createCompanion({ issuer: idp.issuer, clientId: CLIENTS.nhsLogin, redirectUris: [redirectUri()], provider: 'signaturgruppen-broker', logoutApi: { url: apiUrl }, clientAuth: { method: 'private_key_jwt', privateJwk: idp.nhsLoginClientKey, alg: 'RS512' } });
    const local = createServer((req, res) => broker.handler(req, res));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', () => resolve()));
    const at = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
    try {
      const { body, handle } = await exchange(at);
      const logout = () => fetch(`${at}/logout`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: handle }, body: JSON.stringify({ id_token: body.id_token }) });
      const first = await logout();
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ provider: 'logged_out' });
      expect(calls).toEqual([{ method: 'POST', type: 'application/json', body: JSON.stringify({ id_token: body.id_token }) }]);
      status = 500;
      const failed = await logout();
      expect(failed.status).toBe(502);
      expect(await failed.json()).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await broker.close();
      for (const server of [local, api]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });

  it('defaults to POST <issuer>/api/v1/session/logout with {"id_token": ...} for the Broker, and to none for the others', () => {
    const base = { clientId: 'c', redirectUris: ['https://app.example/cb'] };
    const broker = resolveCompanionOptions({ ...base, issuer: 'https://pp.netseidbroker.dk/op', provider: 'signaturgruppen-broker' }).logoutApi!;
    expect(broker).toMatchObject({ url: 'https://pp.netseidbroker.dk/op/api/v1/session/logout', method: 'POST' });
    expect(broker.body('eyJ.x.y')).toEqual({ id_token: 'eyJ.x.y' });
    expect(resolveCompanionOptions({ ...base, issuer: 'https://op.example' }).logoutApi).toBeNull();
    expect(() => createCompanion({ ...base, issuer: 'https://op.example', logoutApi: { url: 'ftp://x' } })).toThrow(/"logoutApi.url" must use https/);
  });
});

describe('createCompanion refuses bad options, naming them', () => {
  const good = () => ({ issuer: 'https://op.example', clientId: 'c', redirectUris: ['https://app.example/callback'] });
  it.each([
    ['a private JWK without "d"', { provider: 'nhs-login', clientAuth: { method: 'private_key_jwt', privateJwk: { kty: 'RSA', n: 'x', e: 'AQAB' } } }, /"clientAuth.privateJwk" must be a private key/],
    ['an alg NHS login does not accept', { provider: 'nhs-login', clientAuth: { method: 'private_key_jwt', privateJwk: { kty: 'RSA', d: 'x' }, alg: 'RS256' } }, /"clientAuth.alg" must be one of RS512/],
    ['NHS login without client authentication', { provider: 'nhs-login' }, /"clientAuth" is required for 'nhs-login'/],
    ['no redirect URIs', { redirectUris: [] }, /"redirectUris" must name at least one/],
    ['an http issuer off localhost', { issuer: 'http://op.example' }, /"issuer" must use https/],
    ['an unknown option', { clientSecret: 'x' }, /"clientSecret" is not an option/],
    ['a store without its methods', { store: {} }, /"store" must be a store/],
  ])('%s', (_name, over, message) => {
    expect(() => createCompanion({ ...good(), ...over } as never)).toThrow(message);
  });

  it('accepts http on 127.0.0.1 and a store of its own', async () => {
    const store = memoryStore();
    const made = createCompanion({ ...good(), issuer: 'http://127.0.0.1:9', store });
    await made.close();
    await store.close();
  });
});

describe('a provider out of reach', () => {
  it('answers 502 with JSON for metadata and the token endpoint', async () => {
    const lost = createCompanion({ issuer: 'http://127.0.0.1:9', clientId: 'c', redirectUris: [redirectUri()] });
    const local = createServer((req, res) => lost.handler(req, res));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', () => resolve()));
    const at = `http://127.0.0.1:${(local.address() as AddressInfo).port}`;
    try {
      const meta = await fetch(`${at}/.well-known/openid-configuration`);
      expect(meta.status).toBe(502);
      expect(await meta.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const token = await fetch(`${at}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r' }) });
      expect(token.status).toBe(502);
    } finally {
      await lost.close();
      local.closeAllConnections();
      await new Promise<void>((resolve) => local.close(() => resolve()));
    }
  });
});

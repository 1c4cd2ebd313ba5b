// Several companion instances sharing one real Redis (Debian's redis-server, started here on
// a loopback port picked here, stopped after): a logout received by one instance reaches an
// event stream on the other, a jti replayed to the other is refused, and with Redis stopped
// the instances answer 503 within seconds, then recover when it is back.
import type { ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, startIdp, TEST_USER, type Idp } from '../../demo/idp/index.js';
import { BACKCHANNEL_LOGOUT_EVENT, createCompanion, redisStore, type Companion, type CompanionStore } from '../../src/server/index.js';
import { freePort, startRedis, stopRedis } from '../redis-server.js';


interface Instance { readonly base: string; readonly server: Server; readonly companion: Companion; readonly store: CompanionStore }

let idp: Idp;
let redisPort: number;
let redis: ChildProcess;
const instances: Instance[] = [];

async function instance(): Promise<Instance> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = redisStore({ url: `redis://127.0.0.1:${redisPort}` });
  return { base, server, store, companion: null as unknown as Companion };
}

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  const a = await instance();
  const b = await instance();
  // One provider; both instances serve the same client and redirect URI (behind one balancer).
  idp = await startIdp({ appOrigins: [a.base] });
  for (const i of [a, b]) {
    const companion = createCompanion({
      issuer: idp.issuer, clientId: CLIENTS.nhsLogin, redirectUris: [`${a.base}/callback`], provider: 'nhs-login',
      clientAuth: { method: 'private_key_jwt', privateJwk: idp.nhsLoginClientKey }, store: i.store,
    });
    i.server.on('request', (req, res) => companion.handler(req, res));
    instances.push({ ...i, companion });
  }
}, 30_000);

afterAll(async () => {
  for (const i of instances) {
    await i.companion.close();
    await i.store.close();
    i.server.closeAllConnections();
    await new Promise<void>((resolve) => i.server.close(() => resolve()));
  }
  await idp?.close();
  if (redis) await stopRedis(redis);
});

/** A session at the provider, its code exchanged through instance `at`: the ID token and the session cookie. */
async function session(at: Instance): Promise<{ idToken: string; cookie: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `${instances[0]!.base}/callback`;
  const cookies = new Map<string, string>();
  const go = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const [name, ...value] = line.split(';')[0]!.split('=');
      cookies.set(name!, value.join('='));
    }
    return response;
  };
  const query = new URLSearchParams({ client_id: CLIENTS.nhsLogin, response_type: 'code', redirect_uri: redirectUri, scope: 'openid', state: 's', nonce: 'n', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' });
  let response = await go(`${idp.issuer}/auth?${query}`);
  const interaction = new URL(response.headers.get('location')!, idp.issuer).href;
  response = await go(`${interaction}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: TEST_USER.username, password: TEST_USER.password }) });
  let code = '';
  for (let hops = 0; hops < 5 && !code; hops++) {
    const location = new URL(response.headers.get('location')!, idp.issuer);
    if (location.href.startsWith(redirectUri)) code = location.searchParams.get('code')!;
    else response = await go(location.href);
  }
  const token = await fetch(`${at.base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }) });
  expect(token.status).toBe(200);
  const cookie = token.headers.getSetCookie().find((c) => c.startsWith('osg_session='))!.split(';')[0]!;
  return { idToken: ((await token.json()) as { id_token: string }).id_token, cookie };
}

async function logoutToken(sid: string): Promise<string> {
  const key = idp.idTokenSigningKey;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: idp.issuer, aud: CLIENTS.nhsLogin, iat: now, exp: now + 120, jti: randomBytes(8).toString('hex'), sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
    .setProtectedHeader({ alg: 'RS512', kid: key.kid!, typ: 'logout+jwt' })
    .sign(await importJWK(key, 'RS512'));
}

const backchannel = (at: Instance, token: string) =>
  fetch(`${at.base}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }), signal: AbortSignal.timeout(10_000) });

/** Reads an event stream until `name` comes (or 5 s pass); returns the event names seen. */
async function heard(at: Instance, cookie: string, trigger: () => Promise<void>, name: string): Promise<string[]> {
  const response = await fetch(`${at.base}/events`, { headers: { cookie } });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const names = () => [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]!);
  const until = async (wanted: string) => {
    const deadline = Date.now() + 5_000;
    while (!names().includes(wanted) && Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), 100))]);
      if (chunk && !chunk.done) text += decoder.decode(chunk.value);
      if (chunk?.done) break;
    }
  };
  await until('ready');
  await trigger();
  await until(name);
  await reader.cancel();
  return names();
}

describe('two companion instances sharing one Redis', () => {
  it('a logout token received by instance A reaches the event stream held on instance B', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { idToken, cookie } = await session(a);
    const sid = decodeJwt(idToken).sid as string;
    const names = await heard(b, cookie, async () => {
      expect((await backchannel(a, await logoutToken(sid))).status).toBe(200);
    }, 'logout');
    expect(names).toEqual(['ready', 'logout']);
  });

  it('a jti used at instance A is refused when replayed to instance B', async () => {
    const [a, b] = instances as [Instance, Instance];
    const token = await logoutToken('sid-replayed');
    expect((await backchannel(a, token)).status).toBe(200);
    const replay = await backchannel(b, token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error_description: expect.stringContaining('jti') });
  });

  it('with Redis stopped, a logout is answered 503 within seconds (never 200) and the token endpoint too; when Redis is back, both work again', async () => {
    const [a, b] = instances as [Instance, Instance];
    const { idToken } = await session(a);
    const sid = decodeJwt(idToken).sid as string;
    await stopRedis(redis);
    const started = Date.now();
    const refused = await backchannel(b, await logoutToken(sid));
    expect(refused.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(6_000);
    const token = await fetch(`${a.base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r' }) });
    expect(token.status).toBe(503);
    redis = await startRedis(redisPort);
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await backchannel(b, await logoutToken(sid))).status;
    }
    expect(status).toBe(200);
  }, 30_000);
});

describe('a stream on a fresh instance', () => {
  it('is listening before it says ready: a logout published right after reaches it', async () => {
    const a = redisStore({ url: `redis://127.0.0.1:${redisPort}` });
    const b = redisStore({ url: `redis://127.0.0.1:${redisPort}` });
    const companion = createCompanion({ issuer: 'http://127.0.0.1:9', clientId: 'c', redirectUris: ['http://127.0.0.1/cb'], store: a });
    const server = createServer((req, res) => companion.handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      await b.putSession('h', { sub: 'a', sid: 's', since: Date.now() - 10 }, 60_000);
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, { headers: { cookie: 'osg_session=h' } });
      const reader = response.body!.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain('ready');
      // Another instance receives a logout for this session at once.
      await b.mark(['http://127.0.0.1:9|sid|s'], Date.now(), 60_000);
      await b.publish(['http://127.0.0.1:9|sid|s']);
      const more = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), 2_000))]);
      if (more && !more.done) text += new TextDecoder().decode(more.value);
      expect(text).toContain('event: logout');
    } finally {
      await companion.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await a.close();
      await b.close();
    }
  });
});

describe('redisStore refuses bad options', () => {
  it.each([
    [{}, /exactly one of "url" and "client"/],
    [{ url: 'http://127.0.0.1:6379' }, /"url" must be a redis:\/\//],
  ])('%j', (options, message) => {
    expect(() => redisStore(options as never)).toThrow(message);
  });
});

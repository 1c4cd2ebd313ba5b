// Attacks on the server companion, each found by a hostile review and each failing before
// its fix: a Host header reflected into cacheable metadata, a cross-site form posting its own
// code (login CSRF), a store failing between steps of a logout, a leaked old ID token used to
// sign a user out, streams left behind by clients that hang up early, a provider redirect
// carrying the client's secret away, path tricks, and cookie attributes smuggled in a mount
// path. The provider here is a stand-in HTTP server under the test's control: a misbehaving
// provider cannot be made of the real one.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, createCompanion, memoryStore, type Companion, type CompanionOptions, type CompanionStore } from '../../src/server/index.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A provider under the test's control: metadata, keys, and a token endpoint answering `token(form)`. */
async function fakeProvider(token?: (form: URLSearchParams, req: IncomingMessage, res: ServerResponse) => void) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const { base } = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/.well-known/openid-configuration') return json({ issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/auth` });
      if (req.url === '/jwks') return json({ keys: [jwk] });
      if (req.url === '/token' && token) return token(new URLSearchParams(Buffer.concat(chunks).toString()), req, res);
      res.writeHead(404).end();
    });
  });
  issuer = base;
  const sign = (claims: Record<string, unknown>, typ = 'JWT') => new SignJWT({ iss: issuer, aud: 'client', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ }).sign(privateKey);
  return { issuer, sign };
}

async function mount(options: Partial<CompanionOptions> & { issuer: string }, wrap?: (req: IncomingMessage & { baseUrl?: string }) => void) {
  const companion: Companion = createCompanion({ clientId: 'client', redirectUris: ['http://127.0.0.1/cb'], ...options } as CompanionOptions);
  closers.push(() => companion.close());
  const { base } = await listen((req, res) => {
    wrap?.(req);
    companion.handler(req, res);
  });
  return { companion, base };
}

const form = (base: string, path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });

const now = () => Math.floor(Date.now() / 1000);

/** Opens /events and collects event names. */
async function stream(base: string, cookie: string) {
  const response = await fetch(`${base}/events`, { headers: { cookie } });
  const reader = response.body!.getReader();
  let text = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      text += new TextDecoder().decode(value);
    }
  })();
  const names = () => [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  const until = async (name: string, ms = 1500) => {
    for (const end = Date.now() + ms; Date.now() < end && !names().includes(name);) await new Promise((r) => setTimeout(r, 10));
    return names();
  };
  return { response, names, until, cancel: () => reader.cancel() };
}

describe('the metadata, built from the request', () => {
  it('a spoofed Host is not reflected into a publicly cacheable metadata document', async () => {
    const op = await fakeProvider();
    const { base } = await mount({ issuer: op.issuer });
    const port = new URL(base).port;
    const raw = await new Promise<{ headers: IncomingMessage['headers']; body: string }>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/.well-known/openid-configuration', headers: { host: 'evil.example' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ headers: res.headers, body }));
      }).on('error', reject).end();
    });
    const doc = JSON.parse(raw.body) as Record<string, string>;
    const poisoned = doc.token_endpoint!.includes('evil.example') && /public/.test(String(raw.headers['cache-control'])) && !/host/i.test(String(raw.headers.vary ?? ''));
    expect(poisoned).toBe(false);
  });
});

describe('login CSRF', () => {
  it('/token refuses a cross-site form POST carrying another code', async () => {
    const op = await fakeProvider(async (_f, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'a', token_type: 'Bearer', id_token: await op.sign({ sub: 'attacker', sid: 'attacker-sid', iat: now(), exp: now() + 300 }) }));
    });
    const { base } = await mount({ issuer: op.issuer });
    // What <form method=post action=https://app/auth/token> on evil.example sends (top-level navigation: Set-Cookie Strict is stored).
    const response = await form(base, '/token', { grant_type: 'authorization_code', code: 'ATTACKERS_CODE', code_verifier: 'ATTACKERS_VERIFIER', redirect_uri: 'http://127.0.0.1/cb' },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' });
    expect(response.status).toBe(403);
  });
});

describe('a store failing in the middle of a logout', () => {
  it('a retried logout token after a 503 still logs the session out', async () => {
    const op = await fakeProvider(async (_f, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'a', id_token: await op.sign({ sub: 'alice', sid: 's1', iat: now(), exp: now() + 300 }) }));
    });
    const inner = memoryStore();
    let failMark = 0;
    const store: CompanionStore = { ...inner, async mark(keys, at, ttl) {
      if (failMark-- > 0) throw new Error('Connection is closed.');
      return inner.mark(keys, at, ttl);
    } };
    closers.push(() => inner.close());
    const { base } = await mount({ issuer: op.issuer, store });
    const exchanged = await form(base, '/token', { grant_type: 'authorization_code', code: 'c', code_verifier: 'v', redirect_uri: 'http://127.0.0.1/cb' });
    const cookie = exchanged.headers.getSetCookie()[0]!.split(';')[0]!;
    const logoutToken = await op.sign({ sid: 's1', iat: now(), exp: now() + 120, jti: 'j1', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }, 'logout+jwt');
    failMark = 1; // Redis drops between SET NX jti and SET out|sid
    expect((await form(base, '/backchannel-logout', { logout_token: logoutToken })).status).toBe(503);
    const retry = await form(base, '/backchannel-logout', { logout_token: logoutToken }); // the OP retries a 5xx
    expect(retry.status).toBe(200);
    const events = await stream(base, cookie);
    await events.until('logout', 1000);
    await events.cancel();
    expect(events.names()).toContain('logout');
  });
});

describe('sign-out bound to the browser\'s session', () => {
  it('an expired ID token without sid (obtained by someone else) does not end the user\'s current sessions', async () => {
    const op = await fakeProvider(async (_f, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'a', id_token: await op.sign({ sub: 'victim', sid: 'victim-current', iat: now(), exp: now() + 300 }) }));
    });
    const { base } = await mount({ issuer: op.issuer });
    const victim = await form(base, '/token', { grant_type: 'authorization_code', code: 'c', code_verifier: 'v', redirect_uri: 'http://127.0.0.1/cb' });
    const events = await stream(base, victim.headers.getSetCookie()[0]!.split(';')[0]!);
    await events.until('ready');
    // A year-old ID token (e.g. from a log, an id_token_hint in a URL, another device), expired, no sid; no cookie sent.
    const stale = await op.sign({ sub: 'victim', iat: now() - 365 * 86400, exp: now() - 365 * 86400 + 300 });
    const response = await fetch(`${base}/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: stale }) });
    expect(response.status).toBe(401);
    await events.until('logout', 300);
    await events.cancel();
    expect(events.names()).not.toContain('logout');
  });
});

describe('event streams of clients that hang up', () => {
  it('no listener remains when the client left before its session was read', async () => {
    const op = await fakeProvider();
    const inner = memoryStore();
    closers.push(() => inner.close());
    let listeners = 0;
    await inner.putSession('h', { sub: 'alice', sid: 's', since: Date.now() }, 60_000);
    const store: CompanionStore = {
      ...inner,
      getSession: async (h) => (await new Promise((r) => setTimeout(r, 200)), inner.getSession(h)), // a Redis round trip, slowed
      async subscribe(fn) {
        listeners++;
        const off = await inner.subscribe(fn);
        return () => {
          listeners--;
          off();
        };
      },
    };
    const { base } = await mount({ issuer: op.issuer, store });
    for (let i = 0; i < 20; i++) {
      const abort = new AbortController();
      const pending = fetch(`${base}/events`, { headers: { cookie: 'osg_session=h' }, signal: abort.signal }).catch(() => null);
      setTimeout(() => abort.abort(), 30);
      await pending;
    }
    await new Promise((r) => setTimeout(r, 600));
    expect(listeners).toBe(0);
  });
});

describe('a provider that redirects', () => {
  it('a 307 from the token endpoint does not send client_secret elsewhere', async () => {
    const seen: string[] = [];
    const { base: thief } = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const op = await fakeProvider((_f, _req, res) => res.writeHead(307, { location: `${thief}/steal` }).end());
    const { base } = await mount({ issuer: op.issuer, clientAuth: { method: 'client_secret_post', clientSecret: 'S3CRET' } });
    await form(base, '/token', { grant_type: 'refresh_token', refresh_token: 'rt' });
    expect(seen.join()).not.toContain('S3CRET');
  });
});

describe('paths', () => {
  it('publicUrl with a path: unprefixed /logout, /token are not taken from the app', async () => {
    const op = await fakeProvider();
    const { base } = await mount({ issuer: op.issuer, publicUrl: 'http://127.0.0.1/auth' });
    const r = await fetch(`${base}/jwks`);
    expect(r.status).toBe(404);
  });
  it('a protocol-relative request target //host/token is not the token route', async () => {
    const op = await fakeProvider();
    const { base } = await mount({ issuer: op.issuer });
    const port = new URL(base).port;
    const status = await new Promise<number>((resolve) => httpRequest({ host: '127.0.0.1', port, path: '//anything.example/jwks' }, (res) => (res.resume(), resolve(res.statusCode!))).end());
    expect(status).toBe(404);
  });
});

describe('the session cookie', () => {
  it('a mount path from the router (baseUrl) cannot inject cookie attributes', async () => {
    const op = await fakeProvider(async (_f, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'a', id_token: await op.sign({ sub: 'u', iat: now() }) }));
    });
    // app.use('/:tenant', companion.handler): Express sets baseUrl to the raw matched segment.
    const { base } = await mount({ issuer: op.issuer }, (req) => {
      const m = /^(\/[^/]+)(\/.*)$/.exec(req.url!);
      if (m) {
        req.baseUrl = m[1];
        req.url = m[2];
      }
    });
    const r = await form(base, '/t;Domain=127.0.0.1;SameSite=None/token', { grant_type: 'refresh_token', refresh_token: 'rt' });
    const cookie = r.headers.getSetCookie()[0] ?? '';
    expect(cookie).not.toMatch(/Domain=/);
  });
});

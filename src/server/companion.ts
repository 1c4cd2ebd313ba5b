// The server companion: what a browser cannot do for itself. Mounted on the app's own
// origin (node:http, Express, Fastify through middie, Hono's node server); the browser
// SDK is given its mount point as `serverUrl`.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { authenticate } from './assertion.js';
import { LogoutTokenError, validateLogoutToken } from './logout-token.js';
import { resolveCompanionOptions, type CompanionOptions, type CompanionSettings } from './options.js';
import { ProviderError, providerOf, PROVIDER_TIMEOUT_MS } from './provider.js';
import type { HeldSession } from './store.js';

/** A request as node:http gives it, with Express's mount path when there is one. */
export type CompanionRequest = IncomingMessage & { baseUrl?: string; body?: unknown };

export interface Companion {
  /** `(req, res, next?)`: serves the companion's routes; anything else goes to `next` (or 404). */
  readonly handler: (req: CompanionRequest, res: ServerResponse, next?: (error?: unknown) => void) => void;
  /** Ends the open event streams and, if the companion made its store, the store. */
  close(): Promise<void>;
}

/** Request bodies larger than this are refused with 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** The cookie naming the session this browser holds (an opaque handle; HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'osg_session';
/** An event stream is kept alive with a comment this often. */
export const HEARTBEAT_MS = 25_000;

class HttpError extends Error {
  /** `code` null: no OAuth error member in the answer (see {@link lostAnswer}). */
  constructor(readonly status: number, readonly code: string | null, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/**
 * The provider's token answer did not reach the browser whole (no answer in time, a connection
 * lost, an answer that does not parse, tokens issued that cannot be passed on): the refresh
 * token sent may have been used. A gateway's 502 or 504 without an OAuth `error` member, so the
 * SDK knows not to send it again (an OAuth error answer means nothing was issued).
 */
const lostAnswer = (message: string, status = 502): HttpError => new HttpError(status, null, `the provider's answer was lost: ${message}`);

/** Errors of Node's fetch (undici) raised before anything was sent: the connection was never made. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, cookies: string[] = []): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers, ...(cookies.length ? { 'set-cookie': cookies } : {}) });
  res.end(JSON.stringify(body));
}

/** The request body as text, within the limit (or a body an Express parser already read). */
async function bodyOf(req: CompanionRequest): Promise<string | Record<string, unknown>> {
  if (req.body !== undefined && req.body !== null) {
    if (typeof req.body === 'string') return req.body;
    if (typeof req.body === 'object' && !Buffer.isBuffer(req.body)) return req.body as Record<string, unknown>;
  }
  if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT_BYTES) throw new HttpError(413, 'invalid_request', `the body is larger than ${BODY_LIMIT_BYTES} bytes`);
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) throw new HttpError(413, 'invalid_request', `the body is larger than ${BODY_LIMIT_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Refuses a request a browser marks as cross-site (Fetch Metadata, `Sec-Fetch-Site`): a form
 * on another site posting its own code to `/token` would swap this browser's session cookie
 * (login CSRF). The SDK's own requests are same-origin; servers send no such header.
 */
function sameSiteOnly(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, 'access_denied', 'a cross-site request is refused');
}

/** A form body (application/x-www-form-urlencoded). */
async function formOf(req: CompanionRequest): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '');
  const body = await bodyOf(req);
  if (typeof body !== 'string') return new URLSearchParams(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) throw new HttpError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  return new URLSearchParams(body);
}

function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=') || null;
  }
  return null;
}

/** The keys a session is marked logged out under: its `sid`, and its `sub`. */
export function sessionKeys(issuer: string, session: Omit<HeldSession, 'since'>): string[] {
  return [...(session.sid ? [`${issuer}|sid|${session.sid}`] : []), `${issuer}|sub|${session.sub}`];
}

/** The key a logout marks: a `sid` ends that session; only a `sub` (no `sid`) ends every session of the user. */
const logoutKeys = (issuer: string, { sub, sid }: { sub: string | null; sid: string | null }): string[] =>
  [sid ? `${issuer}|sid|${sid}` : `${issuer}|sub|${sub!}`];

/**
 * Creates the companion. Validates the options and starts nothing until a request comes.
 * @throws TypeError naming the bad option.
 */
export function createCompanion(options: CompanionOptions): Companion {
  const settings = resolveCompanionOptions(options);
  const provider = providerOf(settings.issuer);
  const streams = new Set<() => void>();
  const storeDown = (error: unknown) => {
    console.error('[oidc-session-guard/server] store:', (error as Error).message);
    return new HttpError(503, 'temporarily_unavailable', 'the companion\'s store is unavailable');
  };
  const store = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw storeDown(error);
    }
  };

  /** The public URL of the mount point and its path. */
  const mountOf = (req: CompanionRequest): { base: string; path: string } => {
    if (settings.publicUrl) return { base: settings.publicUrl, path: new URL(settings.publicUrl).pathname.replace(/\/+$/, '') };
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
    const path = (req.baseUrl ?? '').replace(/\/+$/, '');
    return { base: `${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${path}`, path };
  };

  /** Verifies an ID token from the provider as of its own `iat` (signature, iss, aud, alg), and reads its session. */
  const sessionOfIdToken = async (idToken: string): Promise<Omit<HeldSession, 'since'>> => {
    let payload: JWTPayload;
    try {
      const iat = decodeJwt(idToken).iat;
      ({ payload } = await jwtVerify(idToken, provider.keys, {
        issuer: settings.issuer, audience: settings.clientId, algorithms: [...settings.algorithms],
        currentDate: typeof iat === 'number' ? new Date(iat * 1000) : undefined, requiredClaims: ['sub', 'iat'],
      }));
    } catch (error) {
      if (error instanceof ProviderError) throw new HttpError(502, 'temporarily_unavailable', error.message);
      throw new HttpError(400, 'invalid_request', `the ID token failed verification: ${(error as Error).message}`);
    }
    const sid = payload.sid ?? payload.neb_sid;
    if (typeof payload.sub !== 'string') throw new HttpError(400, 'invalid_request', 'the ID token has no "sub"');
    return { sub: payload.sub, sid: typeof sid === 'string' && sid !== '' ? sid : null };
  };

  async function token(req: CompanionRequest, res: ServerResponse): Promise<void> {
    sameSiteOnly(req);
    const form = await formOf(req);
    const grant = form.get('grant_type');
    if (grant !== 'authorization_code' && grant !== 'refresh_token') throw new HttpError(400, 'unsupported_grant_type', 'only the authorization_code and refresh_token grants pass through');
    const clientId = form.get('client_id');
    if (clientId !== null && clientId !== settings.clientId) throw new HttpError(400, 'invalid_client', 'another client');
    const out = new URLSearchParams({ grant_type: grant, client_id: settings.clientId });
    const need = (name: string) => {
      const value = form.get(name);
      if (!value) throw new HttpError(400, 'invalid_request', `"${name}" is required`);
      out.set(name, value);
    };
    if (grant === 'authorization_code') {
      need('code');
      need('code_verifier');
      need('redirect_uri');
      if (!settings.redirectUris.has(out.get('redirect_uri')!)) throw new HttpError(400, 'invalid_grant', 'the redirect_uri is not registered with the companion');
    } else {
      need('refresh_token');
      const scope = form.get('scope');
      if (scope) out.set('scope', scope);
    }
    // The store first: a session this companion could not record would never hear its logout
    // (fail closed), and a code must not be spent on an exchange that cannot finish.
    const held = cookieOf(req, SESSION_COOKIE);
    const before = await store(() => settings.store.getSession(held ?? '-'));
    const metadata = await provider.metadata().catch((error: unknown) => {
      throw new HttpError(502, 'temporarily_unavailable', (error as Error).message);
    });
    const endpoint = metadata.token_endpoint as string;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (settings.clientAuth) Object.assign(headers, await authenticate(out, settings.clientAuth, settings.clientId, endpoint, settings.assertionAlg));
    let answer: Response;
    try {
      // Never follow a redirect: it would carry the client's credentials and the code elsewhere.
      answer = await fetch(endpoint, { method: 'POST', headers, body: out, redirect: 'error', signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
    } catch (error) {
      const code = ((error as { cause?: { code?: unknown } }).cause?.code ?? '') as string;
      if (NOT_SENT.has(code)) throw new HttpError(503, 'temporarily_unavailable', 'the provider\'s token endpoint could not be reached: nothing was sent');
      throw lostAnswer((error as Error).name === 'TimeoutError' ? 'no answer in time' : 'the connection failed', (error as Error).name === 'TimeoutError' ? 504 : 502);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(await answer.text()) as Record<string, unknown>;
    } catch {
      throw lostAnswer(`HTTP ${answer.status} without JSON`);
    }
    const cookies: string[] = [];
    if (answer.ok && typeof json.id_token === 'string') {
      try {
        // The browser's proof of which session it holds, for the event stream: an opaque handle.
        const session = await sessionOfIdToken(json.id_token);
        // A code exchange begins a session: a new handle. A refresh goes on with the one held, and its start.
        const going = grant === 'refresh_token' && held ? before : null;
        const handle = going ? held! : randomBytes(32).toString('base64url');
        await store(() => settings.store.putSession(handle, { ...session, since: going?.since ?? Date.now() }, settings.retentionMs));
        const { base, path } = mountOf(req);
        // A mount path with characters a cookie attribute could be smuggled in by is not used.
        const cookiePath = /^[\w\-./~%]*$/.test(path) && path ? path : '/';
        cookies.push(`${SESSION_COOKIE}=${handle}; Path=${cookiePath}; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(settings.retentionMs / 1000)}${base.startsWith('https:') ? '; Secure' : ''}`);
      } catch (error) {
        // Tokens were issued (a refresh token rotated) and are not passed on.
        throw lostAnswer((error as Error).message);
      }
    }
    send(res, answer.status, json, { pragma: 'no-cache' }, cookies);
  }

  async function backchannelLogout(req: CompanionRequest, res: ServerResponse): Promise<void> {
    const logoutToken = (await formOf(req)).get('logout_token');
    if (!logoutToken) throw new HttpError(400, 'invalid_request', '"logout_token" is required');
    let claims;
    try {
      claims = await validateLogoutToken(logoutToken, { issuer: settings.issuer, audience: settings.clientId, keys: provider.keys, algorithms: settings.algorithms, now: Date.now(), requireExp: settings.profile.logoutTokenRequiresExp });
    } catch (error) {
      if (error instanceof LogoutTokenError) throw new HttpError(400, 'invalid_request', error.message);
      throw new HttpError(503, 'temporarily_unavailable', `the provider's keys are unavailable: ${(error as Error).message}`);
    }
    // A replayed jti is refused (across instances, with a shared store); kept past its exp.
    const first = await store(() => settings.store.useOnce(`${claims.iss}|${claims.jti}`, Math.max(60_000, claims.expiresAt - Date.now() + 120_000)));
    if (!first) throw new HttpError(400, 'invalid_request', 'the logout token was already used (its jti)');
    const keys = logoutKeys(claims.iss, claims);
    try {
      await settings.store.mark(keys, Date.now(), settings.retentionMs);
      await settings.store.publish(keys);
    } catch (error) {
      // Not recorded: the jti is given back, so the provider's retry of this 5xx is taken.
      await settings.store.release(`${claims.iss}|${claims.jti}`).catch(() => undefined);
      throw storeDown(error);
    }
    send(res, 200, {});
  }

  async function events(req: CompanionRequest, res: ServerResponse): Promise<void> {
    // Whatever happens next, a client that leaves ends everything this stream set up.
    let ended = false;
    let off = () => undefined as unknown;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      off();
      clearInterval(heartbeat);
      streams.delete(end);
      res.end();
    };
    req.on('close', end);
    streams.add(end);
    const handle = cookieOf(req, SESSION_COOKIE);
    const session = handle ? await store(() => settings.store.getSession(handle)) : null;
    if (ended) return;
    if (!session) throw new HttpError(401, 'login_required', 'this browser holds no session known here');
    const mine = new Set(sessionKeys(settings.issuer, session));
    const logout = () => {
      if (ended) return;
      res.write('event: logout\ndata: {"reason":"remote_logout"}\n\n');
      end();
    };
    // Listen first (resolved once listening), then look: a logout in between is not missed.
    const stop = await store(() => settings.store.subscribe((keys) => {
      if (keys.some((key) => mine.has(key))) logout();
    }));
    if (ended) return void stop();
    off = stop;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    try {
      // Logged out since this session began (a mark older than it is about an earlier one).
      const at = await settings.store.marked([...mine]);
      if (at !== null && at >= session.since) return logout();
    } catch {
      // The store is away: the stream stays open and says so; the browser asks again later.
      res.write('event: unavailable\ndata: {}\n\n');
      return end();
    }
    res.write('event: ready\ndata: {}\n\n');
  }

  async function logout(req: CompanionRequest, res: ServerResponse): Promise<void> {
    sameSiteOnly(req);
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) throw new HttpError(415, 'invalid_request', 'the body must be application/json');
    const body = await bodyOf(req);
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new HttpError(400, 'invalid_request', 'the body is not JSON');
      }
    }
    const idToken = (parsed as { id_token?: unknown } | null)?.id_token;
    if (typeof idToken !== 'string' || idToken === '') throw new HttpError(400, 'invalid_request', '"id_token" is required');
    // Only for the session this browser holds (its cookie), and only with its ID token: a
    // leaked old ID token alone signs nobody out.
    const handle = cookieOf(req, SESSION_COOKIE);
    const held = handle ? await store(() => settings.store.getSession(handle)) : null;
    if (!held) throw new HttpError(401, 'login_required', 'this browser holds no session known here');
    const session = await sessionOfIdToken(idToken);
    if (session.sub !== held.sub || (held.sid !== null && session.sid !== null && session.sid !== held.sid)) throw new HttpError(400, 'invalid_request', 'the ID token is not of the session this browser holds');
    // Ended here first, for every tab and instance: this holds even if the provider is away.
    const keys = logoutKeys(settings.issuer, held);
    await store(() => settings.store.mark(keys, Date.now(), settings.retentionMs));
    await store(() => settings.store.publish(keys));
    const api = settings.logoutApi;
    if (!api) return send(res, 200, { provider: 'none' });
    let answer: Response;
    try {
      answer = await fetch(api.url, { method: api.method, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(api.body(idToken)), redirect: 'error', signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
    } catch {
      throw new HttpError(502, 'temporarily_unavailable', 'the provider\'s logout API could not be reached');
    }
    if (!answer.ok) throw new HttpError(502, 'temporarily_unavailable', `the provider's logout API answered HTTP ${answer.status}`);
    send(res, 200, { provider: 'logged_out' });
  }

  async function metadataRoute(req: CompanionRequest, res: ServerResponse): Promise<void> {
    const doc = await provider.metadata().catch((error: unknown) => {
      throw new HttpError(502, 'temporarily_unavailable', (error as Error).message);
    });
    const { base } = mountOf(req);
    // The issuer stays the provider's; only what must pass through here points here.
    // Built from the request's Host unless publicUrl is set: never cached by a shared cache.
    send(res, 200, { ...doc, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks` }, { 'cache-control': 'private, no-store', vary: 'Host' });
  }

  async function jwksRoute(_req: CompanionRequest, res: ServerResponse): Promise<void> {
    const jwks = await provider.jwks().catch((error: unknown) => {
      throw new HttpError(502, 'temporarily_unavailable', (error as Error).message);
    });
    send(res, 200, jwks, { 'cache-control': 'public, max-age=300' });
  }

  /** Each route: its method and what serves it. */
  const routes: Record<string, readonly [method: 'GET' | 'POST', serve: (req: CompanionRequest, res: ServerResponse) => Promise<void>]> = {
    '/.well-known/openid-configuration': ['GET', metadataRoute],
    '/jwks': ['GET', jwksRoute],
    '/token': ['POST', token],
    '/backchannel-logout': ['POST', backchannelLogout],
    '/events': ['GET', events],
    '/logout': ['POST', logout],
  };

  return {
    handler(req, res, next) {
      // The path as sent (no URL parsing: "//host/x" is a path, not a host).
      let path = (req.url ?? '/').split('?')[0]!;
      const prefix = settings.publicUrl ? new URL(settings.publicUrl).pathname.replace(/\/+$/, '') : '';
      if (prefix && req.baseUrl === undefined) {
        // Mounted in plain node:http under publicUrl's path: only what is under it is ours.
        path = path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : '';
      }
      const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (!route) {
        if (next) return next();
        return send(res, 404, { error: 'not_found', error_description: `no route ${path}` });
      }
      const [method, serve] = route;
      if (req.method !== method) return send(res, 405, { error: 'method_not_allowed', error_description: `${path} takes ${method}` }, { allow: method });
      serve(req, res).catch((error: unknown) => {
        const known = error instanceof HttpError ? error : new HttpError(500, 'server_error', 'the companion failed');
        if (!(error instanceof HttpError)) console.error('[oidc-session-guard/server]', (error as Error).message);
        send(res, known.status, known.code === null ? { error_description: known.message } : { error: known.code, error_description: known.message }, known.headers);
      });
    },
    async close() {
      for (const end of [...streams]) end();
      if (settings.ownStore) await settings.store.close();
    },
  };
}

export type { CompanionSettings };

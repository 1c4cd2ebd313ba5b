// The local identity provider: oidc-provider (a real, certified OpenID Provider), in
// memory, on 127.0.0.1, with one test user and three clients that behave as the providers'
// public documentation describes (NHS login's developer documentation and Interface
// Specification; the Signaturgruppen Broker's pages on sessions, claims and logout):
// `generic`, `nhs-login` and `signaturgruppen-broker`. Used by `npm start` and by the tests.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

/** The one person who can sign in. */
export const TEST_USER = Object.freeze({
  username: 'alice',
  password: 'wonderland',
  sub: '9f3c5a7e-2b41-4d8e-9a6f-1c2d3e4f5a6b',
  name: 'Alice Example',
  email: 'alice@example.test',
});

/** Client ids registered at the local provider. */
export const CLIENTS = Object.freeze({
  generic: 'generic',
  nhsLogin: 'nhs-login',
  broker: 'signaturgruppen-broker',
  /** A second service of the same Broker service provider: one provider session, single sign-on. */
  brokerTwo: 'signaturgruppen-broker-2',
});

export interface IdpOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Origins of the apps allowed to use the clients (redirect URIs are `${origin}/callback`). */
  appOrigins: readonly string[];
  /** Broker's `session_expiry`: seconds after authentication. @default 14400 (4 h) */
  sessionExpirySec?: number;
  /** Access token lifetime, seconds. @default 300 */
  accessTokenTtlSec?: number;
  /** ID token lifetime, seconds. @default 3600 */
  idTokenTtlSec?: number;
  /** Refresh token lifetime, seconds. @default 86400 */
  refreshTokenTtlSec?: number;
  /** Provider session (cookie) lifetime, seconds. @default 86400 */
  sessionTtlSec?: number;
  /** Whether refresh tokens are issued; without them, silent renewal goes through an iframe. @default true */
  refreshTokens?: boolean;
  /**
   * Misbehaves for tests: answers `prompt=login` (and `max_age=0`) by single sign-on when
   * the user has a session here, with the authentication it already has. @default false
   */
  ignoresPromptLogin?: boolean;
  /** A login through the form is recorded as having happened this many seconds ago (its `auth_time`). @default 0 */
  loginAgeSec?: number;
  /** The app origin of each client whose back-channel logout goes to an app other than the first. */
  clientOrigins?: Readonly<Record<string, string>>;
  /** What strict real providers do that a lenient one does not (see {@link StrictModes}). @default none */
  strict?: StrictModes;
}

/**
 * Behaviours of real providers that are stricter than this one's defaults, each made with
 * oidc-provider's own settings. Refresh tokens always rotate, with reuse detection: a
 * refresh token used a second time revokes the whole grant (oidc-provider's rule, as
 * RFC 9700 §4.14.2 asks of providers for public clients). `npm start` takes them from
 * `IDP_STRICT` (a comma-separated list: `scopes`, `fail-refresh`, `lose-answers`).
 */
export interface StrictModes {
  /**
   * The OIDC scopes a grant covers, whatever more the client asks for: granted scopes
   * narrower than requested (oidc-provider itself drops `offline_access` without consent).
   * A refresh that asks for more is refused with `invalid_scope`.
   */
  grantedScopes?: readonly string[];
  /** Every refresh is refused with `temporarily_unavailable`, before its refresh token is used. */
  failRefresh?: boolean;
  /** Every refresh is served (its refresh token rotated) and the connection is then cut: the answer is lost. */
  loseRefreshAnswers?: boolean;
}

/** Something that happened at the provider, for tests to count and inspect. */
export interface IdpEvent {
  readonly type: 'authorize' | 'token' | 'token.error' | 'token.lost' | 'grant.revoked' | 'end_session' | 'backchannel.success' | 'backchannel.error';
  readonly clientId: string | null;
  readonly params: Readonly<Record<string, string>>;
  readonly at: number;
}

export interface Idp {
  /** The issuer URL, e.g. http://127.0.0.1:41234 */
  readonly issuer: string;
  /** What happened, oldest first. */
  readonly events: IdpEvent[];
  /** The private key the `nhs-login` client signs its `private_key_jwt` assertions with. */
  readonly nhsLoginClientKey: JWK;
  /** The provider's own ID token signing key (private), so tests can forge well-signed tokens as a misbehaving provider would. */
  readonly idTokenSigningKey: JWK;
  /** The strict modes in force: a test may change them while the provider runs. */
  readonly strict: StrictModes;
  /**
   * Holds the answers of the token endpoint to `grantType` requests, once the tokens are
   * issued (a rotated refresh token is spent by then), until the returned function is
   * called or the provider closes: a token endpoint whose answer comes too late.
   */
  holdTokenAnswers(grantType?: string): () => void;
  /** Stops the server and drops every connection. */
  close(): Promise<void>;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Local identity provider</title>
<link rel="stylesheet" href="/idp-assets/style.css"></head>
<body><main><p class="brand">Local identity provider (oidc-provider)</p>${body}</main></body>
</html>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f3f2f1;margin:0}
main{max-width:24rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;border-radius:4px}
.brand{color:#505a5f;font-size:.9rem}label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:2px solid #0b0c0c}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#00703c;color:#fff;border:0;cursor:pointer}
.error{color:#d4351c;font-weight:600}.hint{color:#505a5f;font-size:.9rem}`;

// Auto-submits oidc-provider's logout confirmation (a valid id_token_hint is the user's
// intent, as at the Broker); without scripts the user presses the button.
const LOGOUT_SCRIPT = `document.querySelector('button[name="logout"]')?.click();`;

function loginForm(uid: string, clientId: string, error?: string): string {
  return page('Sign in', `<h1>Sign in</h1>
<p class="hint">Client <code>${escapeHtml(clientId)}</code>. Test user: <code>${TEST_USER.username}</code> / <code>${TEST_USER.password}</code></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="username">Username</label><input id="username" name="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form>`);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

/** The vector of trust granted for an NHS login `vtr` (a JSON array string), or an error message. */
function grantedVector(vtr: unknown): { vot: string } | { error: string } {
  if (vtr === undefined) return { vot: 'P9.Cp.Cd' };
  try {
    const list: unknown = JSON.parse(String(vtr));
    if (Array.isArray(list) && list.length > 0 && list.every((v) => typeof v === 'string' && /^P[059]\.C[pm](\.C[dk])?$/.test(v))) {
      return { vot: list[0] as string };
    }
  } catch {
    // fall through
  }
  return { error: `vtr must be a JSON array of vectors of trust such as ["P9.Cp.Cd"]; got ${String(vtr)}` };
}

const epoch = (): number => Math.floor(Date.now() / 1000);

/** Starts the local identity provider. */
export async function startIdp(options: IdpOptions): Promise<Idp> {
  const {
    port = 0,
    appOrigins,
    sessionExpirySec = 4 * 3600,
    accessTokenTtlSec = 300,
    idTokenTtlSec = 3600,
    refreshTokenTtlSec = 86_400,
    sessionTtlSec = 86_400,
    refreshTokens = true,
    ignoresPromptLogin = false,
    loginAgeSec = 0,
    clientOrigins = {},
  } = options;
  const strict: StrictModes = { ...options.strict };
  /** When each account last logged in through the form, epoch seconds. */
  const loginTimes = new Map<string, number>();
  if (appOrigins.length === 0) throw new TypeError('"appOrigins" must name at least one origin');

  const signingKey = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const signingJwk = { ...(await exportJWK(signingKey.privateKey)), kid: `sig-${randomBytes(4).toString('hex')}`, use: 'sig' };
  const nhsKey = await generateKeyPair('RS512', { modulusLength: 2048, extractable: true });
  const nhsLoginClientKey = { ...(await exportJWK(nhsKey.privateKey)), kid: 'nhs-login-client', alg: 'RS512', use: 'sig' };
  const { d, p, q, dp, dq, qi, ...nhsPublicJwk } = nhsLoginClientKey;
  void d; void p; void q; void dp; void dq; void qi;

  const events: IdpEvent[] = [];
  const record = (type: IdpEvent['type'], ctx: KoaContextWithOIDC | null, extra: Record<string, string> = {}): void => {
    const raw = (ctx?.oidc?.params ?? {}) as Record<string, unknown>;
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') params[key] = value;
    events.push({ type, clientId: ctx?.oidc?.client?.clientId ?? null, params: { ...params, ...extra }, at: Date.now() });
  };

  const uris = (path: string): string[] => appOrigins.map((origin) => new URL(path, origin).href);
  const backchannelUri = (clientId: string) => new URL('/auth/backchannel-logout', clientOrigins[clientId] ?? appOrigins[0]).href;
  const common: Partial<ClientMetadata> = {
    // The single-page app, and the script-tag page (demo/script-tag.html).
    redirect_uris: [...uris('/callback'), ...uris('/script-tag.html')],
    post_logout_redirect_uris: [...uris('/'), ...uris('/script-tag.html')],
    response_types: ['code'],
    require_auth_time: true,
  };
  const clients: ClientMetadata[] = [
    {
      ...common,
      client_id: CLIENTS.generic,
      client_name: 'Generic SPA (public client)',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      // The server companion's receiver, mounted at /auth on the app.
      backchannel_logout_uri: backchannelUri(CLIENTS.generic),
      backchannel_logout_session_required: true,
    },
    {
      ...common,
      client_id: CLIENTS.nhsLogin,
      client_name: 'NHS login partner service',
      // Public clients are not supported: private_key_jwt (RFC 7523) at the token endpoint.
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS512',
      id_token_signed_response_alg: 'RS512',
      // Back-channel logout through the server companion, mounted at /auth on the app.
      backchannel_logout_uri: backchannelUri(CLIENTS.nhsLogin),
      backchannel_logout_session_required: true,
      jwks: { keys: [nhsPublicJwk] },
      grant_types: ['authorization_code', 'refresh_token'],
    },
    {
      ...common,
      client_id: CLIENTS.broker,
      client_name: 'Signaturgruppen Broker service provider',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      // The server companion's receiver, mounted at /auth on the app.
      backchannel_logout_uri: backchannelUri(CLIENTS.broker),
      backchannel_logout_session_required: true,
    },
    {
      ...common,
      client_id: CLIENTS.brokerTwo,
      client_name: 'Signaturgruppen Broker service provider, second service',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      // The server companion's receiver, mounted at /auth on the app.
      backchannel_logout_uri: backchannelUri(CLIENTS.brokerTwo),
      backchannel_logout_session_required: true,
    },
  ];

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const appOriginSet = new Set(appOrigins.map((o) => new URL(o).origin));

  const configuration: Configuration = {
    clients,
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub', 'session_expiry', 'neb_sid', 'vot', 'vtm'],
      profile: ['name'],
      email: ['email'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    // The scopes' claims (name, email) in the ID token too, as NHS login and the Broker send
    // them: the app greets the user by name without a userinfo call.
    conformIdTokenClaims: false,
    extraParams: ['vtr', 'idp_values'],
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'RS512'], clientAuthSigningAlgValues: ['RS256', 'RS512'] },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = page('Sign out', `<h1>Signing you out</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<script src="/idp-assets/logout.js"></script>`);
        },
        postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>You are signed out</h1>');
        },
      },
    },
    ttl: {
      AccessToken: accessTokenTtlSec,
      IdToken: idTokenTtlSec,
      RefreshToken: refreshTokenTtlSec,
      Session: sessionTtlSec,
      Grant: sessionTtlSec,
      Interaction: 600,
      AuthorizationCode: 60,
    },
    // Refresh tokens for every client allowed the grant, without offline_access: they end
    // with the provider session, so sign-out at the provider ends them too.
    issueRefreshToken: async (_ctx, client) => refreshTokens && client.grantTypeAllowed('refresh_token'),
    // Public clients rotate on every use (oidc-provider's default for them); the others too.
    // A rotated refresh token used again revokes its grant (oidc-provider's reuse detection).
    rotateRefreshToken: () => {
      // Called for refresh grants only, before the token is used: the refresh fails, the token stays good.
      if (strict.failRefresh) throw new errors.TemporarilyUnavailable('this provider fails every refresh (strict.failRefresh)');
      return true;
    },
    clientBasedCORS: (_ctx, origin) => appOriginSet.has(origin),
    // oidc-provider guards its own requests (back-channel logout) against special-use
    // addresses such as 127.0.0.1; the demo apps it serves are there, so their origins,
    // and only theirs, go without the guard.
    fetch: (url, options) => {
      if (!appOriginSet.has(new URL(String(url)).origin)) return fetch(url, options);
      const { dispatcher: _guard, ...rest } = options as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // First-party clients: no consent screen. The grant covers what was asked for.
    async loadExistingGrant(ctx) {
      const { session, client } = ctx.oidc;
      if (!session?.accountId || !client) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const grant = (grantId && (await ctx.oidc.provider.Grant.find(grantId)))
        || new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const asked = [...(ctx.oidc.requestParamScopes ?? [])];
      const granted = strict.grantedScopes ? asked.filter((scope) => strict.grantedScopes!.includes(scope)) : asked;
      grant.addOIDCScope(granted.join(' ') || 'openid');
      // What is not granted is refused, as a user who declined it: the sign-in goes on with less.
      const refused = asked.filter((scope) => !granted.includes(scope));
      if (refused.length) grant.rejectOIDCScope(refused.join(' '));
      await grant.save();
      return grant;
    },
    async findAccount(ctx, sub, token) {
      if (sub !== TEST_USER.sub) return undefined;
      // token is the authorization code or refresh token being exchanged: it carries the
      // session's authTime, sid and acr.
      const source = token as unknown as { authTime?: number; sid?: string; acr?: string } | undefined;
      return {
        accountId: sub,
        async claims() {
          const clientId = ctx.oidc.client?.clientId;
          const claims: Record<string, unknown> = { sub, name: TEST_USER.name, email: TEST_USER.email };
          if (clientId === CLIENTS.broker || clientId === CLIENTS.brokerTwo) {
            const authTime = source?.authTime ?? epoch();
            // The Broker's documented example carries session_expiry as a STRING.
            claims.session_expiry = String(authTime + sessionExpirySec);
            if (source?.sid) claims.neb_sid = source.sid;
          }
          if (clientId === CLIENTS.nhsLogin) {
            claims.vot = source?.acr ?? 'P9.Cp.Cd';
            claims.vtm = `${issuer}/trustmark/${new URL(issuer).host}`;
          }
          return claims as { sub: string };
        },
      };
    },
  };

  const provider = new Provider(issuer, configuration);

  /** Token answers held back, by grant type: what each waits for. */
  const holds = new Map<string, { readonly until: Promise<void>; readonly release: () => void }>();
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/token' || ctx.method !== 'POST' || ctx.status !== 200) return;
    const grantType = String((ctx.oidc?.params as Record<string, unknown> | undefined)?.grant_type ?? '');
    await holds.get(grantType)?.until;
    if (strict.loseRefreshAnswers && grantType === 'refresh_token') {
      // Served, and the answer lost on the way: the connection is cut halfway through it. (Cut
      // before the first byte, a browser may itself send the request again on a new
      // connection, as Chromium does when a reused keep-alive connection fails: a reuse.)
      events.push({ type: 'token.lost', clientId: ctx.oidc?.client?.clientId ?? null, params: { grant_type: grantType }, at: Date.now() });
      const body = JSON.stringify(ctx.body);
      ctx.respond = false;
      ctx.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'access-control-allow-origin': ctx.get('origin') || '*' });
      ctx.res.write(body.slice(0, body.length >> 1), () => ctx.req.socket.destroy());
    }
  });

  provider.use(async (ctx, next) => {
    // The Broker: end session requires a valid id_token_hint.
    if (ctx.path === '/session/end' && ctx.method === 'GET'
      && (ctx.query.client_id === CLIENTS.broker || ctx.query.client_id === CLIENTS.brokerTwo) && !ctx.query.id_token_hint) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Error', '<h1>id_token_hint is required</h1>');
      return;
    }
    await next();
  });
  provider.on('authorization.accepted', (ctx) => record('authorize', ctx));
  provider.on('grant.success', (ctx) => record('token', ctx));
  provider.on('grant.error', (ctx, error: Error) => record('token.error', ctx, { error: (error as { error?: string }).error ?? error.message }));
  provider.on('end_session.success', (ctx) => record('end_session', ctx));
  // A grant revoked: at sign-out, or by reuse detection (a rotated refresh token used again).
  provider.on('grant.revoked', (ctx) => record('grant.revoked', ctx));
  // Emitted as (ctx, client, ...) and (ctx, error, client, ...); @types/oidc-provider lacks them.
  const emitter = provider as unknown as NodeJS.EventEmitter;
  emitter.on('backchannel.success', (_ctx: unknown, client: { clientId: string }) => {
    events.push({ type: 'backchannel.success', clientId: client.clientId, params: {}, at: Date.now() });
  });
  emitter.on('backchannel.error', (_ctx: unknown, error: Error, client: { clientId: string }) => {
    events.push({ type: 'backchannel.error', clientId: client.clientId, params: { error: error.message }, at: Date.now() });
  });
  // Expected client errors (a bad prompt=none, a refused grant) are answered to the client; keep the console quiet.
  provider.on('server_error', (_ctx, error) => console.error('[idp] server error', error));

  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    const clientId = String(details.params.client_id ?? '');
    const html = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(body);
    };
    const known = details.session?.accountId;
    if (ignoresPromptLogin && details.prompt.name === 'login' && known && loginTimes.has(known)) {
      // The misbehaviour: the old authentication stands in for the one asked for.
      await provider.interactionFinished(req, res, { login: { accountId: known, ts: loginTimes.get(known) } }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name !== 'login') {
      // Consent is covered by loadExistingGrant; anything else finishes without UI.
      await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET' && !action) return html(200, loginForm(uid, clientId));
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      if (form.get('username') !== TEST_USER.username || form.get('password') !== TEST_USER.password) {
        return html(401, loginForm(uid, clientId, 'The username or password is wrong.'));
      }
      let acr: string | undefined;
      if (clientId === CLIENTS.nhsLogin) {
        const vector = grantedVector(details.params.vtr);
        if ('error' in vector) {
          await provider.interactionFinished(req, res, { error: 'invalid_request', error_description: vector.error });
          return;
        }
        acr = vector.vot;
      }
      const ts = epoch() - loginAgeSec;
      loginTimes.set(TEST_USER.sub, ts);
      await provider.interactionFinished(req, res, {
        login: { accountId: TEST_USER.sub, ts, amr: ['pwd'], ...(acr ? { acr } : {}) },
      }, { mergeWithLastSubmission: false });
      return;
    }
    html(405, page('Error', '<h1>Method not allowed</h1>'));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const { pathname } = new URL(req.url ?? '/', issuer);
    const match = /^\/interaction\/([\w-]+)(?:\/(\w+))?$/.exec(pathname);
    if (match) {
      interaction(req, res, match[1] as string, match[2]).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
          res.end(page('Error', `<h1>Sign-in failed</h1><p>${escapeHtml(error instanceof Error ? error.message : String(error))}</p>`));
        }
      });
      return;
    }
    if (pathname === '/idp-assets/style.css' || pathname === '/idp-assets/logout.js') {
      const css = pathname.endsWith('.css');
      res.writeHead(200, { 'content-type': css ? 'text/css' : 'text/javascript', 'cache-control': 'no-store' });
      res.end(css ? STYLE : LOGOUT_SCRIPT);
      return;
    }
    callback(req, res);
  });

  return {
    issuer,
    events,
    nhsLoginClientKey,
    idTokenSigningKey: signingJwk,
    strict,
    holdTokenAnswers(grantType = 'refresh_token') {
      holds.get(grantType)?.release();
      let release!: () => void;
      const until = new Promise<void>((resolve) => {
        release = resolve;
      });
      const hold = { until, release: () => {
        if (holds.get(grantType) === hold) holds.delete(grantType);
        release();
      } };
      holds.set(grantType, hold);
      return hold.release;
    },
    close: () => new Promise<void>((resolve) => {
      for (const hold of [...holds.values()]) hold.release();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

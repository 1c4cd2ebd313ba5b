// Serves the built demo app next to the local identity provider, under a strict CSP
// (no inline script, no inline style), and tells the app where the provider is.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_BUILD_DIR } from './build.js';
import { createCompanion, type Companion, type CompanionRequest } from '../src/server/index.js';
import { CLIENTS, startIdp, type Idp, type IdpOptions } from './idp/index.js';

/** One demo app: the client it signs in with and what it does at a limit. */
export interface AppOptions {
  /** Port of the app on 127.0.0.1; 0 picks a free one. @default 0 */
  appPort?: number;
  /**
   * The client the app signs in with. @default 'generic'
   * 'nhs-login' and the Broker clients go through the server companion (mounted at /auth):
   * it adds private_key_jwt for NHS login, and for the Broker stands where the real Broker
   * allows no CORS from browsers.
   */
  client?: 'generic' | 'nhs-login' | 'signaturgruppen-broker' | 'signaturgruppen-broker-2';
  /** Extra authorize parameters the app sends, e.g. { vtr: '["P9.Cp.Cd"]' }. @default {} */
  authParams?: Record<string, string>;
  /** What the app does at a limit. @default 'reauthenticate' */
  onExpired?: 'reauthenticate' | 'sign-out' | 'none';
}

export interface DemoOptions extends AppOptions {
  /** Port of the identity provider on 127.0.0.1; 0 picks a free one. @default 0 */
  idpPort?: number;
  /** Lifetimes and other provider settings. */
  idp?: Omit<IdpOptions, 'port' | 'appOrigins' | 'clientOrigins'>;
}

/** One demo app, served on its own origin. */
export interface DemoApp {
  /** The app's URL, e.g. http://127.0.0.1:3000/ */
  readonly appUrl: string;
  /** The server companion, mounted at /auth on the app's origin. */
  readonly companion: Companion;
}

export interface Demo extends DemoApp {
  readonly idp: Idp;
  close(): Promise<void>;
}

/** Several demo apps and one provider: their users share one provider session. */
export interface Demos {
  readonly apps: readonly DemoApp[];
  readonly idp: Idp;
  close(): Promise<void>;
}

/** Where the demo mounts the server companion. */
export const COMPANION_PATH = '/auth';

/** The SDK profile each client signs in with, and whether it goes through the companion. */
const PROFILE: Record<NonNullable<AppOptions['client']>, 'generic' | 'nhs-login' | 'signaturgruppen-broker'> = {
  generic: 'generic',
  'nhs-login': 'nhs-login',
  'signaturgruppen-broker': 'signaturgruppen-broker',
  'signaturgruppen-broker-2': 'signaturgruppen-broker',
};
/** demo/: the script-tag page and its script are served from here as they are. */
const DEMO_DIR = fileURLToPath(new URL('.', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Starts the demo app and the local identity provider. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const { apps, idp, close } = await startDemos([options], options);
  return { ...apps[0]!, idp, close };
}

/** Starts one demo app per entry of `apps`, each on its own origin, beside one identity provider. */
export async function startDemos(apps: readonly AppOptions[], shared: Pick<DemoOptions, 'idpPort' | 'idp'> = {}): Promise<Demos> {
  const servers = apps.map(() => createServer());
  const ports = await Promise.all(servers.map((server, i) => listen(server, apps[i]!.appPort ?? 0)));
  const origins = ports.map((port) => `http://127.0.0.1:${port}`);
  // localhost is another site than 127.0.0.1: it lets tests see cross-site cookie behaviour.
  const clientOrigins = Object.fromEntries(apps.map((app, i) => [app.client ?? CLIENTS.generic, origins[i]!]));
  const idp = await startIdp({ ...shared.idp, port: shared.idpPort ?? 0, appOrigins: [...origins, ...ports.map((port) => `http://localhost:${port}`)], clientOrigins });
  const served = apps.map((app, i) => serveApp(servers[i]!, ports[i]!, app, idp));
  return {
    apps: served,
    idp,
    async close() {
      await Promise.all(served.map((app) => app.companion.close()));
      for (const server of servers) server.closeAllConnections();
      await Promise.all([...servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))), idp.close()]);
    },
  };
}

/** Serves one app on `server`: the built single-page app, its config, and the companion at /auth. */
function serveApp(app: Server, port: number, options: AppOptions, idp: Idp): DemoApp {
  const appOrigin = `http://127.0.0.1:${port}`;
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${idp.issuer}`,
    // Silent renewal: a hidden iframe goes to the provider and comes back to the app.
    `frame-src 'self' ${idp.issuer}`,
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
  const client = options.client ?? CLIENTS.generic;
  const profile = PROFILE[client];
  const companion = createCompanion({
    issuer: idp.issuer,
    clientId: client,
    redirectUris: [`${appOrigin}/callback`, `http://localhost:${port}/callback`, `${appOrigin}/script-tag.html`],
    provider: profile,
    ...(profile === 'nhs-login' ? { clientAuth: { method: 'private_key_jwt' as const, privateJwk: idp.nhsLoginClientKey } } : {}),
    // The local provider has no logout API (the real Broker's is POST <issuer>/api/v1/session/logout):
    // sign-out goes to its end-session endpoint, which sends back-channel logout to every client.
    ...(profile === 'signaturgruppen-broker' ? { logoutApi: null } : {}),
  });
  const config = JSON.stringify({
    authority: idp.issuer, clientId: client, provider: profile,
    onExpired: options.onExpired ?? 'reauthenticate', authParams: options.authParams ?? {},
    serverPath: profile === 'generic' ? null : COMPANION_PATH,
  });

  app.on('request', (req, res) => {
    const { pathname } = new URL(req.url ?? '/', appOrigin);
    const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      // no-cache, not no-store: always revalidated, and the page may still enter the
      // back/forward cache (browsers keep no page served no-store there).
      res.writeHead(status, { 'content-type': type, 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache', ...headers });
      res.end(body);
    };
    if (pathname === '/config.json') return send(200, TYPES['.json'] ?? 'application/json', config);
    if (pathname.startsWith(`${COMPANION_PATH}/`)) {
      // Mounted as Express would: the mount path in baseUrl, the rest in url.
      const mounted = req as CompanionRequest;
      mounted.baseUrl = COMPANION_PATH;
      mounted.url = (req.url ?? '/').slice(COMPANION_PATH.length);
      return companion.handler(mounted, res);
    }
    // The script-tag demo: plain files, with the script-tag bundle built beside the app.
    if (pathname === '/script-tag.html' || pathname === '/script-tag.js') {
      return readFile(join(DEMO_DIR, pathname)).then((body) => send(200, TYPES[extname(pathname)]!, body), () => send(404, 'text/plain', 'not found'));
    }
    // Everything that is not a file is the single-page app (/, /callback, ...).
    const file = extname(pathname) ? normalize(join(DEMO_BUILD_DIR, pathname)) : join(DEMO_BUILD_DIR, 'index.html');
    if (!file.startsWith(DEMO_BUILD_DIR)) return send(404, 'text/plain', 'not found');
    readFile(file).then(
      (body) => send(200, TYPES[extname(file)] ?? 'application/octet-stream', body),
      () => send(404, 'text/plain', 'not found'),
    );
  });
  return { appUrl: `${appOrigin}/`, companion };
}

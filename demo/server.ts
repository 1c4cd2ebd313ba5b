// Serves the built demo app next to the local identity provider, under a strict CSP
// (no inline script, no inline style), and tells the app where the provider is.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { DEMO_BUILD_DIR } from './build.js';
import { createCompanion, type Companion, type CompanionRequest } from '../src/server/index.js';
import { CLIENTS, startIdp, type Idp, type IdpOptions } from './idp/index.js';

export interface DemoOptions {
  /** Port of the app on 127.0.0.1; 0 picks a free one. @default 0 */
  appPort?: number;
  /** Port of the identity provider on 127.0.0.1; 0 picks a free one. @default 0 */
  idpPort?: number;
  /**
   * The client the app signs in with. @default 'generic'
   * 'nhs-login' goes through the server companion (mounted at /auth), which adds
   * private_key_jwt at the token endpoint.
   */
  client?: 'generic' | 'signaturgruppen-broker' | 'nhs-login';
  /** Extra authorize parameters the app sends, e.g. { vtr: '["P9.Cp.Cd"]' }. @default {} */
  authParams?: Record<string, string>;
  /** What the app does at a limit. @default 'reauthenticate' */
  onExpired?: 'reauthenticate' | 'sign-out' | 'none';
  /** Lifetimes and other provider settings. */
  idp?: Omit<IdpOptions, 'port' | 'appOrigins'>;
}

export interface Demo {
  /** The app's URL, e.g. http://127.0.0.1:3000/ */
  readonly appUrl: string;
  readonly idp: Idp;
  /** The server companion, mounted at /auth on the app's origin. */
  readonly companion: Companion;
  close(): Promise<void>;
}

/** Where the demo mounts the server companion. */
export const COMPANION_PATH = '/auth';

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
  const app = createServer();
  const port = await listen(app, options.appPort ?? 0);
  const appOrigin = `http://127.0.0.1:${port}`;
  // localhost is another site than 127.0.0.1: it lets tests see cross-site cookie behaviour.
  const idp = await startIdp({ ...options.idp, port: options.idpPort ?? 0, appOrigins: [appOrigin, `http://localhost:${port}`] });

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
  // The Broker client runs with the generic profile: the SDK's Broker profile routes
  // discovery, JWKS and token through the server companion, which is not built yet, while
  // the local provider (unlike the real Broker) allows CORS from the app.
  const client = options.client ?? CLIENTS.generic;
  const nhs = client === CLIENTS.nhsLogin;
  const companion = createCompanion({
    issuer: idp.issuer,
    clientId: client,
    redirectUris: [`${appOrigin}/callback`, `http://localhost:${port}/callback`],
    provider: nhs ? 'nhs-login' : 'generic',
    ...(nhs ? { clientAuth: { method: 'private_key_jwt' as const, privateJwk: idp.nhsLoginClientKey } } : {}),
  });
  const config = JSON.stringify({
    authority: idp.issuer, clientId: client, provider: nhs ? 'nhs-login' : 'generic',
    onExpired: options.onExpired ?? 'reauthenticate', authParams: options.authParams ?? {},
    serverPath: nhs ? COMPANION_PATH : null,
  });

  app.on('request', (req, res) => {
    const { pathname } = new URL(req.url ?? '/', appOrigin);
    const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...headers });
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
    // Everything that is not a file is the single-page app (/, /callback, ...).
    const file = extname(pathname) ? normalize(join(DEMO_BUILD_DIR, pathname)) : join(DEMO_BUILD_DIR, 'index.html');
    if (!file.startsWith(DEMO_BUILD_DIR)) return send(404, 'text/plain', 'not found');
    readFile(file).then(
      (body) => send(200, TYPES[extname(file)] ?? 'application/octet-stream', body),
      () => send(404, 'text/plain', 'not found'),
    );
  });

  return {
    appUrl: `${appOrigin}/`,
    idp,
    companion,
    async close() {
      await companion.close();
      app.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => app.close(() => resolve())), idp.close()]);
    },
  };
}

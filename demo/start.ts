// `npm start`: builds the demo app, starts it with the local identity provider, and
// prints the URL to open. Ports: APP_PORT (default 3000) and IDP_PORT (default 3001).
import { buildDemo } from './build.js';
import { startDemos, type AppOptions } from './server.js';
import { TEST_USER, type StrictModes } from './idp/index.js';

const port = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new TypeError(`${name} must be a port number; got ${process.env[name]}`);
  return value;
};

await buildDemo();
const client = process.env.DEMO_CLIENT ?? 'generic';
if (client !== 'generic' && client !== 'signaturgruppen-broker' && client !== 'nhs-login') {
  throw new TypeError(`DEMO_CLIENT must be 'generic', 'signaturgruppen-broker' or 'nhs-login'; got '${client}'`);
}
const appPort = port('APP_PORT', 3000);
// IDP_STRICT=scopes,fail-refresh,lose-answers: the local provider behaves as strict real ones do.
const STRICT: Record<string, StrictModes> = {
  scopes: { grantedScopes: ['openid'] },
  'fail-refresh': { failRefresh: true },
  'lose-answers': { loseRefreshAnswers: true },
};
const strictNames = (process.env.IDP_STRICT ?? '').split(',').map((name) => name.trim()).filter(Boolean);
for (const name of strictNames) {
  if (!STRICT[name]) throw new TypeError(`IDP_STRICT must name some of ${Object.keys(STRICT).join(', ')}; got '${name}'`);
}
const strict: StrictModes = Object.assign({}, ...strictNames.map((name) => STRICT[name]));
// The Broker: two services of one service provider (the second on APP_PORT + 2), sharing one
// provider session: sign out in one and watch the other's tabs sign out.
const apps: AppOptions[] = client === 'signaturgruppen-broker'
  ? [{ appPort, client }, { appPort: appPort === 0 ? 0 : appPort + 2, client: 'signaturgruppen-broker-2' }]
  : [{ appPort, client }];
const demo = await startDemos(apps, { idpPort: port('IDP_PORT', 3001), idp: { strict } });
console.log(`
  oidc-session-guard demo
  app${apps.length > 1 ? 's' : ''}:${' '.repeat(apps.length > 1 ? 14 : 15)}${demo.apps.map((app) => app.appUrl).join('  ')}
  identity provider: ${demo.idp.issuer}${strictNames.length ? ` (strict: ${strictNames.join(', ')})` : ''}
  sign in as:        ${TEST_USER.username} / ${TEST_USER.password}

  Open ${demo.apps[0]!.appUrl} in a browser. Ctrl+C stops everything.
`);
const stop = () => {
  void demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

// `npm start`: builds the demo app, starts it with the local identity provider, and
// prints the URL to open. Ports: APP_PORT (default 3000) and IDP_PORT (default 3001).
import { buildDemo } from './build.js';
import { startDemo } from './server.js';
import { TEST_USER } from './idp/index.js';

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
const demo = await startDemo({ appPort: port('APP_PORT', 3000), idpPort: port('IDP_PORT', 3001), client });
console.log(`
  oidc-session-guard demo
  app:               ${demo.appUrl}
  identity provider: ${demo.idp.issuer}
  sign in as:        ${TEST_USER.username} / ${TEST_USER.password}

  Open ${demo.appUrl} in a browser. Ctrl+C stops both.
`);
const stop = () => {
  void demo.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

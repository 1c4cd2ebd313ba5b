// Bundle sizes, ours and the peers', all built the same way in one run (test/size/measure.ts):
// esbuild bundles, minifies and splits one app entry per subject, which imports the
// package's main export and keeps it on globalThis so that nothing is tree-shaken away.
// Eager is what a page loads at once (the entry chunk and the chunks it imports
// statically); total adds the chunks an import() loads when needed.
// Run: npx tsx bench/sizes.ts
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compressed, measure, type SizeReport } from '../test/size/measure.js';
import { bytes, type BenchPart, type BenchRow } from './types.js';

const ROOT = resolve(import.meta.dirname, '..');
/** Where the apps are built: inside the checkout, so that the peers resolve from its node_modules. */
const WORK = join(ROOT, 'bench', '.work');
const IIFE = 'dist/oidc-session-guard.iife.js';
const COLUMNS = ['gzip eager', 'brotli eager', 'gzip total', 'brotli total'] as const;

interface Subject {
  /** The row's name. */
  readonly name: string;
  /** The package whose installed version the note gives. */
  readonly pkg: string;
  /** The app's entry module. */
  readonly source: string;
  /** Packages the page has anyway, left out of the bundle. */
  readonly external?: readonly string[];
  /** What the note says after the version. */
  readonly about: string;
}

/** An app that imports `name` from `specifier` and keeps it. The same text as test/size/size.test.ts's, for our core. */
const app = (specifier: string, name: string, { isDefault = false } = {}): string =>
  `import ${isDefault ? name : `{ ${name} }`} from '${specifier}';\nglobalThis.app = ${name};\n`;

const OURS: readonly Subject[] = [
  { name: 'oidc-session-guard', pkg: 'oidc-session-guard', source: app('oidc-session-guard', 'createSession'),
    about: 'createSession; eager = our eager core, total = the core with its lazy chunks (oidc-client-ts, jose, broadcast-channel)' },
  { name: 'oidc-session-guard/ui', pkg: 'oidc-session-guard', source: app('oidc-session-guard/ui', 'defineTimeoutDialog'),
    about: 'defineTimeoutDialog, the timeout dialog on its own' },
  { name: 'oidc-session-guard/react', pkg: 'oidc-session-guard', source: app('oidc-session-guard/react', 'useSession'),
    external: ['react'], about: 'useSession, react external' },
];

const PEERS: readonly Subject[] = [
  { name: 'oidc-client-ts', pkg: 'oidc-client-ts', source: app('oidc-client-ts', 'UserManager'), about: 'UserManager' },
  // Its main entry holds oidcEarlyInit only; createOidc is in the core entry.
  { name: 'oidc-spa', pkg: 'oidc-spa', source: app('oidc-spa/core', 'createOidc'), about: 'createOidc from oidc-spa/core' },
  { name: 'react-idle-timer', pkg: 'react-idle-timer', source: app('react-idle-timer', 'useIdleTimer'),
    external: ['react', 'react-dom'], about: 'useIdleTimer, react and react-dom external' },
  { name: '@okta/okta-auth-js', pkg: '@okta/okta-auth-js', source: app('@okta/okta-auth-js', 'OktaAuth'), about: 'OktaAuth' },
  { name: '@azure/msal-browser', pkg: '@azure/msal-browser', source: app('@azure/msal-browser', 'PublicClientApplication'),
    about: 'PublicClientApplication' },
  { name: 'keycloak-js', pkg: 'keycloak-js', source: app('keycloak-js', 'Keycloak', { isDefault: true }), about: 'Keycloak, the default export' },
  { name: '@auth0/auth0-spa-js', pkg: '@auth0/auth0-spa-js', source: app('@auth0/auth0-spa-js', 'createAuth0Client'), about: 'createAuth0Client' },
  { name: '@axa-fr/oidc-client', pkg: '@axa-fr/oidc-client', source: app('@axa-fr/oidc-client', 'OidcClient'), about: 'OidcClient' },
];

const versionOf = (pkg: string): string => {
  const file = pkg === 'oidc-session-guard' ? join(ROOT, 'package.json') : join(ROOT, 'node_modules', pkg, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
};

type Measured = { readonly subject: Subject; readonly version: string } & ({ readonly report: SizeReport } | { readonly error: string });

async function measureSubject(subject: Subject): Promise<Measured> {
  const version = versionOf(subject.pkg);
  try {
    return { subject, version, report: await measure(subject.source, { root: ROOT, parent: WORK, external: subject.external ?? [] }) };
  } catch (error) {
    // A peer that does not bundle keeps its row, which says why, and the others go on.
    return { subject, version, error: error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error) };
  }
}

const values = (eagerGzip: number, eagerBrotli: number, totalGzip: number, totalBrotli: number): Record<(typeof COLUMNS)[number], string> => ({
  'gzip eager': bytes(eagerGzip), 'brotli eager': bytes(eagerBrotli), 'gzip total': bytes(totalGzip), 'brotli total': bytes(totalBrotli),
});

const rowOf = (m: Measured): BenchRow => {
  const note = `${m.subject.pkg} ${m.version}: ${m.subject.about}`;
  if ('error' in m) {
    return { section: 'size', name: m.subject.name, values: Object.fromEntries(COLUMNS.map((c) => [c, '-'])), note: `${note}; does not bundle: ${m.error}` };
  }
  const r = m.report;
  return { section: 'size', name: m.subject.name, values: values(r.eagerGzip, r.eagerBrotli, r.totalGzip, r.totalBrotli), note };
};

export async function benchSizes(): Promise<BenchPart> {
  if (!existsSync(join(ROOT, 'dist', 'index.js')) || !existsSync(join(ROOT, IIFE))) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
  mkdirSync(WORK, { recursive: true });
  // One after another: the compression, most of the work besides esbuild's, is synchronous anyway.
  const measured: Measured[] = [];
  for (const subject of [...OURS, ...PEERS]) measured.push(await measureSubject(subject));

  // For a script tag, minified by vite already: compressed as it is, one file, so eager = total.
  const contents = readFileSync(join(ROOT, IIFE));
  const iife = { file: IIFE, version: versionOf('oidc-session-guard'), bytes: contents.length, ...compressed(contents) };
  const iifeRow: BenchRow = {
    section: 'size', name: 'oidc-session-guard IIFE', values: values(iife.gzip, iife.brotli, iife.gzip, iife.brotli),
    note: `oidc-session-guard ${iife.version}: ${IIFE} as vite minified it, compressed as is; one file, so eager = total`,
  };

  // Ours first, then the peers smallest first by what a page loads at once, any that failed last.
  const ours = measured.filter((m) => OURS.includes(m.subject));
  const eagerGzipOf = (m: Measured) => ('report' in m ? m.report.eagerGzip : Infinity);
  const peers = measured.filter((m) => PEERS.includes(m.subject)).sort((a, b) => eagerGzipOf(a) - eagerGzipOf(b));
  const rows = [...ours.map(rowOf), iifeRow, ...peers.map(rowOf)];
  const raw = {
    subjects: measured.map(({ subject, version, ...result }) => ({
      name: subject.name, package: subject.pkg, version, source: subject.source, external: subject.external ?? [], ...result,
    })),
    iife,
  };
  return { rows, raw };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const { rows } = await benchSizes();
  const width = Math.max(...rows.map((r) => r.name.length));
  const line = (name: string, cells: readonly string[], note: string) => `${name.padEnd(width)}  ${cells.map((c) => c.padStart(12)).join('  ')}  ${note}`;
  console.log([line('', COLUMNS, 'note'), ...rows.map((r) => line(r.name, COLUMNS.map((c) => r.values[c] ?? ''), r.note ?? ''))].join('\n'));
}

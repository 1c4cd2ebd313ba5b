import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The demo app's build: the SDK comes from src/, so the demo and the tests run the source. */
export default defineConfig({
  root: here('./app'),
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: 'oidc-session-guard/ui', replacement: here('../src/ui/index.ts') },
      { find: /^oidc-session-guard$/, replacement: here('../src/index.ts') },
    ],
  },
  build: {
    outDir: here('./.build'),
    emptyOutDir: true,
    // No inline scripts or styles anywhere: the demo runs under a strict CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});

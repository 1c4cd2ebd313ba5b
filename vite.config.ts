import { defineConfig } from 'vite';

// Two builds (a library build with one entry per format): `vite build` emits the ESM
// entry points with every dependency external and the lazy parts (protocol, verification,
// the cross-tab fallback) as chunks of their own; `vite build --mode iife` emits the
// script-tag bundle, which sets window.OidcSessionGuard: the library format builds it as
// one self-contained file, dynamic imports inlined.
export default defineConfig(({ mode }) => mode === 'iife'
  ? {
      build: {
        outDir: 'dist',
        emptyOutDir: false,
        sourcemap: true,
        lib: {
          entry: 'src/iife.ts',
          name: 'OidcSessionGuard',
          formats: ['iife'],
          fileName: () => 'oidc-session-guard.iife.js',
        },
      },
    }
  : {
      build: {
        outDir: 'dist',
        emptyOutDir: true,
        sourcemap: true,
        minify: false,
        lib: {
          // The browser SDK, the Node companion (oidc-session-guard/server), the React hook, the timeout dialog.
          entry: { index: 'src/index.ts', 'server/index': 'src/server/index.ts', 'react/index': 'src/react/index.ts', 'ui/index': 'src/ui/index.ts' },
          formats: ['es'],
          fileName: (_format, name) => `${name}.js`,
        },
        rollupOptions: {
          // One file per source module: an app's bundler then sees the real module graph and
          // keeps what is lazy lazy (a merged chunk would drag lazy-only code into the eager part).
          output: { preserveModules: true, preserveModulesRoot: 'src' },
          external: [/^react(\/|$)/, /^ioredis(\/|$)/, /^oidc-client-ts(\/|$)/, /^jose(\/|$)/, /^idb-keyval(\/|$)/, /^broadcast-channel(\/|$)/, /^node:/],
        },
      },
    });

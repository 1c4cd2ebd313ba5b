import { defineConfig } from 'vite';

// Two builds (a library build with one entry per format): `vite build` emits the ESM
// entry points with dependencies external; `vite build --mode iife` emits the script-tag
// bundle with everything inside, which sets window.OidcSessionGuard.
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
          entry: { index: 'src/index.ts' },
          formats: ['es'],
          fileName: (_format, name) => `${name}.js`,
        },
        rollupOptions: {
          external: [/^oidc-client-ts(\/|$)/, /^jose(\/|$)/, /^node:/],
        },
      },
    });

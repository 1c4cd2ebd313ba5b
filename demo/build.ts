import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** Where the built demo app lands. */
export const DEMO_BUILD_DIR = fileURLToPath(new URL('./.build', import.meta.url));

/** Builds the demo app (demo/app) with the SDK from src/, and the script-tag bundle beside it. */
export async function buildDemo(): Promise<void> {
  await build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)) });
  // dist/oidc-session-guard.iife.js, built the same way from src/ (demo/script-tag.html loads it).
  await build({
    configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
    mode: 'iife',
    logLevel: 'warn',
    build: { outDir: DEMO_BUILD_DIR, emptyOutDir: false, sourcemap: false },
  });
}

import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** Where the built demo app lands. */
export const DEMO_BUILD_DIR = fileURLToPath(new URL('./.build', import.meta.url));

/** Builds the demo app (demo/app) with the SDK from src/. */
export async function buildDemo(): Promise<void> {
  await build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)) });
}

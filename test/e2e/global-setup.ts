import { buildDemo } from '../../demo/build.js';

/** Builds the demo app once; each worker serves it next to its own identity provider. */
export default async function globalSetup(): Promise<void> {
  await buildDemo();
}

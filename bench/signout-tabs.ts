// Cross-tab sign-out latency: sign-out in one tab until signed out in every other tab, with
// 2, 5, 10 and 20 tabs of one browser context, stamped inside the pages
// (performance.timeOrigin + performance.now(), one clock for the whole machine), not by
// round trips to this script. Run: npm run bench:signout [-- --reps 20 --tabs 2,5,10,20]
import { existsSync } from 'node:fs';
import { chromium, type Page } from '@playwright/test';
import { buildDemo } from '../demo/build.js';
import { TEST_USER } from '../demo/idp/index.js';
import { startDemo } from '../demo/server.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const REPS = Number(arg('reps', '20'));
const TAB_COUNTS = arg('tabs', '2,5,10,20').split(',').map(Number);

type W = { demoSession: { signOut(): Promise<void>; subscribe(fn: (s: { status: string }) => void): () => void } };

async function signIn(page: Page, appUrl: string, issuer: string): Promise<void> {
  await page.goto(appUrl);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
  await page.getByTestId('sign-in').click();
  await page.waitForURL((url) => url.href.startsWith(issuer));
  await page.getByLabel('Username').fill(TEST_USER.username);
  await page.getByLabel('Password').fill(TEST_USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('status').filter({ hasText: 'active' }).waitFor();
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function main(): Promise<void> {
  await buildDemo();
  const demo = await startDemo();
  const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const browser = await chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
  const rows: string[] = [];
  try {
    for (const count of TAB_COUNTS) {
      const context = await browser.newContext();
      const tabs = [await context.newPage()];
      for (let i = 1; i < count; i += 1) tabs.push(await context.newPage());
      const all: number[] = [];
      // One round first, not counted: the first sign-out in a tab runs cold code paths.
      for (let rep = -1; rep < REPS; rep += 1) {
        await signIn(tabs[0]!, demo.appUrl, demo.idp.issuer);
        for (const tab of tabs.slice(1)) {
          if (rep === -1) await tab.goto(demo.appUrl);
          await tab.getByTestId('status').filter({ hasText: 'active' }).waitFor();
        }
        // Each other tab records when it sees signed-out (listeners in place before the
        // sign-out); the first tab records when it signs out. No eval: the demo runs under a strict CSP.
        await Promise.all(tabs.slice(1).map((tab) => tab.evaluate(() => {
          const w = window as unknown as W & { signedOutAt: number | null };
          w.signedOutAt = null;
          const off = w.demoSession.subscribe((snapshot) => {
            if (snapshot.status !== 'signed-out' || w.signedOutAt !== null) return;
            w.signedOutAt = performance.timeOrigin + performance.now();
            off();
          });
        })));
        const start = await tabs[0]!.evaluate(() => {
          const at = performance.timeOrigin + performance.now();
          void (window as unknown as W).demoSession.signOut();
          return at;
        });
        const ends = await Promise.all(tabs.slice(1).map(async (tab) => {
          const stamped = await tab.waitForFunction(() => (window as unknown as { signedOutAt: number | null }).signedOutAt, undefined, { timeout: 10_000 });
          return (await stamped.jsonValue()) as number;
        }));
        if (rep >= 0) all.push(Math.max(...ends) - start);
        await tabs[0]!.waitForURL((url) => url.href.startsWith(demo.appUrl) && !url.search);
        await tabs[0]!.getByTestId('status').filter({ hasText: 'signed-out' }).waitFor();
      }
      all.sort((a, b) => a - b);
      rows.push(`${String(count).padStart(4)} tabs  p50 ${quantile(all, 0.5).toFixed(1).padStart(6)} ms  p95 ${quantile(all, 0.95).toFixed(1).padStart(6)} ms  max ${all.at(-1)!.toFixed(1).padStart(6)} ms  (${REPS} reps, until the last tab)`);
      console.log(rows.at(-1));
      await context.close();
    }
  } finally {
    await browser.close();
    await demo.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

import { test as base, expect, type Page } from '@playwright/test';
import { CLIENTS, TEST_USER } from '../../demo/idp/index.js';
import { startDemo, type Demo, type DemoOptions } from '../../demo/server.js';

export { expect, TEST_USER };

interface Fixtures {
  /** Collects CSP violations on the page; the test fails if any happened. */
  cspViolations: string[];
}

/** One demo app and local identity provider per worker, on ports they pick. */
export const test = base.extend<Fixtures, { demo: Demo }>({
  demo: [async ({}, use) => {
    // Day-long access tokens: these tests move the browser's clock by hours, and automatic
    // renewal (tested with short tokens in renewal.spec.ts) would meet a provider whose clock
    // did not move.
    const demo = await startDemo({ idp: { accessTokenTtlSec: 86_400 } });
    await use(demo);
    await demo.close();
  }, { scope: 'worker' }],
  cspViolations: [async ({ page }, use) => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await use(violations);
    expect(violations, 'no Content-Security-Policy violations').toEqual([]);
  }, { auto: true }],
});

/** The timeout dialog's native <dialog> (Playwright's locators pierce its open shadow root). */
export const timeoutDialog = (page: Page) => page.locator('session-timeout-dialog dialog');

/** Opens the demo app and waits until the session has settled. */
export async function openApp(page: Page, demo: Demo, path = '/'): Promise<void> {
  await page.goto(new URL(path, demo.appUrl).href);
  await expect(page.locator('body[data-ready="true"]')).toBeAttached();
}

/** Clicks the app's sign-in button and fills in the local provider's login form as the test user. */
export async function submitLogin(page: Page): Promise<void> {
  await page.getByTestId('sign-in').click();
  await page.getByLabel('Username').fill(TEST_USER.username);
  await page.getByLabel('Password').fill(TEST_USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in through the local provider's login form and waits for the app to be active. */
export async function signIn(page: Page, demo: Demo): Promise<void> {
  await openApp(page, demo);
  await submitLogin(page);
  await expect(page.getByTestId('status')).toHaveText('active');
}

/** A demo of its own for one test (other options than the shared fixture's), stopped after it. */
export async function withDemo(options: DemoOptions, run: (demo: Demo) => Promise<void>): Promise<void> {
  const demo = await startDemo(options);
  try {
    await run(demo);
  } finally {
    await demo.close();
  }
}

/** Day-long access tokens, as in the shared fixture: no automatic renewal while hours pass on the fake clock. */
export const dayLongTokens = (options: DemoOptions): DemoOptions => ({ ...options, idp: { accessTokenTtlSec: 86_400, ...options.idp } });

/** What the tests read of the demo's session. */
type Snapshot = { status: string; expiresAt: number; lastActivityAt: number };
/** The demo session's snapshot. */
export const snapshot = (page: Page) => page.evaluate(() => (window as unknown as { demoSession: { getSnapshot(): Snapshot } }).demoSession.getSnapshot());

/** The SDK's record in IndexedDB, as a script on the page reads it. */
export const record = (page: Page, demo: Demo) => page.evaluate((key) => new Promise<Record<string, unknown>>((resolve, reject) => {
  const open = indexedDB.open('oidc-session-guard');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction('records').objectStore('records').get(key);
    request.onsuccess = () => {
      open.result.close();
      resolve(request.result as Record<string, unknown>);
    };
  };
}), `${demo.idp.issuer}|${CLIENTS.generic}`);


/**
 * Waits until the input just made on `page` counts and is in the shared record: before a fake
 * clock moves on, since a jump past the write's time limit would fail the write.
 */
export async function activityWritten(page: Page, demo: Demo): Promise<void> {
  const now = await page.evaluate(() => Date.now());
  await expect.poll(async () => {
    const [stored, mine] = [await record(page, demo), await snapshot(page)];
    return mine.lastActivityAt >= now - 1000 && stored.lastActivityAt === mine.lastActivityAt;
  }).toBe(true);
}

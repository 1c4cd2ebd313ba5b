import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, submitLogin, test, timeoutDialog } from './fixtures.js';

const IIFE = fileURLToPath(new URL('../../dist/oidc-session-guard.iife.js', import.meta.url));
const ORIGIN = 'https://sdk.test';

test('the script-tag build sets window.OidcSessionGuard under a strict CSP and starts nothing', async ({ page }) => {
  const bundle = await readFile(IIFE, 'utf8').catch(() => {
    throw new Error('dist/oidc-session-guard.iife.js is missing: run `npm run build` first (npm test does)');
  });
  // Served from a made-up origin by Playwright itself: no network, and a strict CSP.
  await page.route(`${ORIGIN}/**`, (route) => {
    const { pathname } = new URL(route.request().url());
    const csp = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'";
    if (pathname === '/oidc-session-guard.iife.js') {
      return route.fulfill({ contentType: 'text/javascript', body: bundle, headers: { 'content-security-policy': csp } });
    }
    return route.fulfill({
      contentType: 'text/html',
      headers: { 'content-security-policy': csp },
      body: '<!doctype html><title>script tag</title><script src="/oidc-session-guard.iife.js"></script>',
    });
  });
  // Count every way the bundle could start something, before it loads.
  await page.addInitScript(() => {
    const calls: string[] = [];
    (window as unknown as { sideEffects: string[] }).sideEffects = calls;
    const wrap = <T extends object>(target: T, key: keyof T & string, name: string) => {
      const original = target[key] as unknown as (...args: unknown[]) => unknown;
      (target as Record<string, unknown>)[key] = function wrapped(this: unknown, ...args: unknown[]) {
        calls.push(name);
        return original.apply(this, args);
      };
    };
    wrap(window, 'setTimeout', 'setTimeout');
    wrap(window, 'setInterval', 'setInterval');
    wrap(window, 'fetch', 'fetch');
    wrap(EventTarget.prototype, 'addEventListener', 'addEventListener');
    wrap(IDBFactory.prototype, 'open', 'indexedDB.open');
    wrap(Storage.prototype, 'setItem', 'storage.setItem');
    const Original = window.BroadcastChannel;
    window.BroadcastChannel = class extends Original {
      constructor(name: string) {
        calls.push('BroadcastChannel');
        super(name);
      }
    };
  });

  await page.goto(`${ORIGIN}/`);
  const result = await page.evaluate(() => {
    const sdk = (window as unknown as { OidcSessionGuard: Record<string, unknown> }).OidcSessionGuard;
    const create = sdk.createSession as (o: object) => { getSnapshot(): { status: string } };
    const session = create({ authority: 'https://idp.example', clientId: 'spa', redirectUri: 'https://sdk.test/callback' });
    return {
      exports: Object.keys(sdk).sort(),
      status: session.getSnapshot().status,
      sideEffects: (window as unknown as { sideEffects: string[] }).sideEffects,
    };
  });
  expect(result.exports).toEqual(['SessionError', 'createSession', 'defineTimeoutDialog', 'presets']);
  expect(result.status).toBe('loading');
  expect(result.sideEffects).toEqual([]);
});

test('demo/script-tag.html, with only the script-tag bundle, signs in and shows the timeout dialog', async ({ page, demo }) => {
  const scripts: string[] = [];
  page.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
  });
  await page.clock.install();
  await page.goto(new URL('/script-tag.html', demo.appUrl).href);
  await expect(page.locator('body[data-ready="true"]')).toBeAttached();
  await submitLogin(page);
  await expect(page.getByTestId('status')).toHaveText('active');
  await expect(page.getByTestId('who')).toHaveText('Signed in as Alice Example.');
  expect([...new Set(scripts)].sort()).toEqual(['/oidc-session-guard.iife.js', '/script-tag.js']);
  await page.clock.fastForward('28:30');
  await expect(timeoutDialog(page)).toBeVisible();
  await timeoutDialog(page).getByRole('button', { name: 'Stay signed in' }).click();
  await expect(timeoutDialog(page)).toBeHidden();
  await expect(page.getByTestId('status')).toHaveText('active');
});

import type { Page } from '@playwright/test';
import type { Demo } from '../../demo/server.js';
import { expect, openApp, signIn, submitLogin, test, TEST_USER, withDemo, timeoutDialog } from './fixtures.js';

interface Snapshot { status: string; authTime: number; idleExpiresAt: number; absoluteExpiresAt: number; expiresAt: number; lastActivityAt: number }
type DemoSession = {
  renew(): Promise<void>;
  getAccessToken(): Promise<string>;
  getSnapshot(): Snapshot;
  signIn(o: object): Promise<void>;
};
const call = <T>(page: Page, fn: (s: DemoSession) => Promise<T> | T) =>
  page.evaluate(`(${fn.toString()})(window.demoSession)`) as Promise<T>;
const outcome = (page: Page, fn: (s: DemoSession) => Promise<unknown>) =>
  page.evaluate(`(${fn.toString()})(window.demoSession).then(() => 'resolved', (e) => e.code)`) as Promise<string>;

const tokenRequests = (demo: Demo, mark: number, grant: string) =>
  demo.idp.events.slice(mark).filter((e) => e.type === 'token' && e.params.grant_type === grant);

test('a refresh-token renewal keeps authTime and every deadline, and is not activity', async ({ page, demo }) => {
  await signIn(page, demo);
  const before = await call(page, (s) => s.getSnapshot());
  const token = await call(page, (s) => s.getAccessToken());
  const mark = demo.idp.events.length;
  await call(page, (s) => s.renew());
  const after = await call(page, (s) => s.getSnapshot());
  expect(tokenRequests(demo, mark, 'refresh_token')).toHaveLength(1);
  expect(await call(page, (s) => s.getAccessToken())).not.toBe(token);
  expect(after).toMatchObject({
    status: 'active', authTime: before.authTime, lastActivityAt: before.lastActivityAt,
    idleExpiresAt: before.idleExpiresAt, absoluteExpiresAt: before.absoluteExpiresAt, expiresAt: before.expiresAt,
  });
});

test('without refresh tokens, renewal runs prompt=none in a hidden iframe while the provider session lives', async ({ page }) => {
  await withDemo({ idp: { refreshTokens: false } }, async (demo) => {
    await signIn(page, demo);
    const before = await call(page, (s) => s.getSnapshot());
    const token = await call(page, (s) => s.getAccessToken());
    const framed: URL[] = [];
    page.on('request', (request) => {
      if (request.frame() !== page.mainFrame() && request.url().startsWith(`${demo.idp.issuer}/auth`)) framed.push(new URL(request.url()));
    });
    await call(page, (s) => s.renew());
    expect(framed).toHaveLength(1);
    expect(framed[0]!.searchParams.get('prompt')).toBe('none');
    expect(framed[0]!.searchParams.get('max_age')).toBe(String(12 * 3600));
    expect(await call(page, (s) => s.getAccessToken())).not.toBe(token);
    expect(await call(page, (s) => s.getSnapshot())).toMatchObject({ status: 'active', authTime: before.authTime, absoluteExpiresAt: before.absoluteExpiresAt });
    await expect(page).toHaveURL(demo.appUrl);
  });
});

test('with the provider cookie unavailable to the iframe, renewal falls back to a top-level prompt=none redirect', async ({ page }) => {
  await withDemo({ idp: { refreshTokens: false } }, async (demo) => {
    // The app on localhost and the provider on 127.0.0.1 are different sites: the provider's
    // SameSite=Lax session cookie is not sent to it inside an iframe, as when a browser
    // blocks third-party cookies. A top-level navigation still carries it.
    const app = demo.appUrl.replace('127.0.0.1', 'localhost');
    await page.goto(app);
    await expect(page.locator('body[data-ready="true"]')).toBeAttached();
    await submitLogin(page);
    await expect(page.getByTestId('status')).toHaveText('active');
    const before = await call(page, (s) => s.getSnapshot());

    const topLevel = page.waitForRequest((r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && r.url().startsWith(`${demo.idp.issuer}/auth`));
    void page.evaluate('window.demoSession.renew()').catch(() => undefined); // the page navigates away
    const url = new URL((await topLevel).url());
    expect(url.searchParams.get('prompt')).toBe('none');
    await page.waitForURL(app);
    await expect(page.getByTestId('status')).toHaveText('active');
    const after = await call(page, (s) => s.getSnapshot());
    // The same session goes on: same authentication, same deadlines, no activity counted.
    expect(after).toMatchObject({ authTime: before.authTime, absoluteExpiresAt: before.absoluteExpiresAt, lastActivityAt: before.lastActivityAt });
  });
});

test('after expiry renew() is refused and the next authorize carries prompt=login', async ({ page }) => {
  await withDemo({ onExpired: 'none', idp: { accessTokenTtlSec: 86_400 } }, async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const mark = demo.idp.events.length;
    await page.clock.fastForward('30:00');
    await expect(page.getByTestId('status')).toHaveText('expired');
    expect(await outcome(page, (s) => s.renew())).toBe('LOGIN_REQUIRED');
    expect(tokenRequests(demo, mark, 'refresh_token')).toEqual([]);
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${demo.idp.issuer}/auth?`));
    // The timeout dialog's notice is modal (the page behind is inert): its "Sign in again".
    await timeoutDialog(page).getByRole('button', { name: 'Sign in again' }).click();
    const url = new URL((await authorize).url());
    expect(url.searchParams.get('prompt')).toBe('login');
    expect(url.searchParams.get('max_age')).toBe('0');
  });
});

test('after signOut() a prompt=none sign-in fails: the provider session is gone', async ({ page, demo }) => {
  await signIn(page, demo);
  await page.getByTestId('sign-out').click();
  await page.waitForURL((u) => u.href.startsWith(demo.appUrl) && !u.search);
  await expect(page.getByTestId('status')).toHaveText('signed-out');
  void page.evaluate('window.demoSession.signIn({ prompt: "none" })').catch(() => undefined);
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'LOGIN_REQUIRED');
  await expect(page.getByTestId('status')).toHaveText('signed-out');
});

test('authorize requests carry max_age = the absolute limit (generic and the Broker client)', async ({ page, demo }) => {
  for (const client of ['generic', 'signaturgruppen-broker'] as const) {
    await withDemo({ client }, async (own) => {
      await openApp(page, own);
      const authorize = page.waitForRequest((r) => r.url().startsWith(`${own.idp.issuer}/auth?`));
      await page.getByTestId('sign-in').click();
      const url = new URL((await authorize).url());
      expect(url.searchParams.get('client_id')).toBe(client);
      expect(url.searchParams.get('max_age')).toBe(String(12 * 3600));
    });
  }
  void demo;
});

test("extra authorize parameters such as NHS login's vtr reach the provider's authorize endpoint", async ({ page }) => {
  // The nhs-login profile itself needs the server companion (private_key_jwt); its rule of
  // no max_age is covered in providers.test.ts. Here the generic client sends vtr.
  const vtr = '["P9.Cp.Cd","P9.Cp.Ck"]';
  await withDemo({ authParams: { vtr } }, async (demo) => {
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${demo.idp.issuer}/auth?`));
    await signIn(page, demo);
    expect(new URL((await authorize).url()).searchParams.get('vtr')).toBe(vtr);
  });
});

test('a returnTo on another origin is refused and nothing navigates', async ({ page, demo }) => {
  await openApp(page, demo);
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => navigations.push(frame.url()));
  expect(await outcome(page, (s) => s.signIn({ returnTo: 'https://evil.example/steal' }))).toBe('REDIRECT_REFUSED');
  expect(await outcome(page, (s) => s.signIn({ returnTo: '//evil.example/steal' }))).toBe('REDIRECT_REFUSED');
  expect(navigations).toEqual([]);
});

test('renews automatically shortly before the access token expires, while the user is active', async ({ page }) => {
  await withDemo({ idp: { accessTokenTtlSec: 120 } }, async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const before = await call(page, (s) => s.getSnapshot());
    // Time stands still from here unless the test moves it.
    await page.clock.pauseAt(await page.evaluate(() => Date.now()) + 1000);
    const mark = demo.idp.events.length;
    await page.keyboard.press('Shift');
    await page.clock.fastForward('00:30'); // the token has 90 s left: not yet
    expect(tokenRequests(demo, mark, 'refresh_token')).toEqual([]);
    await page.clock.fastForward('00:40'); // 20 s left, inside the last minute: renew once
    await expect.poll(() => tokenRequests(demo, mark, 'refresh_token').length).toBe(1);
    await expect(page.getByTestId('events').locator('li[data-type="renewed"]')).toHaveCount(1);
    const after = await call(page, (s) => s.getSnapshot());
    expect(after.authTime).toBe(before.authTime);
    expect(after.absoluteExpiresAt).toBe(before.absoluteExpiresAt);
  });
});

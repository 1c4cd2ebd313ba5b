// Renewal against a provider as strict as real ones, in Chromium: the local provider
// (oidc-provider) in its strict modes (demo/idp `strict`): scopes granted narrower than asked,
// refresh tokens rotated with reuse detection (a refresh token used twice revokes the grant),
// a refresh served and its answer lost, or held past the SDK's time limit, and a provider
// that fails every refresh. Time in the page is Playwright's fake clock.
import type { Page } from '@playwright/test';
import { CLIENTS } from '../../demo/idp/index.js';
import type { Demo } from '../../demo/server.js';
import { dayLongTokens, expect, signIn, test, withDemo } from './fixtures.js';

type DemoSession = { renew(): Promise<void>; getAccessToken(): Promise<string> };
const call = <T>(page: Page, fn: (s: DemoSession) => Promise<T> | T) => page.evaluate(`(${fn.toString()})(window.demoSession)`) as Promise<T>;
const outcome = (page: Page, fn: (s: DemoSession) => Promise<unknown>) =>
  page.evaluate(`(${fn.toString()})(window.demoSession).then(() => 'resolved', (e) => e.code + ': ' + e.message)`) as Promise<string>;

/** The provider's token events for one grant type since `mark`: served ('token'), refused ('token.error'), lost ('token.lost'). */
const grants = (demo: Demo, mark: number, grant: string) =>
  demo.idp.events.slice(mark).filter((e) => (e.type === 'token' || e.type === 'token.error') && e.params.grant_type === grant);
/** Grants the provider revoked: by its reuse detection, when a rotated refresh token came back. */
const reuses = (demo: Demo) => demo.idp.events.filter((e) => e.type === 'grant.revoked');

/**
 * Later renewals refresh again, past the renewal window, with the token the silent renewal
 * brought: one refresh served, no reuse, no revoked grant.
 */
async function refreshesAgain(page: Page, demo: Demo): Promise<void> {
  await page.clock.runFor(10_000);
  const again = demo.idp.events.length;
  expect(await outcome(page, (s) => s.renew())).toBe('resolved');
  expect(grants(demo, again, 'refresh_token').map((e) => e.type)).toEqual(['token']);
  expect(reuses(demo)).toEqual([]);
}

test('granted scopes narrower than asked for: a refresh asks for no scope, and renews (RFC 6749 §6)', async ({ page }) => {
  // The app asks for openid profile email; the provider grants openid alone.
  await withDemo(dayLongTokens({ idp: { strict: { grantedScopes: ['openid'] } } }), async (demo) => {
    await signIn(page, demo);
    const mark = demo.idp.events.length;
    const before = await call(page, (s) => s.getAccessToken());
    expect(await outcome(page, (s) => s.renew())).toBe('resolved');
    const refreshes = grants(demo, mark, 'refresh_token');
    expect(refreshes.map((e) => e.type)).toEqual(['token']);
    expect(refreshes[0]!.params).not.toHaveProperty('scope');
    expect(await call(page, (s) => s.getAccessToken())).not.toBe(before);
  });
});

test('a refresh served and its answer lost (connection cut): never sent again, the renewal goes on with prompt=none, and the grant stays good', async ({ page }) => {
  await withDemo(dayLongTokens({}), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const framed: URL[] = [];
    page.on('request', (request) => {
      if (request.frame() !== page.mainFrame() && request.url().startsWith(`${demo.idp.issuer}/auth`)) framed.push(new URL(request.url()));
    });
    const mark = demo.idp.events.length;
    demo.idp.strict.loseRefreshAnswers = true;
    expect(await outcome(page, (s) => s.renew())).toBe('resolved');
    demo.idp.strict.loseRefreshAnswers = false;
    // One refresh, served (its token rotated) and lost; then prompt=none in a hidden iframe.
    expect(demo.idp.events.slice(mark).filter((e) => e.type === 'token.lost')).toHaveLength(1);
    expect(grants(demo, mark, 'refresh_token')).toHaveLength(1);
    expect(framed.map((url) => url.searchParams.get('prompt'))).toEqual(['none']);
    expect(grants(demo, mark, 'authorization_code').map((e) => e.type)).toEqual(['token']);
    await refreshesAgain(page, demo);
  });
});

test("a refresh answer the provider holds past the SDK's time limit: one attempt, the renewal goes on with prompt=none, no reuse", async ({ page }) => {
  await withDemo(dayLongTokens({}), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const mark = demo.idp.events.length;
    const release = demo.idp.holdTokenAnswers('refresh_token');
    let settled = '';
    const renewal = outcome(page, (s) => s.renew()).then((result) => (settled = result));
    // Served at the provider (rotated), and held there.
    await expect.poll(() => grants(demo, mark, 'refresh_token').length).toBe(1);
    // The SDK's time limit, on the page's clock (its timer started when the request went out);
    // then the silent renewal, which is not held and needs no time to pass.
    await page.clock.runFor(10_000);
    expect(await renewal).toBe('resolved');
    expect(settled).toBe('resolved');
    release();
    expect(grants(demo, mark, 'refresh_token')).toHaveLength(1);
    expect(grants(demo, mark, 'authorization_code').map((e) => e.type)).toEqual(['token']);
    await refreshesAgain(page, demo);
  });
});

test('the local provider revokes the grant when a rotated refresh token is used again (its reuse detection, which the SDK must never trigger)', async ({ page }) => {
  await withDemo(dayLongTokens({}), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    // The refresh token as the page holds it (read from the SDK's hand-over to another tab).
    const spent = await page.evaluate((name) => new Promise<string>((resolve) => {
      const channel = new BroadcastChannel(name);
      channel.onmessage = (event) => {
        if (event.data.type === 'token-offer') {
          channel.close();
          resolve(event.data.tokens.refreshToken);
        }
      };
      const open = indexedDB.open('oidc-session-guard');
      open.onsuccess = () => {
        const request = open.result.transaction('records').objectStore('records').getAll();
        request.onsuccess = () => channel.postMessage({ v: 1, sentAt: Date.now(), type: 'token-request', sessionId: request.result[0].sessionId, requestId: 'test' });
      };
    }), `oidc-session-guard|${demo.idp.issuer}|${CLIENTS.generic}`);
    expect(await outcome(page, (s) => s.renew())).toBe('resolved');
    const reuse = await fetch(`${demo.idp.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: spent, client_id: CLIENTS.generic }) });
    expect(reuse.status).toBe(400);
    expect(reuses(demo)).toHaveLength(1);
    // The whole grant went with it: the page's current refresh token is refused too.
    await page.clock.runFor(10_000);
    const mark = demo.idp.events.length;
    expect(await outcome(page, (s) => s.renew())).toMatch(/^RENEW_FAILED|^LOGIN_REQUIRED/);
    expect(grants(demo, mark, 'refresh_token').map((e) => e.type)).toEqual(['token.error']);
  });
});

/** 100 renew-requests over 10 s (fake) from a script on the page, on the SDK's own channel. */
async function flood(page: Page, demo: Demo): Promise<void> {
  const name = `oidc-session-guard|${demo.idp.issuer}|${CLIENTS.generic}`;
  await page.evaluate((channelName) => new Promise<void>((resolve) => {
    const open = indexedDB.open('oidc-session-guard');
    open.onsuccess = () => {
      const request = open.result.transaction('records').objectStore('records').getAll();
      request.onsuccess = () => {
        const w = window as unknown as { flood: () => void };
        const channel = new BroadcastChannel(channelName);
        w.flood = () => {
          for (let i = 0; i < 10; i += 1) channel.postMessage({ v: 1, sentAt: Date.now(), type: 'renew-request', sessionId: request.result[0].sessionId });
        };
        resolve();
      };
    };
  }), name);
  for (let second = 0; second < 10; second += 1) {
    await page.evaluate('window.flood()');
    await page.clock.runFor(1_000);
  }
}

test('a flood of renew requests from a script on the page: at most 3 token requests in 10 s with a working provider', async ({ page }) => {
  await withDemo(dayLongTokens({}), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const mark = demo.idp.events.length;
    await flood(page, demo);
    await expect.poll(() => grants(demo, mark, 'refresh_token').length).toBeGreaterThan(0);
    await page.clock.runFor(1_000);
    expect(grants(demo, mark, 'refresh_token').length).toBeLessThanOrEqual(3);
  });
});

test('a flood of renew requests from a script on the page: one token request in 10 s with a provider that fails every refresh', async ({ page }) => {
  await withDemo(dayLongTokens({ idp: { strict: { failRefresh: true } } }), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const mark = demo.idp.events.length;
    await flood(page, demo);
    await expect.poll(() => grants(demo, mark, 'refresh_token').length).toBeGreaterThan(0);
    await page.clock.runFor(1_000);
    expect(grants(demo, mark, 'refresh_token').map((e) => e.type)).toEqual(['token.error']);
  });
});

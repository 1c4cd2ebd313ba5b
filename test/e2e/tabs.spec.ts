import type { BrowserContext, Page } from '@playwright/test';
import { expect, openApp, signIn, test, timeoutDialog } from './fixtures.js';
import type { Demo } from '../../demo/server.js';

// Five tabs of one browser context share IndexedDB, BroadcastChannel, Web Locks and one
// fake clock (context.clock): moving it moves time in every tab.

type DemoWindow = { demoSession: { renew(): Promise<void>; getAccessToken(): Promise<string>; subscribe(fn: (s: { status: string }) => void): () => void } };

/** Signs in in the first tab, then opens four more, each taking over the live session. */
async function fiveTabs(context: BrowserContext, demo: Demo): Promise<Page[]> {
  // Five pages, each moved through half an hour of fake time: twice the usual time limit
  // on a loaded 2-core machine (seen at 25 s in CI).
  test.setTimeout(60_000);
  await context.clock.install();
  const first = await context.newPage();
  await signIn(first, demo);
  const tabs = [first];
  for (let i = 1; i < 5; i += 1) {
    const tab = await context.newPage();
    await openApp(tab, demo);
    tabs.push(tab);
  }
  for (const tab of tabs) await expect(tab.getByTestId('status')).toHaveText('active');
  return tabs;
}

const statuses = (tabs: Page[]) => Promise.all(tabs.map((tab) => tab.getByTestId('status').textContent()));

test('a tab opened after sign-in becomes active without a new login', async ({ context, demo }) => {
  await context.clock.install();
  const first = await context.newPage();
  await signIn(first, demo);
  const authorizeBefore = demo.idp.events.filter((e) => e.type === 'authorize').length;
  const second = await context.newPage();
  const requests: string[] = [];
  second.on('request', (request) => requests.push(request.url()));
  await openApp(second, demo);
  await expect(second.getByTestId('status')).toHaveText('active');
  await expect(second.getByTestId('sub')).toHaveText(await first.getByTestId('sub').textContent() ?? '');
  expect(requests.filter((url) => url.startsWith(`${demo.idp.issuer}/auth`))).toEqual([]);
  expect(demo.idp.events.filter((e) => e.type === 'authorize').length).toBe(authorizeBefore);
});

test('the only tab, reloaded, restores the same session silently (prompt=none in an iframe), without a login', async ({ context, demo }) => {
  const page = await context.newPage();
  await signIn(page, demo);
  const before = await page.evaluate(() => (window as unknown as { demoSession: { getSnapshot(): { authTime: number; absoluteExpiresAt: number } } }).demoSession.getSnapshot());
  const framed: string[] = [];
  page.on('request', (request) => {
    if (request.frame() !== page.mainFrame() && request.url().startsWith(`${demo.idp.issuer}/auth`)) framed.push(request.url());
  });
  await page.reload();
  await expect(page.getByTestId('status')).toHaveText('active');
  expect(framed).toHaveLength(1);
  expect(new URL(framed[0]!).searchParams.get('prompt')).toBe('none');
  const after = await page.evaluate(() => (window as unknown as { demoSession: { getSnapshot(): { authTime: number; absoluteExpiresAt: number } } }).demoSession.getSnapshot());
  expect(after.authTime).toBe(before.authTime);
  expect(after.absoluteExpiresAt).toBe(before.absoluteExpiresAt);
  await expect(page.getByLabel('Password')).toHaveCount(0);
});

test('activity in tab 1 only keeps all 5 tabs active past 30 minutes', async ({ context, demo }) => {
  const tabs = await fiveTabs(context, demo);
  for (let i = 0; i < 8; i += 1) {
    await context.clock.fastForward('05:00');
    await tabs[0]!.keyboard.press('Shift');
  }
  await context.clock.fastForward('00:10');
  expect(await statuses(tabs)).toEqual(['active', 'active', 'active', 'active', 'active']);
});

test('sign-out in tab 3 signs out all 5 (latency printed)', async ({ context, demo }) => {
  const tabs = await fiveTabs(context, demo);
  const started = Date.now();
  const latencies = tabs.map((tab, i) => (i === 2 ? null : tab.evaluate(() => new Promise<void>((resolve) => {
    (window as unknown as DemoWindow).demoSession.subscribe((s) => {
      if (s.status === 'signed-out') resolve();
    });
  })).then(() => Date.now() - started)));
  await tabs[2]!.getByTestId('sign-out').click();
  const measured = (await Promise.all(latencies.filter((p) => p !== null))).sort((a, b) => a - b);
  for (const [i, tab] of tabs.entries()) {
    if (i !== 2) await expect(tab.getByTestId('status')).toHaveText('signed-out');
  }
  // Tab 3 went to the provider's end-session endpoint and came back signed out.
  await tabs[2]!.waitForURL((url) => url.href.startsWith(demo.appUrl) && !url.search);
  await expect(tabs[2]!.getByTestId('status')).toHaveText('signed-out');
  const p50 = measured[Math.floor((measured.length - 1) * 0.5)];
  const p95 = measured[Math.ceil((measured.length - 1) * 0.95)];
  console.log(`cross-tab sign-out latency over ${measured.length} tabs: p50 ${p50} ms, p95 ${p95} ms (measured from the test, round trips included)`);
  expect(measured).toHaveLength(4);
});

test('the warning dismissed in one tab closes in all', async ({ context, demo }) => {
  const tabs = await fiveTabs(context, demo);
  await context.clock.fastForward('29:00');
  for (const tab of tabs) await expect(timeoutDialog(tab)).toBeVisible();
  await timeoutDialog(tabs[1]!).getByRole('button', { name: 'Stay signed in' }).click();
  for (const tab of tabs) {
    await expect(timeoutDialog(tab)).toBeHidden();
    await expect(tab.getByTestId('status')).toHaveText('active');
  }
});

test('one renewal with 5 tabs and refresh-token rotation: exactly 1 refresh request, no tab signed out', async ({ context, demo }) => {
  const tabs = await fiveTabs(context, demo);
  const before = await tabs[0]!.evaluate(() => (window as unknown as DemoWindow).demoSession.getAccessToken());
  const mark = demo.idp.events.length;
  await Promise.all(tabs.map((tab) => tab.evaluate(() => (window as unknown as DemoWindow).demoSession.renew())));
  const since = demo.idp.events.slice(mark);
  expect(since.filter((e) => e.type === 'token' && e.params.grant_type === 'refresh_token')).toHaveLength(1);
  expect(since.filter((e) => e.type === 'token.error')).toEqual([]);
  const tokens = await Promise.all(tabs.map((tab) => tab.evaluate(() => (window as unknown as DemoWindow).demoSession.getAccessToken())));
  expect(new Set(tokens).size).toBe(1);
  expect(tokens[0]).not.toBe(before);
  expect(await statuses(tabs)).toEqual(['active', 'active', 'active', 'active', 'active']);
  // The rotated refresh token is the one every tab now holds: a second renewal works too.
  await tabs[3]!.evaluate(() => (window as unknown as DemoWindow).demoSession.renew());
  expect(demo.idp.events.slice(mark).filter((e) => e.type === 'token.error')).toEqual([]);
});

test('expiry with reauthenticate makes exactly one tab navigate to the provider', async ({ context, demo }) => {
  const tabs = await fiveTabs(context, demo);
  const navigations: number[] = [];
  tabs.forEach((tab, i) => tab.on('request', (request) => {
    if (request.isNavigationRequest() && request.url().startsWith(`${demo.idp.issuer}/auth`)) navigations.push(i);
  }));
  await context.clock.fastForward('30:00');
  await expect.poll(() => navigations.length).toBe(1);
  const redirected = navigations[0]!;
  await expect(tabs[redirected]!.getByLabel('Password')).toBeVisible();
  for (const [i, tab] of tabs.entries()) {
    if (i !== redirected) await expect(tab.getByTestId('status')).toHaveText('expired');
  }
  expect(navigations).toEqual([redirected]);
});

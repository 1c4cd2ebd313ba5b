// Attacks on the trust boundaries, in Chromium against the local provider: a script on the
// page (messages on the SDK's channel, records edited in IndexedDB), ID tokens re-signed or
// forged on the way (page.route, with the provider's own key or another), a provider that
// ignores prompt=login, and clocks moved with Playwright's fake clock. A token endpoint that
// never answers, and the provider's other strict modes: strict-provider.spec.ts.
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from '@playwright/test';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { CLIENTS } from '../../demo/idp/index.js';
import type { Demo } from '../../demo/server.js';
import { dayLongTokens, expect, openApp, signIn, submitLogin, test, TEST_USER, withDemo } from './fixtures.js';

type DemoSession = { renew(): Promise<void>; getAccessToken(): Promise<string>; getSnapshot(): Record<string, unknown>; signIn(o?: object): Promise<void> };
const call = <T>(page: Page, fn: (s: DemoSession) => Promise<T> | T) => page.evaluate(`(${fn.toString()})(window.demoSession)`) as Promise<T>;
const outcome = (page: Page, fn: (s: DemoSession) => Promise<unknown>) =>
  page.evaluate(`(${fn.toString()})(window.demoSession).then(() => 'resolved', (e) => e.code)`) as Promise<string>;
const HOUR = 3_600_000;
const now = () => Math.floor(Date.now() / 1000);

/** The SDK's record in IndexedDB, read or written as a script on the page would. */
function record(page: Page, demo: Demo, value?: Record<string, unknown>): Promise<Record<string, unknown>> {
  return page.evaluate(([key, next]) => new Promise((resolve, reject) => {
    const open = indexedDB.open('oidc-session-guard');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('records', 'readwrite');
      const store = tx.objectStore('records');
      const request = next ? store.put(next, key) : store.get(key);
      request.onsuccess = () => resolve((next ?? request.result) as Record<string, unknown>);
      request.onerror = () => reject(request.error);
    };
  }), [`${demo.idp.issuer}|${CLIENTS.generic}`, value] as const);
}

/** Posts on the SDK's channel, as a script on the page can. */
const post = (page: Page, demo: Demo, message: Record<string, unknown>) => page.evaluate(([name, m]) => {
  const channel = new BroadcastChannel(name);
  channel.postMessage({ v: 1, sentAt: Date.now(), ...m });
  channel.close();
}, [`oidc-session-guard|${demo.idp.issuer}|${CLIENTS.generic}`, message] as const);

/** An ID token for the generic client, signed with `key` (the provider's own, or another). */
async function idToken(demo: Demo, claims: Record<string, unknown>, key: JWK = demo.idp.idTokenSigningKey): Promise<string> {
  const t = now();
  return new SignJWT({ iss: demo.idp.issuer, aud: CLIENTS.generic, sub: TEST_USER.sub, iat: t, exp: t + 3600, auth_time: t, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid ?? 'other' })
    .sign(await importJWK(key, 'RS256'));
}

/** Rewrites the ID token of every token response, re-signed with the provider's key. */
async function resignTokenResponses(page: Page, demo: Demo, change: (claims: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  await page.route(`${demo.idp.issuer}/token`, async (route) => {
    const response = await route.fetch();
    const json = (await response.json()) as { id_token?: string };
    if (!json.id_token) return route.fulfill({ response, json });
    await route.fulfill({ response, json: { ...json, id_token: await idToken(demo, change(decodeJwt(json.id_token))) } });
  });
}

const tokens = (id: string, accessToken = 'attacker-access-token') => ({ idToken: id, accessToken, refreshToken: null, accessTokenExpiresAt: null });

test("a script on the page posts renewed messages with a forged token and with another user's well-signed token: nothing changes", async ({ page, demo }) => {
  await signIn(page, demo);
  const before = await call(page, (s) => s.getSnapshot());
  const accessToken = await call(page, (s) => s.getAccessToken());
  const { sessionId } = await record(page, demo);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const forged = await idToken(demo, { iat: now() + 1 }, { ...(await exportJWK(privateKey)), kid: demo.idp.idTokenSigningKey.kid });
  await post(page, demo, { type: 'renewed', sessionId, tokens: tokens(forged) });
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'ID_TOKEN_INVALID');
  await post(page, demo, { type: 'renewed', sessionId, tokens: tokens(await idToken(demo, { sub: 'mallory', iat: now() + 1 })) });
  await expect.poll(() => page.getByTestId('events').locator('li[data-type="error"]').count()).toBe(2);
  expect(await call(page, (s) => s.getAccessToken())).toBe(accessToken);
  expect(await call(page, (s) => s.getSnapshot())).toEqual(before);
});

test("a new tab takes no token offer for another user from a script on the page; it restores the record's user", async ({ context, demo }) => {
  const first = await context.newPage();
  await signIn(first, demo);
  const { sessionId } = await record(first, demo);
  await first.close();
  const mallory = await idToken(demo, { sub: 'mallory' });
  const second = await context.newPage();
  // The hostile script runs before the app and answers every token request.
  await second.addInitScript(([name, offer]) => {
    const channel = new BroadcastChannel(name);
    channel.onmessage = (event) => {
      const m = event.data as { type: string; requestId: string };
      if (m.type === 'token-request') channel.postMessage({ v: 1, sentAt: Date.now(), type: 'token-offer', requestId: m.requestId, ...offer });
    };
  }, [`oidc-session-guard|${demo.idp.issuer}|${CLIENTS.generic}`, { sessionId, tokens: tokens(mallory), timing: { signedInAt: Date.now(), authTime: Date.now(), providerAuthTime: Date.now(), sessionExpiresAt: null, lastActivityAt: Date.now() } }] as const);
  await openApp(second, demo);
  await expect(second.getByTestId('status')).toHaveText('active');
  expect(await call(second, (s) => (s.getSnapshot().claims as { sub: string }).sub)).toBe(TEST_USER.sub);
  expect(await call(second, (s) => s.getAccessToken())).not.toBe('attacker-access-token');
});

test('an ID token re-signed with auth_time a day after its iat is refused', async ({ page, demo }) => {
  await resignTokenResponses(page, demo, (claims) => ({ ...claims, auth_time: Number(claims.iat) + 86_400 }));
  await openApp(page, demo);
  await submitLogin(page);
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'ID_TOKEN_INVALID');
  await expect(page.getByTestId('status')).toHaveText('signed-out');
});

test('a device clock 2 hours fast: sign-in and renewal work, and no limit is lengthened', async ({ page, demo }) => {
  await page.clock.install({ time: Date.now() + 2 * HOUR });
  await signIn(page, demo);
  const snapshot = await call(page, (s) => s.getSnapshot());
  // auth_time is on the provider's clock, two hours behind this one: the session is shorter, never longer.
  expect(Number(snapshot.absoluteExpiresAt)).toBeLessThanOrEqual(Date.now() + 12 * HOUR + 5_000);
  const before = await call(page, (s) => s.getAccessToken());
  expect(await outcome(page, (s) => s.renew())).toBe('resolved');
  expect(await call(page, (s) => s.getAccessToken())).not.toBe(before);
  expect((await call(page, (s) => s.getSnapshot())).absoluteExpiresAt).toBe(snapshot.absoluteExpiresAt);
});

test('a record edited in IndexedDB (activity moved an hour ahead) ends the session in the next tab, which then asks for the password', async ({ context, demo }) => {
  const first = await context.newPage();
  await signIn(first, demo);
  const stored = await record(first, demo);
  await record(first, demo, { ...stored, lastActivityAt: Number(stored.lastActivityAt) + HOUR });
  const second = await context.newPage();
  await openApp(second, demo);
  await expect(second.getByTestId('status')).toHaveText('signed-out');
  await expect(second.getByTestId('reason')).toHaveText('(error)');
  const authorize = second.waitForRequest((request) => request.url().startsWith(`${demo.idp.issuer}/auth?`));
  await second.getByTestId('sign-in').click();
  expect(new URL((await authorize).url()).searchParams.get('prompt')).toBe('login');
  await expect(second.getByLabel('Password')).toBeVisible();
});

test('the clock set back an hour, the tab closed, 31 minutes, a new tab: not active', async ({ context, demo }) => {
  const start = Date.now();
  await context.clock.install({ time: start });
  const first = await context.newPage();
  await signIn(first, demo);
  await context.clock.setSystemTime(start - HOUR + 5_000);
  await first.close();
  await context.clock.setSystemTime(start - HOUR + 5_000 + 31 * 60_000);
  const second = await context.newPage();
  await openApp(second, demo);
  await expect(second.getByTestId('status')).toHaveText('signed-out');
  await expect(second.getByTestId('reason')).toHaveText('(error)');
});

test('a provider that ignores prompt=login after the idle limit: its single sign-on answer is refused, the user is sent once more, then left signed out', async ({ page }) => {
  await withDemo(dayLongTokens({ idp: { ignoresPromptLogin: true, loginAgeSec: 3600 } }), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const mark = demo.idp.events.length;
    await page.clock.fastForward('30:00');
    await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'LOGIN_REQUIRED');
    await expect(page.getByTestId('status')).toHaveText('signed-out');
    const authorizations = demo.idp.events.slice(mark).filter((e) => e.type === 'authorize');
    expect(authorizations.map((e) => e.params.prompt)).toEqual(['login', 'login']);
    expect(await outcome(page, (s) => s.getAccessToken())).toBe('LOGIN_REQUIRED');
    const stored = await record(page, demo);
    expect(stored).toMatchObject({ status: 'ended', reauthRequired: true });
  });
});

test("a refused callback leaves no token anywhere: storage, IndexedDB, and the page's memory (heap snapshot)", async ({ page, demo }) => {
  const issued: string[] = [];
  await page.route(`${demo.idp.issuer}/token`, async (route) => {
    const response = await route.fetch();
    const json = (await response.json()) as { id_token: string; access_token: string; refresh_token?: string };
    issued.push(json.access_token, ...(json.refresh_token ? [json.refresh_token] : []), json.id_token.split('.')[2]!);
    // Signed with the provider's key, but a day-late auth_time: verification refuses it.
    const claims = decodeJwt(json.id_token);
    await route.fulfill({ response, json: { ...json, id_token: await idToken(demo, { ...claims, auth_time: Number(claims.iat) + 86_400 }) } });
  });
  await openApp(page, demo);
  await submitLogin(page);
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'ID_TOKEN_INVALID');
  expect(issued.length).toBeGreaterThanOrEqual(2);
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(await record(page, demo)).toBeUndefined();
  // The snapshot does hold the page's live strings: a marker set now is found in it.
  const marker = `marker-${randomUUID()}`;
  await page.evaluate((m) => ((window as unknown as { marker: string }).marker = m), marker);
  const heap = await heapStrings(page.context(), page);
  expect(heap.includes(marker), 'the snapshot holds a string the page holds').toBe(true);
  for (const [i, secret] of issued.entries()) {
    expect(stored.includes(secret), `token ${i} in Web Storage`).toBe(false);
    expect(heap.includes(secret), `token ${i} in the page's memory`).toBe(false);
  }
});

/** The page's JavaScript heap after a full garbage collection, as one string (Chrome DevTools Protocol). */
async function heapStrings(context: BrowserContext, page: Page): Promise<string> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  let snapshot = '';
  cdp.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => {
    snapshot += chunk;
  });
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  await cdp.detach();
  return snapshot;
}

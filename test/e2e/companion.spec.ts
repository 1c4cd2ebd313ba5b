// The server companion in Chromium: the NHS login client signs in through it (the local
// provider accepts no public client for it and verifies the companion's private_key_jwt
// assertion), and renews through it.
import type { Page } from '@playwright/test';
import { importJWK, SignJWT } from 'jose';
import { CLIENTS } from '../../demo/idp/index.js';
import { COMPANION_PATH, startDemos } from '../../demo/server.js';
import { expect, openApp, signIn, submitLogin, test, withDemo, timeoutDialog } from './fixtures.js';

const outcome = (page: Page, fn: string) => page.evaluate(`(${fn})(window.demoSession).then(() => 'resolved', (e) => e.code)`) as Promise<string>;

test("the NHS login client signs in and renews through the server companion, which adds private_key_jwt; the browser never calls the provider's token endpoint", async ({ page }) => {
  await withDemo({ client: 'nhs-login' }, async (demo) => {
    const tokenCalls: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/token')) tokenCalls.push(request.url());
    });
    const mark = demo.idp.events.length;
    await signIn(page, demo);
    const companionToken = `${new URL(demo.appUrl).origin}${COMPANION_PATH}/token`;
    expect(tokenCalls).toEqual([companionToken]);
    const tokens = demo.idp.events.slice(mark).filter((e) => e.type === 'token');
    expect(tokens.map((e) => [e.clientId, e.params.grant_type])).toEqual([[CLIENTS.nhsLogin, 'authorization_code']]);
    expect(await outcome(page, '(s) => s.renew()')).toBe('resolved');
    expect(tokenCalls).toEqual([companionToken, companionToken]);
    expect(demo.idp.events.filter((e) => e.type === 'token.error')).toEqual([]);
  });
});

test('a logout at the provider (end-session outside the app) reaches every tab: back-channel logout to the companion, its event stream, the tabs signed out with reason remote_logout within 2 s', async ({ context }) => {
  await withDemo({ client: 'nhs-login' }, async (demo) => {
    const streams: string[] = [];
    context.on('request', (request) => {
      if (new URL(request.url()).pathname === `${COMPANION_PATH}/events`) streams.push(request.url());
    });
    const first = await context.newPage();
    await signIn(first, demo);
    const second = await context.newPage();
    await openApp(second, demo);
    await expect(second.getByTestId('status')).toHaveText('active');
    // One tab (the leader) holds the stream, not every tab.
    await expect.poll(() => streams.length).toBe(1);
    // The provider's own sign-out, in another page, without the SDK.
    const other = await context.newPage();
    await other.goto(`${demo.idp.issuer}/session/end?client_id=${CLIENTS.nhsLogin}`);
    await expect.poll(() => demo.idp.events.filter((e) => e.type === 'backchannel.success').length).toBe(1);
    for (const page of [first, second]) {
      await expect(page.getByTestId('status')).toHaveText('signed-out', { timeout: 2_000 });
      await expect(page.getByTestId('reason')).toHaveText('(remote_logout)');
      // The timeout dialog says why, in every tab.
      await expect(timeoutDialog(page).getByRole('heading')).toHaveText('You have been signed out');
      await expect(timeoutDialog(page).locator('[part~="message"]')).toHaveText('You were signed out somewhere else, so we have signed you out here too.');
    }
    expect(demo.idp.events.filter((e) => e.type === 'backchannel.error')).toEqual([]);
  });
});

test('a tab whose event stream was down while the logout happened signs out when it reconnects', async ({ context }) => {
  await withDemo({ client: 'nhs-login' }, async (demo) => {
    await context.clock.install();
    const attempts: string[] = [];
    // The stream cannot get through (the network, a proxy, the companion restarting)...
    await context.route(`**${COMPANION_PATH}/events`, (route) => {
      attempts.push(route.request().url());
      return route.abort('connectionreset');
    });
    const page = await context.newPage();
    await signIn(page, demo);
    await expect.poll(() => attempts.length).toBeGreaterThanOrEqual(1);
    const sid = await page.evaluate(() => (window as unknown as { demoSession: { getSnapshot(): { claims: { sid?: string } } } }).demoSession.getSnapshot().claims.sid);
    // ...while the provider logs the session out (back-channel logout to the companion).
    const key = demo.idp.idTokenSigningKey;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: demo.idp.issuer, aud: CLIENTS.nhsLogin, iat: now, exp: now + 120, jti: `j-${now}`, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
      .setProtectedHeader({ alg: 'RS512', kid: key.kid!, typ: 'logout+jwt' }).sign(await importJWK(key, 'RS512'));
    const answer = await fetch(`${new URL(demo.appUrl).origin}${COMPANION_PATH}/backchannel-logout`, { method: 'POST', body: new URLSearchParams({ logout_token: token }) });
    expect(answer.status).toBe(200);
    await expect(page.getByTestId('status')).toHaveText('active');
    // The way is open again: after its backoff the tab reconnects and hears the logout at once.
    await context.unroute(`**${COMPANION_PATH}/events`);
    await context.clock.runFor(65_000);
    await expect(page.getByTestId('status')).toHaveText('signed-out');
    await expect(page.getByTestId('reason')).toHaveText('(remote_logout)');
  });
});

test("two Broker services in one provider session: signing out in one makes the provider send back-channel logout, and the other service's tabs sign out within 2 s", async ({ context }) => {
  const demos = await startDemos([{ client: 'signaturgruppen-broker' }, { client: 'signaturgruppen-broker-2' }]);
  try {
    const [one, two] = demos.apps as [typeof demos.apps[0], typeof demos.apps[0]];
    // Service one: the user signs in with a password.
    const first = await context.newPage();
    await first.goto(one.appUrl);
    await submitLogin(first);
    await expect(first.getByTestId('status')).toHaveText('active');
    // Service two: single sign-on in the same provider session (no password), in two tabs.
    const second = await context.newPage();
    await second.goto(two.appUrl);
    await second.getByTestId('sign-in').click();
    await expect(second.getByTestId('status')).toHaveText('active');
    const third = await context.newPage();
    await third.goto(two.appUrl);
    await expect(third.getByTestId('status')).toHaveText('active');
    // Sign out in service one: through its companion, then the provider's end-session.
    await first.getByTestId('sign-out').click();
    await expect.poll(() => demos.idp.events.filter((e) => e.type === 'backchannel.success').map((e) => e.clientId).sort())
      .toEqual([CLIENTS.broker, CLIENTS.brokerTwo]);
    for (const page of [second, third]) {
      await expect(page.getByTestId('status')).toHaveText('signed-out', { timeout: 2_000 });
      await expect(page.getByTestId('reason')).toHaveText('(remote_logout)');
    }
    expect(demos.idp.events.filter((e) => e.type === 'backchannel.error')).toEqual([]);
  } finally {
    await demos.close();
  }
});

import type { Page } from '@playwright/test';
import { dayLongTokens, expect, signIn, test, timeoutDialog, withDemo } from './fixtures.js';

// Time is Playwright's fake clock: fastForward jumps and fires due timers once;
// setSystemTime moves the clock without firing any timer (the machine slept).

const eventTypes = (page: Page) => page.getByTestId('events').locator('li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.type));

/** The user presses a key every 5 minutes, `times` times. */
async function activeEveryFiveMinutes(page: Page, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    await page.clock.fastForward('05:00');
    await page.keyboard.press('Shift');
  }
}

/** Five minutes before a cap: one minute before it, a warning naming it; at it, expired for it. */
async function expectCapInFiveMinutes(page: Page, reason: 'absolute' | 'session_expiry'): Promise<void> {
  await page.clock.fastForward('04:00');
  await expect(page.getByTestId('status')).toHaveText('warning');
  await expect(page.getByTestId('reason')).toHaveText(`(${reason})`);
  await page.keyboard.press('Shift'); // still active: the cap is what ends the session
  await page.clock.fastForward('01:00');
  await expect(page.getByTestId('status')).toHaveText('expired');
  await expect(page.getByTestId('reason')).toHaveText(`(${reason})`);
}

test('idle for 30 minutes: expired, and sent back to the provider with prompt=login', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  await page.clock.fastForward('28:30');
  await expect(page.getByTestId('status')).toHaveText('warning');
  await expect(timeoutDialog(page)).toBeVisible();

  const authorize = page.waitForRequest((request) => request.url().startsWith(`${demo.idp.issuer}/auth?`));
  await page.clock.fastForward('01:30');
  const url = new URL((await authorize).url());
  expect(url.searchParams.get('prompt')).toBe('login');
  expect(url.searchParams.get('max_age')).toBe('0');
  // The provider asks for the password again: a full authentication journey.
  await expect(page.getByLabel('Password')).toBeVisible();
});

test('"Stay signed in" ends the warning and restarts the idle limit', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  await page.clock.fastForward('29:00');
  await expect(timeoutDialog(page)).toBeVisible();
  await timeoutDialog(page).getByRole('button', { name: 'Stay signed in' }).click();
  await expect(page.getByTestId('status')).toHaveText('active');
  await expect(timeoutDialog(page)).toBeHidden();
  await page.clock.fastForward('29:00');
  await expect(page.getByTestId('status')).toHaveText('warning');
});

test('active every 5 minutes: still signed in at 11 h 59 min, expired at 12 h (absolute)', async ({ page }) => {
  test.setTimeout(90_000);
  await withDemo(dayLongTokens({ onExpired: 'none' }), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const authTime = Number(await page.getByTestId('auth-time').getAttribute('data-epoch-ms'));
    await activeEveryFiveMinutes(page, 143); // 11 h 55 min
    await expectCapInFiveMinutes(page, 'absolute'); // warning at 11 h 59 min, expired at 12 h
    const expiresAt = await page.evaluate(() => (window as unknown as { demoSession: { getSnapshot(): { expiresAt: number } } }).demoSession.getSnapshot().expiresAt);
    expect(expiresAt).toBe(authTime + 12 * 3600_000);
  });
});

test('Broker client with session_expiry 4 h after authentication: expired at 4 h', async ({ page }) => {
  test.setTimeout(60_000);
  await withDemo(dayLongTokens({ client: 'signaturgruppen-broker', onExpired: 'none' }), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    const claims = JSON.parse(await page.getByTestId('claims').textContent() ?? '') as Record<string, unknown>;
    expect(typeof claims.session_expiry).toBe('string');
    expect(Number(claims.session_expiry)).toBe((claims.auth_time as number) + 4 * 3600);
    expect(claims.neb_sid).toBe(claims.sid);
    await activeEveryFiveMinutes(page, 47); // 3 h 55 min
    await expectCapInFiveMinutes(page, 'session_expiry'); // warning at 3 h 59 min, expired at 4 h
  });
});

test('hidden page, clock jumps 45 min, page visible: expired at once and no warning shown', async ({ page }) => {
  await withDemo(dayLongTokens({ onExpired: 'none' }), async (demo) => {
    await page.clock.install();
    await signIn(page, demo);
    // Headless Chromium keeps pages visible; the test sets visibilityState and fires
    // visibilitychange as the browser does when a tab is hidden and shown.
    const setVisibility = (state: 'hidden' | 'visible') => page.evaluate((value) => {
      Object.defineProperty(document, 'visibilityState', { value, configurable: true });
      Object.defineProperty(document, 'hidden', { value: value === 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, state);
    await setVisibility('hidden');
    const now = await page.evaluate(() => Date.now());
    await page.clock.setSystemTime(now + 45 * 60_000); // asleep: no timer fires
    await expect(page.getByTestId('status')).toHaveText('active');
    await setVisibility('visible');
    await expect(page.getByTestId('status')).toHaveText('expired');
    await expect(page.getByTestId('reason')).toHaveText('(idle)');
    const types = await eventTypes(page);
    expect(types).toContain('expired');
    expect(types).not.toContain('warning');
  });
});

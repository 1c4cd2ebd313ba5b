import { mkdir } from 'node:fs/promises';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { dayLongTokens, expect, openApp, signIn, test, TEST_USER, timeoutDialog, withDemo } from './fixtures.js';

// The timeout dialog (oidc-session-guard/ui) in the demo app, under the demo's strict CSP
// (default-src 'self', no inline script or style): the cspViolations fixture fails any test
// that logs a violation. Time is Playwright's fake clock.

const SETTINGS_KEY = 'oidc-session-guard-demo';
const SCREENSHOTS = 'test-results/screenshots';

/** The demo's "Try it" settings, in place before the app loads. */
async function demoSettings(page: Page, settings: { short?: boolean; onExpired?: string; lang?: string }): Promise<void> {
  await page.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [SETTINGS_KEY, JSON.stringify(settings)]);
}

/** The session's deadline as the page knows it. */
const expiresAt = (page: Page) => page.evaluate(() => (window as unknown as { demoSession: { getSnapshot(): { expiresAt: number } } }).demoSession.getSnapshot().expiresAt);

const message = (page: Page) => timeoutDialog(page).locator('[part~="message"]');
const live = (page: Page) => timeoutDialog(page).locator('[aria-live]');
const button = (page: Page, name: string) => timeoutDialog(page).getByRole('button', { name, exact: true });

test('opens exactly warningBeforeMs before the end and counts down: minutes, then seconds; the live region speaks only at steps', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  const end = await expiresAt(page);
  // The default policy: idle 30 minutes, warned 2 minutes before.
  await page.clock.pauseAt(end - 120_000 - 1000);
  await page.clock.runFor(999);
  await expect(timeoutDialog(page)).toBeHidden();
  await page.clock.runFor(1);
  await expect(timeoutDialog(page)).toBeVisible();
  await expect(timeoutDialog(page).getByRole('heading')).toHaveText('You’re about to be signed out');
  await expect(message(page)).toHaveText('For your security, we will sign you out in 2 minutes.');
  // The live region holds the words at the step (screen readers hear it change, not tick).
  await expect(live(page)).toHaveText('For your security, we will sign you out in 2 minutes.');
  await page.clock.runFor(59_000); // 61 s left
  await expect(message(page)).toHaveText('For your security, we will sign you out in 2 minutes.');
  await page.clock.runFor(1000); // 60 s
  await expect(message(page)).toHaveText('For your security, we will sign you out in 1 minute.');
  await expect(live(page)).toHaveText('For your security, we will sign you out in 1 minute.');
  await page.clock.runFor(1000); // 59 s: the visible countdown goes by seconds, the live region does not
  await expect(message(page)).toHaveText('For your security, we will sign you out in 59 seconds.');
  await expect(live(page)).toHaveText('For your security, we will sign you out in 1 minute.');
  await page.clock.runFor(19_000); // 40 s
  await expect(message(page)).toHaveText('For your security, we will sign you out in 40 seconds.');
  await expect(live(page)).toHaveText('For your security, we will sign you out in 40 seconds.');
  await page.clock.runFor(19_000); // 21 s
  await expect(live(page)).toHaveText('For your security, we will sign you out in 40 seconds.');
  await page.clock.runFor(1000); // 20 s
  await expect(live(page)).toHaveText('For your security, we will sign you out in 20 seconds.');
  await page.clock.runFor(19_000); // 1 s
  await expect(message(page)).toHaveText('For your security, we will sign you out in 1 second.');
  await expect(live(page)).toHaveText('For your security, we will sign you out in 20 seconds.');
});

test('focus moves into the dialog, stays there, and returns where it was; the page behind is inert', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  await page.getByTestId('renew').focus();
  await page.clock.fastForward('28:30');
  await expect(timeoutDialog(page)).toBeVisible();
  const focused = () => page.evaluate(() => {
    const host = document.querySelector('session-timeout-dialog')!;
    const inner = host.shadowRoot!.activeElement as HTMLElement | null;
    return document.activeElement === host ? (inner?.tagName === 'DIALOG' ? 'dialog' : inner?.textContent ?? null) : (document.activeElement as HTMLElement | null)?.dataset.testid ?? null;
  });
  expect(await focused()).toBe('dialog');
  const order: (string | null)[] = [];
  for (let i = 0; i < 4; i += 1) {
    await page.keyboard.press('Tab');
    order.push(await focused());
  }
  expect(order).toEqual(['Stay signed in', 'Sign out', 'Stay signed in', 'Sign out']);
  await page.keyboard.press('Shift+Tab');
  expect(await focused()).toBe('Stay signed in');
  await page.keyboard.press('Shift+Tab');
  expect(await focused()).toBe('Sign out');
  // Inert: the page's own button cannot take focus while the dialog is open.
  expect(await page.evaluate(() => {
    const renew = document.querySelector<HTMLElement>('[data-testid="renew"]')!;
    renew.focus();
    return document.activeElement === renew;
  })).toBe(false);
  await button(page, 'Stay signed in').click();
  await expect(timeoutDialog(page)).toBeHidden();
  await expect(page.getByTestId('status')).toHaveText('active');
  expect(await focused()).toBe('renew');
});

test('an element the page hid still shows its dialog: a modal never leaves the page inert with nothing to answer', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  await page.evaluate(() => {
    const host = document.querySelector<HTMLElement>('session-timeout-dialog')!;
    host.hidden = true;
    host.style.setProperty('display', 'none', 'important');
  });
  await page.clock.fastForward('28:30');
  await expect(timeoutDialog(page)).toBeVisible();
  await button(page, 'Stay signed in').click();
  await expect(page.getByTestId('status')).toHaveText('active');
});

test('Escape on the idle warning means "Stay signed in", never sign-out', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  const endSession: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/session/end') || request.url().includes('/logout')) endSession.push(request.url());
  });
  const before = await expiresAt(page);
  await page.clock.fastForward('28:30');
  await expect(timeoutDialog(page)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(timeoutDialog(page)).toBeHidden();
  await expect(page.getByTestId('status')).toHaveText('active');
  expect(await expiresAt(page)).toBeGreaterThan(before);
  expect(endSession).toEqual([]);
});

test('a warning of the absolute limit says it cannot be extended and offers no "Stay signed in"; Escape only closes it; then the notice says why', async ({ page, demo }) => {
  await demoSettings(page, { short: true, onExpired: 'none' });
  await page.clock.install();
  await signIn(page, demo);
  // Short policy: idle 1 minute (warned 20 s before), 5 minutes in all. Active every 30 s.
  for (let i = 0; i < 9; i += 1) {
    await page.clock.fastForward('00:30');
    await page.keyboard.press('Shift');
    // Let the page take the key press before the clock jumps again (a jump is not a real wait).
    await page.clock.runFor(100);
  }
  await expect(timeoutDialog(page)).toBeHidden();
  await page.clock.fastForward('00:15'); // within 20 s of the 5-minute cap
  await expect(timeoutDialog(page)).toBeVisible();
  await expect(timeoutDialog(page).getByRole('heading')).toHaveText('Your session is about to end');
  const end = await expiresAt(page);
  const hhmm = await page.evaluate((at) => new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at), end);
  await expect(message(page)).toHaveText(new RegExp(`^For your security, this session cannot be extended\\. It will end in (1[0-9]|20)\\s+seconds, at ${hhmm}\\. To carry on after that, sign in again\\.$`));
  await expect(timeoutDialog(page).getByRole('button')).toHaveText(['Sign in again', 'Sign out']);
  await page.keyboard.press('Escape');
  await expect(timeoutDialog(page)).toBeHidden();
  await expect(page.getByTestId('status')).toHaveText('warning');
  await page.clock.fastForward('00:02');
  await expect(timeoutDialog(page)).toBeHidden(); // closed by the user: not forced open again for the same end
  await page.clock.fastForward('00:10');
  await expect(page.getByTestId('status')).toHaveText('expired');
  await expect(timeoutDialog(page).getByRole('heading')).toHaveText('You have been signed out');
  await expect(message(page)).toHaveText('For your security, we signed you out because you had been signed in for 5 minutes.');
  await expect(timeoutDialog(page).getByRole('button')).toHaveText(['Sign in again', 'Close']);
});

test('back from the reauthentication the idle limit forced, a notice says why', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  await page.clock.fastForward('30:00');
  await expect(page.getByLabel('Password')).toBeVisible(); // prompt=login: the provider asks again
  await page.getByLabel('Username').fill(TEST_USER.username);
  await page.getByLabel('Password').fill(TEST_USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('status')).toHaveText('active');
  await expect(timeoutDialog(page).getByRole('heading')).toHaveText('You have signed in again');
  await expect(message(page)).toHaveText('For your security, we signed you out because you had not used this service for 30 minutes.');
  await button(page, 'Close').click();
  await expect(timeoutDialog(page)).toBeHidden();
});

const LANGUAGES = [
  { lang: 'en', heading: 'You’re about to be signed out', text: 'For your security, we will sign you out in 2 minutes.', stay: 'Stay signed in' },
  { lang: 'cy', heading: 'Rydych ar fin cael eich allgofnodi', text: 'Er eich diogelwch, byddwn yn eich allgofnodi ymhen 2 funud.', stay: 'Aros wedi mewngofnodi' },
  { lang: 'da', heading: 'Du bliver snart logget ud', text: 'Af sikkerhedshensyn logger vi dig ud om 2 minutter.', stay: 'Forbliv logget ind' },
];

for (const { lang, heading, text, stay } of LANGUAGES) {
  test(`in ${lang}: the words, no axe violations with the dialog open, and a screenshot`, async ({ page, demo }, testInfo) => {
    await demoSettings(page, { lang });
    await page.clock.install();
    await signIn(page, demo);
    await page.clock.fastForward('28:00');
    await expect(timeoutDialog(page)).toBeVisible();
    await expect(timeoutDialog(page)).toHaveAttribute('lang', lang);
    await expect(timeoutDialog(page).getByRole('heading')).toHaveText(heading);
    await expect(message(page)).toHaveText(text);
    // The dialog's accessible name is its heading.
    await expect(page.getByRole('dialog', { name: heading })).toBeVisible();
    await expect(button(page, stay)).toBeVisible();
    // The styles came from the constructable stylesheet, under the strict CSP.
    expect(await timeoutDialog(page).evaluate((el) => getComputedStyle(el).borderTopWidth)).toBe('5px');
    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
    expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await mkdir(SCREENSHOTS, { recursive: true });
    const shot = await timeoutDialog(page).screenshot({ path: `${SCREENSHOTS}/dialog-${lang}.png`, animations: 'disabled' });
    await testInfo.attach(`dialog-${lang}`, { body: shot, contentType: 'image/png' });
  });
}

test('the language switch changes an open dialog at once', async ({ page, demo }) => {
  await page.clock.install();
  await signIn(page, demo);
  await page.clock.fastForward('28:00');
  await expect(message(page)).toHaveText('For your security, we will sign you out in 2 minutes.');
  await page.evaluate(() => document.querySelector('session-timeout-dialog')!.setAttribute('lang', 'da'));
  await expect(message(page)).toHaveText('Af sikkerhedshensyn logger vi dig ud om 2 minutter.');
});

test('a sign-out the user asked for shows no notice, in any tab', async ({ context, demo }) => {
  const page = await context.newPage();
  await signIn(page, demo);
  const second = await context.newPage();
  await openApp(second, demo);
  await expect(second.getByTestId('status')).toHaveText('active');
  await page.getByTestId('sign-out').click();
  await expect(second.getByTestId('status')).toHaveText('signed-out');
  await expect(timeoutDialog(second)).toBeHidden();
  // The first tab went to the provider's end-session endpoint and came back signed out.
  await page.waitForURL((url) => url.href.startsWith(demo.appUrl) && !url.search);
  await expect(page.getByTestId('status')).toHaveText('signed-out');
  await expect(timeoutDialog(page)).toBeHidden();
});

test('the notice of an ended session closes in every tab when the user signs in again in one', async ({ context }) => {
  await withDemo(dayLongTokens({ onExpired: 'none' }), async (demo) => {
    await context.clock.install();
    const first = await context.newPage();
    await signIn(first, demo);
    const second = await context.newPage();
    await openApp(second, demo);
    await expect(second.getByTestId('status')).toHaveText('active');
    await context.clock.fastForward('30:00');
    for (const tab of [first, second]) {
      await expect(tab.getByTestId('status')).toHaveText('expired');
      await expect(timeoutDialog(tab).getByRole('heading')).toHaveText('You have been signed out');
      await expect(message(tab)).toHaveText('For your security, we signed you out because you had not used this service for 30 minutes.');
    }
    await button(second, 'Sign in again').click();
    await second.getByLabel('Username').fill(TEST_USER.username);
    await second.getByLabel('Password').fill(TEST_USER.password);
    await second.getByRole('button', { name: 'Sign in' }).click();
    await expect(second.getByTestId('status')).toHaveText('active');
    // The tab that signed in says why it had to; the other one just closes its notice.
    await expect(timeoutDialog(second).getByRole('heading')).toHaveText('You have signed in again');
    await expect(first.getByTestId('status')).toHaveText('active');
    await expect(timeoutDialog(first)).toBeHidden();
  });
});

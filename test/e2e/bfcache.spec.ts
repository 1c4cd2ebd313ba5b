// A page restored from the back/forward cache reads the shared record before it acts, in
// Chromium with the cache on (Playwright turns it off by default: --disable-back-forward-cache
// is dropped here). Safari drops BroadcastChannel messages to a page in the cache; Chromium
// evicts a cached page that receives one, so the other tab's messages are held back while the
// page is away, as Safari would drop them. Time is the context's fake clock.
import { chromiumLaunch } from './chromium.js';
import { activityWritten, expect, openApp, record, signIn, snapshot, test } from './fixtures.js';

test.use({ launchOptions: { ...chromiumLaunch, ignoreDefaultArgs: ['--disable-back-forward-cache'] } });

const MIN = 60_000;

test('a page restored from the back/forward cache after its idle deadline reads the record before acting: the session the user kept alive elsewhere goes on', async ({ context, demo }) => {
  test.setTimeout(60_000);
  await context.clock.install();
  const used = await context.newPage();
  // The tab in use holds its messages back on request, as if the cached page never got them.
  await used.addInitScript(() => {
    const post = BroadcastChannel.prototype.postMessage;
    BroadcastChannel.prototype.postMessage = function (this: BroadcastChannel, message: unknown) {
      if (!(window as unknown as { holdMessages?: boolean }).holdMessages) post.call(this, message);
    };
  });
  await signIn(used, demo);
  const away = await context.newPage();
  await away.addInitScript(() => {
    addEventListener('pageshow', (event) => {
      (window as unknown as { restored?: boolean }).restored = event.persisted;
    });
  });
  await openApp(away, demo);
  await expect(away.getByTestId('status')).toHaveText('active');
  await used.evaluate(() => {
    (window as unknown as { holdMessages: boolean }).holdMessages = true;
  });
  // To another site (localhost is not 127.0.0.1), which a page can stay in the cache for.
  await away.goto(new URL('/script-tag.js', demo.appUrl.replace('127.0.0.1', 'localhost')).href);
  // 45 minutes of work in the other tab while the page is away.
  for (let minute = 5; minute <= 45; minute += 5) {
    await context.clock.runFor(5 * MIN);
    await used.keyboard.press('Shift');
    // Written before the fake clock moves on (a jump past the write's time limit would fail it).
    await activityWritten(used, demo);
  }
  await expect(used.getByTestId('status')).toHaveText('active');
  await used.evaluate(() => {
    (window as unknown as { holdMessages: boolean }).holdMessages = false;
  });
  // A page restored from the cache fires no load event.
  await away.goBack({ waitUntil: 'commit' });
  await expect.poll(() => away.evaluate(() => (window as unknown as { restored?: boolean }).restored)).toBe(true);
  // Playwright's fake clock did not move in the page while it was cached: it is set to the
  // other tab's time, and the page shown again (pageshow, persisted), as a real restore does.
  const now = await used.evaluate(() => Date.now());
  await context.clock.setSystemTime(now);
  expect(await away.evaluate(() => Date.now())).toBeGreaterThanOrEqual(now);
  await away.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
  // Past its own idle deadline (45 minutes after its last news), yet active: the record said so.
  await expect(away.getByTestId('status')).toHaveText('active');
  await context.clock.runFor(20_000);
  await expect(away.getByTestId('status')).toHaveText('active');
  await expect(used.getByTestId('status')).toHaveText('active');
  expect(await record(used, demo)).toMatchObject({ status: 'active' });
  const mine = await snapshot(used);
  await expect.poll(async () => (await snapshot(away)).expiresAt).toBe(mine.expiresAt);
});

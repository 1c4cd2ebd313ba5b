// Expiry decided from the shared record, in Chromium: a tab that misses the other tabs'
// messages must not end the session where the user is working. Here a tab deaf to activity
// messages, as a frozen tab is (Chrome delivers nothing to a frozen document; CDP's freezing
// does nothing in headless Chromium here). A page held in the back/forward cache:
// bfcache.spec.ts. Time is the context's fake clock.
import { activityWritten, expect, openApp, record, signIn, snapshot, test } from './fixtures.js';

const MIN = 60_000;
/** A tab that hears no activity from the others (its channel drops those messages before the SDK sees them). */
const DEAF = () => {
  const Native = window.BroadcastChannel;
  window.BroadcastChannel = class extends Native {
    override set onmessage(fn: ((event: MessageEvent) => void) | null) {
      super.onmessage = fn && ((event: MessageEvent) => {
        const type = (event.data as { type?: string } | null)?.type;
        if (type !== 'activity' && type !== 'warning-dismissed') fn.call(this, event);
      });
    }
  };
};

test("a tab deaf to the others' activity, across its stale idle deadline: the tab in use stays active, the record stays active, and the deaf tab shows its deadline", async ({ context, demo }) => {
  test.setTimeout(60_000);
  await context.clock.install();
  const used = await context.newPage();
  await signIn(used, demo);
  const deaf = await context.newPage();
  await deaf.addInitScript(DEAF);
  await openApp(deaf, demo);
  await expect(deaf.getByTestId('status')).toHaveText('active');
  // The user works in one tab for 55 minutes; the deaf tab's own idle deadline was at 30.
  for (let minute = 5; minute <= 55; minute += 5) {
    await context.clock.runFor(5 * MIN);
    if (minute <= 50) {
      await used.keyboard.press('Shift');
      // Written before the fake clock moves on (a jump past the write's time limit would fail it).
      await activityWritten(used, demo);
    }
    await expect(used.getByTestId('status')).toHaveText('active');
    await expect(deaf.getByTestId('status')).not.toHaveText('expired');
  }
  await expect(deaf.getByTestId('status')).toHaveText('active');
  expect(await record(used, demo)).toMatchObject({ status: 'active' });
  const mine = await snapshot(used);
  // The deaf tab read the record at its own deadlines: the other tab's activity is its own now.
  await expect.poll(async () => (await snapshot(deaf)).expiresAt).toBe(mine.expiresAt);
  expect((await snapshot(deaf)).lastActivityAt).toBe(mine.lastActivityAt);
  await expect(used.getByTestId('events').locator('li[data-type="expired"]')).toHaveCount(0);
});

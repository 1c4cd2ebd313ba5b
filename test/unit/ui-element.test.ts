// @vitest-environment happy-dom
// <session-timeout-dialog> following a stand-in session (happy-dom): how it moves between
// its views, what it says to screen readers, and the races a browser's asynchronous
// `close` event allows (simulated). Its look, focus and timing in Chromium: test/e2e/dialog.spec.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionSnapshot } from '../../src/machine.js';
import { defineTimeoutDialog, type DialogSession } from '../../src/ui/index.js';
import { fill } from '../../src/ui/messages.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const MIN = 60_000;
const EMPTY = { reason: null, expiresAt: null, idleExpiresAt: null, absoluteExpiresAt: null, sessionExpiresAt: null, authTime: null, lastActivityAt: null, claims: null };
const snap = (s: Partial<SessionSnapshot>): SessionSnapshot => ({ ...EMPTY, status: 'active', ...s } as SessionSnapshot);
const idleWarn = (end = Date.now() + 2 * MIN) => snap({ status: 'warning', reason: 'idle', expiresAt: end, idleExpiresAt: end, lastActivityAt: end - 30 * MIN, authTime: T0 - HOUR, absoluteExpiresAt: T0 + 11 * HOUR });
const HOUR = 60 * MIN;
const capWarn = (end = Date.now() + 2 * MIN) => snap({ status: 'warning', reason: 'absolute', expiresAt: end, absoluteExpiresAt: end, authTime: end - 12 * HOUR, lastActivityAt: Date.now(), idleExpiresAt: Date.now() + 30 * MIN });

function fakeSession(first: SessionSnapshot = snap({})) {
  let current = first;
  const subs = new Set<(s: SessionSnapshot) => void>();
  const signedIn = new Set<(e: { after: string | null }) => void>();
  const calls: string[] = [];
  const s = {
    getSnapshot: () => current,
    subscribe: (fn: (s: SessionSnapshot) => void) => (subs.add(fn), () => subs.delete(fn)),
    on: (type: string, fn: (e: { after: string | null }) => void) => (type === 'signed-in' ? signedIn.add(fn) : undefined, () => signedIn.delete(fn)),
    staySignedIn: vi.fn(async () => { calls.push('stay'); }),
    signOut: vi.fn(async () => { calls.push('signOut'); }),
    signIn: vi.fn(async (o?: unknown) => { calls.push(`signIn ${JSON.stringify(o)}`); }),
  };
  return {
    session: s as unknown as DialogSession, calls, stub: s,
    push(next: SessionSnapshot) { current = next; for (const fn of [...subs]) fn(next); },
    signedIn(after: string | null) { for (const fn of [...signedIn]) fn({ after }); },
  };
}

function mount(lang?: string) {
  defineTimeoutDialog();
  const el = document.createElement('session-timeout-dialog');
  if (lang) el.setAttribute('lang', lang);
  document.body.append(el);
  const root = el.shadowRoot!;
  const q = {
    el, root,
    dialog: root.querySelector('dialog')!,
    heading: () => root.querySelector('h2')!.textContent,
    text: () => root.querySelector('#t')!.textContent!.replace(/\u00a0/g, ' '),
    live: () => root.querySelector('[aria-live]')!.textContent!.replace(/\u00a0/g, ' '),
    primary: root.querySelectorAll('button')[0]!,
    secondary: root.querySelectorAll('button')[1]!,
  };
  return q;
}

/** Browsers fire `close` in a later task, not inside close() as happy-dom does. */
function asyncClose(dialog: HTMLDialogElement) {
  dialog.close = function close() {
    if (!this.open) return;
    this.removeAttribute('open');
    setTimeout(() => this.dispatchEvent(new Event('close')), 0);
  };
}
/** What a browser does on Escape: closes at once, fires `close` later. */
const escape = (dialog: HTMLDialogElement) => {
  dialog.removeAttribute('open');
  setTimeout(() => dialog.dispatchEvent(new Event('close')), 0);
};

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  document.body.innerHTML = '';
  vi.useRealTimers();
});

describe('views and races', () => {
  it("the live region starts each warning with its own words, not the last warning's, and carries a notice's", () => {
    const f = fakeSession();
    const d = mount();
    d.el.session = f.session;
    f.push(idleWarn());
    vi.advanceTimersByTime(2 * MIN - 15_000); // down to 15 s: live region said "... 20 seconds"
    expect(d.live()).toMatch(/20 seconds/);
    f.push(snap({ status: 'active' })); // Stay signed in (here or in another tab)
    expect(d.dialog.open).toBe(false);
    vi.advanceTimersByTime(26 * MIN);
    f.push(idleWarn()); // the next warning: visible "2 minutes"
    expect(d.text()).toMatch(/2 minutes/);
    expect(d.live()).not.toMatch(/20 seconds/);
  });

  it('a change of view inside the open dialog is announced: focus goes back to the dialog', () => {
    const f = fakeSession();
    const d = mount();
    d.el.session = f.session;
    f.push(idleWarn());
    d.primary.focus();
    const liveBefore = d.live();
    f.push(snap({ status: 'expired', reason: 'idle', expiresAt: Date.now(), idleExpiresAt: Date.now(), lastActivityAt: Date.now() - 30 * MIN }));
    expect(d.heading()).toBe('You have been signed out');
    expect(d.primary.textContent).toBe('Sign in again'); // was "Stay signed in"
    // Neither refocused (name/description re-read) nor a live-region change:
    expect(d.live() !== liveBefore || d.root.activeElement === d.dialog).toBe(true);
  });

  it('a double click on "Stay signed in" that turns the warning into a cap warning does not also sign in', async () => {
    const f = fakeSession();
    const d = mount();
    d.el.session = f.session;
    f.push(idleWarn());
    // staySignedIn(): the activity counts, then the absolute limit is the nearer: warning, reason absolute (session.ts:601-607)
    f.stub.staySignedIn.mockImplementation(async () => { f.calls.push('stay'); f.push(capWarn()); throw new Error('LIMIT_REACHED'); });
    d.primary.dispatchEvent(new MouseEvent('click', { detail: 1 }));
    d.primary.dispatchEvent(new MouseEvent('click', { detail: 2 }));
    await Promise.resolve();
    expect(f.calls).toEqual(['stay']);
  });

  it('a sign-in notice never covers a warning that is showing', () => {
    const f = fakeSession();
    const d = mount();
    d.el.session = f.session;
    // eventsOf order: the change (warning) is emitted before signed-in
    f.push(capWarn());
    f.signedIn('session_expiry');
   
    // changes during a cap warning: input does not count), until the session has expired.
    expect(d.heading()).toBe('Your session is about to end');
  });

  it('a sign-in notice never covers the notice of a session that began already ended', () => {
    const f = fakeSession();
    const d = mount();
    d.el.session = f.session;
    f.push(snap({ status: 'expired', reason: 'session_expiry', expiresAt: Date.now() - 1, sessionExpiresAt: Date.now() - 1 }));
    f.signedIn('session_expiry');
    expect(d.heading()).toBe('You have been signed out');
  });

  it('setting the same session again does not reopen a notice the user closed', () => {
    const f = fakeSession();
    const d = mount();
    d.el.session = f.session;
    f.push(snap({ status: 'signed-out', reason: 'remote_logout' }));
    expect(d.dialog.open).toBe(true);
    d.secondary.click(); // Close
    expect(d.dialog.open).toBe(false);
    d.el.session = f.session; // e.g. a framework re-assigning the property on render
    expect(d.dialog.open).toBe(false);
  });

  it("another session set in its place closes the last one's notice", () => {
    const a = fakeSession();
    const b = fakeSession(snap({ status: 'loading' }));
    const d = mount();
    d.el.session = a.session;
    a.push(snap({ status: 'expired', reason: 'absolute', expiresAt: Date.now(), absoluteExpiresAt: Date.now(), authTime: Date.now() - 12 * HOUR }));
    d.el.session = b.session;
    expect(d.dialog.open).toBe(false);
  });

  it("with the app's own words, the dialog takes the page's language tag (lang=\"fr\")", () => {
    const f = fakeSession();
    const d = mount('fr');
    d.el.messages = { heading: 'Vous allez être déconnecté', idleWarning: 'Déconnexion dans {time}.', minutes: { one: 'minute', other: 'minutes' } };
    d.el.session = f.session;
    f.push(idleWarn());
    expect(d.heading()).toBe('Vous allez être déconnecté');
    expect(d.dialog.lang).toBe('fr');
  });

  it('fills only its own placeholders: {constructor} stays as written', () => {
    expect(fill('in {constructor}', {})).toBe('in {constructor}');
  });

  it('"Close" on a notice, then a warning before the close event: the warning stays open and nothing is extended', async () => {
    const f = fakeSession();
    const d = mount();
    asyncClose(d.dialog);
    d.el.session = f.session;
    f.signedIn('idle');
    d.primary.click(); // Close: this.#dialog.close() without #closing; `close` fires in a later task
    f.push(idleWarn()); // the watchdog's warning lands in between
    expect(d.dialog.open).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.calls).toEqual([]);
    expect(d.dialog.open).toBe(true);
  });

  it('Escape on a cap warning as the session ends: the notice of the end stays open', async () => {
    const f = fakeSession();
    const d = mount();
    asyncClose(d.dialog);
    d.el.session = f.session;
    f.push(capWarn());
    escape(d.dialog);
    f.push(snap({ status: 'expired', reason: 'absolute', expiresAt: Date.now(), absoluteExpiresAt: Date.now(), authTime: Date.now() - 12 * HOUR }));
    expect(d.dialog.open).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(d.dialog.open).toBe(true);
  });
});

describe('what holds', () => {
  it('Escape on idle = stay; Escape on cap = nothing, not reopened for the same end; no sign-out', async () => {
    const f = fakeSession();
    const d = mount();
    asyncClose(d.dialog);
    d.el.session = f.session;
    f.push(idleWarn());
    escape(d.dialog);
    await vi.advanceTimersByTimeAsync(0);
    expect(f.calls).toEqual(['stay']);
    const cap = capWarn();
    f.push(cap);
    escape(d.dialog);
    await vi.advanceTimersByTimeAsync(0);
    f.push({ ...cap, lastActivityAt: cap.lastActivityAt! + 1 });
    expect(d.dialog.open).toBe(false);
    expect(f.calls).toEqual(['stay']);
  });

  it('programmatic close (Stay in another tab) does not call staySignedIn; no timer left after removal', async () => {
    const f = fakeSession();
    const d = mount();
    asyncClose(d.dialog);
    d.el.session = f.session;
    f.push(idleWarn());
    f.push(snap({}));
    await vi.advanceTimersByTimeAsync(0);
    expect(f.calls).toEqual([]);
    f.push(idleWarn());
    d.el.remove();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(f.calls).toEqual([]);
  });

  it('countdown never negative when the state lags the clock', () => {
    const f = fakeSession();
    const d = mount();
    d.el.session = f.session;
    f.push(idleWarn(Date.now() - 5000));
    expect(d.text()).toMatch(/in 0 seconds/);
    expect(vi.getTimerCount()).toBe(0);
  });
});

// @vitest-environment happy-dom
// The signed-in event's `after`: the limit that led to a sign-in, told once, and known to a
// tab that learnt of the limit from the shared record as well as to the tab that saw it.
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createSessionWith, type Session } from '../../src/session.js';
import { createMemoryStore, type RecordStore } from '../../src/store.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, ISSUER, makeKeys, MIN, tabDeps, type Keys } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
let keys: Keys;
let clock: FakeClock;
let store: RecordStore;
const sessions: Session[] = [];
beforeAll(async () => { keys = await makeKeys(); });
beforeEach(() => {
  clock = new FakeClock(T0);
  store = createMemoryStore();
  Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
});
afterEach(() => { for (const s of sessions.splice(0)) s.stop(); });

it('is told once: stop() and start() again take the same session up with after: null', async () => {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const oidc = fakeOidc(await keys.sign(claimsAt(T0 - MIN)));
  oidc.answering({ at: T0 - MIN, maxAge: 0, maxAgeSent: true, retried: false, after: 'idle' });
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' },
    { ...oidc.deps, keys: keys.keys, store: { ...store, kind: 'indexeddb' }, ...tabDeps(true) });
  sessions.push(s);
  const seen: unknown[] = [];
  s.on('signed-in', (e) => seen.push(e.after));
  await s.start();
  history.replaceState(null, '', '/');
  expect(seen).toEqual(['idle']);
  s.stop();
  await s.start();
  expect(s.getSnapshot().status).toBe('active');
  expect(seen).toEqual(['idle', null]);
});

it('a tab reloaded after its session ended at a limit sends the limit with its sign-in', async () => {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
  const deps = { ...oidc.deps, keys: keys.keys, store: { ...store, kind: 'indexeddb' as const }, ...tabDeps(true) };
  const opts = { authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' as const };
  const first = createSessionWith(opts, deps);
  sessions.push(first);
  await first.start();
  history.replaceState(null, '', '/');
  clock.advance(30 * MIN);
  await new Promise((r) => setTimeout(r, 0)); // one macrotask: the shared record is read before the tab expires
  expect(first.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
  first.stop();
  await new Promise((r) => setTimeout(r, 0)); // one macrotask: the ended record is written
  // the reload
  const oidc2 = fakeOidc('unused');
  const again = createSessionWith(opts, { ...deps, ...oidc2.deps });
  sessions.push(again);
  await again.start();
  expect(again.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'idle' });
  await again.signIn();
  expect(oidc2.authorize[0]).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
  expect(oidc2.authorize[0]).toHaveProperty('after', 'idle');
});

// @vitest-environment happy-dom
// useSession (oidc-session-guard/react) in React 19 with react-dom, in StrictMode: the
// component re-renders on each status change and lets go of the session when unmounted.
import { act, createElement, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { useSession } from '../../src/react/index.js';
import { createSessionWith, type Session } from '../../src/session.js';
import { createMemoryStore } from '../../src/store.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, ISSUER, makeKeys, MIN, tabDeps, type Keys } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
let keys: Keys;
let clock: FakeClock;
let session: Session | null = null;

beforeAll(async () => {
  keys = await makeKeys();
});

beforeEach(() => {
  clock = new FakeClock(T0);
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
});

afterEach(() => {
  session?.stop();
  session = null;
});

it('re-renders on each status change, in StrictMode, and lets go of the session when unmounted', async () => {
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' },
    { ...fakeOidc(await keys.sign(claimsAt(T0))).deps, keys: keys.keys, store: createMemoryStore(), ...tabDeps(true) });
  session = s;
  // Every subscription React makes, and how many are still open.
  let open = 0;
  const counted: Pick<Session, 'subscribe' | 'getSnapshot'> = { getSnapshot: s.getSnapshot, subscribe: (fn) => {
    open += 1;
    const off = s.subscribe(fn);
    return () => {
      open -= 1;
      off();
    };
  } };
  const seen: string[] = [];
  function Status() {
    const snapshot = useSession(counted);
    seen.push(snapshot.status);
    return createElement('p', { 'data-status': snapshot.status }, snapshot.status);
  }
  const host = document.createElement('div');
  document.body.append(host);
  const root = createRoot(host);
  await act(async () => root.render(createElement(StrictMode, null, createElement(Status))));
  expect(host.textContent).toBe('loading');
  await act(async () => {
    await s.start();
  });
  expect(host.textContent).toBe('active');
  await act(async () => clock.advance(28 * MIN));
  expect(host.textContent).toBe('warning');
  await act(async () => clock.advance(2 * MIN));
  expect(host.textContent).toBe('expired');
  // Each status rendered (StrictMode renders twice in development); none skipped.
  expect([...new Set(seen)]).toEqual(['loading', 'active', 'warning', 'expired']);
  expect(open).toBe(1);
  await act(async () => root.unmount());
  expect(open).toBe(0);
  host.remove();
});

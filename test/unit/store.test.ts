// @vitest-environment happy-dom
// The shared record's store: IndexedDB through idb-keyval, within a time limit. IndexedDB is
// replaced here by one whose database never opens (as when another connection blocks it):
// a real browser's blocking cannot be produced in Node.
import { afterEach, expect, it, vi } from 'vitest';
import { createSessionWith } from '../../src/session.js';
import { createIdbStore, STORE_TIMEOUT_MS } from '../../src/store.js';
import { CLIENT_ID, fakeOidc, FakeClock, ISSUER, tabDeps } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);

afterEach(() => {
  vi.unstubAllGlobals();
});

/** An IndexedDB whose open request never completes. */
function blockedIndexedDB() {
  vi.stubGlobal('indexedDB', { open: () => ({}) });
}

/** A session whose shared record lives in an IndexedDB that never opens. */
function sessionOnBlockedIndexedDB() {
  blockedIndexedDB();
  history.replaceState(null, '', '/');
  const clock = new FakeClock(T0);
  const session = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock },
    { ...fakeOidc('unused').deps, store: createIdbStore(`${ISSUER}|${CLIENT_ID}`, clock), ...tabDeps(true) });
  const errors: string[] = [];
  session.on('error', (error) => errors.push(error.code));
  return { clock, session, errors };
}

const settled = async <T>(promise: Promise<T>) => {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
};

it('a read that IndexedDB never answers fails after the time limit', async () => {
  blockedIndexedDB();
  const clock = new FakeClock(T0);
  const read = createIdbStore('k', clock).get();
  const outcome = read.catch((error: unknown) => error);
  expect(await settled(read)).toBe(false);
  clock.advance(STORE_TIMEOUT_MS);
  expect(await outcome).toBeInstanceOf(Error);
  expect(clock.pendingTimers).toBe(0);
});

it('start() settles when IndexedDB never answers: the tab goes on from memory and says so', async () => {
  const { clock, session, errors } = sessionOnBlockedIndexedDB();
  const started = session.start();
  expect(await settled(started)).toBe(false);
  clock.advance(STORE_TIMEOUT_MS);
  await expect(started).resolves.toMatchObject({ status: 'signed-out' });
  expect(errors).toEqual(['STORAGE']);
  session.stop();
});

it('a read still waiting when the session stops changes nothing afterwards: no error, no fallback reported', async () => {
  const { clock, session, errors } = sessionOnBlockedIndexedDB();
  const started = session.start();
  await new Promise((resolve) => setTimeout(resolve, 0));
  session.stop();
  clock.advance(STORE_TIMEOUT_MS);
  await expect(started).resolves.toMatchObject({ status: 'loading' });
  expect(errors).toEqual([]);
  expect(session.getSnapshot().status).toBe('loading');
});

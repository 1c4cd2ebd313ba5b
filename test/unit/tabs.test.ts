// @vitest-environment happy-dom
// Two sessions in one page stand for two tabs: they talk over Node's native
// BroadcastChannel (delivered between instances of one process) and share one record
// store. The provider is a stand-in.
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createSessionWith, TOKEN_REQUEST_TIMEOUT_MS, type Session } from '../../src/session.js';
import type { SessionOptions } from '../../src/options.js';
import { createMemoryStore, type RecordStore } from '../../src/store.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, ISSUER, makeKeys, MIN, tabDeps, watchChannels, watchListeners, type Keys } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
let keys: Keys;
let clock: FakeClock;
let store: RecordStore;
let listeners: { open(): number };
let channels: { open(): number };
const sessions: Session[] = [];

beforeAll(async () => {
  keys = await makeKeys();
});

beforeEach(() => {
  clock = new FakeClock(T0);
  store = createMemoryStore();
  listeners = watchListeners();
  channels = watchChannels();
  Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.stop();
  // After stop(): no listener, timer or channel left.
  expect(clock.pendingTimers).toBe(0);
  expect(listeners.open()).toBe(0);
  expect(channels.open()).toBe(0);
});

// A BroadcastChannel message arrives a few milliseconds of real time after it is posted.
const delivered = () => new Promise((resolve) => setTimeout(resolve, 20));
// Before a tab warns or expires on its own deadline it reads the shared record: here a memory
// store, read at once, so the next task sees the outcome.
const recordRead = () => new Promise((resolve) => setTimeout(resolve, 0));

async function tab(leader: boolean, oidc = fakeOidc('unused'), options: Partial<SessionOptions> = {}) {
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none', ...options },
    // The memory store stands for the one IndexedDB record both tabs share.
    { ...oidc.deps, keys: keys.keys, store: { ...store, kind: 'indexeddb' }, ...tabDeps(leader) });
  sessions.push(s);
  return { session: s, oidc };
}

async function signedInTab(options: Partial<SessionOptions> = {}) {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const first = await tab(true, fakeOidc(await keys.sign(claimsAt(T0))), options);
  await first.session.start();
  history.replaceState(null, '', '/');
  return first;
}

async function secondTab(options: Partial<SessionOptions> = {}) {
  const second = await tab(false, fakeOidc('unused'), options);
  const started = second.session.start();
  await delivered();
  await started;
  return second;
}

it('a new tab takes over the live session from another tab', async () => {
  const first = await signedInTab();
  const second = await secondTab();
  expect(second.session.getSnapshot()).toMatchObject({ status: 'active', claims: { sub: 'alice' } });
  expect(second.session.getSnapshot().authTime).toBe(first.session.getSnapshot().authTime);
  await expect(second.session.getAccessToken()).resolves.toBe('access-token');
});

it('a new tab with no live tab to ask stays signed out after the wait', async () => {
  const first = await signedInTab();
  first.session.stop();
  const second = await tab(false);
  const started = second.session.start();
  await delivered();
  clock.advance(TOKEN_REQUEST_TIMEOUT_MS);
  await expect(started).resolves.toMatchObject({ status: 'signed-out' });
});

it('activity in one tab moves the idle deadline in the other', async () => {
  const first = await signedInTab();
  const second = await secondTab();
  clock.advance(20 * MIN);
  await first.session.staySignedIn();
  await delivered();
  expect(second.session.getSnapshot().lastActivityAt).toBe(T0 + 20 * MIN);
  clock.advance(25 * MIN);
  expect(second.session.getSnapshot().status).toBe('active');
});

it('"Stay signed in" in one tab brings the next warning in the other on time, before the end it waited for', async () => {
  const policy = { idleTimeoutMs: 21_000, warningBeforeMs: 20_000, absoluteTimeoutMs: 12 * 60 * MIN };
  await signedInTab({ policy });
  const second = await secondTab({ policy });
  const start = clock.now();
  const warnings: number[] = [];
  second.session.on('warning', () => warnings.push(clock.now() - start));
  clock.advance(1000);
  await recordRead();
  expect(second.session.getSnapshot().status).toBe('warning');
  await sessions[0]!.staySignedIn();
  await delivered();
  expect(second.session.getSnapshot().status).toBe('active');
  warnings.length = 0;
  const stayed = clock.now() - start;
  clock.advance(1000);
  await recordRead();
  expect(warnings).toEqual([stayed + 1000]);
});

it('sign-out in one tab signs out the other', async () => {
  const first = await signedInTab();
  const second = await secondTab();
  await first.session.signOut();
  await delivered();
  expect(second.session.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'signed_out' });
  await expect(second.session.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
});

it('a logout heard from the server companion in one tab signs out the other with reason remote_logout', async () => {
  const first = await signedInTab();
  const second = await secondTab();
  const { sessionId } = (await store.get()) as { sessionId: string };
  // The leading tab relays what the companion's event stream said (src/remote.ts in a browser).
  const relay = new BroadcastChannel(`oidc-session-guard|${ISSUER}|${CLIENT_ID}`);
  relay.postMessage({ v: 1, sentAt: clock.now(), type: 'signed-out', sessionId, reason: 'remote_logout' });
  relay.close();
  await delivered();
  for (const tab of [first, second]) expect(tab.session.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'remote_logout' });
  // No limit was reached: the next sign-in need not force prompt=login.
  expect(await store.get()).toMatchObject({ status: 'ended', endedReason: 'remote_logout', reauthRequired: false });
});

it('renewal from a follower goes through the leader: one refresh, the new tokens in both tabs', async () => {
  const first = await signedInTab();
  const second = await secondTab();
  await Promise.all([second.session.renew(), second.session.renew(), first.session.renew()]);
  await delivered();
  expect(first.oidc.refreshes).toHaveLength(1);
  expect(second.oidc.refreshes).toHaveLength(0);
  await expect(second.session.getAccessToken()).resolves.toBe('access-1');
  await expect(first.session.getAccessToken()).resolves.toBe('access-1');
});

it('a renewal is not activity and never revives an expired session', async () => {
  const first = await signedInTab();
  clock.advance(10 * MIN);
  await first.session.renew();
  expect(first.session.getSnapshot().lastActivityAt).toBe(T0);
  clock.advance(20 * MIN);
  await expect(first.session.renew()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
  expect(first.oidc.refreshes).toHaveLength(1);
});

it('an expiry message from another tab ends this one, though its own clock says active', async () => {
  await signedInTab();
  const second = await secondTab();
  const sessionId = ((await store.get()) as { sessionId: string }).sessionId;
  const other = new BroadcastChannel(`oidc-session-guard|${ISSUER}|${CLIENT_ID}`);
  other.postMessage({ v: 1, sentAt: clock.now(), type: 'expired', sessionId, reason: 'idle' });
  await delivered();
  other.close();
  expect(second.session.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
});

it('activity stamped for another session changes nothing', async () => {
  await signedInTab();
  const second = await secondTab();
  const other = new BroadcastChannel(`oidc-session-guard|${ISSUER}|${CLIENT_ID}`);
  other.postMessage({ v: 1, sentAt: clock.now(), type: 'activity', sessionId: 'someone-else', at: clock.now() + 1000 });
  await delivered();
  other.close();
  expect(second.session.getSnapshot().lastActivityAt).toBe(T0);
});

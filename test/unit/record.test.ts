// @vitest-environment happy-dom
// Expiry decided from the shared record: a tab that missed the other tabs' messages (a page
// in the back/forward cache, a frozen tab: the HTML standard delivers nothing to a document
// that is not fully active) reads the record before it warns or expires on its own deadline,
// and when it wakes. Here the other tab's writes are made to the store directly, with no
// message, as a deaf tab would see them; the provider is a stand-in.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reduce, type Live, type State } from '../../src/machine.js';
import { presets } from '../../src/policy.js';
import { createSessionWith, TOKEN_REQUEST_TIMEOUT_MS, type Session } from '../../src/session.js';
import { believable, createMemoryStore, merged, type RecordStore, type SessionRecord } from '../../src/store.js';
import { newsOf } from '../../src/tracking.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, HOUR, ISSUER, makeKeys, MIN, tabDeps, watchChannels, watchListeners, type Keys, write } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const policy = presets['nist-800-63b-3-aal2'];
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
  expect(clock.pendingTimers).toBe(0);
  expect(listeners.open()).toBe(0);
  expect(channels.open()).toBe(0);
});

// The record is read before the tab acts: a memory store, read at once; the next task sees it.
const recordRead = () => new Promise((resolve) => setTimeout(resolve, 0));

async function signedInTab(shared: RecordStore = { ...store, kind: 'indexeddb' }) {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' },
    // The memory store stands for the one IndexedDB record the tabs share.
    { ...oidc.deps, keys: keys.keys, store: shared, ...tabDeps(true) });
  sessions.push(s);
  await s.start();
  history.replaceState(null, '', '/');
  return { session: s, oidc };
}

/** What another tab writes when the user is active there (and this tab hears nothing of it). */
async function activityElsewhere(at: number) {
  const record = (await store.get()) as SessionRecord;
  await write(store, { ...record, lastActivityAt: at });
}

describe('a tab that missed the other tabs\' activity', () => {
  it("at its own stale idle deadline reads the record: the session stays active, the record stays active, and it shows the other tab's deadline", async () => {
    const { session: s } = await signedInTab();
    const events: string[] = [];
    s.on('warning', () => events.push('warning'));
    s.on('expired', () => events.push('expired'));
    for (let minute = 5; minute <= 50; minute += 5) {
      clock.advance(5 * MIN);
      await activityElsewhere(T0 + minute * MIN);
      await recordRead();
    }
    // Its own view is refreshed at its own deadlines (warning at 28 min, then at 53 min).
    clock.advance(5 * MIN);
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'active', lastActivityAt: T0 + 50 * MIN, expiresAt: T0 + 80 * MIN });
    expect(await store.get()).toMatchObject({ status: 'active', lastActivityAt: T0 + 50 * MIN });
    expect(events).toEqual([]);
  });

  it('back after an hour away (the back/forward cache) reads the record on waking, before its own deadline acts', async () => {
    const { session: s } = await signedInTab();
    // Away: no timer runs, no message arrives; the user works in another tab meanwhile.
    clock.sleep(HOUR);
    await activityElsewhere(T0 + HOUR - MIN);
    window.dispatchEvent(new Event('pageshow'));
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'active', lastActivityAt: T0 + HOUR - MIN, expiresAt: T0 + HOUR + 29 * MIN });
    expect(await store.get()).toMatchObject({ status: 'active' });
  });

  it('expires at its deadline when the record holds nothing later', async () => {
    const { session: s } = await signedInTab();
    clock.advance(30 * MIN);
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
    expect(await store.get()).toMatchObject({ status: 'ended', endedReason: 'idle' });
  });

  it('expires at its deadline when the record cannot be read (fail closed)', async () => {
    let readable = true;
    const shared: RecordStore = { kind: 'indexeddb', get: () => (readable ? store.get() : Promise.reject(new Error('IndexedDB did not answer in time'))), change: (fn) => store.change(fn) };
    const { session: s } = await signedInTab(shared);
    readable = false;
    clock.advance(30 * MIN);
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
  });

  it('does not believe activity stamped later than now (a tampered record)', async () => {
    const { session: s } = await signedInTab();
    clock.advance(29 * MIN);
    await activityElsewhere(T0 + 60 * MIN);
    clock.advance(MIN);
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
  });

  it('is not kept past the absolute limit by activity in the record', async () => {
    const { session: s } = await signedInTab();
    for (let hour = 1; hour <= 12; hour += 1) {
      for (let step = 0; step < 4; step += 1) {
        clock.advance(15 * MIN);
        await activityElsewhere(clock.now());
        await recordRead();
      }
    }
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'absolute', expiresAt: T0 + 12 * HOUR });
  });

  it('ends when the record says the session ended elsewhere (a sign-out it did not hear)', async () => {
    const { session: s } = await signedInTab();
    const record = (await store.get()) as SessionRecord;
    await write(store, { ...record, status: 'ended', endedReason: 'signed_out', reauthRequired: false });
    document.dispatchEvent(new Event('visibilitychange'));
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'signed_out' });
  });

  it('gives way to another session in the record (a sign-in while it was away) without writing over it', async () => {
    const { session: s } = await signedInTab();
    const record = (await store.get()) as SessionRecord;
    const next = { ...record, sessionId: 'signed-in-elsewhere', signedInAt: T0 + MIN, lastActivityAt: T0 + MIN };
    clock.advance(MIN);
    await write(store, next);
    window.dispatchEvent(new Event('pageshow'));
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', claims: null });
    // It asks the tab that holds the new session for it (none answers here: the stand-in's
    // silent renewal finds no provider session), and never ends that session.
    clock.advance(TOKEN_REQUEST_TIMEOUT_MS);
    await recordRead();
    expect(await store.get()).toMatchObject({ sessionId: 'signed-in-elsewhere', status: 'active' });
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', claims: null });
  });
});

describe('what the record says, judged (pure)', () => {
  const live = { sessionId: 's', lastActivityAt: T0, authTime: T0, sessionExpiresAt: null } as unknown as Live;
  const record = (over: Partial<SessionRecord>): SessionRecord => ({ v: 1, sessionId: 's', sub: 'alice', status: 'active', endedReason: null, reauthRequired: false, signedInAt: T0, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0, ...over });

  it.each([
    ['later activity of the same session', record({ lastActivityAt: T0 + MIN }), { type: 'activity', at: T0 + MIN }],
    ['the same activity', record({}), null],
    ['the session ended at a limit', record({ status: 'ended', endedReason: 'idle', reauthRequired: true }), { type: 'ended', reason: 'idle' }],
    ['another session', record({ sessionId: 'other' }), { type: 'replaced' }],
    ['a record that does not parse', { v: 1, sessionId: 's' }, null],
    ['activity in the future', record({ lastActivityAt: T0 + HOUR }), null],
    ['no record', undefined, null],
  ])('%s', (_name, value, news) => {
    expect(newsOf(believable(value, T0 + 2 * MIN), live)).toEqual(news);
  });

  it("a write never moves the session's activity back, and never makes a session that ended active again", () => {
    const mine = record({ lastActivityAt: T0 + MIN, renewedAt: T0 });
    expect(merged(record({ lastActivityAt: T0 + 5 * MIN, renewedAt: T0 + 2 * MIN }), mine)).toEqual({ ...mine, lastActivityAt: T0 + 5 * MIN, renewedAt: T0 + 2 * MIN });
    expect(merged(record({ lastActivityAt: T0 }), mine)).toEqual(mine);
    expect(merged(record({ status: 'ended', endedReason: 'signed_out' }), mine)).toBeNull();
    // An end of this session is written whatever is there; nothing is written when there is none.
    const ending = record({ status: 'ended', endedReason: 'idle', reauthRequired: true });
    expect(merged(record({ lastActivityAt: T0 + 5 * MIN }), ending)).toEqual(ending);
    expect(merged(null, mine)).toEqual(mine);
  });

  it('an end written over an end keeps the stricter: the next sign-in still authenticates after a limit', () => {
    const atLimit = record({ status: 'ended', endedReason: 'absolute', reauthRequired: true });
    const signedOut = record({ status: 'ended', endedReason: 'signed_out', reauthRequired: false });
    expect(merged(atLimit, signedOut)).toEqual({ ...signedOut, reauthRequired: true });
  });

  it('a write never goes over another session\'s record (a sign-in this tab did not hear of), but a new session\'s first write does', () => {
    const stale = record({ lastActivityAt: T0 + MIN });
    const other = record({ sessionId: 'other', lastActivityAt: T0 + 5 * MIN });
    expect(merged(other, stale)).toBeNull();
    expect(merged(other, record({ status: 'ended', endedReason: 'idle', reauthRequired: true }))).toBeNull();
    expect(merged(other, stale, true)).toEqual(stale);
  });

  it('the record\'s activity counts even past this tab\'s stale deadline, never later than now, never past a cap', () => {
    const state = { status: 'active', live, decision: {} } as unknown as State;
    const late = reduce(state, { type: 'record', at: T0 + 50 * MIN, now: T0 + 55 * MIN }, policy);
    expect(late).toMatchObject({ status: 'active', live: { lastActivityAt: T0 + 50 * MIN } });
    const future = reduce(state, { type: 'record', at: T0 + 90 * MIN, now: T0 + 55 * MIN }, policy);
    expect(future).toMatchObject({ live: { lastActivityAt: T0 + 55 * MIN } });
    const capped = reduce(state, { type: 'record', at: T0 + 12 * HOUR, now: T0 + 12 * HOUR }, policy);
    expect(capped).toMatchObject({ status: 'expired', reason: 'absolute' });
  });
});

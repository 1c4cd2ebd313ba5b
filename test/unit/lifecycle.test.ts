// @vitest-environment happy-dom
// The lifecycle: start() and stop() in any order, start() again after stop(), bound methods,
// and the defects the old single-class session had (each test here failed on it). Two
// sessions in one page stand for two tabs over Node's native BroadcastChannel; the
// provider is a stand-in (test/unit/support.ts).
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.js';
import { RENEW_TIMEOUT_MS } from '../../src/protocol/flows.js';
import { RENEW_RETRY_MS } from '../../src/renewal.js';
import { createSessionWith, TOKEN_REQUEST_TIMEOUT_MS, type Session } from '../../src/session.js';
import { createMemoryStore, type RecordStore } from '../../src/store.js';
import { claimsAt, CLIENT_ID, deferred, fakeOidc, FakeClock, HOUR, ISSUER, makeKeys, MIN, tabDeps, userInput, watchChannels, watchListeners, type Keys } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const CHANNEL = `oidc-session-guard|${ISSUER}|${CLIENT_ID}`;
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
  history.replaceState(null, '', '/');
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

function tab(leader: boolean, oidc = fakeOidc('unused'), shared = true) {
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'reauthenticate' },
    // The memory store stands for the one IndexedDB record the tabs share.
    { ...oidc.deps, keys: keys.keys, store: shared ? { ...store, kind: 'indexeddb' } : store, ...tabDeps(leader) });
  sessions.push(s);
  return { session: s, oidc };
}

async function signedInTab(claims = claimsAt(T0)) {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const first = tab(true, fakeOidc(await keys.sign(claims)));
  await first.session.start();
  history.replaceState(null, '', '/');
  return first;
}

/** Collects what the tabs say to each other. */
function overhear() {
  const heard: { type: string }[] = [];
  const ear = new BroadcastChannel(CHANNEL);
  ear.onmessage = (event) => heard.push(event.data as { type: string });
  return { heard, close: () => ear.close() };
}

describe('stop() while start() is in flight', () => {
  it('stops a start() waiting for another tab: nothing is tracked afterwards, even when the answer comes', async () => {
    const first = await signedInTab();
    const second = tab(false);
    const started = second.session.start();
    second.session.stop();
    await delivered(); // the live tab answers the request that was already sent
    await expect(started).resolves.toMatchObject({ status: 'loading' });
    expect(second.session.getSnapshot().status).toBe('loading');
    first.session.stop();
    // Only the second tab could be left: a watchdog past 30 minutes would redirect the page.
    clock.advance(31 * MIN);
    expect(second.oidc.authorize).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops a start() restoring silently: the late tokens are not taken', async () => {
    await signedInTab().then((first) => first.session.stop());
    const silent = deferred<Awaited<ReturnType<import('../../src/protocol/types.js').OidcPort['silent']>>>();
    const oidc = fakeOidc('unused');
    oidc.deps.protocol.silent = () => silent.promise;
    const second = tab(false, oidc);
    const started = second.session.start();
    await delivered();
    clock.advance(TOKEN_REQUEST_TIMEOUT_MS); // no tab answers: the silent iframe runs
    await delivered();
    second.session.stop();
    silent.resolve({ idToken: await keys.sign(claimsAt(T0)), accessToken: 'late', refreshToken: null, accessTokenExpiresAt: null });
    await expect(started).resolves.toMatchObject({ status: 'loading' });
    await delivered();
    expect(second.session.getSnapshot().status).toBe('loading');
    await expect(second.session.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
  });
});

describe('start() again after stop() (React StrictMode mounts, unmounts and mounts)', () => {
  it('takes the same session up again, with no new request to the provider', async () => {
    const { session: s, oidc } = await signedInTab();
    const before = s.getSnapshot();
    s.stop();
    expect(s.getSnapshot().status).toBe('loading');
    await s.start();
    expect(s.getSnapshot()).toMatchObject({ status: 'active', authTime: before.authTime, claims: { sub: 'alice' } });
    await expect(s.getAccessToken()).resolves.toBe('access-token');
    expect(oidc.refreshes).toEqual([]);
    // And it enforces the limits again.
    clock.advance(30 * MIN);
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
  });

  it('on the callback page, start(), stop(), start() redeems the code once and signs in', async () => {
    history.replaceState(null, '', '/callback?code=abc&state=xyz');
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    let redeemed = 0;
    const complete = oidc.deps.protocol.completeSignin;
    oidc.deps.protocol.completeSignin = (url) => {
      redeemed += 1;
      return complete(url);
    };
    const { session: s } = tab(true, oidc);
    const first = s.start();
    s.stop();
    const second = s.start();
    await expect(first).resolves.toMatchObject({ status: 'loading' });
    await expect(second).resolves.toMatchObject({ status: 'active' });
    expect(redeemed).toBe(1);
  });

  it('keeps the app\'s own listeners across stop() and start()', async () => {
    const { session: s } = await signedInTab();
    const statuses: string[] = [];
    s.subscribe((snapshot) => statuses.push(snapshot.status));
    s.stop();
    await s.start();
    expect(statuses).toEqual(['loading', 'active']);
  });
});

describe('a warning of a cap that cannot be extended', () => {
  it('fires warning once however often staySignedIn() is refused, and tells no tab it was dismissed', async () => {
    const expiry = Math.floor((T0 + HOUR) / 1000);
    const { session: s } = await signedInTab(claimsAt(T0, { session_expiry: expiry }));
    const warnings: unknown[] = [];
    s.on('warning', (payload) => warnings.push(payload));
    const ear = overhear();
    for (let minute = 1; minute <= 59; minute += 1) {
      clock.advance(MIN);
      userInput();
    }
    await recordRead();
    expect(s.getSnapshot()).toMatchObject({ status: 'warning', reason: 'session_expiry' });
    for (let i = 0; i < 3; i += 1) await expect(s.staySignedIn()).rejects.toBeInstanceOf(SessionError);
    await delivered();
    ear.close();
    expect(warnings).toHaveLength(1);
    expect(ear.heard.filter((m) => m.type === 'warning-dismissed')).toEqual([]);
  });
});

describe('signIn() before start()', () => {
  it('obeys the record: after an idle expiry, a new page that signs in first sends prompt=login and max_age=0', async () => {
    const { session: first } = await signedInTab();
    clock.advance(30 * MIN);
    await recordRead();
    expect(first.getSnapshot().status).toBe('expired');
    first.stop();
    const page = tab(true);
    await page.session.signIn();
    expect(page.oidc.authorize[0]).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
    await expect(page.session.signIn({ prompt: 'none' })).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
  });
});

describe('bound methods', () => {
  it('every public method works when taken off the session', async () => {
    const { session: s } = await signedInTab();
    const { getSnapshot, subscribe, on, staySignedIn, getAccessToken, signIn, stop } = s;
    expect(getSnapshot().status).toBe('active');
    const off = subscribe(() => undefined);
    const offWarning = on('warning', () => undefined);
    off();
    offWarning();
    await expect(getAccessToken()).resolves.toBe('access-token');
    await expect(staySignedIn()).resolves.toBeUndefined();
    await expect(signIn({ returnTo: 'https://evil.example/' })).rejects.toMatchObject({ code: 'REDIRECT_REFUSED' });
    stop();
    expect(getSnapshot().status).toBe('loading');
  });
});

describe('a tab that had expired, when another tab signs out', () => {
  it('ends as signed out and does not redirect to the provider when it becomes visible', async () => {
    const first = await signedInTab();
    const second = tab(false);
    const started = second.session.start();
    await delivered();
    await started;
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    clock.advance(30 * MIN);
    await recordRead();
    expect(second.session.getSnapshot().status).toBe('expired');
    await first.session.signOut();
    await delivered();
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await delivered();
    expect(second.session.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'signed_out' });
    expect(second.oidc.authorize).toEqual([]);
  });
});

describe('what the review of the rebuild found', () => {
  it('a new tab does not take over a session signed out while it was verifying the hand-over', async () => {
    const first = await signedInTab();
    const gate = deferred<void>();
    const oidc = fakeOidc('unused');
    const slowKeys: typeof keys.keys = async (header, token) => {
      await gate.promise;
      return keys.keys(header, token);
    };
    const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' },
      { ...oidc.deps, keys: slowKeys, store: { ...store, kind: 'indexeddb' }, ...tabDeps(false) });
    sessions.push(s);
    const started = s.start();
    await delivered(); // the offer has arrived; verification waits on the keys
    await first.session.signOut();
    await delivered();
    gate.resolve();
    await delivered();
    await started;
    expect(s.getSnapshot().status).toBe('signed-out');
    await expect(s.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
  });

  it('a hand-over that fails verification is reported and the tab goes on to restore silently', async () => {
    await signedInTab().then((first) => first.session.stop());
    const sessionId = ((await store.get()) as { sessionId: string }).sessionId;
    const forger = await makeKeys(); // another key: the signature cannot verify
    const forged = await forger.sign(claimsAt(T0, { sub: 'mallory' }));
    let silentTries = 0;
    const oidc = fakeOidc('unused');
    oidc.deps.protocol.silent = async () => {
      silentTries += 1;
      throw new SessionError('LOGIN_REQUIRED', 'stand-in provider: no session');
    };
    const second = tab(false, oidc);
    const errors: SessionError[] = [];
    second.session.on('error', (error) => errors.push(error));
    const hostile = new BroadcastChannel(CHANNEL);
    hostile.onmessage = (event) => {
      const m = event.data as { type: string; requestId: string };
      if (m.type !== 'token-request') return;
      hostile.postMessage({ v: 1, sentAt: clock.now(), type: 'token-offer', requestId: m.requestId, sessionId, tokens: { idToken: forged, accessToken: 'stolen', refreshToken: null, accessTokenExpiresAt: null }, claims: { sub: 'mallory' }, timing: { signedInAt: T0, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0 } });
    };
    const started = second.session.start();
    await delivered();
    await delivered();
    hostile.close();
    await expect(started).resolves.toMatchObject({ status: 'signed-out' });
    expect(errors.map((e) => e.code)).toEqual(['ID_TOKEN_INVALID']);
    expect(silentTries).toBe(1);
  });

  it('signOut() while start() is in flight: the start does not sign the tab back in', async () => {
    await signedInTab();
    const second = tab(false);
    const started = second.session.start();
    await second.session.signOut();
    await delivered();
    await started;
    expect(second.session.getSnapshot().status).toBe('signed-out');
  });

  it('signing out of a session that hit a limit does not undo it: the next sign-in still authenticates', async () => {
    const { session: s, oidc } = await signedInTab();
    clock.advance(30 * MIN);
    await recordRead();
    expect(s.getSnapshot().status).toBe('expired');
    await s.signOut();
    await s.signIn();
    expect(oidc.authorize.at(-1)).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
    expect(await store.get()).toMatchObject({ status: 'ended', endedReason: 'signed_out', reauthRequired: true });
  });

  it('a sign-in whose authentication is older than any session can last is refused, does not send the user round again, and the next sign-in authenticates', async () => {
    history.replaceState(null, '', '/callback?code=abc&state=xyz');
    const t = tab(true, fakeOidc(await keys.sign(claimsAt(T0, { auth_time: Math.floor((T0 - 13 * HOUR) / 1000) }))));
    await expect(t.session.start()).rejects.toMatchObject({ code: 'ID_TOKEN_INVALID', message: expect.stringContaining('"auth_time"') });
    await delivered();
    expect(t.session.getSnapshot()).toMatchObject({ status: 'signed-out', claims: null });
    expect(t.oidc.authorize).toEqual([]);
    await t.session.signIn();
    expect(t.oidc.authorize).toEqual([expect.objectContaining({ prompt: 'login', maxAgeSec: 0 })]);
  });

  it('a follower\'s renew() ends with the session, not 15 seconds later', async () => {
    const first = await signedInTab();
    const second = tab(false);
    const started = second.session.start();
    await delivered();
    await started;
    first.session.stop(); // the leader is gone: nobody will answer
    const renewing = second.session.renew();
    await delivered();
    await second.session.signOut();
    await expect(renewing).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
  });

  it('a listener that extends the session on warning gets its events after the warning, in order', async () => {
    const { session: s } = await signedInTab();
    const seen: string[] = [];
    s.subscribe((snapshot) => {
      seen.push(`change:${snapshot.status}`);
      if (snapshot.status === 'warning') void s.staySignedIn();
    });
    s.on('warning', () => seen.push('event:warning'));
    s.on('activity', () => seen.push('event:activity'));
    clock.advance(28 * MIN);
    await recordRead();
    expect(seen).toEqual(['change:warning', 'event:warning', 'change:active', 'event:activity']);
  });

  it('start() again after stop() takes the live tab\'s newer tokens', async () => {
    const first = await signedInTab();
    const second = tab(false);
    const started = second.session.start();
    await delivered();
    await started;
    second.session.stop();
    await first.session.renew(); // the leader renews while the second tab is stopped
    await second.session.start();
    await delivered();
    await expect(second.session.getAccessToken()).resolves.toBe('access-1');
  });
});

describe('a renewal that had to go to the provider in a top-level redirect', () => {
  it('fails after a while if the page stays (the app cancelled the navigation), and the next renewal runs after the backoff', async () => {
    history.replaceState(null, '', '/callback?code=abc&state=xyz');
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    const complete = oidc.deps.protocol.completeSignin;
    // No refresh token: renewal goes through the iframe, which the provider's cookie does not reach.
    oidc.deps.protocol.completeSignin = async (url) => {
      const result = await complete(url);
      return { ...result, tokens: { ...result.tokens, refreshToken: null } };
    };
    const { session: s } = tab(true, oidc);
    await s.start();
    const first = s.renew();
    await delivered();
    expect(oidc.authorize).toEqual([expect.objectContaining({ prompt: 'none', renewSessionId: expect.any(String) })]);
    clock.advance(RENEW_TIMEOUT_MS);
    await expect(first).rejects.toMatchObject({ code: 'RENEW_FAILED' });
    // Within the backoff the same failure comes back at once, with nothing sent.
    await expect(s.renew()).rejects.toMatchObject({ code: 'RENEW_FAILED' });
    expect(oidc.authorize).toHaveLength(1);
    userInput();
    clock.advance(RENEW_RETRY_MS);
    const second = s.renew();
    await delivered();
    expect(oidc.authorize).toHaveLength(2);
    clock.advance(RENEW_TIMEOUT_MS);
    await expect(second).rejects.toMatchObject({ code: 'RENEW_FAILED' });
  });
});

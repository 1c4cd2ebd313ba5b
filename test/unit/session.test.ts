// @vitest-environment happy-dom
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.js';
import type { Claims, TokenSet } from '../../src/machine.js';
import type { SessionOptions } from '../../src/options.js';
import { createSessionWith, type Session, type SessionEvents } from '../../src/session.js';
import { createMemoryStore, type RecordStore } from '../../src/store.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, HOUR, ISSUER, makeKeys, MIN, tabDeps, userInput, watchChannels, watchListeners, type Keys, write } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
let keys: Keys;
let clock: FakeClock;
let session: Session | null = null;
let listeners: { open(): number };
let channels: { open(): number };

beforeAll(async () => {
  keys = await makeKeys();
});

beforeEach(() => {
  clock = new FakeClock(T0);
  listeners = watchListeners();
  channels = watchChannels();
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
});

afterEach(() => {
  session?.stop();
  session = null;
  // After each test: no listener, timer or channel left.
  expect(clock.pendingTimers).toBe(0);
  expect(listeners.open()).toBe(0);
  expect(channels.open()).toBe(0);
});

interface Started {
  session: Session;
  events: { type: keyof SessionEvents; payload: unknown; at: number }[];
  oidc: ReturnType<typeof fakeOidc>;
  store: RecordStore;
}

async function signedIn(claims: Record<string, unknown> = claimsAt(T0), options: Partial<SessionOptions> = {}): Promise<Started> {
  const oidc = fakeOidc(await keys.sign(claims));
  const store = createMemoryStore();
  const s = createSessionWith({
    authority: ISSUER,
    clientId: CLIENT_ID,
    redirectUri: `${location.origin}/callback`,
    onExpired: 'none',
    clock,
    ...options,
  }, { ...oidc.deps, keys: keys.keys, store, ...tabDeps(true) });
  session = s;
  const events: Started['events'] = [];
  for (const type of ['signed-in', 'activity', 'warning', 'expired', 'signed-out', 'error'] as const) {
    s.on(type, (payload) => events.push({ type, payload, at: clock.now() }));
  }
  await s.start();
  return { session: s, events, oidc, store };
}

const typesOf = (events: Started['events']) => events.map((e) => e.type);

describe('the idle limit (NIST 800-63B rev3 §4.2.3: 30 minutes)', () => {
  it('is still signed in at 29:59 idle and expired at 30:00', async () => {
    const { session: s, events } = await signedIn();
    expect(s.getSnapshot().status).toBe('active');
    clock.advance(30 * MIN - 1000);
    expect(s.getSnapshot().status).toBe('warning');
    await expect(s.getAccessToken()).resolves.toBe('access-token');
    clock.advance(1000);
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle', expiresAt: T0 + 30 * MIN });
    expect(events.filter((e) => e.type === 'expired')).toEqual([{ type: 'expired', payload: { reason: 'idle' }, at: T0 + 30 * MIN }]);
    await expect(s.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
  });

  it('starts the warning exactly warningBeforeMs before the end', async () => {
    const { session: s, events } = await signedIn();
    clock.advance(28 * MIN - 1);
    expect(s.getSnapshot().status).toBe('active');
    expect(typesOf(events)).not.toContain('warning');
    clock.advance(1);
    expect(s.getSnapshot().status).toBe('warning');
    expect(events.find((e) => e.type === 'warning')).toEqual({
      type: 'warning', payload: { expiresAt: T0 + 30 * MIN, reason: 'idle', msLeft: 2 * MIN }, at: T0 + 28 * MIN,
    });
  });

  it('after "Stay signed in", the next warning comes warningBeforeMs before the new end, also when that is before the end it waited for', async () => {
    const policy = { idleTimeoutMs: 21_000, warningBeforeMs: 20_000, absoluteTimeoutMs: 12 * 60 * MIN };
    const { session: s, events } = await signedIn(claimsAt(T0), { policy });
    const warnings = () => events.filter((e) => e.type === 'warning').map((e) => e.at);
    clock.advance(1000);
    expect(warnings()).toEqual([T0 + 1000]);
    clock.advance(5000);
    await s.staySignedIn();
    clock.advance(1000);
    expect(warnings()).toEqual([T0 + 1000, T0 + 7000]);
  });

  it('counts trusted input as activity and ignores synthetic events', async () => {
    const { session: s } = await signedIn();
    clock.advance(10 * MIN);
    window.dispatchEvent(new Event('keydown'));
    clock.advance(10_000);
    expect(s.getSnapshot().lastActivityAt).toBe(T0);
    userInput('pointerdown');
    clock.advance(10_000);
    expect(s.getSnapshot().lastActivityAt).toBe(T0 + 10 * MIN + 10_000);
    expect(s.getSnapshot().idleExpiresAt).toBe(T0 + 40 * MIN + 10_000);
  });

  it('writes activity to the shared record at most once per throttle interval, with the time of the input', async () => {
    const { store } = await signedIn();
    let writes = 0;
    const change = store.change.bind(store);
    store.change = async (fn) => {
      writes += 1;
      return change(fn);
    };
    for (let i = 0; i < 50; i += 1) {
      userInput('pointermove');
      clock.advance(100);
    }
    // 5 s of input: at most one write per 5 s interval (the first, then the trailing one).
    expect(writes).toBeLessThanOrEqual(2);
    clock.advance(5000);
    expect(await store.get()).toMatchObject({ lastActivityAt: T0 + 4900 });
  });

  it('is not extended by input during the warning: only staySignedIn() is', async () => {
    const { session: s } = await signedIn();
    clock.advance(29 * MIN);
    userInput();
    clock.advance(10_000);
    expect(s.getSnapshot()).toMatchObject({ status: 'warning', lastActivityAt: T0 });
    await s.staySignedIn();
    expect(s.getSnapshot()).toMatchObject({ status: 'active', lastActivityAt: T0 + 29 * MIN + 10_000 });
  });
});

describe('the absolute limit (12 hours) and session_expiry', () => {
  it('expires at authTime + 12 h even while the user stays active', async () => {
    const { session: s, events } = await signedIn();
    for (let minute = 1; minute < 12 * 60; minute += 1) {
      clock.advance(MIN);
      userInput();
    }
    clock.advance(MIN - 1);
    expect(s.getSnapshot()).toMatchObject({ status: 'warning', reason: 'absolute' });
    clock.advance(1);
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'absolute', expiresAt: T0 + 12 * HOUR });
    expect(events.filter((e) => e.type === 'expired')).toHaveLength(1);
  });

  it('lets an earlier session_expiry (as a numeric string) win', async () => {
    const expiry = Math.floor((T0 + 4 * HOUR) / 1000);
    const { session: s } = await signedIn(claimsAt(T0, { session_expiry: String(expiry) }));
    expect(s.getSnapshot().sessionExpiresAt).toBe(expiry * 1000);
    for (let minute = 1; minute <= 4 * 60; minute += 1) {
      clock.advance(MIN);
      userInput();
    }
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'session_expiry', expiresAt: expiry * 1000 });
  });

  it('counts the 12 hours from sign-in completion when auth_time is missing', async () => {
    const claims = claimsAt(T0 - 5000);
    delete claims.auth_time;
    const { session: s } = await signedIn(claims);
    expect(s.getSnapshot()).toMatchObject({ authTime: T0, absoluteExpiresAt: T0 + 12 * HOUR });
  });

  it('refuses a sign-in whose session_expiry has already passed', async () => {
    const expiry = String(Math.floor((T0 - MIN) / 1000));
    const error = await signedIn(claimsAt(T0, { session_expiry: expiry })).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'LIMIT_REACHED' });
    expect(session?.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'session_expiry', claims: null });
  });

  it('refuses a sign-in whose auth_time is older than the cap: no session can be inside its limits with it', async () => {
    const error = await signedIn(claimsAt(T0, { auth_time: Math.floor((T0 - 13 * HOUR) / 1000) })).then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'ID_TOKEN_INVALID', message: expect.stringContaining('longer than a session can last') });
    expect(session?.getSnapshot()).toMatchObject({ status: 'signed-out', claims: null });
  });

  it('expires at once when what is left of auth_time + 12 h passed while the sign-in completed', async () => {
    // Authenticated 12 h minus 1 s before the token; the callback completes 2 s after it was issued.
    const issued = T0 - 2000;
    const { session: s } = await signedIn(claimsAt(issued, { auth_time: Math.floor((issued - 12 * HOUR + 1000) / 1000) }));
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'absolute' });
  });

  it('rejects staySignedIn() with LIMIT_REACHED when a cap, not idleness, is what ends the session', async () => {
    const expiry = Math.floor((T0 + HOUR) / 1000);
    const { session: s } = await signedIn(claimsAt(T0, { session_expiry: expiry }));
    for (let minute = 1; minute <= 59; minute += 1) {
      clock.advance(MIN);
      userInput();
    }
    expect(s.getSnapshot()).toMatchObject({ status: 'warning', reason: 'session_expiry' });
    await expect(s.staySignedIn()).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
    clock.advance(MIN);
    await expect(s.staySignedIn()).rejects.toMatchObject({ code: 'LIMIT_REACHED' });
  });
});

describe('time that jumps', () => {
  it('expires at once, with no warning, when the machine wakes after the deadline', async () => {
    const { session: s, events } = await signedIn();
    clock.advance(5 * MIN);
    clock.sleep(45 * MIN);
    window.dispatchEvent(new Event('focus'));
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
    expect(typesOf(events)).not.toContain('warning');
    expect(events.find((e) => e.type === 'expired')?.at).toBe(T0 + 50 * MIN);
  });

  it('expires on the capped poll even if no wake event comes', async () => {
    const { session: s, events } = await signedIn();
    clock.sleep(31 * MIN);
    clock.advance(15_000);
    expect(s.getSnapshot().status).toBe('expired');
    expect(typesOf(events)).not.toContain('warning');
  });

  it('extends nothing when the wall clock is set back', async () => {
    const { session: s } = await signedIn();
    clock.advance(29 * MIN);
    expect(s.getSnapshot().status).toBe('warning');
    clock.setWall(T0 + 5 * MIN);
    clock.advance(10_000);
    expect(s.getSnapshot().status).toBe('warning');
    userInput();
    clock.advance(10_000);
    expect(s.getSnapshot().idleExpiresAt).toBe(T0 + 30 * MIN);
    clock.advance(MIN);
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
  });
});

describe('clock skew', () => {
  it('moves auth_time and session_expiry earlier onto a clock that runs behind the provider (iat in its future)', async () => {
    const serverNow = T0 + 10 * MIN; // the local clock runs 10 minutes behind the provider
    const expiry = Math.floor((serverNow + 4 * HOUR) / 1000);
    const { session: s } = await signedIn(claimsAt(serverNow, { session_expiry: expiry }));
    expect(s.getSnapshot()).toMatchObject({ authTime: T0, sessionExpiresAt: T0 + 4 * HOUR });
  });

  it('lengthens nothing for a token that looks old (a clock ahead of the provider, or a stale token): issued 11 h ago, 1 h is left', async () => {
    const { session: s } = await signedIn(claimsAt(T0 - 11 * HOUR, { exp: Math.floor((T0 + HOUR) / 1000) }));
    expect(s.getSnapshot()).toMatchObject({ status: 'active', authTime: T0 - 11 * HOUR, absoluteExpiresAt: T0 + HOUR });
  });

  it('leaves server times alone within the tolerance', async () => {
    const { session: s } = await signedIn(claimsAt(T0 - 20_000));
    expect(s.getSnapshot().authTime).toBe(T0 - 20_000);
  });
});

describe('on expiry', () => {
  it('wipes the tokens, and the next sign-in sends prompt=login and max_age=0', async () => {
    const { session: s, oidc } = await signedIn(claimsAt(T0), { onExpired: 'reauthenticate' });
    clock.advance(30 * MIN);
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', claims: null });
    await expect(s.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
    await Promise.resolve();
    // The request remembers which limit led to it: the signed-in event on the way back tells it.
    expect(oidc.authorize).toEqual([{ returnTo: location.href, prompt: 'login', maxAgeSec: 0, after: 'idle' }]);
    await expect(s.signIn({ prompt: 'none' })).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
    await s.signIn();
    expect(oidc.authorize[1]).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
  });

  it('the signed-in event back from that sign-in names the limit', async () => {
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    oidc.answering({ at: T0 - MIN, maxAge: 0, maxAgeSent: true, retried: false, after: 'absolute' });
    const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' }, { ...oidc.deps, keys: keys.keys, ...tabDeps(true) });
    session = s;
    const seen: unknown[] = [];
    s.on('signed-in', (e) => seen.push(e.after));
    await s.start();
    expect(seen).toEqual(['absolute']);
  });

  it('any other sign-in\'s signed-in event says after: null', async () => {
    const { events } = await signedIn();
    expect(events.filter((e) => e.type === 'signed-in').map((e) => (e.payload as { after: unknown }).after)).toEqual([null]);
  });

  it('with reauthenticate, a hidden tab waits until it is visible to redirect', async () => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    const { oidc } = await signedIn(claimsAt(T0), { onExpired: 'reauthenticate' });
    clock.advance(30 * MIN);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(oidc.authorize).toEqual([]);
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(oidc.authorize).toHaveLength(1);
    expect(oidc.authorize[0]).toMatchObject({ prompt: 'login' });
  });

  it('with sign-out, signs out through end-session with the ID token as hint', async () => {
    const { session: s, oidc } = await signedIn(claimsAt(T0), { onExpired: 'sign-out' });
    clock.advance(30 * MIN);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'signed_out' });
    expect(oidc.signouts).toHaveLength(1);
    expect(oidc.signouts[0]).toMatch(/^ey/);
  });

  it('with none, only emits, and the record remembers that the next sign-in must authenticate', async () => {
    const { events, oidc, store } = await signedIn();
    clock.advance(30 * MIN);
    expect(typesOf(events)).toContain('expired');
    expect(oidc.authorize).toEqual([]);
    expect(await store.get()).toMatchObject({ status: 'ended', endedReason: 'idle', reauthRequired: true });
  });

  it('mirrors the status on <html data-session-status>', async () => {
    await signedIn();
    expect(document.documentElement.dataset.sessionStatus).toBe('active');
    clock.advance(30 * MIN);
    expect(document.documentElement.dataset.sessionStatus).toBe('expired');
  });
});

describe('the shared record', () => {
  it('holds timing only, never a token', async () => {
    const { store } = await signedIn();
    const record = JSON.stringify(await store.get());
    expect(record).not.toMatch(/ey[\w-]+\./);
    expect(record).not.toContain('access-token');
    expect(Object.keys(JSON.parse(record) as object).sort()).toEqual(
      ['authTime', 'endedReason', 'lastActivityAt', 'providerAuthTime', 'reauthRequired', 'renewedAt', 'sessionExpiresAt', 'sessionId', 'signedInAt', 'status', 'sub', 'v'],
    );
  });

  it('on start, ends a session whose deadline passed while no tab looked', async () => {
    history.replaceState(null, '', '/');
    const store = createMemoryStore();
    await write(store, { v: 1, sessionId: 's', sub: 'alice', status: 'active', endedReason: null, reauthRequired: false, signedInAt: T0 - HOUR, authTime: T0 - HOUR, providerAuthTime: T0 - HOUR, sessionExpiresAt: null, lastActivityAt: T0 - 31 * MIN });
    const oidc = fakeOidc('unused');
    session = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock }, { ...oidc.deps, keys: keys.keys, store, ...tabDeps(true) });
    await session.start();
    expect(session.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'idle' });
    expect(await store.get()).toMatchObject({ status: 'ended', reauthRequired: true });
    await session.signIn();
    expect(oidc.authorize[0]).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
  });

  it('fails closed on a record that does not parse', async () => {
    history.replaceState(null, '', '/');
    const store = createMemoryStore();
    await write(store, { v: 1, sessionId: 's', sub: 'alice', status: 'active', lastActivityAt: 'yesterday' } as never);
    const oidc = fakeOidc('unused');
    session = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock }, { ...oidc.deps, keys: keys.keys, store, ...tabDeps(true) });
    await session.start();
    expect(session.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'error' });
    await session.signIn();
    expect(oidc.authorize[0]).toMatchObject({ prompt: 'login' });
  });

  it('falls back to memory when IndexedDB is unavailable, says so, and still enforces the limits', async () => {
    // happy-dom has no IndexedDB: the default store fails and the session falls back.
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' }, { ...oidc.deps, keys: keys.keys, ...tabDeps(true) });
    session = s;
    const errors: SessionError[] = [];
    s.on('error', (e) => errors.push(e));
    await s.start();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(errors.map((e) => e.code)).toEqual(['STORAGE']);
    clock.advance(30 * MIN);
    expect(s.getSnapshot().status).toBe('expired');
  });
});

describe('auth_time after a renewal', () => {
  it('unchanged keeps both limits', async () => {
    const { session: s, oidc } = await signedIn();
    clock.advance(10 * MIN);
    oidc.renewWith(await keys.sign(claimsAt(T0 + 10 * MIN, { auth_time: Math.floor(T0 / 1000) })));
    await s.renew();
    expect(s.getSnapshot()).toMatchObject({ authTime: T0, absoluteExpiresAt: T0 + 12 * HOUR, lastActivityAt: T0 });
  });

  it('newer means the provider authenticated the user again: both limits restart', async () => {
    const { session: s, oidc } = await signedIn();
    clock.advance(10 * MIN);
    const again = T0 + 10 * MIN;
    oidc.renewWith(await keys.sign(claimsAt(again, { auth_time: again / 1000 })));
    await s.renew();
    expect(s.getSnapshot()).toMatchObject({ authTime: again, absoluteExpiresAt: again + 12 * HOUR, lastActivityAt: again, idleExpiresAt: again + 30 * MIN });
  });

  it('older is rejected and the tokens are not taken', async () => {
    const { session: s, oidc } = await signedIn();
    clock.advance(10 * MIN);
    oidc.renewWith(await keys.sign(claimsAt(T0 + 10 * MIN, { auth_time: Math.floor((T0 - HOUR) / 1000) })));
    await expect(s.renew()).rejects.toMatchObject({ code: 'ID_TOKEN_INVALID' });
    await expect(s.getAccessToken()).resolves.toBe('access-token');
    expect(s.getSnapshot().authTime).toBe(T0);
  });
});

describe('automatic renewal', () => {
  async function withShortToken(options: Partial<SessionOptions> = {}) {
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)), {}, T0 + 5 * MIN);
    const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none', ...options },
      { ...oidc.deps, keys: keys.keys, store: createMemoryStore(), ...tabDeps(true) });
    session = s;
    await s.start();
    return { session: s, oidc };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('renews in the last minute of the access token while the user is active', async () => {
    const { oidc } = await withShortToken();
    clock.advance(4 * MIN - 1);
    await settle();
    expect(oidc.refreshes).toHaveLength(0);
    clock.advance(1);
    await settle();
    expect(oidc.refreshes).toHaveLength(1);
  });

  it('after an automatic renewal fails (the provider unreachable), tries again a minute later and succeeds', async () => {
    const { session: s, oidc } = await withShortToken();
    const refresh = oidc.port.refresh;
    let down = true;
    oidc.port.refresh = async (tokens, claims) => {
      if (down) throw new SessionError('NETWORK', 'stand-in provider: unreachable');
      return refresh(tokens, claims);
    };
    const errors: string[] = [];
    s.on('error', (error) => errors.push(error.code));
    clock.advance(4 * MIN);
    for (let i = 0; i < 5; i++) {
      await settle();
      clock.advance(2_000); // the retries' backoff
    }
    await settle();
    expect(errors).toEqual(['NETWORK']);
    expect(await s.getAccessToken()).toBe('access-token');
    down = false;
    userInput(); // the user is active
    clock.advance(MIN);
    await settle();
    await settle();
    expect(oidc.refreshes).toHaveLength(1);
    expect(await s.getAccessToken()).toBe('access-1');
  });

  it('does not renew during a warning: an idle user is not kept signed in by renewal', async () => {
    const { session: s, oidc } = await withShortToken({ policy: { idleTimeoutMs: 5 * MIN, absoluteTimeoutMs: 12 * HOUR, warningBeforeMs: 2 * MIN } });
    clock.advance(4 * MIN);
    await settle();
    expect(s.getSnapshot().status).toBe('warning');
    expect(oidc.refreshes).toHaveLength(0);
    clock.advance(MIN);
    expect(s.getSnapshot().status).toBe('expired');
    expect(oidc.refreshes).toHaveLength(0);
  });
});

describe('automatic renewal with a provider whose tokens are nearly expired', () => {
  it('renews at most once per 5 seconds instead of in a tight loop', async () => {
    // Every token, fresh or renewed, has 10 seconds left: the stand-in never moves its expiry.
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)), {}, T0 + 10_000);
    const port = { ...oidc.port, refresh: async (tokens: TokenSet, claims: Claims) => {
      await oidc.port.refresh(tokens, claims);
      return { idToken: await keys.sign(claimsAt(T0)), accessToken: 'short', refreshToken: 'r', accessTokenExpiresAt: clock.now() + 10_000 };
    } };
    const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' },
      { ...oidc.deps, protocol: port, keys: keys.keys, store: createMemoryStore(), ...tabDeps(true) });
    session = s;
    await s.start();
    for (let i = 0; i < 60; i += 1) {
      clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    // 60 seconds: at most one renewal per 5 seconds.
    expect(oidc.refreshes.length).toBeGreaterThan(0);
    expect(oidc.refreshes.length).toBeLessThanOrEqual(12);
  });
});

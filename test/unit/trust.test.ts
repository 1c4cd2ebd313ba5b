// @vitest-environment happy-dom
// Trust boundaries: what a hostile script on the page (messages on the tabs' channel, an
// edited shared record), a misbehaving provider and a wrong clock can do to a session. Two
// sessions in one page stand for two tabs over Node's native BroadcastChannel; a third
// BroadcastChannel is the hostile script. The provider is a stand-in (test/unit/support.ts)
// that answers with ID tokens signed by the test's key; the end-to-end tests attack the real one.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../src/errors.js';
import { createSessionWith, TOKEN_REQUEST_TIMEOUT_MS, type Session } from '../../src/session.js';
import type { SessionOptions } from '../../src/options.js';
import { createMemoryStore, type RecordStore, type SessionRecord } from '../../src/store.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, HOUR, ISSUER, makeKeys, MIN, tabDeps, type Keys, write } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const CHANNEL = `oidc-session-guard|${ISSUER}|${CLIENT_ID}`;
const sec = (ms: number) => Math.floor(ms / 1000);
let keys: Keys;
let clock: FakeClock;
let store: RecordStore;
const sessions: Session[] = [];
const hostiles: BroadcastChannel[] = [];

beforeAll(async () => {
  keys = await makeKeys();
});

beforeEach(() => {
  clock = new FakeClock(T0);
  store = createMemoryStore();
  Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
  history.replaceState(null, '', '/');
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.stop();
  for (const h of hostiles.splice(0)) h.close();
});

// A BroadcastChannel message arrives a few milliseconds of real time after it is posted.
const delivered = () => new Promise((resolve) => setTimeout(resolve, 20));
// Before a tab warns or expires on its own deadline it reads the shared record: here a memory
// store, read at once, so the next task sees the outcome.
const recordRead = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Starts a tab that asks for a hand-over nobody gives: the wait runs out on the fake clock. */
async function startUnanswered(s: Session) {
  const started = s.start();
  await delivered();
  clock.advance(TOKEN_REQUEST_TIMEOUT_MS);
  return started;
}

function tab(leader: boolean, oidc = fakeOidc('unused'), onExpired: 'none' | 'reauthenticate' = 'none', options: Partial<SessionOptions> = {}) {
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired, ...options },
    // The memory store stands for the one IndexedDB record the tabs share.
    { ...oidc.deps, keys: keys.keys, store: { ...store, kind: 'indexeddb' }, ...tabDeps(leader) });
  sessions.push(s);
  const errors: string[] = [];
  s.on('error', (error) => errors.push(error.code));
  return { session: s, oidc, errors };
}

/** A tab back from the provider with `claims` in its ID token. */
async function callbackTab(claims: Record<string, unknown>, configure: (oidc: ReturnType<typeof fakeOidc>) => void = () => undefined, onExpired: 'none' | 'reauthenticate' = 'none', options: Partial<SessionOptions> = {}) {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const oidc = fakeOidc(await keys.sign(claims));
  configure(oidc);
  const t = tab(true, oidc, onExpired, options);
  const started = t.session.start();
  started.finally(() => history.replaceState(null, '', '/')).catch(() => undefined);
  return { ...t, started };
}

async function signedInTab(claims = claimsAt(T0), options: Partial<SessionOptions> = {}) {
  const t = await callbackTab(claims, undefined, 'none', options);
  await t.started;
  return t;
}

/** A script on the page, on the SDK's channel. */
function hostile() {
  const channel = new BroadcastChannel(CHANNEL);
  hostiles.push(channel);
  return {
    post: (message: Record<string, unknown>) => channel.postMessage({ v: 1, sentAt: clock.now(), ...message }),
    /** Answers every token request with `offer`. */
    answer(offer: (requestId: string) => Record<string, unknown>) {
      channel.onmessage = (event) => {
        const m = event.data as { type: string; requestId: string };
        if (m.type === 'token-request') channel.postMessage({ v: 1, sentAt: clock.now(), type: 'token-offer', requestId: m.requestId, ...offer(m.requestId) });
      };
    },
  };
}

const tokensWith = (idToken: string, accessToken = 'attacker-access-token') => ({ idToken, accessToken, refreshToken: null, accessTokenExpiresAt: null });
const record = async () => (await store.get()) as SessionRecord;
const validRecord = (over: Partial<SessionRecord> = {}): SessionRecord => ({
  v: 1, sessionId: 's', sub: 'alice', status: 'active', endedReason: null, reauthRequired: false,
  signedInAt: T0, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0, ...over,
});

describe('rule 1: every ID token a tab takes is verified in that tab', () => {
  it('drops a renewed message whose ID token fails verification: tokens, claims and deadlines stay', async () => {
    const { session: s, errors } = await signedInTab();
    const before = s.getSnapshot();
    const forger = await makeKeys();
    hostile().post({ type: 'renewed', sessionId: (await record()).sessionId, tokens: tokensWith(await forger.sign(claimsAt(T0 + MIN, { sub: 'mallory' }))) });
    await delivered();
    expect(s.getSnapshot()).toBe(before);
    expect(await s.getAccessToken()).toBe('access-token');
    expect(errors).toEqual(['ID_TOKEN_INVALID']);
  });

  it('drops a renewed message with a well-signed ID token for another user', async () => {
    const { session: s } = await signedInTab();
    hostile().post({ type: 'renewed', sessionId: (await record()).sessionId, tokens: tokensWith(await keys.sign(claimsAt(T0 + MIN, { sub: 'mallory' }))) });
    await delivered();
    expect(s.getSnapshot().claims).toMatchObject({ sub: 'alice' });
    expect(await s.getAccessToken()).toBe('access-token');
  });

  it('drops a renewed message with an ID token older than the one held (of the same authentication)', async () => {
    const { session: s, errors } = await signedInTab(claimsAt(T0, { auth_time: sec(T0 - 2 * MIN) }));
    hostile().post({ type: 'renewed', sessionId: (await record()).sessionId, tokens: tokensWith(await keys.sign(claimsAt(T0 - MIN, { auth_time: sec(T0 - 2 * MIN) }))) });
    await delivered();
    expect(await s.getAccessToken()).toBe('access-token');
    expect(errors).toEqual(['ID_TOKEN_INVALID']);
  });

  it('takes a renewed message with a newer ID token of this user, its claims read from the verified token', async () => {
    const { session: s } = await signedInTab();
    clock.advance(MIN);
    hostile().post({ type: 'renewed', sessionId: (await record()).sessionId, tokens: tokensWith(await keys.sign(claimsAt(T0 + MIN, { auth_time: sec(T0), name: 'Alice' })), 'new-access-token') });
    await delivered();
    expect(await s.getAccessToken()).toBe('new-access-token');
    expect(s.getSnapshot()).toMatchObject({ claims: { sub: 'alice', name: 'Alice' }, authTime: T0 });
  });

  it("a new tab refuses a token offer for another user: the record names this session's user", async () => {
    (await signedInTab()).session.stop();
    const { sessionId } = await record();
    const mallory = await keys.sign(claimsAt(T0, { sub: 'mallory' }));
    hostile().answer(() => ({ sessionId, tokens: tokensWith(mallory), timing: { signedInAt: T0, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0 } }));
    const second = tab(false);
    await expect(second.session.start()).resolves.toMatchObject({ status: 'signed-out' });
    expect(second.errors).toEqual(['ID_TOKEN_INVALID']);
  });

  it("a new tab refuses a token offer of another authentication than the record's", async () => {
    (await signedInTab()).session.stop();
    const { sessionId } = await record();
    const earlier = await keys.sign(claimsAt(T0, { auth_time: sec(T0 - HOUR) }));
    hostile().answer(() => ({ sessionId, tokens: tokensWith(earlier), timing: { signedInAt: T0, authTime: T0, providerAuthTime: T0 - HOUR, sessionExpiresAt: null, lastActivityAt: T0 } }));
    const second = tab(false);
    await expect(second.session.start()).resolves.toMatchObject({ status: 'signed-out' });
    expect(second.errors).toEqual(['ID_TOKEN_INVALID']);
  });

  it.each([
    ['a live tab', 20 * MIN, 'active'],
    ['a tab that expired idle', 40 * MIN, 'expired'],
  ])('%s is not switched to a "new" session with fresh deadlines by a signed-in message and a matching record', async (_name, later, status) => {
    const { session: s } = await signedInTab();
    clock.advance(later);
    await recordRead();
    const before = s.getSnapshot();
    const current = await keys.sign(claimsAt(T0 + later, { auth_time: sec(T0) }));
    await write(store, validRecord({ sessionId: 'forged', signedInAt: T0 + later, authTime: T0, lastActivityAt: T0 + later }));
    hostile().post({ type: 'signed-in', sessionId: 'forged', tokens: tokensWith(current), timing: { signedInAt: T0 + later, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0 + later } });
    await delivered();
    expect(s.getSnapshot()).toBe(before);
    expect(before.status).toBe(status);
  });

  it('a tab that expired takes the session of a newer authentication from another tab', async () => {
    const { session: s } = await signedInTab();
    clock.advance(40 * MIN);
    await recordRead();
    expect(s.getSnapshot().status).toBe('expired');
    const again = T0 + 39 * MIN;
    await write(store, validRecord({ sessionId: 'next', signedInAt: again, authTime: again, providerAuthTime: again, lastActivityAt: again }));
    hostile().post({ type: 'signed-in', sessionId: 'next', tokens: tokensWith(await keys.sign(claimsAt(again)), 'next-access-token'), timing: { signedInAt: again, authTime: again, providerAuthTime: again, sessionExpiresAt: null, lastActivityAt: again } });
    await delivered();
    expect(s.getSnapshot()).toMatchObject({ status: 'active', authTime: again });
    expect(await s.getAccessToken()).toBe('next-access-token');
  });
});

describe('rule 1: what another tab sends is checked where it is taken', () => {
  const timing = { signedInAt: T0, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0 };
  it.each([
    ['a malformed ID token', (_id: string) => ({ tokens: tokensWith('nope'), timing })],
    ['no access token', (id: string) => ({ tokens: { idToken: id, refreshToken: null, accessTokenExpiresAt: null }, timing })],
    ['activity in the future', (id: string) => ({ tokens: tokensWith(id), timing: { ...timing, lastActivityAt: T0 + HOUR } })],
    ['a string session_expiry', (id: string) => ({ tokens: tokensWith(id), timing: { ...timing, sessionExpiresAt: '1781823778' } })],
  ])('a new tab refuses a token offer with %s', async (_name, offer) => {
    const first = await signedInTab();
    const idToken = await keys.sign(claimsAt(T0));
    first.session.stop();
    const { sessionId } = await record();
    hostile().answer(() => ({ sessionId, ...offer(idToken) }));
    const second = tab(false);
    await expect(second.session.start()).resolves.toMatchObject({ status: 'signed-out' });
    expect(second.errors).toEqual(['ID_TOKEN_INVALID']);
  });

  it('drops a renewed message whose tokens are malformed', async () => {
    const { session: s, errors } = await signedInTab();
    hostile().post({ type: 'renewed', sessionId: (await record()).sessionId, tokens: { idToken: 'a.b.c' } });
    await delivered();
    expect(await s.getAccessToken()).toBe('access-token');
    expect(errors).toEqual(['ID_TOKEN_INVALID']);
  });
});

describe('rule 1: a follower tab verifies the renewal it asked for before renew() resolves', () => {
  it('renew() in a follower resolves with the new tokens already taken', async () => {
    const leader = await signedInTab();
    const follower = tab(false);
    await follower.session.start();
    await leader.session.renew(); // both hold the same tokens
    await delivered();
    clock.advance(MIN);
    await follower.session.renew();
    expect(await follower.session.getAccessToken()).toBe('access-2');
  });

  it('renew() in a follower rejects when a script answers its request with a forged renewal', async () => {
    (await signedInTab()).session.stop();
    const { sessionId } = await record();
    const leader = await keys.sign(claimsAt(T0)); // the genuine token a script saw on the channel
    hostile().answer(() => ({ sessionId, tokens: tokensWith(leader, 'access-token'), timing: { signedInAt: T0, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0 } }));
    const follower = tab(false);
    await follower.session.start();
    const forger = await makeKeys();
    const channel = new BroadcastChannel(CHANNEL);
    hostiles.push(channel);
    channel.onmessage = async (event) => {
      const m = event.data as { type: string; sessionId: string };
      if (m.type === 'renew-request') channel.postMessage({ v: 1, sentAt: clock.now(), type: 'renewed', sessionId: m.sessionId, tokens: tokensWith(await forger.sign(claimsAt(T0 + MIN)), 'forged-access-token') });
    };
    await expect(follower.session.renew()).rejects.toMatchObject({ code: 'ID_TOKEN_INVALID' });
    expect(await follower.session.getAccessToken()).toBe('access-token');
  });
});

describe('rule 1: a session held here keeps its user and its authentication', () => {
  it('a live tab is not switched to another user, even by a newer authentication with a matching record', async () => {
    const { session: s } = await signedInTab();
    clock.advance(10 * MIN);
    const now = clock.now();
    const mallory = await keys.sign(claimsAt(now, { sub: 'mallory' }));
    await write(store, validRecord({ sessionId: 'evil', sub: 'mallory', signedInAt: now, authTime: now, providerAuthTime: now, lastActivityAt: now }));
    hostile().post({ type: 'signed-in', sessionId: 'evil', tokens: tokensWith(mallory), timing: { signedInAt: now, authTime: now, providerAuthTime: now, sessionExpiresAt: null, lastActivityAt: now } });
    await delivered();
    expect(s.getSnapshot().claims).toMatchObject({ sub: 'alice' });
    expect(await s.getAccessToken()).toBe('access-token');
  });

  it('an expired tab is not revived by a token without auth_time and a record that says the authentication is new', async () => {
    const { session: s, oidc } = await signedInTab();
    clock.advance(10 * MIN);
    const withoutAuthTime = claimsAt(T0 + 10 * MIN);
    delete withoutAuthTime.auth_time;
    const refreshed = await keys.sign(withoutAuthTime); // a refresh may leave auth_time out
    oidc.renewWith(refreshed);
    await s.renew();
    clock.advance(30 * MIN);
    await recordRead();
    expect(s.getSnapshot().status).toBe('expired');
    const now = clock.now();
    await write(store, validRecord({ sessionId: 'evil', signedInAt: now, authTime: now, providerAuthTime: null, lastActivityAt: now }));
    hostile().post({ type: 'signed-in', sessionId: 'evil', tokens: tokensWith(refreshed), timing: { signedInAt: now, authTime: now, providerAuthTime: null, sessionExpiresAt: null, lastActivityAt: now } });
    await delivered();
    expect(s.getSnapshot().status).toBe('expired');
  });

  it('a new tab takes over a session whose last refresh returned an ID token without auth_time', async () => {
    const { session: a, oidc } = await signedInTab();
    clock.advance(10 * MIN);
    const withoutAuthTime = claimsAt(T0 + 10 * MIN);
    delete withoutAuthTime.auth_time;
    oidc.renewWith(await keys.sign(withoutAuthTime));
    await a.renew();
    const b = tab(false);
    await b.session.start();
    expect(b.session.getSnapshot()).toMatchObject({ status: 'active', authTime: T0 });
    expect(await b.session.getAccessToken()).toBe('access-1');
  });
});

describe('rule 1: sessions of a provider that omits auth_time', () => {
  const withoutAuthTime = (claims: Record<string, unknown>) => {
    delete claims.auth_time;
    return claims;
  };

  it('a tab that ended idle takes the session of a later, verified authentication from another tab', async () => {
    const { session: s } = await signedInTab(withoutAuthTime(claimsAt(T0)));
    clock.advance(40 * MIN);
    await recordRead();
    expect(s.getSnapshot().status).toBe('expired');
    const again = clock.now();
    await write(store, validRecord({ sessionId: 'next', signedInAt: again, authTime: again, providerAuthTime: again, lastActivityAt: again }));
    hostile().post({ type: 'signed-in', sessionId: 'next', tokens: tokensWith(await keys.sign(claimsAt(again)), 'next-access-token'), timing: { signedInAt: again, authTime: again, providerAuthTime: again, sessionExpiresAt: null, lastActivityAt: again } });
    await delivered();
    expect(s.getSnapshot()).toMatchObject({ status: 'active', authTime: again });
  });

  it('where every sign-in carries max_age, a new tab refuses timing that names no auth_time: the absolute limit cannot be restarted through the record', async () => {
    const { session: a, oidc } = await signedInTab();
    clock.advance(10 * MIN);
    const refreshed = await keys.sign(withoutAuthTime(claimsAt(clock.now())));
    oidc.renewWith(refreshed);
    await a.renew();
    const { sessionId } = await record();
    a.stop();
    clock.advance(12 * HOUR - 5 * MIN);
    const now = clock.now();
    await write(store, validRecord({ sessionId, signedInAt: now, authTime: now, providerAuthTime: null, lastActivityAt: now }));
    hostile().answer(() => ({ sessionId, tokens: tokensWith(refreshed), timing: { signedInAt: now, authTime: now, providerAuthTime: null, sessionExpiresAt: null, lastActivityAt: now } }));
    const b = tab(false);
    await startUnanswered(b.session);
    expect(b.session.getSnapshot().status).not.toBe('active');
    expect(b.errors).toContain('ID_TOKEN_INVALID');
  });
});

describe('rule 2: time from the provider is bounded', () => {
  it('refuses an ID token whose auth_time is a day after its iat', async () => {
    const { session: s, started } = await callbackTab(claimsAt(T0, { auth_time: sec(T0 + 24 * HOUR) }));
    await expect(started).rejects.toMatchObject({ code: 'ID_TOKEN_INVALID', message: expect.stringContaining('auth_time') });
    expect(s.getSnapshot().status).toBe('signed-out');
  });

  it('refuses an ID token issued longer ago than the absolute limit (the maximum token age)', async () => {
    const { started } = await callbackTab(claimsAt(T0 - 13 * HOUR, { exp: sec(T0 + HOUR) }));
    await expect(started).rejects.toMatchObject({ code: 'ID_TOKEN_INVALID', message: expect.stringContaining('absolute limit') });
  });

  it('a device clock 2 h fast neither fails sign-in and renewal nor lengthens anything', async () => {
    const provider = T0 - 2 * HOUR; // the provider's time: the device's clock is 2 h ahead of it
    const { session: s, oidc } = await signedInTab(claimsAt(provider));
    // The ID token's exp (1 h after iat) is an hour behind this clock: judged on the provider's clock, it is good.
    expect(s.getSnapshot()).toMatchObject({ status: 'active', authTime: provider, absoluteExpiresAt: provider + 12 * HOUR });
    clock.advance(20 * MIN);
    oidc.renewWith(await keys.sign(claimsAt(provider + 20 * MIN, { auth_time: sec(provider), name: 'renewed' })));
    await s.renew();
    expect(s.getSnapshot()).toMatchObject({ claims: { name: 'renewed' }, authTime: provider });
  });

  it('a renewal whose ID token is older than the one it replaces is refused', async () => {
    const { session: s, oidc } = await signedInTab();
    clock.advance(20 * MIN);
    oidc.renewWith(await keys.sign(claimsAt(T0 - 10 * MIN, { auth_time: sec(T0) })));
    await expect(s.renew()).rejects.toMatchObject({ code: 'ID_TOKEN_INVALID' });
    expect(await s.getAccessToken()).toBe('access-token');
  });
});

describe('rule 3: the shared record is checked, not trusted', () => {
  const startWith = async (stored: SessionRecord) => {
    await write(store, stored);
    const t = tab(false);
    await t.session.start();
    return t;
  };

  it.each([
    ['lastActivityAt moved into the future', validRecord({ lastActivityAt: T0 + HOUR })],
    ['authTime moved into the future', validRecord({ authTime: T0 + HOUR, providerAuthTime: T0 + HOUR })],
    ['authTime later than the provider\'s auth_time', validRecord({ authTime: T0, providerAuthTime: T0 - HOUR })],
    ['activity before the sign-in', validRecord({ lastActivityAt: T0 - MIN })],
  ])('ends the session and requires authentication again for a record with %s', async (_name, stored) => {
    const { session: s, oidc } = await startWith(stored);
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'error' });
    await s.signIn();
    expect(oidc.authorize[0]).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
  });

  it('a record that ended at a limit but says reauthRequired: false still forces prompt=login', async () => {
    const { session: s, oidc } = await startWith(validRecord({ status: 'ended', endedReason: 'idle', reauthRequired: false }));
    await s.signIn();
    expect(oidc.authorize[0]).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
  });

  it('a clock set back, then a reload: not active after 31 idle minutes', async () => {
    (await signedInTab()).session.stop(); // the tab is closed with the record at T0
    clock.setWall(T0 - HOUR); // the clock is corrected back an hour
    clock.advance(31 * MIN);
    const { session: s } = tab(false);
    await s.start();
    expect(s.getSnapshot().status).not.toMatch(/active|warning/);
    expect(s.getSnapshot().reason).toBe('error');
  });

  it("a record claiming a newer auth_time than the provider's token ends the session on silent restore", async () => {
    await write(store, validRecord({ authTime: T0 + 30 * MIN, providerAuthTime: T0 + 30 * MIN, lastActivityAt: T0 + 40 * MIN }));
    clock.advance(45 * MIN);
    const oidc = fakeOidc('unused');
    const provider = await keys.sign(claimsAt(T0 + 45 * MIN, { auth_time: sec(T0) }));
    oidc.port.silent = async () => tokensWith(provider, 'access-token');
    const { session: s, errors } = tab(false, oidc);
    await startUnanswered(s);
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'error' });
    expect(errors).toEqual(['ID_TOKEN_INVALID']);
    expect(await record()).toMatchObject({ status: 'ended', reauthRequired: true });
    await s.signIn();
    expect(oidc.authorize[0]).toMatchObject({ prompt: 'login' });
  });

  it("silent restore does not continue the record's session as another user", async () => {
    await write(store, validRecord({ lastActivityAt: T0 + 5 * MIN }));
    clock.advance(10 * MIN);
    const oidc = fakeOidc('unused');
    const bob = await keys.sign(claimsAt(T0 + 10 * MIN, { sub: 'bob' }));
    oidc.port.silent = async () => tokensWith(bob, 'bob-access-token');
    const { session: s } = tab(false, oidc);
    await startUnanswered(s);
    expect(s.getSnapshot().status).toBe('signed-out');
    await expect(s.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
  });

  it("a record claiming a newer auth_time does not restart a live tab's limits: only a verified token does", async () => {
    const { session: s } = await signedInTab();
    clock.advance(HOUR);
    const { absoluteExpiresAt } = s.getSnapshot();
    const { sessionId } = await record();
    await write(store, validRecord({ sessionId, authTime: T0 + HOUR, providerAuthTime: T0 + HOUR, signedInAt: T0, lastActivityAt: T0 + HOUR }));
    // A genuine renewal message (same authentication) arrives.
    hostile().post({ type: 'renewed', sessionId, tokens: tokensWith(await keys.sign(claimsAt(T0 + HOUR, { auth_time: sec(T0) }))) });
    await delivered();
    expect(s.getSnapshot().absoluteExpiresAt).toBe(absoluteExpiresAt);
  });
});

describe('rule 4: reauthentication is proven', () => {
  const requested = T0 + 30 * MIN;

  it('refuses an answer to prompt=login whose auth_time is not after the request, keeps nothing, and sends the user once more', async () => {
    clock.advance(31 * MIN);
    const single = claimsAt(T0 + 31 * MIN, { auth_time: sec(T0) }); // single sign-on: the old authentication
    const { session: s, oidc, started } = await callbackTab(single, (o) => o.answering({ at: requested, maxAge: 0, maxAgeSent: true, retried: false }), 'reauthenticate');
    await expect(started).rejects.toMatchObject({ code: 'LOGIN_REQUIRED', message: expect.stringContaining('did not authenticate the user again') });
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', claims: null });
    await expect(s.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
    expect(await store.get()).toBeUndefined();
    expect(oidc.authorize).toEqual([expect.objectContaining({ prompt: 'login', maxAgeSec: 0, retried: true })]);
    // The next sign-in from this tab authenticates too.
    await s.signIn();
    expect(oidc.authorize[1]).toMatchObject({ prompt: 'login', maxAgeSec: 0 });
  });

  it('a second refusal does not send the user round again', async () => {
    clock.advance(31 * MIN);
    const { oidc, started } = await callbackTab(claimsAt(T0 + 31 * MIN, { auth_time: sec(T0) }), (o) => o.answering({ at: requested, maxAge: 0, maxAgeSent: true, retried: true }), 'reauthenticate');
    await expect(started).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
    expect(oidc.authorize).toEqual([]);
  });

  it('takes an answer whose auth_time is after the request', async () => {
    clock.advance(31 * MIN);
    const { session: s, started } = await callbackTab(claimsAt(T0 + 31 * MIN, { auth_time: sec(T0 + 30 * MIN + 20_000) }), (o) => o.answering({ at: requested, maxAge: 0, maxAgeSent: true, retried: false }));
    await expect(started).resolves.toMatchObject({ status: 'active', authTime: T0 + 30 * MIN + 20_000 });
    expect(s.getSnapshot().status).toBe('active');
  });

  it('with max_age, refuses an auth_time older than max_age allows (OIDC Core §3.1.2.1), and a missing one', async () => {
    const { started } = await callbackTab(claimsAt(T0, { auth_time: sec(T0 - 2 * HOUR) }), (o) => o.answering({ at: T0 - MIN, maxAge: 3600, maxAgeSent: true, retried: false }));
    await expect(started).rejects.toMatchObject({ code: 'LOGIN_REQUIRED', message: expect.stringContaining('max_age') });
    const noAuthTime = claimsAt(T0);
    delete noAuthTime.auth_time;
    const second = await callbackTab(noAuthTime, (o) => o.answering({ at: T0 - MIN, maxAge: 12 * 3600, maxAgeSent: true, retried: false }));
    await expect(second.started).rejects.toMatchObject({ code: 'LOGIN_REQUIRED', message: expect.stringContaining('auth_time') });
  });

  it('a provider that refuses max_age=0 gets prompt=login alone after a limit, and its answer must still prove a new authentication', async () => {
    const quirks = { provider: { extends: 'generic', supportsMaxAgeZero: false } } as const;
    const { session: s, oidc } = await signedInTab(claimsAt(T0), quirks);
    clock.advance(30 * MIN);
    await recordRead();
    expect(s.getSnapshot().status).toBe('expired');
    await s.signIn();
    expect(oidc.authorize.at(-1)).toEqual(expect.objectContaining({ prompt: 'login' }));
    expect(oidc.authorize.at(-1)).not.toHaveProperty('maxAgeSec');
    // The state of that request: when it was sent, prompt=login (max_age 0 to check), no max_age sent.
    const request = { at: T0 + 30 * MIN, maxAge: 0, maxAgeSent: false, retried: true };
    clock.advance(MIN);
    const old = await callbackTab(claimsAt(T0 + 31 * MIN, { auth_time: sec(T0) }), (o) => o.answering(request), 'none', quirks);
    await expect(old.started).rejects.toMatchObject({ code: 'LOGIN_REQUIRED', message: expect.stringContaining('did not authenticate the user again') });
    // This provider takes max_age otherwise, so it always sends auth_time: an answer without one proves nothing.
    const none = claimsAt(T0 + 31 * MIN);
    delete none.auth_time;
    const silent = await callbackTab(none, (o) => o.answering(request), 'none', quirks);
    await expect(silent.started).rejects.toMatchObject({ code: 'LOGIN_REQUIRED', message: expect.stringContaining('auth_time') });
    const fresh = await callbackTab(claimsAt(T0 + 31 * MIN, { auth_time: sec(T0 + 30 * MIN + 20_000) }), (o) => o.answering(request), 'none', quirks);
    await expect(fresh.started).resolves.toMatchObject({ status: 'active', authTime: T0 + 30 * MIN + 20_000 });
  });
});

describe('rule 4b: an auth_time that cannot be true is the provider\'s error, named, not a reason to sign in again', () => {
  it.each([
    ['0', 0, '= 0'],
    ['negative', -5, '= -5'],
    ['not a number', '1795420800', '= "1795420800"'],
    ['after iat', sec(T0 + HOUR), 'after the token'],
    ['longer before iat than a session can last', sec(T0 - 12 * HOUR - MIN), 'longer than a session can last'],
  ])('auth_time %s is ID_TOKEN_INVALID naming the claim, its value and the provider; the next sign-in authenticates', async (_name, authTime, says) => {
    const { session: s, oidc, started } = await callbackTab(claimsAt(T0, { auth_time: authTime }), (o) => o.answering({ at: T0 - 5_000, maxAge: 12 * 3600, maxAgeSent: true, retried: false }), 'reauthenticate');
    const error = await started.then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'ID_TOKEN_INVALID' });
    expect((error as Error).message).toContain('the provider sent ID token claim "auth_time"');
    expect((error as Error).message).toContain(says);
    expect(s.getSnapshot()).toMatchObject({ status: 'signed-out', claims: null });
    expect(await store.get()).toBeUndefined();
    // No round trip on its own (the same provider would answer the same), and no loop: the user signs in.
    expect(oidc.authorize).toEqual([]);
    await s.signIn();
    expect(oidc.authorize).toEqual([expect.objectContaining({ prompt: 'login', maxAgeSec: 0 })]);
  });

  it('an auth_time just inside the absolute limit begins a session (the provider\'s old single sign-on, without max_age)', async () => {
    const { started } = await callbackTab(claimsAt(T0, { auth_time: sec(T0 - 11 * HOUR) }));
    await expect(started).resolves.toMatchObject({ status: 'active', authTime: T0 - 11 * HOUR, absoluteExpiresAt: T0 + HOUR });
  });
});

describe('rule 4 without max_age (NHS login: prompt=login only, auth_time conditional)', () => {
  it('refuses an old auth_time after prompt=login, and takes an answer without auth_time (nothing to check)', async () => {
    clock.advance(31 * MIN);
    const { started } = await callbackTab(claimsAt(T0 + 31 * MIN, { auth_time: sec(T0) }), (o) => o.answering({ at: T0 + 30 * MIN, maxAge: 0, maxAgeSent: false, retried: true }));
    await expect(started).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
    const noAuthTime = claimsAt(T0 + 31 * MIN);
    delete noAuthTime.auth_time;
    // A provider that takes no max_age at all (NHS login) need not send auth_time: nothing to check.
    const second = await callbackTab(noAuthTime, (o) => o.answering({ at: T0 + 30 * MIN, maxAge: 0, maxAgeSent: false, retried: false }), 'none', { provider: { extends: 'generic', supportsMaxAge: false } });
    await expect(second.started).resolves.toMatchObject({ status: 'active', authTime: T0 + 31 * MIN });
  });
});

describe('rule 6: a refused callback leaves no token anywhere', () => {
  it('a callback whose ID token fails verification writes no record and holds no token', async () => {
    const forger = await makeKeys();
    history.replaceState(null, '', '/callback?code=abc&state=xyz');
    const t = tab(true, fakeOidc(await forger.sign(claimsAt(T0))));
    await expect(t.session.start()).rejects.toMatchObject({ code: 'ID_TOKEN_INVALID' });
    expect(await store.get()).toBeUndefined();
    await expect(t.session.getAccessToken()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
    expect(t.session.getSnapshot()).toMatchObject({ status: 'signed-out', claims: null });
  });
});

describe('when tokens were obtained', () => {
  it('the same tokens again (a hand-over, a renewal already taken) do not make them newer', async () => {
    const { renewedSession } = await import('../../src/trust.js');
    const tokens = { idToken: 'h.p.s', accessToken: 'a', refreshToken: 'r', accessTokenExpiresAt: null };
    const live = { sessionId: 's', tokens, claims: { sub: 'alice' }, renewedAt: T0 } as never;
    expect(renewedSession(live, { ...tokens }, null, T0 + HOUR, 0).renewedAt).toBe(T0);
    expect(renewedSession(live, { ...tokens, refreshToken: 'rotated' }, null, T0 + HOUR, 0).renewedAt).toBe(T0 + HOUR);
  });
});

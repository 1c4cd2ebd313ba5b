// @vitest-environment happy-dom
// Renewal against strict providers: a refresh whose answer was lost is never sent again, the
// tabs renew at most once per window whoever asks, and a renewing tab that has gone quiet
// (frozen, holding its Web Lock) does not block the others. Two sessions in one page stand
// for two tabs over Node's native BroadcastChannel, sharing one record store; the provider is
// a stand-in (test/unit/support.ts), which fails here as strict real ones do. The real
// provider's strict modes run in the end-to-end tests (test/e2e/strict-provider.spec.ts).
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Leadership } from '../../src/channel.js';
import { SessionError } from '../../src/errors.js';
import type { SessionOptions } from '../../src/options.js';
import { RENEW_TIMEOUT_MS } from '../../src/protocol/flows.js';
import { LostAnswer, type OidcPort } from '../../src/protocol/types.js';
import { FOLLOWER_GRACE_MS, RENEW_DEDUPE_MS, RENEW_RETRY_MS } from '../../src/renewal.js';
import { createSessionWith, TOKEN_REQUEST_TIMEOUT_MS, type Session } from '../../src/session.js';
import { createMemoryStore, type RecordStore } from '../../src/store.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, ISSUER, makeKeys, MIN, userInput, watchChannels, watchListeners, type Keys } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const CHANNEL = `oidc-session-guard|${ISSUER}|${CLIENT_ID}`;
let keys: Keys;
let clock: FakeClock;
let store: RecordStore;
let listeners: { open(): number };
let channels: { open(): number };
const sessions: Session[] = [];
const ears: BroadcastChannel[] = [];

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
  for (const ear of ears.splice(0)) ear.close();
  expect(clock.pendingTimers).toBe(0);
  expect(listeners.open()).toBe(0);
  expect(channels.open()).toBe(0);
});

// A BroadcastChannel message arrives a few milliseconds of real time after it is posted.
const delivered = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A refresh that went out and whose answer never came back, as the port reports it. */
const lost = () => new SessionError('RENEW_FAILED', 'stand-in provider: the answer was lost', { cause: new LostAnswer(new Error('timeout')) });

/** Leadership the test decides. */
function leadership(leads: () => boolean) {
  return () => ({ isLeader: leads, decided: async () => leads(), close: () => undefined }) satisfies Leadership;
}

type Oidc = ReturnType<typeof fakeOidc> & { silents: number };

/** A stand-in provider whose refresh and silent answers the test sets. */
async function provider(refresh?: OidcPort['refresh']): Promise<Oidc> {
  const oidc = fakeOidc(await keys.sign(claimsAt(T0))) as Oidc;
  oidc.silents = 0;
  if (refresh) oidc.port.refresh = refresh;
  oidc.port.silent = async () => {
    oidc.silents += 1;
    return { idToken: await keys.sign(claimsAt(clock.now(), { auth_time: Math.floor(T0 / 1000) })), accessToken: `silent-${oidc.silents}`, refreshToken: `silent-refresh-${oidc.silents}`, accessTokenExpiresAt: null };
  };
  return oidc;
}

function tab(leads: () => boolean, oidc: Oidc | ReturnType<typeof fakeOidc>, options: Partial<SessionOptions> = {}) {
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none', ...options },
    { ...oidc.deps, keys: keys.keys, store: { ...store, kind: 'indexeddb' }, leadership: leadership(leads) });
  sessions.push(s);
  return s;
}

async function signedIn(oidc: Oidc, options: Partial<SessionOptions> = {}, leads = () => true) {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const s = tab(leads, oidc, options);
  await s.start();
  history.replaceState(null, '', '/');
  return s;
}

async function follower(leads = () => false, options: Partial<SessionOptions> = {}) {
  const oidc = await provider(async () => {
    throw new Error('a follower never refreshes');
  });
  const s = tab(leads, oidc, options);
  const started = s.start();
  await delivered();
  await started;
  return { session: s, oidc };
}

/** What the tabs say on the channel, as a hostile script on the page would hear it. */
function overhear() {
  const heard: Record<string, unknown>[] = [];
  const ear = new BroadcastChannel(CHANNEL);
  ear.onmessage = (event) => heard.push(event.data as Record<string, unknown>);
  ears.push(ear);
  return { heard, post: (message: Record<string, unknown>) => ear.postMessage({ v: 1, sentAt: clock.now(), ...message }) };
}

const sessionIdOf = async () => ((await store.get()) as { sessionId: string }).sessionId;

describe('a refresh whose answer was lost (RFC 9700 §4.14.2: the token may have been used)', () => {
  it('is never sent again: the same renewal goes on with prompt=none, and later ones use the new refresh token', async () => {
    const sent: (string | null)[] = [];
    let answers = 0;
    const oidc = await provider(async (tokens) => {
      sent.push(tokens.refreshToken);
      answers += 1;
      if (answers === 1) throw lost();
      return { ...tokens, accessToken: 'refreshed', refreshToken: 'rotated' };
    });
    const s = await signedIn(oidc);
    await s.renew();
    expect(sent).toEqual(['refresh-0']);
    expect(oidc.silents).toBe(1);
    await expect(s.getAccessToken()).resolves.toBe('silent-1');
    userInput();
    clock.advance(RENEW_DEDUPE_MS);
    await s.renew();
    // The refresh token the silent renewal brought, never the one whose answer was lost.
    expect(sent).toEqual(['refresh-0', 'silent-refresh-1']);
  });

  it('where the provider takes no prompt=none without a hint it accepts, fails with RENEW_FAILED saying the answer was lost, and the token is never sent again', async () => {
    const sent: (string | null)[] = [];
    const oidc = await provider(async (tokens) => {
      sent.push(tokens.refreshToken);
      throw lost();
    });
    const quirks = { provider: { extends: 'generic', promptNoneRequiresIdTokenHint: true, idTokenHintOnAuthorize: false } } as const;
    const s = await signedIn(oidc, quirks);
    await expect(s.renew()).rejects.toMatchObject({ code: 'RENEW_FAILED', message: expect.stringContaining('answer was lost') });
    expect(oidc.silents).toBe(0);
    userInput();
    clock.advance(RENEW_RETRY_MS);
    await expect(s.renew()).rejects.toMatchObject({ code: 'RENEW_FAILED', message: expect.stringContaining('no refresh token') });
    expect(sent).toEqual(['refresh-0']);
    // The session goes on with the access token it holds.
    await expect(s.getAccessToken()).resolves.toBe('access-token');
  });

  it('is dropped in every tab: a tab that comes to renew later does not send it either', async () => {
    const oidc = await provider(async () => {
      throw lost();
    });
    oidc.port.silent = async () => {
      oidc.silents += 1;
      throw new SessionError('LOGIN_REQUIRED', 'stand-in provider: no cookie in the iframe');
    };
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true }); // no top-level fallback
    const first = await signedIn(oidc);
    let secondLeads = false;
    const second = await follower(() => secondLeads);
    const { heard } = overhear();
    await expect(first.renew()).rejects.toMatchObject({ code: 'LOGIN_REQUIRED' });
    await delivered();
    expect(heard).toContainEqual(expect.objectContaining({ type: 'renew-failed', spent: true }));
    // The first tab goes (frozen, closed); the second leads now, and renews without that token.
    first.stop();
    secondLeads = true;
    userInput();
    clock.advance(RENEW_RETRY_MS);
    await second.session.renew();
    expect(second.oidc.silents).toBe(1);
    await expect(second.session.getAccessToken()).resolves.toBe('silent-1');
  });

  it('a renewal with nothing sent (offline) keeps the refresh token, and the next one, after the backoff, uses it', async () => {
    const sent: (string | null)[] = [];
    const oidc = await provider(async (tokens) => {
      sent.push(tokens.refreshToken);
      if (sent.length === 1) throw new SessionError('NETWORK', 'stand-in provider: the browser is offline: the refresh token was not sent');
      return { ...tokens, accessToken: 'refreshed', refreshToken: 'rotated' };
    });
    const s = await signedIn(oidc);
    await expect(s.renew()).rejects.toMatchObject({ code: 'NETWORK' });
    // Within the backoff nothing is sent, whoever asks.
    await expect(s.renew()).rejects.toMatchObject({ code: 'NETWORK' });
    expect(sent).toEqual(['refresh-0']);
    userInput();
    clock.advance(RENEW_RETRY_MS);
    await s.renew();
    expect(sent).toEqual(['refresh-0', 'refresh-0']);
    expect(oidc.silents).toBe(0);
    await expect(s.getAccessToken()).resolves.toBe('refreshed');
  });
});

describe('a provider that refuses prompt=none without id_token_hint (promptNoneRequiresIdTokenHint)', () => {
  it('a new tab that finds no live tab makes no silent request it cannot give a hint to', async () => {
    const quirks = { provider: { extends: 'generic', promptNoneRequiresIdTokenHint: true } } as const;
    const first = await signedIn(await provider(), quirks);
    first.stop();
    const oidc = await provider();
    const s = tab(() => false, oidc, quirks);
    const started = s.start();
    await delivered();
    clock.advance(TOKEN_REQUEST_TIMEOUT_MS);
    await expect(started).resolves.toMatchObject({ status: 'signed-out' });
    expect(oidc.silents).toBe(0);
  });
});

describe('one renewal per window, whoever asks (the leader\'s timer, renew(), other tabs)', () => {
  /** 100 renew-requests over 10 s from a same-origin script; every one is answered. */
  async function flood(oidc: Oidc) {
    await signedIn(oidc);
    const sessionId = await sessionIdOf();
    const { heard, post } = overhear();
    for (let second = 0; second < 10; second += 1) {
      for (let i = 0; i < 10; i += 1) post({ type: 'renew-request', sessionId });
      await delivered();
      clock.advance(1000);
    }
    await delivered();
    return heard.filter((m) => m.type === 'renewed' || m.type === 'renew-failed');
  }

  it('with a working provider: at most 3 refreshes in 10 s, and every request hears the result', async () => {
    let calls = 0;
    const oidc = await provider(async (tokens) => {
      calls += 1;
      return { ...tokens, accessToken: `refreshed-${calls}`, refreshToken: `rotated-${calls}` };
    });
    const answers = await flood(oidc);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(3);
    expect(answers.length).toBeGreaterThanOrEqual(95);
    expect(answers.every((m) => m.type === 'renewed')).toBe(true);
  });

  it('with a provider that fails every refresh: one refresh in 10 s, and every request hears the failure', async () => {
    let calls = 0;
    const oidc = await provider(async () => {
      calls += 1;
      throw new SessionError('NETWORK', 'stand-in provider: server_error');
    });
    const answers = await flood(oidc);
    expect(calls).toBe(1);
    expect(answers.length).toBeGreaterThanOrEqual(95);
    expect(answers.every((m) => m.type === 'renew-failed' && m.code === 'NETWORK')).toBe(true);
    expect(oidc.silents).toBe(0);
  });

  it('renew() just after a renewal shares it, and just after a failure gives that failure back, with nothing sent', async () => {
    let calls = 0;
    let fail = false;
    const oidc = await provider(async (tokens) => {
      calls += 1;
      if (fail) throw new SessionError('RENEW_FAILED', 'stand-in provider: invalid_grant');
      return { ...tokens, accessToken: `refreshed-${calls}` };
    });
    const s = await signedIn(oidc);
    await s.renew();
    await s.renew();
    expect(calls).toBe(1);
    clock.advance(RENEW_DEDUPE_MS);
    fail = true;
    await expect(s.renew()).rejects.toMatchObject({ code: 'RENEW_FAILED' });
    clock.advance(RENEW_RETRY_MS - 1);
    await expect(s.renew()).rejects.toMatchObject({ code: 'RENEW_FAILED' });
    expect(calls).toBe(2);
  });
});

describe('a renewing tab that has gone quiet (frozen, its Web Lock still held)', () => {
  it('does not block renew() in another tab: after the wait it renews with prompt=none, never with the refresh token', async () => {
    const oidc = await provider();
    const first = await signedIn(oidc);
    const second = await follower();
    first.stop(); // nobody answers, and the lock stays where it was
    const renewing = second.session.renew();
    await delivered();
    expect(second.oidc.silents).toBe(0);
    clock.advance(RENEW_TIMEOUT_MS);
    await renewing;
    expect(second.oidc.silents).toBe(1);
    expect(oidc.refreshes).toEqual([]);
    await expect(second.session.getAccessToken()).resolves.toBe('silent-1');
  });

  it("does not leave another tab's tokens to expire: it renews on its own after the grace, while the user is active", async () => {
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)), {}, T0 + 10 * MIN) as Oidc;
    oidc.silents = 0;
    history.replaceState(null, '', '/callback?code=abc&state=xyz');
    const first = tab(() => true, oidc);
    await first.start();
    history.replaceState(null, '', '/');
    const second = await follower();
    first.stop();
    // Due a minute before expiry; the follower waits the grace, asks, waits for an answer, then renews itself.
    for (let minute = 0; minute < 9; minute += 1) {
      clock.advance(MIN);
      userInput();
    }
    await delivered();
    expect(second.oidc.silents).toBe(0);
    clock.advance(FOLLOWER_GRACE_MS);
    await delivered();
    clock.advance(RENEW_TIMEOUT_MS);
    await delivered();
    expect(second.oidc.silents).toBe(1);
    expect(oidc.refreshes).toEqual([]);
  });
});

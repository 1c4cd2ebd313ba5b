// @vitest-environment happy-dom
// Ways in that a hostile review of the renewal and expiry rules found, each a test that
// failed before its fix: a refresh token sent twice (a page that leaves for the provider, a
// stop() and start() during a refresh), a tab that wakes with input and expires on its stale
// deadline, a deaf tab writing its old session over a newer one, a session usable while its
// deadline waits for the record, the top-level prompt=none without its id_token_hint, a
// gateway's JSON error taken for the provider's, a timer left after stop(). Two sessions in
// one page stand for two tabs; the provider is a stand-in (test/unit/support.ts).
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Leadership } from '../../src/channel.js';
import { SessionError } from '../../src/errors.js';
import type { TokenSet } from '../../src/machine.js';
import type { SessionOptions } from '../../src/options.js';
import { resolveOptions } from '../../src/options.js';
import { profileOf } from '../../src/profiles.js';
import { createProtocol } from '../../src/protocol/index.js';
import { RENEW_TIMEOUT_MS } from '../../src/protocol/flows.js';
import { LostAnswer } from '../../src/protocol/types.js';
import { createSessionWith, type Session } from '../../src/session.js';
import { createMemoryStore, type RecordStore, type SessionRecord } from '../../src/store.js';
import { claimsAt, CLIENT_ID, deferred, fakeOidc, FakeClock, ISSUER, makeKeys, MIN, tabDeps, userInput, watchChannels, watchListeners, write, type Keys } from './support.js';

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
  history.replaceState(null, '', '/');
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.stop();
  vi.restoreAllMocks();
  expect(clock.pendingTimers).toBe(0);
  expect(listeners.open()).toBe(0);
  expect(channels.open()).toBe(0);
});

const delivered = () => new Promise((resolve) => setTimeout(resolve, 20));
const settled = () => new Promise((resolve) => setTimeout(resolve, 0));
const lost = () => new SessionError('RENEW_FAILED', 'stand-in provider: the answer was lost', { cause: new LostAnswer(new Error('timeout')) });
const record = async () => (await store.get()) as SessionRecord;

function tab(oidc: ReturnType<typeof fakeOidc>, leads: () => boolean, options: Partial<SessionOptions> = {}) {
  const leadership = (): Leadership => ({ isLeader: leads, decided: async () => leads(), close: () => undefined });
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none', ...options },
    // The memory store stands for the one IndexedDB record the tabs share.
    { ...oidc.deps, keys: keys.keys, store: { ...store, kind: 'indexeddb' }, leadership });
  sessions.push(s);
  return s;
}

async function signedIn(oidc: ReturnType<typeof fakeOidc>, leads = () => true, options: Partial<SessionOptions> = {}) {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const s = tab(oidc, leads, options);
  await s.start();
  history.replaceState(null, '', '/');
  return s;
}

describe('a refresh token is never sent twice', () => {
  it('a lost refresh answer followed by the top-level prompt=none redirect: every tab is told before the page leaves, and none sends the token', async () => {
    const sent: (string | null)[] = [];
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    oidc.port.refresh = async (tokens) => {
      sent.push(tokens.refreshToken);
      throw lost();
    };
    oidc.port.silent = async () => {
      throw new SessionError('LOGIN_REQUIRED', 'stand-in provider: no cookie in the iframe');
    };
    const first = await signedIn(oidc);
    let secondLeads = false;
    const other = fakeOidc('unused');
    other.port.refresh = async (tokens) => {
      sent.push(tokens.refreshToken);
      return tokens;
    };
    const second = tab(other, () => secondLeads);
    const started = second.start();
    await delivered();
    await started;
    // The first tab leaves for the provider (its renewal never settles here).
    void first.renew().catch(() => undefined);
    await delivered();
    expect(oidc.authorize).toEqual([expect.objectContaining({ prompt: 'none', renewSessionId: expect.any(String) })]);
    first.stop();
    secondLeads = true;
    // Hidden: its own prompt=none fails in the iframe and does not leave the page.
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    clock.advance(RENEW_TIMEOUT_MS);
    await second.renew().catch(() => undefined);
    expect(sent).toEqual(['refresh-0']);
  });

  it('stop() and start() while a refresh is in flight: the same token is not sent again', async () => {
    const sent: (string | null)[] = [];
    const pending = deferred<TokenSet>();
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    oidc.port.refresh = async (tokens) => {
      sent.push(tokens.refreshToken);
      if (sent.length === 1) return pending.promise;
      return { ...tokens, accessToken: 'again', refreshToken: 'rotated-again' };
    };
    const s = await signedIn(oidc);
    const firstRenewal = s.renew().catch((error: unknown) => error);
    await delivered();
    expect(sent).toEqual(['refresh-0']);
    s.stop();
    await s.start();
    expect(s.getSnapshot().status).toBe('active');
    // Hidden: its prompt=none fails in the iframe and does not leave the page.
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    await s.renew().catch(() => undefined);
    expect(sent).toEqual(['refresh-0']);
    pending.resolve({ idToken: await keys.sign(claimsAt(T0)), accessToken: 'renewed', refreshToken: 'rotated', accessTokenExpiresAt: null });
    await firstRenewal;
  });

  it("a tab whose tokens are older than the record's last renewal does not send its refresh token", async () => {
    const sent: (string | null)[] = [];
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    oidc.port.refresh = async (tokens) => {
      sent.push(tokens.refreshToken);
      return tokens;
    };
    oidc.port.silent = async () => ({ idToken: await keys.sign(claimsAt(clock.now(), { auth_time: Math.floor(T0 / 1000) })), accessToken: 'silent', refreshToken: 'silent-refresh', accessTokenExpiresAt: null });
    const s = await signedIn(oidc);
    // Another tab renewed (rotating the token) while this one heard nothing of it.
    clock.advance(MIN);
    await write(store, { ...(await record()), renewedAt: clock.now() });
    await s.renew();
    expect(sent).toEqual([]);
    await expect(s.getAccessToken()).resolves.toBe('silent');
  });
});

describe("the shared record decides before the tab's own stale deadline", () => {
  it('a tab that wakes with input past its stale deadline reads the record first: active, and the record stays active', async () => {
    const s = await signedIn(fakeOidc(await keys.sign(claimsAt(T0))));
    clock.sleep(45 * MIN);
    await write(store, { ...(await record()), lastActivityAt: T0 + 44 * MIN });
    const shown = new Event('visibilitychange');
    Object.defineProperty(shown, 'isTrusted', { value: true });
    document.dispatchEvent(shown);
    await settled();
    await settled();
    expect(s.getSnapshot()).toMatchObject({ status: 'active', lastActivityAt: T0 + 45 * MIN });
    expect(await record()).toMatchObject({ status: 'active' });
  });

  it("a deaf tab's input does not write its old session over the newer one in the record", async () => {
    const s = await signedIn(fakeOidc(await keys.sign(claimsAt(T0))));
    clock.sleep(3 * MIN);
    const old = await record();
    await write(store, { ...old, sessionId: 'signed-in-elsewhere', signedInAt: T0 + 2 * MIN, authTime: T0 + 2 * MIN, providerAuthTime: T0 + 2 * MIN, lastActivityAt: T0 + 2 * MIN });
    userInput();
    clock.advance(0);
    await settled();
    expect(await record()).toMatchObject({ sessionId: 'signed-in-elsewhere', status: 'active' });
    void s;
  });

  it('past its deadline, the session gives no token while the record is read', async () => {
    let release = () => undefined as void;
    const slow: RecordStore = {
      kind: 'indexeddb',
      get: () => new Promise((resolve) => {
        release = () => resolve(store.get());
      }),
      change: (fn) => store.change(fn),
    };
    const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
    history.replaceState(null, '', '/callback?code=abc&state=xyz');
    const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, onExpired: 'none' },
      { ...oidc.deps, keys: keys.keys, store: slow, ...tabDeps(true) });
    sessions.push(s);
    await s.start();
    history.replaceState(null, '', '/');
    clock.sleep(45 * MIN);
    const token = s.getAccessToken().then(() => 'token', (error: SessionError) => error.code);
    await settled();
    release();
    expect(await token).toBe('LOGIN_REQUIRED');
    expect(s.getSnapshot()).toMatchObject({ status: 'expired', reason: 'idle' });
  });
});

describe('the protocol, as strict providers need it', () => {
  const metadata = { issuer: ISSUER, jwksUri: `${ISSUER}/jwks`, endSessionEndpoint: null, raw: { issuer: ISSUER, authorization_endpoint: `${ISSUER}/auth`, token_endpoint: `${ISSUER}/token`, jwks_uri: `${ISSUER}/jwks` } };

  it('the top-level prompt=none carries id_token_hint where the provider takes it', async () => {
    const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, provider: { extends: 'generic', promptNoneRequiresIdTokenHint: true } });
    const port = createProtocol(settings, metadata, clock, () => clock.now(), profileOf(settings.provider, settings.quirks));
    const urls: string[] = [];
    vi.spyOn(window.location, 'assign').mockImplementation((url) => {
      urls.push(String(url));
    });
    await port.signinRedirect({ returnTo: location.href, prompt: 'none', renewSessionId: 's', idTokenHint: 'the.id.token' });
    const url = new URL(urls[0]!);
    expect(url.searchParams.get('prompt')).toBe('none');
    expect(url.searchParams.get('id_token_hint')).toBe('the.id.token');
  });

  it("a gateway's JSON error with a status text, not an OAuth code, is a lost answer", async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ status: 504, error: 'Gateway Timeout' }), { status: 504, headers: { 'content-type': 'application/json' } }));
    const settings = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
    const tokens = { idToken: 'h.p.s', accessToken: 'a', refreshToken: 'r', accessTokenExpiresAt: null };
    const error = await createProtocol(settings, metadata, clock, () => clock.now(), profileOf('generic', {})).refresh(tokens, { sub: 'alice' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RENEW_FAILED', cause: expect.any(LostAnswer) });
    vi.unstubAllGlobals();
  });
});

it('a renewal waiting for a top-level redirect that never left ends with stop(), leaving no timer', async () => {
  const oidc = fakeOidc(await keys.sign(claimsAt(T0)));
  const complete = oidc.deps.protocol.completeSignin;
  // No refresh token: renewal goes through the iframe, which the provider's cookie does not reach.
  oidc.deps.protocol.completeSignin = async (url) => {
    const result = await complete(url);
    return { ...result, tokens: { ...result.tokens, refreshToken: null } };
  };
  const s = await signedIn(oidc);
  const renewal = s.renew().catch((error: SessionError) => error.code);
  await delivered();
  expect(oidc.authorize).toHaveLength(1);
  s.stop();
  expect(await renewal).toBe('LOGIN_REQUIRED');
  expect(clock.pendingTimers).toBe(0);
});

// @vitest-environment happy-dom
// The browser side of the server companion: the event stream (src/remote.ts) with its
// backoff, the relay of a logout to every tab, the stream's lifecycle, and signOut() through
// the companion when it answers badly or not at all. Node has no EventSource: a stand-in
// records what a browser's would do.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { listenForLogout, MAX_BACKOFF_MS } from '../../src/remote.js';
import { createSessionWith, type Session } from '../../src/session.js';
import { createMemoryStore, type RecordStore } from '../../src/store.js';
import type { Leadership } from '../../src/channel.js';
import { REQUEST_TIMEOUT_MS } from '../../src/constants.js';
import { claimsAt, CLIENT_ID, fakeOidc, FakeClock, ISSUER, makeKeys, type Keys } from './support.js';

class FakeES {
  static all: FakeES[] = [];
  static open = () => FakeES.all.filter((s) => !s.closed).length;
  closed = false;
  onerror: (() => void) | null = null;
  readonly #l = new Map<string, (() => void)[]>();
  constructor(readonly url: string) { FakeES.all.push(this); }
  addEventListener(type: string, fn: () => void) { this.#l.set(type, [...(this.#l.get(type) ?? []), fn]); }
  emit(type: string) { if (this.closed) return; if (type === 'error') this.onerror?.(); else for (const fn of this.#l.get(type) ?? []) fn(); }
  close() { this.closed = true; }
}

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const flush = () => new Promise((r) => setTimeout(r, 30));
let keys: Keys; let clock: FakeClock; let store: RecordStore;
const sessions: Session[] = [];
beforeAll(async () => { keys = await makeKeys(); });
beforeEach(() => {
  FakeES.all = []; clock = new FakeClock(T0); store = createMemoryStore();
  vi.stubGlobal('EventSource', FakeES);
  Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
  history.replaceState(null, '', '/');
});
afterEach(() => { for (const s of sessions.splice(0)) s.stop(); });

function tab(leadership: () => Leadership, oidc = fakeOidc('unused')) {
  const s = createSessionWith({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, serverUrl: `${location.origin}/auth` },
    { ...oidc.deps, keys: keys.keys, store: { ...store, kind: 'indexeddb' }, leadership });
  sessions.push(s);
  return { session: s, oidc };
}
const fixed = (leader: boolean) => (): Leadership => ({ isLeader: () => leader, decided: async () => leader, close: () => undefined });
async function signedIn(leadership = fixed(true)) {
  history.replaceState(null, '', '/callback?code=abc&state=xyz');
  const t = tab(leadership, fakeOidc(await keys.sign(claimsAt(T0))));
  await t.session.start();
  history.replaceState(null, '', '/');
  return t;
}

describe('remote.ts', () => {
  it('reconnects after 1, 2, 4 ... 60 s, starts again from 1 s after ready, calls onLogout once, and leaves no timer when stopped', () => {
    const heard = vi.fn();
    const stop = listenForLogout('/auth/events', clock, heard);
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      FakeES.all.at(-1)!.emit('error');
      const n = FakeES.all.length; let t = 0;
      while (FakeES.all.length === n) { clock.advance(1000); t += 1000; }
      waits.push(t);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60].map((s) => s * 1000));
    expect(MAX_BACKOFF_MS).toBe(60_000);
    FakeES.all.at(-1)!.emit('ready'); FakeES.all.at(-1)!.emit('error');
    clock.advance(1000); expect(FakeES.open()).toBe(1);
    FakeES.all.at(-1)!.emit('logout'); FakeES.all.at(-1)!.emit('logout');
    expect(heard).toHaveBeenCalledTimes(1); expect(FakeES.open()).toBe(0);
    stop(); expect(clock.pendingTimers).toBe(0);
  });
});

describe('session relay', () => {
  it('leader opens one stream; logout signs out both tabs (remote_logout), nothing left after stop', async () => {
    const leader = await signedIn();
    const follower = tab(fixed(false)); await follower.session.start();
    await flush();
    expect(FakeES.open()).toBe(1);
    expect(FakeES.all[0]!.url).toBe(`${location.origin}/auth/events`);
    FakeES.all[0]!.emit('logout'); await flush();
    for (const t of [leader, follower]) expect(t.session.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'remote_logout' });
    expect(await store.get()).toMatchObject({ endedReason: 'remote_logout', reauthRequired: false });
    for (const s of sessions.splice(0)) s.stop();
    expect(clock.pendingTimers).toBe(0); expect(FakeES.open()).toBe(0);
  });

  it('stop() before the lazy chunk resolves, and stop/start cycles, never leave a stream or two', async () => {
    const t = await signedIn();
    t.session.stop(); await flush();
    expect(FakeES.open()).toBe(0);
    for (let i = 0; i < 3; i++) { await t.session.start(); t.session.stop(); await t.session.start(); }
    await flush();
    expect(FakeES.open()).toBe(1);
    t.session.stop(); expect(FakeES.open()).toBe(0); expect(clock.pendingTimers).toBe(0);
  });

  it('a tab that comes to lead later opens the stream at its next look (within the 15 s poll)', async () => {
    let lead = false;
    const t = await signedIn(() => ({ isLeader: () => lead, decided: async () => lead, close: () => undefined }));
    await flush(); expect(FakeES.open()).toBe(0);
    lead = true; // the old leader's tab closed: the lock is granted here
    clock.advance(14_000); await flush(); expect(FakeES.open()).toBe(0);
    clock.advance(1_000); await flush(); expect(FakeES.open()).toBe(1);
    expect(t.session.getSnapshot().status).toBe('active');
  });
});

describe('no EventSource', () => {
  it('is reported once as an error event, not as an unhandled rejection', async () => {
    vi.stubGlobal('EventSource', undefined);
    const unhandled: unknown[] = [];
    const h = (e: unknown) => unhandled.push(e);
    process.prependListener('unhandledRejection', h);
    try {
      const t = await signedIn();
      const errors: unknown[] = [];
      t.session.on('error', (e) => errors.push(e));
      await flush();
      clock.advance(15_000);
      await flush();
      expect({ errors: errors.length, unhandled: unhandled.map(String) }).toEqual({ errors: 1, unhandled: [] });
    } finally {
      process.removeListener('unhandledRejection', h);
    }
  });
});

describe('signOut() through the companion', () => {
  const assign = vi.fn();
  beforeEach(() => { assign.mockReset(); vi.spyOn(location, 'assign').mockImplementation(assign); });

  it('a 200 from the companion that is not JSON (an app page) goes on to end-session', async () => {
    const { session, oidc } = await signedIn();
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<!doctype html><html></html>', { status: 200, headers: { 'content-type': 'text/html' } })));
    const errors: unknown[] = []; session.on('error', (e) => errors.push(e));
    await session.signOut();
    expect({ assigned: assign.mock.calls, errors: errors.map((e) => String(e)) }).toMatchObject({ assigned: [], errors: [] });
    expect(oidc.signouts).toHaveLength(1);
  });

  it('a companion that sends headers and never the body: signOut() goes on to end-session after the time limit', async () => {
    const { session, oidc } = await signedIn();
    vi.stubGlobal('fetch', vi.fn(async () => new Response(new ReadableStream({ start: () => undefined }), { status: 200, headers: { 'content-type': 'application/json' } })));
    let settled = false;
    void session.signOut().finally(() => { settled = true; });
    await flush(); clock.advance(REQUEST_TIMEOUT_MS * 3); await flush();
    expect({ settled, signouts: oidc.signouts.length, assigned: assign.mock.calls.length }).toEqual({ settled: true, signouts: 1, assigned: 0 });
  });

  it('a companion that never answers: end-session after the time limit', async () => {
    const { session, oidc } = await signedIn();
    vi.stubGlobal('fetch', vi.fn(() => new Promise(() => undefined)));
    const done = session.signOut();
    await flush(); clock.advance(REQUEST_TIMEOUT_MS); await done;
    expect(oidc.signouts).toHaveLength(1);
  });
});

describe('what the companion changes, and what it does not', () => {
  it('without serverUrl metadata and keys come from the provider; with it, keys and tokens are pinned to the companion', async () => {
    const { verifierFor } = await import('../../src/verify.js');
    const { resolveOptions } = await import('../../src/options.js');
    const urls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (u: string) => { urls.push(u); return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/keys`, token_endpoint: `${ISSUER}/tok` }); }));
    const s = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock });
    const { metadata } = await verifierFor(s);
    expect(urls).toEqual([`${ISSUER}/.well-known/openid-configuration`]);
    expect(metadata).toMatchObject({ jwksUri: `${ISSUER}/keys`, raw: { token_endpoint: `${ISSUER}/tok` } });
    const c = resolveOptions({ authority: ISSUER, clientId: CLIENT_ID, redirectUri: `${location.origin}/callback`, clock, serverUrl: `${location.origin}/auth/` });
    const pinned = await verifierFor(c);
    expect(urls[1]).toBe(`${location.origin}/auth/.well-known/openid-configuration`);
    expect(pinned.metadata).toMatchObject({ jwksUri: `${location.origin}/auth/jwks`, raw: { token_endpoint: `${location.origin}/auth/token` } });
  });

  it('a forged remote_logout to an expired tab keeps reauthRequired: the next sign-in still authenticates', async () => {
    const t = await signedIn();
    clock.advance(31 * 60_000); await flush();
    expect(t.session.getSnapshot().status).toBe('expired');
    const { sessionId } = (await store.get()) as { sessionId: string };
    const bc = new BroadcastChannel(`oidc-session-guard|${ISSUER}|${CLIENT_ID}`);
    bc.postMessage({ v: 1, sentAt: clock.now() + 1e9, type: 'signed-out', sessionId, reason: 'remote_logout' }); bc.close();
    await flush();
    expect(t.session.getSnapshot()).toMatchObject({ status: 'signed-out', reason: 'remote_logout' });
    expect(await store.get()).toMatchObject({ endedReason: 'remote_logout', reauthRequired: true });
    await t.session.signIn();
    expect(t.oidc.authorize.at(-1)).toMatchObject({ prompt: 'login' });
  });
});

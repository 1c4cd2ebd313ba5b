// Test support for the session engine in unit tests. The provider is a stand-in here
// (a redirect needs a browser): OidcPort is replaced by `fakeOidc`, which hands over an ID
// token signed with a local key. The real provider runs in the end-to-end tests.
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTVerifyGetKey } from 'jose';
import { vi } from 'vitest';
import { SessionError } from '../../src/errors.js';
import type { Clock, TimerHandle } from '../../src/clock.js';
import type { Leadership } from '../../src/channel.js';
import type { ProviderMetadata } from '../../src/metadata.js';
import type { AnsweredRequest, AuthorizeRequest, OidcPort } from '../../src/protocol/types.js';
import type { RecordStore } from '../../src/store.js';

export const ISSUER = 'https://idp.example';
export const CLIENT_ID = 'my-spa';
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** A manual clock: wall time, monotonic time and timers, moved only by the test. */
export class FakeClock implements Clock {
  #wall: number;
  #mono = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start: number) {
    this.#wall = start;
  }

  now = (): number => this.#wall;
  monotonicNow = (): number => this.#mono;
  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#mono + Math.max(0, ms), fn });
    return id;
  };
  clearTimeout = (handle: TimerHandle): void => {
    this.#timers.delete(handle as number);
  };

  /** Timers still scheduled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Lets `ms` pass, firing every timer on the way at its own time. */
  advance(ms: number): void {
    const end = this.#mono + ms;
    for (;;) {
      const next = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      this.#timers.delete(next[0]);
      // An overdue timer (after a sleep) fires now, late; time never moves back.
      this.#move(Math.max(0, next[1].at - this.#mono));
      next[1].fn();
    }
    this.#move(Math.max(0, end - this.#mono));
  }

  /** The machine sleeps for `ms`: time jumps and no timer fires on the way. */
  sleep(ms: number): void {
    this.#move(ms);
  }

  /** Sets the wall clock (e.g. back); monotonic time does not move. */
  setWall(time: number): void {
    this.#wall = time;
  }

  #move(ms: number): void {
    this.#wall += ms;
    this.#mono += ms;
  }
}

export interface Keys {
  readonly keys: JWTVerifyGetKey;
  sign(claims: Record<string, unknown>): Promise<string>;
}

export async function makeKeys(): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test' };
  return {
    keys: createLocalJWKSet({ keys: [jwk] }),
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test' }).sign(privateKey),
  };
}

/** ID token claims issued at `now` (epoch ms), for the test user. */
export function claimsAt(now: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const sec = Math.floor(now / 1000);
  return { iss: ISSUER, aud: CLIENT_ID, sub: 'alice', iat: sec, exp: sec + 3600, auth_time: sec, sid: 'sid-1', ...extra };
}

/** Cross-tab parts for unit tests: the native BroadcastChannel (Node's), and a fixed leader. */
export function tabDeps(leader: boolean) {
  const leadership = (): Leadership => ({ isLeader: () => leader, decided: async () => leader, close: () => undefined });
  return { leadership };
}

export const METADATA: ProviderMetadata = Object.freeze({ issuer: ISSUER, jwksUri: `${ISSUER}/jwks`, endSessionEndpoint: `${ISSUER}/session/end`, raw: {} });

/**
 * Stand-in for the provider: completes any callback with `idToken`, records redirects and
 * refreshes. Its silent iframe always answers login_required (no provider session).
 */
export function fakeOidc(idToken: string, metadata: Partial<ProviderMetadata> = {}, accessTokenExpiresAt: number | null = null) {
  const authorize: AuthorizeRequest[] = [];
  const signouts: (string | null)[] = [];
  const refreshes: number[] = [];
  let nextIdToken: string | null = null;
  let answered: AnsweredRequest = { at: 0, maxAge: null, maxAgeSent: false, retried: false };
  const port: OidcPort = {
    signinRedirect: async (request) => {
      authorize.push(request);
    },
    completeSignin: async () => ({ tokens: { idToken, accessToken: 'access-token', refreshToken: 'refresh-0', accessTokenExpiresAt }, returnTo: null, renewSessionId: null, request: answered }),
    refresh: async (tokens) => {
      refreshes.push(Date.now());
      return { accessTokenExpiresAt: tokens.accessTokenExpiresAt === null ? null : tokens.accessTokenExpiresAt + 3600_000, idToken: nextIdToken ?? tokens.idToken, accessToken: `access-${refreshes.length}`, refreshToken: `refresh-${refreshes.length}` };
    },
    silent: async () => {
      throw new SessionError('LOGIN_REQUIRED', 'stand-in provider: no session');
    },
    completeSignout: async () => undefined,
    signoutRedirect: async (hint) => {
      signouts.push(hint);
    },
    clearStaleState: async () => undefined,
  };
  /** The ID token the next refresh returns. */
  const renewWith = (token: string) => {
    nextIdToken = token;
  };
  /** The authorize request the callback answers (its state): when it was made, its max_age. */
  const answering = (request: AnsweredRequest) => {
    answered = request;
  };
  const deps = { protocol: port, metadata: { ...METADATA, ...metadata } };
  return { port, deps, authorize, signouts, refreshes, renewWith, answering };
}

/** Counts listeners added minus removed on window and document, to check none is left. */
export function watchListeners(): { open(): number } {
  let open = 0;
  for (const target of [window, document] as EventTarget[]) {
    const add = target.addEventListener.bind(target);
    const remove = target.removeEventListener.bind(target);
    vi.spyOn(target, 'addEventListener').mockImplementation((type, fn, options) => {
      open += 1;
      add(type, fn, options);
    });
    vi.spyOn(target, 'removeEventListener').mockImplementation((type, fn, options) => {
      open -= 1;
      remove(type, fn, options);
    });
  }
  return { open: () => open };
}

/** A trusted input event. happy-dom lets a test mark an event trusted; browsers do not. */
export function userInput(type = 'keydown'): void {
  const event = new Event(type, { bubbles: true });
  Object.defineProperty(event, 'isTrusted', { value: true });
  window.dispatchEvent(event);
}

/** Counts native BroadcastChannels opened and not closed, to check none is left. */
export function watchChannels(): { open(): number } {
  const Native = globalThis.BroadcastChannel;
  let open = 0;
  class Counted extends Native {
    #closed = false;
    constructor(name: string) {
      super(name);
      open += 1;
    }
    override close(): void {
      if (!this.#closed) open -= 1;
      this.#closed = true;
      super.close();
    }
  }
  vi.stubGlobal('BroadcastChannel', Counted);
  return { open: () => open };
}

/** A promise with its resolve and reject in hand. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Writes `value` into a record store as it is, merging nothing (what a script on the page can do to IndexedDB). */
export async function write(store: RecordStore, value: unknown): Promise<void> {
  await store.change(() => value as never);
}

import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { trackActivity, type ActivityTracker } from './activity.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { SessionError } from './errors.js';
import { OidcAdapter, type OidcPort, type TokenSet } from './oidc.js';
import { resolveOptions, type SessionOptions, type Settings } from './options.js';
import { decide, type Decision, type LimitReason, type TimingRecord } from './policy.js';
import { createIdbStore, createMemoryStore, parseRecord, type RecordStore, type SessionRecord } from './store.js';
import { verifyIdToken } from './verify.js';
import { startWatchdog, type Watchdog } from './watchdog.js';

/** Where the session stands. */
export type SessionStatus = 'loading' | 'signed-out' | 'active' | 'warning' | 'expired';

/** Why the session is where it is, when that is worth saying. */
export type SessionReason = null | LimitReason | 'signed_out' | 'remote_logout' | 'error';

/** What is true of the session now. The same object until something changes. */
export interface SessionSnapshot {
  readonly status: SessionStatus;
  readonly reason: SessionReason;
  /** Epoch ms: the earliest of the three deadlines below. */
  readonly expiresAt: number | null;
  /** Epoch ms: `lastActivityAt` + the idle limit. */
  readonly idleExpiresAt: number | null;
  /** Epoch ms: `authTime` + the absolute limit. */
  readonly absoluteExpiresAt: number | null;
  /** Epoch ms: the provider's `session_expiry`, or null. */
  readonly sessionExpiresAt: number | null;
  /** Epoch ms: when the user authenticated (`auth_time`, else when sign-in completed). */
  readonly authTime: number | null;
  /** Epoch ms: the newest user activity. */
  readonly lastActivityAt: number | null;
  /** The verified ID token's claims, while signed in. */
  readonly claims: Readonly<Record<string, unknown>> | null;
}

/** The events of a session and their payloads. */
export interface SessionEvents {
  'signed-in': { readonly claims: Readonly<Record<string, unknown>> };
  activity: { readonly at: number };
  warning: { readonly expiresAt: number; readonly reason: LimitReason; readonly msLeft: number };
  expired: { readonly reason: LimitReason | 'error' };
  'signed-out': { readonly reason: 'signed_out' | 'remote_logout' | 'error' };
  renewed: { readonly accessTokenExpiresAt: number | null };
  error: SessionError;
}

/** Arguments of {@link Session.signIn}. */
export interface SignInOptions {
  /** Same-origin URL to land on after sign-in. @default the current page */
  returnTo?: string;
  /** `'login'` forces the provider to authenticate the user again; `'none'` shows no UI. */
  prompt?: 'none' | 'login';
}

/** One user's session in this tab. Create it with {@link createSession}. */
export interface Session {
  /** Finishes a redirect callback if on redirectUri, restores the shared record, starts tracking. Rejects with the callback's SessionError. */
  start(): Promise<SessionSnapshot>;
  /** The current snapshot; the same object until something changes. */
  getSnapshot(): SessionSnapshot;
  /** Calls `fn` with the new snapshot on every change. */
  subscribe(fn: (snapshot: SessionSnapshot) => void): Unsubscribe;
  /** Listens to one named event. */
  on<K extends keyof SessionEvents>(type: K, fn: (payload: SessionEvents[K]) => void): Unsubscribe;
  /** Redirects to the provider to sign in (authorization code + PKCE). After a limit was hit: `prompt=login`. */
  signIn(options?: SignInOptions): Promise<void>;
  /** "Stay signed in": counts as activity, and ends a warning. Rejects with `LIMIT_REACHED` when a cap, not idleness, is what ends the session. */
  staySignedIn(): Promise<void>;
  /** The access token, while the session is inside its limits and the token unexpired. */
  getAccessToken(): Promise<string>;
  /** Forgets the tokens, then signs out at the provider (end_session with id_token_hint). */
  signOut(): Promise<void>;
  /** Removes every listener, timer and channel. */
  stop(): void;
}

/** Clock differences up to this are ordinary; beyond it, server times are moved onto the local clock. */
export const SKEW_TOLERANCE_MS = 30_000;

const LOADING: SessionSnapshot = Object.freeze({
  status: 'loading', reason: null, expiresAt: null, idleExpiresAt: null, absoluteExpiresAt: null,
  sessionExpiresAt: null, authTime: null, lastActivityAt: null, claims: null,
});

const signedOut = (reason: SessionReason): SessionSnapshot => Object.freeze({ ...LOADING, status: 'signed-out', reason });

/**
 * Creates a session. Validates the options and starts nothing: call `start()`.
 * @throws TypeError naming the bad option.
 * @example
 * const session = createSession({
 *   authority: 'https://idp.example', clientId: 'my-spa',
 *   redirectUri: location.origin + '/callback',
 * });
 * await session.start();
 */
export function createSession(options: SessionOptions): Session {
  return new SessionImpl(resolveOptions(options));
}

/** Parts a test may replace. Not public API. */
export interface SessionDeps {
  readonly oidc?: OidcPort;
  readonly keys?: JWTVerifyGetKey;
  readonly store?: RecordStore;
}

/** @internal A session with replaced parts, for unit tests. */
export function createSessionWith(options: SessionOptions, deps: SessionDeps): Session {
  return new SessionImpl(resolveOptions(options), deps);
}

/** The live session of this tab: timing in memory, tokens in memory. */
interface Live {
  readonly sessionId: string;
  readonly tokens: TokenSet;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly signedInAt: number;
  readonly authTime: number;
  readonly sessionExpiresAt: number | null;
  lastActivityAt: number;
}

const timing = (live: Live): TimingRecord => live;
const isCap = (reason: unknown): boolean => reason === 'absolute' || reason === 'session_expiry';

class SessionImpl implements Session {
  readonly #settings: Settings;
  readonly #deps: SessionDeps;
  readonly #events: Emitter<SessionEvents>;
  readonly #changes: Emitter<{ change: SessionSnapshot }>;
  #snapshot: SessionSnapshot = LOADING;
  #oidc: OidcPort | null = null;
  #keys: JWTVerifyGetKey | null = null;
  #store: RecordStore | null = null;
  #starting: Promise<SessionSnapshot> | null = null;
  #live: Live | null = null;
  /** Kept after expiry, until sign-out, so end-session still gets its hint. */
  #idTokenHint: string | null = null;
  /** The last session hit a limit: the next sign-in must authenticate again. */
  #reauthRequired = false;
  /** The last time reading: decisions never go back in time. */
  #lastTime: { readonly t: number; readonly mono: number | undefined } | null = null;
  #warned = false;
  #tracker: ActivityTracker | null = null;
  #watchdog: Watchdog | null = null;
  #cleanups: (() => void)[] = [];
  #stopped = false;

  constructor(settings: Settings, deps: SessionDeps = {}) {
    this.#settings = settings;
    this.#deps = deps;
    const report = (error: unknown) => {
      // A listener's exception must not break the session or the other listeners.
      queueMicrotask(() => {
        throw error;
      });
    };
    this.#events = new Emitter(report);
    this.#changes = new Emitter(report);
  }

  getSnapshot = (): SessionSnapshot => this.#snapshot;

  subscribe = (fn: (snapshot: SessionSnapshot) => void): Unsubscribe => this.#changes.on('change', fn);

  on<K extends keyof SessionEvents>(type: K, fn: (payload: SessionEvents[K]) => void): Unsubscribe {
    return this.#events.on(type, fn);
  }

  start(): Promise<SessionSnapshot> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<SessionSnapshot> {
    const oidc = this.#client();
    this.#store = this.#deps.store ?? createIdbStore(`${this.#settings.authority}|${this.#settings.clientId}`);
    const url = new URL(globalThis.location.href);
    try {
      if (oidc.isSigninResponse(url)) {
        await this.#completeSignin(oidc, url);
      } else if (await oidc.isSignoutResponse(url)) {
        await oidc.completeSignout(url);
        globalThis.history.replaceState(globalThis.history.state, '', this.#settings.postLogoutRedirectUri);
        await this.#restore();
        this.#set(signedOut('signed_out'));
      } else {
        await this.#restore();
      }
    } catch (error) {
      const pastExpiry = error instanceof SessionError && error.code === 'LIMIT_REACHED';
      this.#end(signedOut(pastExpiry ? 'session_expiry' : 'error'));
      throw error;
    } finally {
      void oidc.clearStaleState().catch(() => undefined);
    }
    return this.#snapshot;
  }

  /** Reads the shared record: a session that hit a limit while no tab looked is ended now. */
  async #restore(): Promise<void> {
    const record = parseRecord(await this.#read());
    const now = this.#now();
    if (record === 'invalid') {
      // Fail closed: a record that does not parse ends the session, it never extends it.
      this.#reauthRequired = true;
      this.#set(signedOut('error'));
      return;
    }
    if (!record) {
      this.#set(signedOut(null));
      return;
    }
    this.#reauthRequired = record.reauthRequired;
    if (record.status === 'ended') {
      this.#set(signedOut(record.endedReason === 'signed_out' ? null : record.endedReason));
      return;
    }
    const decision = decide(record, now, this.#settings.policy);
    if (decision.phase === 'expired') {
      this.#reauthRequired = true;
      this.#write({ ...record, status: 'ended', endedReason: decision.reason, reauthRequired: true });
      this.#set(signedOut(decision.reason));
      return;
    }
    // Inside its limits, but this tab holds no tokens (they live in memory only).
    this.#set(signedOut(null));
  }

  async #completeSignin(oidc: OidcPort, url: URL): Promise<void> {
    // Drop code and state from the address bar whatever happens: they are single-use.
    const cleanUrl = new URL(url.pathname, url.origin).href;
    let result: Awaited<ReturnType<OidcPort['completeSignin']>>;
    try {
      result = await oidc.completeSignin(url);
    } finally {
      globalThis.history.replaceState(globalThis.history.state, '', cleanUrl);
    }
    if (!this.#keys) {
      const metadata = await oidc.metadata();
      this.#keys = this.#deps.keys ?? createRemoteJWKSet(new URL(metadata.jwksUri));
    }
    const now = this.#now();
    const verified = await verifyIdToken(result.tokens.idToken, {
      issuer: this.#settings.authority,
      audience: this.#settings.clientId,
      keys: this.#keys,
      algorithms: this.#settings.profile.idTokenAlgorithms,
      now,
    });
    // Clock skew: auth_time and session_expiry are server times. When the token's iat and
    // this clock disagree by more than the tolerance, move them onto this clock.
    const offset = now - verified.issuedAt;
    const skew = Math.abs(offset) > SKEW_TOLERANCE_MS ? offset : 0;
    const sessionExpiresAt = verified.sessionExpiresAt === null ? null : verified.sessionExpiresAt + skew;
    if (sessionExpiresAt !== null && sessionExpiresAt <= now) {
      // The Broker: services must not create new sessions from the ID token after session_expiry.
      throw new SessionError('LIMIT_REACHED', 'the provider\'s session_expiry has already passed');
    }
    // Missing auth_time: the absolute limit counts from sign-in completion, never "no limit".
    const authTime = verified.authTime === null ? now : verified.authTime + skew;
    const live: Live = {
      sessionId: randomId(),
      tokens: result.tokens,
      claims: verified.claims,
      signedInAt: now,
      authTime,
      sessionExpiresAt,
      lastActivityAt: now,
    };
    this.#reauthRequired = false;
    this.#idTokenHint = result.tokens.idToken;
    this.#live = live;
    this.#warned = false;
    this.#write(this.#recordOf(live));
    this.#events.emit('signed-in', { claims: verified.claims });
    if (result.returnTo && this.#isSameOrigin(result.returnTo)) {
      globalThis.history.replaceState(globalThis.history.state, '', result.returnTo);
    }
    this.#track();
  }

  /** Starts the activity tracker and the watchdog; the first look publishes the snapshot. */
  #track(): void {
    const win = globalThis as unknown as Window;
    this.#tracker = trackActivity({ window: win, clock: this.#settings.clock, now: () => this.#now(), onActivity: () => this.#watchdog?.poke() });
    this.#watchdog = startWatchdog({ window: win, clock: this.#settings.clock, look: () => this.#look() });
    // The first look may already have ended the session (an auth_time older than the cap).
    if (!this.#live) this.#untrack();
  }

  #untrack(): void {
    this.#tracker?.stop();
    this.#watchdog?.stop();
    this.#tracker = null;
    this.#watchdog = null;
  }

  /** Decides what is true now and publishes it; returns when to look again. */
  #look(): number | null {
    const live = this.#live;
    if (!live) return null;
    const pending = this.#tracker?.take() ?? null;
    if (pending !== null) this.#applyActivity(live, pending);
    const now = this.#now();
    const decision = decide(timing(live), now, this.#settings.policy);
    if (decision.phase === 'expired') {
      this.#expire(decision);
      return null;
    }
    this.#publish(live, decision);
    if (decision.phase === 'warning' && !this.#warned) {
      this.#warned = true;
      this.#events.emit('warning', { expiresAt: decision.expiresAt, reason: decision.reason as LimitReason, msLeft: decision.expiresAt - now });
    } else if (decision.phase === 'active') {
      this.#warned = false;
    }
    return decision.phase === 'active' ? decision.warningAt : decision.expiresAt;
  }

  /**
   * Input counts if the session was active when it happened. During a warning only
   * `staySignedIn()` extends (the GOV.UK timeout-dialog pattern: moving the mouse must not
   * silently dismiss a warning a screen-reader user has not heard out).
   */
  #applyActivity(live: Live, at: number): void {
    if (at <= live.lastActivityAt) return;
    if (decide(timing(live), at, this.#settings.policy).phase !== 'active') return;
    live.lastActivityAt = at;
    this.#write(this.#recordOf(live));
    this.#events.emit('activity', { at });
  }

  #publish(live: Live, d: Decision): void {
    this.#set(snapshotOf(live, d, d.phase, d.phase === 'active' ? null : d.reason, live.claims));
  }

  #expire(d: Decision): void {
    const live = this.#live;
    if (!live) return;
    const reason = d.reason;
    this.#reauthRequired = true;
    this.#write({ ...this.#recordOf(live), status: 'ended', endedReason: reason, reauthRequired: true });
    this.#end(snapshotOf(live, d, 'expired', reason, null));
    this.#events.emit('expired', { reason });
    switch (this.#settings.onExpired) {
      case 'reauthenticate':
        this.#reauthenticate();
        break;
      case 'sign-out':
        this.signOut().catch((error: unknown) => this.#emitError(error, 'NETWORK', 'sign-out after expiry failed'));
        break;
      case 'none':
        break;
    }
  }

  /** NHS login: at the end of each period, send the user back through authentication without interaction. */
  #reauthenticate(): void {
    const go = () => {
      this.signIn({ prompt: 'login' }).catch((error: unknown) => this.#emitError(error, 'NETWORK', 'could not redirect to sign-in'));
    };
    const doc = globalThis.document;
    if (doc.visibilityState === 'visible') {
      go();
      return;
    }
    // A hidden tab does not navigate; the first to be seen again does.
    const remove = () => doc.removeEventListener('visibilitychange', onVisible);
    const onVisible = () => {
      if (doc.visibilityState !== 'visible') return;
      remove();
      this.#cleanups = this.#cleanups.filter((cleanup) => cleanup !== remove);
      if (this.#snapshot.status === 'expired') go();
    };
    doc.addEventListener('visibilitychange', onVisible);
    this.#cleanups.push(remove);
  }

  async signIn(options: SignInOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" of signIn must be an object');
    const returnTo = options.returnTo ?? globalThis.location.href;
    if (typeof returnTo !== 'string') throw new TypeError('"returnTo" must be a string');
    if (!this.#isSameOrigin(returnTo)) {
      throw new SessionError('REDIRECT_REFUSED', `"returnTo" must be on this app's origin (${this.#settings.origin}); got '${returnTo}'`);
    }
    const { profile } = this.#settings;
    const { prompt } = options;
    if (prompt !== undefined && !profile.promptValues.includes(prompt)) {
      throw new TypeError(`"prompt" must be one of ${profile.promptValues.map((p) => `'${p}'`).join(', ')}; got ${JSON.stringify(prompt)}`);
    }
    if (this.#reauthRequired && prompt === 'none') {
      // NIST 800-63B rev3 §7.2: the IdP cookie alone must not revive a session that hit a limit.
      throw new SessionError('LOGIN_REQUIRED', 'the last session reached a limit: the user must authenticate again');
    }
    const reauth = this.#reauthRequired;
    await this.#client().signinRedirect({
      returnTo: new URL(returnTo, this.#settings.origin).href,
      ...(reauth ? { prompt: 'login' as const } : prompt ? { prompt } : {}),
      // max_age=0 equals prompt=login, for providers that honour one but not the other.
      ...(reauth && profile.supportsMaxAge ? { maxAgeSec: 0 } : {}),
    });
  }

  async staySignedIn(): Promise<void> {
    // Look first, with what was true before: a deadline already past is not undone.
    this.#watchdog?.poke();
    const live = this.#live;
    if (!live) {
      const { status, reason } = this.#snapshot;
      throw status === 'expired' && isCap(reason)
        ? new SessionError('LIMIT_REACHED', `the session has reached its ${String(reason)} limit`)
        : new SessionError('LOGIN_REQUIRED', 'there is no active session');
    }
    const now = this.#now();
    if (now > live.lastActivityAt) {
      live.lastActivityAt = now;
      this.#write(this.#recordOf(live));
      this.#events.emit('activity', { at: now });
    }
    this.#warned = false;
    this.#watchdog?.poke();
    const { status, reason, expiresAt } = this.#snapshot;
    if (status === 'warning' && isCap(reason)) {
      throw new SessionError('LIMIT_REACHED', `the session ends at its ${String(reason)} limit at ${new Date(expiresAt ?? 0).toISOString()}; only a new sign-in goes further`);
    }
  }

  async getAccessToken(): Promise<string> {
    this.#watchdog?.poke();
    const live = this.#live;
    if (!live) throw new SessionError('LOGIN_REQUIRED', 'there is no active session');
    const expiresAt = live.tokens.accessTokenExpiresAt;
    if (expiresAt !== null && expiresAt <= this.#now()) {
      throw new SessionError('LOGIN_REQUIRED', 'the access token has expired');
    }
    return live.tokens.accessToken;
  }

  async signOut(): Promise<void> {
    const idTokenHint = this.#live?.tokens.idToken ?? this.#idTokenHint;
    const live = this.#live;
    // Tokens go first, so signing out works even when the provider cannot be reached.
    if (live) this.#write({ ...this.#recordOf(live), status: 'ended', endedReason: 'signed_out', reauthRequired: false });
    this.#idTokenHint = null;
    this.#reauthRequired = false;
    this.#end(signedOut('signed_out'));
    this.#events.emit('signed-out', { reason: 'signed_out' });
    const oidc = this.#client();
    let endSession: string | null = null;
    try {
      endSession = (await oidc.metadata()).endSessionEndpoint;
    } catch (error) {
      this.#emitError(error, 'NETWORK', 'could not load the provider\'s metadata');
    }
    const hintRequired = this.#settings.profile.endSessionRequiresIdTokenHint;
    if (endSession && (idTokenHint || !hintRequired)) {
      await oidc.signoutRedirect(idTokenHint);
    } else {
      globalThis.location.assign(this.#settings.postLogoutRedirectUri);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#untrack();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#events.clear();
    this.#changes.clear();
    if (typeof document !== 'undefined') delete document.documentElement.dataset.sessionStatus;
  }

  #client(): OidcPort {
    this.#oidc ??= this.#deps.oidc ?? new OidcAdapter(this.#settings);
    return this.#oidc;
  }

  /**
   * Wall-clock time that never goes back: when the wall clock is set back, time goes on
   * from the last reading by the monotonic clock's elapsed time, so nothing is extended.
   * A wall clock jumping forward (sleep) is taken as it is.
   */
  #now(): number {
    const { clock } = this.#settings;
    const wall = clock.now();
    const mono = clock.monotonicNow?.();
    const last = this.#lastTime;
    let t: number;
    if (!Number.isFinite(wall)) {
      // Fail closed: a clock value that does not parse is taken as the end of time.
      t = Number.MAX_SAFE_INTEGER;
    } else if (!last) {
      t = wall;
    } else if (mono !== undefined && last.mono !== undefined && Number.isFinite(mono) && mono >= last.mono) {
      t = Math.max(wall, last.t + (mono - last.mono));
    } else {
      t = Math.max(wall, last.t);
    }
    this.#lastTime = { t, mono };
    return t;
  }

  /** Ends the live session in this tab: tokens and tracking go. */
  #end(snapshot: SessionSnapshot): void {
    this.#live = null;
    this.#warned = false;
    this.#untrack();
    this.#set(snapshot);
  }

  #recordOf(live: Live): SessionRecord {
    // Timing only: never a token (ARCHITECTURE.md, rules of the house).
    return {
      v: 1,
      sessionId: live.sessionId,
      status: 'active',
      endedReason: null,
      reauthRequired: false,
      signedInAt: live.signedInAt,
      authTime: live.authTime,
      sessionExpiresAt: live.sessionExpiresAt,
      lastActivityAt: live.lastActivityAt,
    };
  }

  async #read(): Promise<unknown> {
    try {
      return await this.#store!.get();
    } catch (error) {
      this.#fallBackToMemory(error);
      return undefined;
    }
  }

  #write(record: SessionRecord): void {
    const store = this.#store;
    if (!store) return;
    store.set(record).catch((error: unknown) => {
      this.#fallBackToMemory(error);
      void this.#store?.set(record);
    });
  }

  /** IndexedDB failed: keep enforcing the limits in this tab, from memory, and say so. */
  #fallBackToMemory(error: unknown): void {
    if (this.#store?.kind === 'memory') return;
    this.#store = createMemoryStore();
    this.#events.emit('error', new SessionError('STORAGE', 'IndexedDB is unavailable: the session is kept in this tab only', { cause: error }));
  }

  #emitError(error: unknown, code: SessionError['code'], message: string): void {
    this.#events.emit('error', error instanceof SessionError ? error : new SessionError(code, message, { cause: error }));
  }

  #isSameOrigin(target: string): boolean {
    try {
      return new URL(target, this.#settings.origin).origin === this.#settings.origin;
    } catch {
      return false;
    }
  }

  #set(next: SessionSnapshot): void {
    if (this.#stopped) return;
    const prev = this.#snapshot;
    if (sameSnapshot(prev, next)) return;
    this.#snapshot = next;
    // Lets an app hide content with CSS the moment the session ends: [data-session-status="expired"].
    if (typeof document !== 'undefined') document.documentElement.dataset.sessionStatus = next.status;
    this.#changes.emit('change', next);
  }
}

function snapshotOf(live: Live, d: Decision, status: SessionStatus, reason: SessionReason, claims: Live['claims'] | null): SessionSnapshot {
  return Object.freeze({
    status,
    reason,
    expiresAt: d.expiresAt,
    idleExpiresAt: d.idleExpiresAt,
    absoluteExpiresAt: d.absoluteExpiresAt,
    sessionExpiresAt: d.sessionExpiresAt,
    authTime: live.authTime,
    lastActivityAt: live.lastActivityAt,
    claims,
  });
}

function sameSnapshot(a: SessionSnapshot, b: SessionSnapshot): boolean {
  return (Object.keys(a) as (keyof SessionSnapshot)[]).every((key) => a[key] === b[key]);
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}

import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { trackActivity, type ActivityTracker } from './activity.js';
import { electLeader, mergeActivity, openChannel, type ChannelKind, type Envelope, type Leadership, type SessionHandover, type TabChannel } from './channel.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { SessionError } from './errors.js';
import { OidcAdapter, type OidcPort, type TokenSet } from './oidc.js';
import { resolveOptions, type SessionOptions, type Settings } from './options.js';
import { compareAuthTime, decide, type Decision, type LimitReason } from './policy.js';
import { authorizeExtras } from './providers.js';
import { createIdbStore, createMemoryStore, parseRecord, type RecordStore, type SessionRecord } from './store.js';
import { verifyIdToken, type VerifiedIdToken } from './verify.js';
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
  /** Renews the tokens with the refresh token, within the limits only; one request for all tabs. Never counts as activity. */
  renew(): Promise<void>;
  /** The access token, while the session is inside its limits and the token unexpired. */
  getAccessToken(): Promise<string>;
  /** Forgets the tokens, then signs out at the provider (end_session with id_token_hint). */
  signOut(): Promise<void>;
  /** Removes every listener, timer and channel. */
  stop(): void;
}

/** How long a new tab waits for a live tab to hand over the session. */
export const TOKEN_REQUEST_TIMEOUT_MS = 1_000;
/** How long a tab waits for the renewing tab (the leader) to share new tokens. */
export const RENEW_TIMEOUT_MS = 15_000;
/** Tokens renewed this recently are shared again rather than renewed again. */
const RENEW_DEDUPE_MS = 5_000;
/** Automatic renewal starts this long before the access token expires. */
export const RENEW_BEFORE_EXPIRY_MS = 60_000;
/** After an automatic renewal failed, the next is not tried for this long. */
const RENEW_RETRY_MS = 60_000;
/** Automatic renewals are at least this far apart, whatever lifetime the provider gives tokens. */
const RENEW_MIN_INTERVAL_MS = 5_000;

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
  readonly channelKind?: ChannelKind;
  readonly leadership?: (name: string) => Leadership;
}

/** @internal A session with replaced parts, for unit tests. */
export function createSessionWith(options: SessionOptions, deps: SessionDeps): Session {
  return new SessionImpl(resolveOptions(options), deps);
}

/** The live session of this tab: timing in memory, tokens in memory. */
interface Live {
  readonly sessionId: string;
  tokens: TokenSet;
  claims: Readonly<Record<string, unknown>>;
  renewedAt: number;
  readonly signedInAt: number;
  authTime: number;
  /** auth_time as the provider sent it (epoch ms), to compare with a renewal's; null if absent. */
  providerAuthTime: number | null;
  readonly sessionExpiresAt: number | null;
  lastActivityAt: number;
}

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
  #channel: TabChannel | null = null;
  #leader: Leadership | null = null;
  #renewing: Promise<void> | null = null;
  #autoRenewFailedAt = -Infinity;
  #autoRenewPending = false;
  /** Waiting for another tab: token offers by request id, renewals. */
  #offerWaiters = new Map<string, (handover: SessionHandover) => void>();
  #renewWaiters = new Set<{ resolve: () => void; reject: (error: SessionError) => void }>();

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
    const url = new URL(globalThis.location.href);
    if (globalThis.parent !== globalThis.window && oidc.isSigninResponse(url)) {
      // The hidden iframe of a silent renewal: hand the response to the parent and stop.
      await oidc.completeSilentSignin(url);
      return this.#snapshot;
    }
    this.#store = this.#deps.store ?? createIdbStore(this.#key());
    this.#channel = openChannel(`oidc-session-guard|${this.#key()}`, { kind: this.#deps.channelKind, now: () => this.#now() });
    this.#channel.onMessage((message) => this.#onMessage(message));
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
    // Inside its limits, but tokens live in memory only: ask the live tabs for them.
    const handover = await this.#askForSession(record.sessionId);
    if (handover && (await this.#adopt(handover))) return;
    if (await this.#restoreSilently(record.sessionId)) return;
    this.#set(signedOut(null));
  }

  /** Asks the other tabs for the live session; null if none answers in time. */
  #askForSession(sessionId: string): Promise<SessionHandover | null> {
    const requestId = randomId();
    const { clock } = this.#settings;
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        this.#offerWaiters.delete(requestId);
        resolve(null);
      }, TOKEN_REQUEST_TIMEOUT_MS);
      this.#offerWaiters.set(requestId, (handover) => {
        clock.clearTimeout(timer);
        this.#offerWaiters.delete(requestId);
        resolve(handover);
      });
      this.#channel?.post({ type: 'token-request', sessionId, requestId });
    });
  }

  /**
   * Takes over a session another tab holds. The shared record is the truth: the session id
   * must be the record's and the record active; its timing wins over the message's (the
   * newest activity of the two counts). Never adopts a session past its limits.
   */
  async #adopt(handover: SessionHandover): Promise<boolean> {
    let timing = handover.timing;
    if (this.#store?.kind === 'indexeddb') {
      const record = parseRecord(await this.#read());
      if (!record || record === 'invalid' || record.sessionId !== handover.sessionId || record.status !== 'active') return false;
      timing = { ...record, lastActivityAt: mergeActivity(record.lastActivityAt, handover.timing.lastActivityAt) };
    }
    if (this.#live?.sessionId === handover.sessionId) return true;
    const now = this.#now();
    const live: Live = {
      sessionId: handover.sessionId,
      tokens: handover.tokens,
      claims: handover.claims,
      renewedAt: 0,
      signedInAt: timing.signedInAt,
      authTime: timing.authTime,
      providerAuthTime: timing.providerAuthTime,
      sessionExpiresAt: timing.sessionExpiresAt,
      lastActivityAt: timing.lastActivityAt,
    };
    if (decide(live, now, this.#settings.policy).phase === 'expired') return false;
    if (this.#live) this.#end(this.#snapshot);
    await this.#client().setTokens(live.tokens, live.claims);
    await this.#begin(live);
    return true;
  }

  #handover(live: Live): SessionHandover {
    return {
      sessionId: live.sessionId,
      tokens: live.tokens,
      claims: live.claims,
      timing: {
        signedInAt: live.signedInAt,
        authTime: live.authTime,
        providerAuthTime: live.providerAuthTime,
        sessionExpiresAt: live.sessionExpiresAt,
        lastActivityAt: live.lastActivityAt,
      },
    };
  }

  /** What another tab says. Messages can end a session or add activity; they never extend a deadline. */
  #onMessage(m: Envelope): void {
    const live = this.#live;
    const mine = live !== null && live.sessionId === m.sessionId;
    switch (m.type) {
      case 'activity':
        if (mine) {
          this.#watchdog?.poke();
          if (this.#live === live) this.#applyActivity(live, m.at, false);
          this.#watchdog?.poke();
        }
        break;
      case 'warning-dismissed':
        if (mine) this.#stay(live, m.at, false);
        break;
      case 'signed-in':
        if (!mine) void this.#adopt(m).catch((error: unknown) => this.#emitError(error, 'STORAGE', 'could not take over the session of another tab'));
        break;
      case 'token-request':
        if (mine) {
          this.#watchdog?.poke();
          if (this.#live === live) this.#channel?.post({ type: 'token-offer', requestId: m.requestId, ...this.#handover(live) });
        }
        break;
      case 'token-offer':
        this.#offerWaiters.get(m.requestId)?.(m);
        break;
      case 'renewed':
        if (mine) {
          live.tokens = m.tokens;
          live.claims = m.claims;
          live.renewedAt = this.#now();
          void this.#client().setTokens(m.tokens, m.claims);
          this.#idTokenHint = m.tokens.idToken;
          // A renewal may carry a newer auth_time (limits restart): the record is the truth.
          void this.#syncTiming(live);
          this.#settleRenewWaiters(null);
          this.#events.emit('renewed', { accessTokenExpiresAt: m.tokens.accessTokenExpiresAt });
        }
        break;
      case 'renew-request':
        if (!mine || !this.#leader?.isLeader() || this.#renewing) break; // a renewal in flight shares its result
        if (this.#now() - live.renewedAt < RENEW_DEDUPE_MS) {
          // Renewed a moment ago and this request crossed it: share, do not renew again.
          this.#channel?.post({ type: 'renewed', sessionId: live.sessionId, tokens: live.tokens, claims: live.claims });
        } else {
          void this.renew().catch(() => undefined);
        }
        break;
      case 'renew-failed':
        if (mine) this.#settleRenewWaiters(new SessionError(m.code === 'LOGIN_REQUIRED' || m.code === 'NETWORK' ? m.code : 'RENEW_FAILED', 'the renewing tab failed to renew'));
        break;
      case 'signed-out':
        if (mine) this.#endSignedOut(live);
        break;
      case 'expired':
        if (mine) {
          this.#watchdog?.poke();
          if (this.#live === live) this.#expire({ ...decide(live, this.#now(), this.#settings.policy), reason: m.reason }, false);
        }
        break;
    }
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
    const now = this.#now();
    const verified = await this.#verify(result.tokens.idToken, now);
    let live = this.#sessionFrom(result.tokens, verified, now);
    if (live.sessionExpiresAt !== null && live.sessionExpiresAt <= now) {
      // The Broker: services must not create new sessions from the ID token after session_expiry.
      throw new SessionError('LIMIT_REACHED', 'the provider\'s session_expiry has already passed');
    }
    if (result.renewSessionId) live = await this.#continueSession(result.renewSessionId, live, verified, now);
    await this.#begin(live);
    if (result.returnTo && this.#isSameOrigin(result.returnTo)) {
      globalThis.history.replaceState(globalThis.history.state, '', result.returnTo);
    }
  }

  /** Verifies an ID token from the provider (jose: signature, alg, iss, aud, exp). */
  async #verify(idToken: string, now: number): Promise<VerifiedIdToken> {
    return verifyIdToken(idToken, {
      issuer: this.#settings.authority,
      audience: this.#settings.clientId,
      keys: await this.#jwks(),
      algorithms: this.#settings.profile.idTokenAlgorithms,
      now,
    });
  }

  /** A new session from freshly verified tokens. */
  #sessionFrom(tokens: TokenSet, verified: VerifiedIdToken, now: number): Live {
    const { authTime, sessionExpiresAt } = this.#serverTimes(verified, now);
    return {
      sessionId: randomId(),
      tokens,
      claims: verified.claims,
      renewedAt: 0,
      signedInAt: now,
      authTime,
      providerAuthTime: verified.authTime,
      sessionExpiresAt,
      lastActivityAt: now,
    };
  }

  /** Makes `live` this tab's session, tells the other tabs, and starts tracking. */
  async #begin(live: Live): Promise<void> {
    this.#reauthRequired = false;
    this.#idTokenHint = live.tokens.idToken;
    this.#live = live;
    this.#warned = false;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    // The record first: the other tabs check a handed-over session against it.
    await this.#writeNow(this.#recordOf(live));
    this.#channel?.post({ type: 'signed-in', ...this.#handover(live) });
    this.#events.emit('signed-in', { claims: live.claims });
    this.#track();
  }

  /**
   * No tab answered: renew silently in a hidden iframe (prompt=none), only while the record
   * is inside its limits, and go on with the same session. No top-level redirect on load.
   */
  async #restoreSilently(sessionId: string): Promise<boolean> {
    const { maxAgeSec } = authorizeExtras(this.#settings.profile, { reauthRequired: false, absoluteTimeoutMs: this.#settings.policy.absoluteTimeoutMs });
    let tokens: TokenSet;
    try {
      tokens = await this.#client().refresh('iframe', maxAgeSec);
    } catch (error) {
      // The provider session is gone or unreachable from the iframe: the user signs in.
      if (!(error instanceof SessionError && error.code === 'LOGIN_REQUIRED')) this.#emitError(error, 'RENEW_FAILED', 'silent renewal on start failed');
      return false;
    }
    const now = this.#now();
    const verified = await this.#verify(tokens.idToken, now);
    const live = await this.#continueSession(sessionId, this.#sessionFrom(tokens, verified, now), verified, now);
    await this.#begin(live);
    return true;
  }

  /**
   * Server times onto this clock. Missing auth_time: the absolute limit counts from sign-in
   * completion, never "no limit". Clock skew: when the token's iat and this clock disagree by
   * more than the tolerance, auth_time and session_expiry move by the difference.
   */
  #serverTimes(verified: VerifiedIdToken, now: number): { authTime: number; sessionExpiresAt: number | null } {
    const offset = now - verified.issuedAt;
    const skew = Math.abs(offset) > SKEW_TOLERANCE_MS ? offset : 0;
    return {
      authTime: verified.authTime === null ? now : verified.authTime + skew,
      sessionExpiresAt: verified.sessionExpiresAt === null ? null : verified.sessionExpiresAt + skew,
    };
  }

  /**
   * After a silent renewal that had no tokens in hand (top-level redirect, or a tab that
   * restored silently): the same session goes on (its id, its timing: a renewal is not
   * activity), if the record says it is still inside its limits.
   */
  async #continueSession(sessionId: string, fresh: Live, verified: VerifiedIdToken, now: number): Promise<Live> {
    const record = parseRecord(await this.#read());
    if (!record || record === 'invalid' || record.sessionId !== sessionId || record.status !== 'active'
      || decide(record, now, this.#settings.policy).phase === 'expired') {
      throw new SessionError('LOGIN_REQUIRED', 'the session ended before its silent renewal came back');
    }
    const continued: Live = { ...fresh, sessionId, signedInAt: record.signedInAt, authTime: record.authTime, providerAuthTime: record.providerAuthTime, lastActivityAt: record.lastActivityAt, renewedAt: now };
    this.#applyAuthTime(continued, verified, now);
    return continued;
  }

  /** NIST 800-63B rev3 §7.2: a newer auth_time is a reauthentication and restarts both limits; an older one is refused. */
  #applyAuthTime(live: Live, verified: VerifiedIdToken, now: number): void {
    switch (compareAuthTime(live.providerAuthTime, verified.authTime)) {
      case 'older':
        throw new SessionError('ID_TOKEN_INVALID', 'the renewed ID token\'s auth_time is older than the session\'s');
      case 'newer':
        live.authTime = this.#serverTimes(verified, now).authTime;
        live.providerAuthTime = verified.authTime;
        live.lastActivityAt = now;
        break;
      case 'same':
        break;
    }
  }

  /** Takes the timing the renewing tab wrote (a newer auth_time restarts the limits). */
  async #syncTiming(live: Live): Promise<void> {
    if (this.#store?.kind !== 'indexeddb') return;
    const record = parseRecord(await this.#read());
    if (!record || record === 'invalid' || record.sessionId !== live.sessionId || record.status !== 'active' || this.#live !== live) return;
    if (record.providerAuthTime !== live.providerAuthTime && compareAuthTime(live.providerAuthTime, record.providerAuthTime) === 'newer') {
      live.authTime = record.authTime;
      live.providerAuthTime = record.providerAuthTime;
      live.lastActivityAt = mergeActivity(live.lastActivityAt, record.lastActivityAt);
      this.#watchdog?.poke();
    }
  }

  /** Starts the activity tracker and the watchdog; the first look publishes the snapshot. */
  #track(): void {
    const win = globalThis as unknown as Window;
    this.#tracker = trackActivity({ window: win, clock: this.#settings.clock, now: () => this.#now(), onActivity: () => this.#watchdog?.poke() });
    this.#watchdog = startWatchdog({ window: win, clock: this.#settings.clock, look: () => this.#look() });
    const name = `oidc-session-guard|${this.#key()}`;
    this.#leader = this.#deps.leadership?.(name) ?? electLeader(name, this.#settings.clock, this.#deps.channelKind);
    // The first look may already have ended the session (an auth_time older than the cap).
    if (!this.#live) this.#untrack();
  }

  #untrack(): void {
    this.#tracker?.stop();
    this.#watchdog?.stop();
    this.#tracker = null;
    this.#watchdog = null;
    void this.#leader?.close();
    this.#leader = null;
    this.#settleRenewWaiters(new SessionError('LOGIN_REQUIRED', 'the session ended'));
  }

  /** Decides what is true now and publishes it; returns when to look again. */
  #look(): number | null {
    const live = this.#live;
    if (!live) return null;
    const pending = this.#tracker?.take() ?? null;
    if (pending !== null) this.#applyActivity(live, pending, true);
    const now = this.#now();
    const decision = decide(live, now, this.#settings.policy);
    if (decision.phase === 'expired') {
      this.#expire(decision);
      return null;
    }
    this.#publish(live, decision);
    const renewAt = this.#autoRenew(live, decision, now);
    if (decision.phase === 'warning' && !this.#warned) {
      this.#warned = true;
      this.#events.emit('warning', { expiresAt: decision.expiresAt, reason: decision.reason as LimitReason, msLeft: decision.expiresAt - now });
    } else if (decision.phase === 'active') {
      this.#warned = false;
    }
    const next = decision.phase === 'active' ? decision.warningAt : decision.expiresAt;
    return renewAt !== null && renewAt > now ? Math.min(next, renewAt) : next;
  }

  /**
   * Renews shortly before the access token expires, in the renewing tab only, and only while
   * the user is active (not in a warning). Returns when it is due, or null.
   */
  #autoRenew(live: Live, decision: Decision, now: number): number | null {
    const expiresAt = live.tokens.accessTokenExpiresAt;
    if (expiresAt === null) return null;
    // A minute ahead, or half the token's lifetime if that is shorter, and never in a tight
    // loop: a provider handing out tokens that are almost expired must not be hammered.
    const obtainedAt = live.renewedAt || live.signedInAt;
    const lead = Math.min(RENEW_BEFORE_EXPIRY_MS, Math.max(0, (expiresAt - obtainedAt) / 2));
    const renewAt = Math.max(expiresAt - lead, obtainedAt + RENEW_MIN_INTERVAL_MS, this.#autoRenewFailedAt + RENEW_RETRY_MS);
    if (now < renewAt) return renewAt;
    if (decision.phase !== 'active' || this.#renewing || this.#autoRenewPending || !this.#leader?.isLeader()) return null;
    // Not from inside this look: renew() looks at the clock itself.
    this.#autoRenewPending = true;
    queueMicrotask(() => {
      this.renew()
        .catch((error: unknown) => {
          this.#autoRenewFailedAt = this.#now();
          this.#emitError(error, 'RENEW_FAILED', 'automatic renewal failed');
        })
        .finally(() => {
          this.#autoRenewPending = false;
          this.#watchdog?.poke();
        });
    });
    return null;
  }

  /**
   * Input counts if the session was active when it happened. During a warning only
   * `staySignedIn()` extends (the GOV.UK timeout-dialog pattern: moving the mouse must not
   * silently dismiss a warning a screen-reader user has not heard out).
   */
  #applyActivity(live: Live, at: number, local: boolean): void {
    if (at <= live.lastActivityAt) return;
    if (decide(live, at, this.#settings.policy).phase !== 'active') return;
    live.lastActivityAt = at;
    if (local) {
      // The tab where the input happened writes the record and tells the others.
      this.#write(this.#recordOf(live));
      this.#channel?.post({ type: 'activity', sessionId: live.sessionId, at });
    }
    this.#events.emit('activity', { at });
  }

  #publish(live: Live, d: Decision): void {
    this.#set(snapshotOf(live, d, d.phase, d.phase === 'active' ? null : d.reason, live.claims));
  }

  #expire(d: Decision, local = true): void {
    const live = this.#live;
    if (!live) return;
    const reason = d.reason;
    if (local) this.#channel?.post({ type: 'expired', sessionId: live.sessionId, reason });
    void this.#client().forget();
    this.#reauthRequired = true;
    this.#write({ ...this.#recordOf(live), status: 'ended', endedReason: reason, reauthRequired: true });
    this.#end(snapshotOf(live, d, 'expired', reason, null));
    this.#events.emit('expired', { reason });
    switch (this.#settings.onExpired) {
      case 'reauthenticate':
        this.#reauthenticate(live.sessionId);
        break;
      case 'sign-out':
        this.signOut().catch((error: unknown) => this.#emitError(error, 'NETWORK', 'sign-out after expiry failed'));
        break;
      case 'none':
        break;
    }
  }

  /** NHS login: at the end of each period, send the user back through authentication without interaction. */
  #reauthenticate(sessionId: string): void {
    const redirect = () => {
      this.signIn({ prompt: 'login' }).catch((error: unknown) => this.#emitError(error, 'NETWORK', 'could not redirect to sign-in'));
    };
    // Exactly one tab navigates: the one that takes this lock. It holds it until the page
    // unloads; the others show `expired` and take over the session when it comes back.
    const go = () => {
      const locks = (globalThis.navigator as Navigator | undefined)?.locks;
      if (!locks) {
        redirect();
        return;
      }
      void locks.request(`oidc-session-guard|reauth|${this.#key()}|${sessionId}`, { ifAvailable: true }, (lock) => {
        if (!lock || this.#snapshot.status !== 'expired') return undefined;
        redirect();
        return new Promise<void>(() => undefined);
      }).catch(() => undefined);
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
    await this.#client().signinRedirect({
      returnTo: new URL(returnTo, this.#settings.origin).href,
      ...authorizeExtras(profile, { prompt, reauthRequired: this.#reauthRequired, absoluteTimeoutMs: this.#settings.policy.absoluteTimeoutMs }),
    });
  }

  async staySignedIn(): Promise<void> {
    // Look first, with what was true before: a deadline already past is not undone.
    const live = this.#liveNow();
    this.#stay(live, this.#now(), true);
    const { status, reason, expiresAt } = this.#snapshot;
    if (status === 'warning' && isCap(reason)) {
      throw new SessionError('LIMIT_REACHED', `the session ends at its ${String(reason)} limit at ${new Date(expiresAt ?? 0).toISOString()}; only a new sign-in goes further`);
    }
  }

  /** The live session after a fresh look, or the reason there is none: a cap reached, or no session. */
  #liveNow(): Live {
    this.#watchdog?.poke();
    const live = this.#live;
    if (live) return live;
    const { status, reason } = this.#snapshot;
    throw status === 'expired' && isCap(reason)
      ? new SessionError('LIMIT_REACHED', `the session has reached its ${String(reason)} limit`)
      : new SessionError('LOGIN_REQUIRED', 'there is no active session');
  }

  /** "Stay signed in" here or in another tab: activity even during a warning. */
  #stay(live: Live, at: number, local: boolean): void {
    this.#watchdog?.poke();
    if (this.#live !== live) return;
    if (at > live.lastActivityAt) {
      live.lastActivityAt = at;
      if (local) this.#write(this.#recordOf(live));
      this.#events.emit('activity', { at });
    }
    if (local) this.#channel?.post({ type: 'warning-dismissed', sessionId: live.sessionId, at });
    this.#warned = false;
    this.#watchdog?.poke();
  }

  async renew(): Promise<void> {
    // Within the limits only: a renewal never revives a session and never counts as activity.
    const live = this.#liveNow();
    this.#renewing ??= this.#renewOnce(live)
      .finally(() => {
        this.#renewing = null;
      });
    return this.#renewing;
  }

  /** Once the tabs know who renews: this tab, or the leader on its behalf. */
  async #renewOnce(live: Live): Promise<void> {
    const leader = this.#leader ? await this.#leader.decided() : true;
    if (this.#live !== live) throw new SessionError('LOGIN_REQUIRED', 'the session ended before the renewal');
    return leader ? this.#renewHere(live) : this.#renewViaLeader(live);
  }

  /** The leader renews: one refresh request for every tab, its result shared with all. */
  async #renewHere(live: Live): Promise<void> {
    const oidc = this.#client();
    try {
      // The refresh token when the provider issued one; otherwise the iframe. A refresh that
      // fails is not retried another way: the provider has refused this grant.
      const viaRefreshToken = live.tokens.refreshToken !== null;
      const { maxAgeSec } = authorizeExtras(this.#settings.profile, { reauthRequired: false, absoluteTimeoutMs: this.#settings.policy.absoluteTimeoutMs });
      let tokens: TokenSet;
      try {
        tokens = await oidc.refresh(viaRefreshToken ? 'refresh-token' : 'iframe', maxAgeSec);
      } catch (error) {
        // The iframe failed: third-party cookies blocked (login_required, NHS login's
        // sso_login_required) or no answer in time. A top-level redirect with prompt=none
        // sends the provider its cookie; it returns the user to the same page.
        const fallback = !viaRefreshToken && error instanceof SessionError && (error.code === 'LOGIN_REQUIRED' || error.code === 'NETWORK');
        if (fallback && globalThis.document?.visibilityState === 'visible') {
          await oidc.signinRedirect({ returnTo: globalThis.location.href, prompt: 'none', ...(maxAgeSec === undefined ? {} : { maxAgeSec }), renewSessionId: live.sessionId });
          return new Promise<void>(() => undefined); // the page is navigating away
        }
        throw error;
      }
      const now = this.#now();
      let { claims } = live;
      if (tokens.idToken !== live.tokens.idToken) {
        const verified = await this.#verify(tokens.idToken, now);
        if (verified.claims.sub !== live.claims.sub) throw new SessionError('ID_TOKEN_INVALID', 'the renewed ID token is for another user');
        if (this.#live === live) this.#applyAuthTime(live, verified, now);
        claims = verified.claims;
      }
      if (this.#live !== live) throw new SessionError('LOGIN_REQUIRED', 'the session ended during the renewal');
      live.tokens = tokens;
      live.claims = claims;
      live.renewedAt = now;
      this.#idTokenHint = tokens.idToken;
      await this.#writeNow(this.#recordOf(live));
      this.#channel?.post({ type: 'renewed', sessionId: live.sessionId, tokens, claims });
      this.#events.emit('renewed', { accessTokenExpiresAt: tokens.accessTokenExpiresAt });
      this.#watchdog?.poke();
    } catch (error) {
      const failure = error instanceof SessionError ? error : new SessionError('RENEW_FAILED', 'the renewal failed', { cause: error });
      this.#channel?.post({ type: 'renew-failed', sessionId: live.sessionId, code: failure.code });
      throw failure;
    }
  }

  /** Another tab is the renewer: ask it, and wait for the tokens it shares. */
  #renewViaLeader(live: Live): Promise<void> {
    const { clock } = this.#settings;
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clock.clearTimeout(timer);
          resolve();
        },
        reject: (error: SessionError) => {
          clock.clearTimeout(timer);
          reject(error);
        },
      };
      const timer = clock.setTimeout(() => {
        this.#renewWaiters.delete(waiter);
        reject(new SessionError('RENEW_FAILED', 'no tab answered the renewal request in time'));
      }, RENEW_TIMEOUT_MS);
      this.#renewWaiters.add(waiter);
      this.#channel?.post({ type: 'renew-request', sessionId: live.sessionId });
    });
  }

  #settleRenewWaiters(error: SessionError | null): void {
    for (const waiter of [...this.#renewWaiters]) {
      this.#renewWaiters.delete(waiter);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  async #jwks(): Promise<JWTVerifyGetKey> {
    if (!this.#keys) {
      const metadata = await this.#client().metadata();
      this.#keys = this.#deps.keys ?? createRemoteJWKSet(new URL(metadata.jwksUri));
    }
    return this.#keys;
  }

  async getAccessToken(): Promise<string> {
    const live = this.#liveNow();
    const expiresAt = live.tokens.accessTokenExpiresAt;
    if (expiresAt !== null && expiresAt <= this.#now()) {
      throw new SessionError('LOGIN_REQUIRED', 'the access token has expired');
    }
    return live.tokens.accessToken;
  }

  async signOut(): Promise<void> {
    const live = this.#live;
    const idTokenHint = live?.tokens.idToken ?? this.#idTokenHint;
    // Tokens go first, in every tab, so signing out works even when the provider cannot be reached.
    if (live) this.#channel?.post({ type: 'signed-out', sessionId: live.sessionId });
    this.#endSignedOut(live);
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

  /** Ends the session as signed out, here or because another tab signed out: record, tokens, status. */
  #endSignedOut(live: Live | null): void {
    if (live) this.#write({ ...this.#recordOf(live), status: 'ended', endedReason: 'signed_out', reauthRequired: false });
    void this.#client().forget();
    this.#idTokenHint = null;
    this.#reauthRequired = false;
    this.#end(signedOut('signed_out'));
    this.#events.emit('signed-out', { reason: 'signed_out' });
  }

  stop(): void {
    this.#stopped = true;
    this.#untrack();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    void this.#channel?.close();
    this.#channel = null;
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

  /** Names this app's record, channel and locks: one per authority and client. */
  #key(): string {
    return `${this.#settings.authority}|${this.#settings.clientId}`;
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
      providerAuthTime: live.providerAuthTime,
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
    void this.#writeNow(record);
  }

  async #writeNow(record: SessionRecord): Promise<void> {
    const store = this.#store;
    if (!store) return;
    try {
      await store.set(record);
    } catch (error) {
      this.#fallBackToMemory(error);
      await this.#store?.set(record);
    }
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

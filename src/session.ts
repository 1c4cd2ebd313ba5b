import type { JWTVerifyGetKey } from 'jose';
import { electLeader, lockLeadership, openChannel, type Leadership, type SessionHandover, type TabChannel } from './channel.js';
import { monotonicTime } from './clock.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { SessionError } from './errors.js';
import { eventsOf, isLive, LOADING, reduce, sameSnapshot, snapshotOf, type Action, type Live, type SessionEvents, type SessionSnapshot, type State, type TokenSet, type WithLive } from './machine.js';
import type { Tracking } from './tracking.js';
import type { ProviderMetadata } from './metadata.js';
import { resolveOptions, type SessionOptions, type Settings } from './options.js';
import type * as Protocol from './protocol/index.js';
import type { ProviderProfile } from './profiles.js';
import type { OidcPort } from './protocol/types.js';
import { assess, believable, closeDatabase, createIdbStore, createMemoryStore, endedRecord, liveRecord, put, recordOf, type RecordStore, type SessionRecord } from './store.js';
import { handoverOf, onTabMessage, TOKEN_REQUEST_TIMEOUT_MS, type TabsHost } from './tabs.js';
import { isSigninResponse, isSignoutResponse, notifyParent } from './urls.js';
import type { Verifier } from './verify.js';

export type { SessionEvents, SessionReason, SessionSnapshot, SessionStatus } from './machine.js';
export { TOKEN_REQUEST_TIMEOUT_MS } from './tabs.js';

/** Arguments of {@link Session.signIn}. */
export interface SignInOptions {
  /** Same-origin URL to land on after sign-in. @default the current page */
  returnTo?: string;
  /** `'login'` forces the provider to authenticate the user again; `'none'` shows no UI. */
  prompt?: 'none' | 'login';
}

/** One user's session in this tab. Create it with {@link createSession}. Every method is bound. */
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
  /** Renews the tokens, within the limits only; one request for all tabs. Never counts as activity. */
  renew(): Promise<void>;
  /** The access token, while the session is inside its limits and the token unexpired. */
  getAccessToken(): Promise<string>;
  /** Forgets the tokens in every tab, then signs out at the provider (end_session with id_token_hint). */
  signOut(): Promise<void>;
  /** Ends everything this session started, even a `start()` in flight; `start()` may be called again. */
  stop(): void;
}

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
  return new SessionImpl(resolveOptions(options), {});
}

/** Parts a test may replace. Not public API. */
export interface SessionDeps {
  readonly protocol?: OidcPort;
  readonly metadata?: ProviderMetadata;
  readonly keys?: JWTVerifyGetKey;
  readonly store?: RecordStore;
  readonly leadership?: (name: string) => Leadership;
}

/** @internal A session with replaced parts, for unit tests. */
export function createSessionWith(options: SessionOptions, deps: SessionDeps): Session {
  return new SessionImpl(resolveOptions(options), deps);
}

/** A redeemed sign-in response, ready to begin. */
interface CallbackResult {
  readonly live: Live;
  readonly returnTo: string | null;
  /** A new session (not the record's, continued after a top-level renewal). */
  readonly fresh: boolean;
}

/** Thrown inside `start()` when `stop()` ended it; never reaches the caller. */
const STOPPED = Symbol('stopped');

/** What one `start()` set up; `stop()` ends all of it. */
interface Run {
  readonly abort: AbortController;
  store: RecordStore;
  channel: TabChannel;
  tracking: Tracking | null;
  cancelExpiry: () => void;
}

/** The live-time chunk (tracking.ts): loaded once there is a session to run, then kept. */
type TrackingLib = typeof import('./tracking.js');
let trackingLib: TrackingLib | null = null;
const loadTracking = (): Promise<TrackingLib> => import('./tracking.js').then((lib) => (trackingLib = lib));

const isCap = (reason: unknown): boolean => reason === 'absolute' || reason === 'session_expiry';

/** The absolute limit or session_expiry ends (or ended) the session: only a new sign-in goes further. */
const limitReached = (reason: string) => new SessionError('LIMIT_REACHED', `the session's ${reason} limit cannot be extended: sign in again`);

class SessionImpl implements Session {
  readonly #settings: Settings;
  readonly #deps: SessionDeps;
  readonly #events: Emitter<SessionEvents>;
  readonly #changes: Emitter<{ change: SessionSnapshot }>;
  readonly #now: () => number;
  readonly #key: string;
  #state: State = LOADING;
  #snapshot: SessionSnapshot = snapshotOf(LOADING);
  #run: Run | null = null;
  #starting: Promise<SessionSnapshot> | null = null;
  /** Aborted by stop(): ends the start() in flight. */
  #abort: AbortController | null = null;
  /** A redirect callback in progress; survives `stop()`, since its code can be redeemed once only. */
  #callback: Promise<CallbackResult> | null = null;
  /** The live session when `stop()` was called: `start()` takes it up again if the record agrees. */
  #held: Live | null = null;
  /** Kept after expiry, until sign-out, so end-session still gets its hint. */
  #idTokenHint: string | null = null;
  /** The last session hit a limit (known in this tab): the next sign-in must authenticate again. */
  #reauthRequired = false;
  #verifier: Promise<{ verifier: Verifier; metadata: ProviderMetadata; profile: ProviderProfile }> | null = null;
  #protocol: Promise<{ lib: typeof Protocol; ctx: Protocol.FlowContext }> | null = null;
  /** What transitions have still to do, in order: notify, then the work each asked for. */
  #queue: (() => void)[] = [];
  #notifying = false;

  constructor(settings: Settings, deps: SessionDeps) {
    this.#settings = settings;
    this.#deps = deps;
    this.#now = monotonicTime(settings.clock);
    this.#key = `${settings.authority}|${settings.clientId}`;
    const report = (error: unknown) => {
      // A listener's exception must not break the session or the other listeners.
      queueMicrotask(() => {
        throw error;
      });
    };
    this.#events = new Emitter(report);
    this.#changes = new Emitter(report);
    // Public methods are bound: `const { signIn } = session` works.
    for (const name of ['start', 'getSnapshot', 'subscribe', 'on', 'signIn', 'staySignedIn', 'renew', 'getAccessToken', 'signOut', 'stop'] as const) {
      Object.defineProperty(this, name, { value: (this[name] as (...args: unknown[]) => unknown).bind(this) });
    }
  }

  getSnapshot(): SessionSnapshot {
    return this.#snapshot;
  }

  subscribe(fn: (snapshot: SessionSnapshot) => void): Unsubscribe {
    return this.#changes.on('change', fn);
  }

  on<K extends keyof SessionEvents>(type: K, fn: (payload: SessionEvents[K]) => void): Unsubscribe {
    return this.#events.on(type, fn);
  }

  // ---- the one place state changes ----

  #dispatch(action: Action): void {
    const prev = this.#state;
    const next = reduce(prev, action, this.#settings.policy);
    if (next === prev) return;
    this.#state = next;
    const work: (() => void)[] = [];
    this.#effects(prev, next, action, work);
    const snapshot = snapshotOf(next);
    const notes: (() => void)[] = [];
    if (!sameSnapshot(this.#snapshot, snapshot)) {
      this.#snapshot = snapshot;
      // Lets an app hide content with CSS the moment the session ends: [data-session-status="expired"].
      if (typeof document !== 'undefined') document.documentElement.dataset.sessionStatus = snapshot.status;
      notes.push(() => this.#changes.emit('change', snapshot));
    }
    for (const [type, payload] of eventsOf(prev, next, 'now' in action ? action.now : this.#now())) notes.push(() => this.#events.emit(type, payload as never));
    this.#queue.push(...notes, ...work);
    // The outermost dispatch notifies, in order: a listener that changes the state again
    // (staySignedIn() on `warning`) has its notifications after the ones already due.
    if (this.#notifying) return;
    this.#notifying = true;
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) job();
    } finally {
      this.#notifying = false;
    }
  }

  /** The I/O a transition implies: tracking, the shared record, the other tabs, `onExpired`. */
  #effects(prev: State, next: State, action: Action, work: (() => void)[]): void {
    const run = this.#run;
    const before = 'live' in prev ? prev.live : null;
    const after = 'live' in next ? next.live : null;
    const tracked = run?.tracking?.sessionId ?? null;
    if (!isLive(next) || tracked !== after?.sessionId) this.#untrack();
    // A live change moves the deadlines (activity, a renewal): the watchdog looks again and
    // reschedules ("Stay signed in" during a warning brings the next warning before the end
    // it waited for). A look that changes nothing more stops there.
    if (run && isLive(next)) work.push(run.tracking ? run.tracking.poke : this.#track(run, next.live.sessionId));
    if (next.status !== 'expired') {
      run?.cancelExpiry();
      if (run) run.cancelExpiry = () => undefined;
    }
    if (!run || !after) return;
    if (action.type === 'activity' && !action.remote && before && after.lastActivityAt > before.lastActivityAt) {
      // The tab where the input happened writes the record and tells the others.
      this.#write(run, recordOf(after));
      // "Stay signed in" that ended a warning ends it in every tab; anything else is activity.
      const type = action.stay && next.status === 'active' ? 'warning-dismissed' : 'activity';
      run.channel.post({ type, sessionId: after.sessionId, at: after.lastActivityAt });
    }
    if (next.status === 'expired' && prev.status !== 'expired') {
      this.#reauthRequired = true;
      this.#write(run, endedRecord(after, next.reason));
      if (!(action.type === 'expire' && action.remote)) run.channel.post({ type: 'expired', sessionId: after.sessionId, reason: next.reason });
      // Only a session that was live: one that arrives already past a limit (a provider that
      // ignored prompt=login / max_age=0) would send the user round again and again.
      if (this.#settings.onExpired !== 'none' && isLive(prev)) {
        const lockName = `oidc-session-guard|reauth|${this.#key}|${after.sessionId}`;
        const locks = (globalThis.navigator as Navigator | undefined)?.locks;
        // One-time claims: a tab that does not get the lock at once must not get it when the winner unloads.
        const claimLock = () => (locks ? lockLeadership(locks, lockName, false) : null);
        // A visible tab claims the redirect now, when every tab sees the expiry at once; the
        // protocol, which each tab loads in its own time, comes after.
        const claim = this.#settings.onExpired === 'reauthenticate' && document.visibilityState === 'visible' ? claimLock() : null;
        work.push(() => this.#afterExpiry(run, claimLock, claim));
      }
    }
  }

  /** Carries out `onExpired` (the protocol chunk: it signs in or out); cancelled if the session comes back. */
  #afterExpiry(run: Run, claimLock: () => Leadership | null, claim: Leadership | null): void {
    const stillExpired = () => this.#state.status === 'expired' && this.#run === run;
    run.cancelExpiry = () => claim?.close();
    this.#flows().then(({ lib }) => {
      if (!stillExpired()) return claim?.close();
      run.cancelExpiry = lib.afterExpiry(this.#settings.onExpired, {
        claim: claimLock,
        stillExpired,
        reauthenticate: () => this.signIn({ prompt: 'login' }).catch((error: unknown) => {
          this.#emitError(error, 'NETWORK', 'onExpired');
          throw error;
        }),
        signOut: () => this.signOut().catch((error: unknown) => this.#emitError(error, 'NETWORK', 'onExpired')),
      }, claim);
    }, (error: unknown) => {
      claim?.close();
      this.#emitError(error, 'NETWORK', 'onExpired');
    });
  }

  // ---- lifecycle ----

  start(): Promise<SessionSnapshot> {
    if (!this.#starting) {
      // Made here, synchronously: a stop() right after start() must reach it.
      this.#abort = new AbortController();
      this.#starting = this.#start(this.#abort);
    }
    return this.#starting;
  }

  async #start(abort: AbortController): Promise<SessionSnapshot> {
    const url = new URL(globalThis.location.href);
    if (globalThis.parent !== globalThis.window && isSigninResponse(url, this.#settings.redirectUri)) {
      // The hidden iframe of a silent renewal: hand the response to the parent and stop.
      notifyParent(url.href);
      return this.#snapshot;
    }
    const stopGuard = () => {
      if (abort.signal.aborted) throw STOPPED;
    };
    try {
      const channel = await openChannel(`oidc-session-guard|${this.#key}`, { now: this.#now, clock: this.#settings.clock });
      if (abort.signal.aborted) {
        channel.close();
        return this.#snapshot;
      }
      const run: Run = { abort, store: this.#deps.store ?? createIdbStore(this.#key, this.#settings.clock), channel, tracking: null, cancelExpiry: () => undefined };
      this.#run = run;
      const host = this.#tabsHost(run);
      channel.onMessage((message) => onTabMessage(message, host));
      await this.#open(run, url, stopGuard);
    } catch (error) {
      if (error === STOPPED || abort.signal.aborted) return this.#snapshot;
      const pastExpiry = error instanceof SessionError && error.code === 'LIMIT_REACHED';
      this.#dispatch({ type: 'signed-out', reason: pastExpiry ? 'session_expiry' : 'error' });
      throw error;
    } finally {
      void this.#protocol?.then(({ ctx }) => ctx.port.clearStaleState()).catch(() => undefined);
    }
    return this.#snapshot;
  }

  /** What the page is: the return from sign-in, from sign-out, or any other page. */
  async #open(run: Run, url: URL, stopGuard: () => void): Promise<void> {
    if (this.#callback || isSigninResponse(url, this.#settings.redirectUri)) {
      this.#callback ??= this.#flows().then(({ lib, ctx }) => lib.completeSignin(ctx, url, globalThis.crypto.randomUUID()));
      let result: CallbackResult;
      try {
        result = await this.#callback;
      } catch (error) {
        if (!run.abort.signal.aborted) this.#callback = null;
        // The provider did not authenticate the user (recently enough), or its token proves no
        // authentication (an impossible auth_time): the next sign-in must authenticate.
        if (error instanceof SessionError && (error.code === 'LOGIN_REQUIRED' || error.code === 'ID_TOKEN_INVALID')) this.#reauthRequired = true;
        throw error;
      }
      stopGuard();
      this.#callback = null;
      await this.#begin(run, result.live, stopGuard, result.fresh);
      if (result.returnTo) globalThis.history.replaceState(globalThis.history.state, '', result.returnTo);
      return;
    }
    if (isSignoutResponse(url, this.#settings.postLogoutRedirectUri)) {
      const { lib, ctx } = await this.#flows();
      await lib.completeSignout(ctx, url);
      stopGuard();
      this.#dispatch({ type: 'signed-out', reason: 'signed_out' });
      return;
    }
    await this.#restore(run, stopGuard);
  }

  /** Reads the shared record: a session that hit a limit while no tab looked is ended now. */
  async #restore(run: Run, stopGuard: () => void): Promise<void> {
    const stored = await this.#read(run);
    stopGuard();
    const found = assess(stored, this.#now(), this.#settings.policy);
    if (!found.live) {
      this.#reauthRequired = found.reauth;
      if (found.end) this.#write(run, found.end);
      this.#dispatch({ type: 'signed-out', reason: found.reason });
      return;
    }
    const record = found.live;
    // Inside its limits, but tokens live in memory only: this tab's own from before stop(),
    // else a live tab's, else a silent renewal.
    const ask = () => {
      const requestId = globalThis.crypto.randomUUID();
      return run.channel.request({ type: 'token-request', sessionId: record.sessionId, requestId },
        (m) => (m.type === 'token-offer' && m.requestId === requestId ? m : undefined), TOKEN_REQUEST_TIMEOUT_MS);
    };
    const held = this.#held;
    this.#held = null;
    if (held?.sessionId === record.sessionId && held.providerAuthTime === record.providerAuthTime) {
      // This tab's own tokens from before stop(), for the same authentication: at once, then a
      // live tab's, which may be newer. The earlier authTime of the two counts.
      await this.#begin(run, { ...held, after: null, lastActivityAt: Math.max(held.lastActivityAt, record.lastActivityAt), authTime: Math.min(held.authTime, record.authTime) }, stopGuard);
      void ask().then((offer) => offer && this.#tookRenewal(run, offer.tokens)).catch(this.#reportTaken);
      return;
    }
    const handover = await ask();
    stopGuard();
    // A hand-over that fails verification (forged, or keys out of reach) is reported; the tab goes on without it.
    if (handover && (await this.#adopt(run, handover).catch((error: unknown) => this.#emitError(error, 'ID_TOKEN_INVALID', 'hand-over')))) return;
    stopGuard();
    // No live tab: the hidden iframe's prompt=none, only while the record is inside its limits.
    let live: Live;
    try {
      const { lib, ctx } = await this.#flows();
      live = await lib.restoreSilently(ctx, record.sessionId, run.abort.signal);
    } catch (error) {
      stopGuard();
      const code = error instanceof SessionError ? error.code : null;
      // A record the provider's token contradicts (a newer authentication than it knows) is
      // not believed: the session ends here and everywhere, and the next sign-in authenticates.
      if (code === 'ID_TOKEN_INVALID') {
        this.#reauthRequired = true;
        this.#write(run, { ...record, status: 'ended', endedReason: 'error', reauthRequired: true });
      }
      // The provider session is gone or unreachable from the iframe: the user signs in.
      if (code !== 'LOGIN_REQUIRED') this.#emitError(error, 'RENEW_FAILED', 'silent renewal');
      this.#dispatch({ type: 'signed-out', reason: code === 'ID_TOKEN_INVALID' ? 'error' : null });
      return;
    }
    stopGuard();
    await this.#begin(run, live, stopGuard);
  }

  /** Makes `live` this tab's session: the record first (other tabs check hand-overs against it), then the state, then the other tabs. */
  async #begin(run: Run, live: Live, stopGuard: () => void, fresh?: boolean): Promise<void> {
    // Only a new sign-in here replaces another session's record: a restore does not.
    await Promise.all([this.#writeNow(run, recordOf(live), fresh), loadTracking()]);
    stopGuard();
    if (this.#take(live)) run.channel.post({ type: 'signed-in', ...handoverOf(live) });
  }

  /** Makes `live` the session here (a new sign-in clears "must reauthenticate"); whether it is live. */
  #take(live: Live): boolean {
    this.#reauthRequired = false;
    this.#idTokenHint = live.tokens.idToken;
    this.#dispatch({ type: 'begin', live, now: this.#now() });
    return this.#holds(live.sessionId);
  }

  /**
   * Takes over a session another tab holds, once its ID token is verified here and matches
   * the shared record (its user, its authentication); timing comes from the record.
   */
  async #adopt(run: Run, handover: SessionHandover): Promise<boolean> {
    // Without a shared record (IndexedDB unavailable) the handing tab's timing is all there is.
    const shared = run.store.kind === 'indexeddb';
    const record = async () => (shared ? this.#recordOf(run, handover.sessionId) : null);
    const first = await record();
    if ((shared && !first) || this.#run !== run) return false;
    const [{ verifier }] = await Promise.all([this.#loadVerifier(), loadTracking()]);
    const state = this.#state;
    const live = await verifier.adopt(handover, first, 'live' in state ? state.live : null, this.#now());
    // The record again: the session may have been signed out or expired while this tab verified.
    if ((shared && !(await record())) || this.#run !== run) return false;
    return this.#holds(handover.sessionId) || this.#take(live);
  }

  stop(): void {
    const run = this.#run;
    const state = this.#state;
    this.#held = isLive(state) ? state.live : this.#held;
    this.#starting = null;
    this.#abort?.abort();
    this.#abort = null;
    // Back to loading through the one path: tracking ends, subscribers hear of it.
    this.#dispatch({ type: 'stop' });
    if (run) {
      run.cancelExpiry();
      run.channel.close();
      this.#run = null;
    }
    if (typeof document !== 'undefined') delete document.documentElement.dataset.sessionStatus;
  }

  // ---- tracking while live (a lazy chunk: tracking.ts) ----

  /** Starts live time for session `sessionId` (at once when its chunk is loaded); returns the first look. */
  #track(run: Run, sessionId: string): () => void {
    const start = (lib: TrackingLib) => {
      if (this.#run !== run || run.tracking || !this.#holds(sessionId)) return;
      run.tracking = lib.startTracking({
        sessionId,
        settings: this.#settings,
        now: this.#now,
        store: () => run.store,
        elect: this.#deps.leadership ?? electLeader,
        leaderName: `oidc-session-guard|${this.#key}`,
        post: (message) => run.channel.post(message),
        state: () => this.#state,
        next: (action) => reduce(this.#state, action, this.#settings.policy),
        dispatch: (action) => this.#dispatch(action),
        believable,
        renew: () => this.renew(),
        signedOut: (live, reason) => this.#endSignedOut(live, reason),
        replaced: () => {
          this.#dispatch({ type: 'signed-out', reason: null });
          this.#restore(run, () => {
            if (this.#run !== run) throw STOPPED;
          }).catch(() => undefined);
        },
        error: (error, code, what) => this.#emitError(error, code, what),
        closeDatabase,
      });
    };
    if (trackingLib) start(trackingLib);
    else void loadTracking().then((lib) => {
      start(lib);
      run.tracking?.poke();
    }, (error: unknown) => this.#emitError(error, 'NETWORK', 'tracking'));
    // The first look, once this transition's events are out.
    return () => run.tracking?.poke();
  }

  #untrack(): void {
    const tracking = this.#run?.tracking;
    if (!tracking) return;
    this.#run!.tracking = null;
    tracking.stop();
  }

  /** Looks now: through the watchdog while tracking (it also takes pending input and reschedules). */
  #lookNow(): void {
    const tracking = this.#run?.tracking;
    if (tracking) tracking.poke();
    else this.#dispatch({ type: 'look', now: this.#now() });
  }

  /**
   * The live session after a fresh look (and the read of the shared record a deadline may
   * wait for), or the error that says why there is none.
   */
  async #liveNow(): Promise<Live> {
    this.#lookNow();
    // Looked at again once read (watchRecord looks after each read).
    await this.#run?.tracking?.settled();
    const state = this.#state;
    if (isLive(state)) return state.live;
    throw state.status === 'expired' && isCap(state.reason) ? limitReached(state.reason) : new SessionError('LOGIN_REQUIRED', 'there is no active session');
  }

  // ---- public methods ----

  async signIn(options: SignInOptions = {}): Promise<void> {
    const reauthRequired = await this.#mustReauthenticate();
    const { lib, ctx } = await this.#flows();
    await lib.signIn(ctx, options, reauthRequired, false, this.#state);
  }

  /**
   * Whether the next sign-in must authenticate again: this tab knows a limit was reached,
   * or the shared record says so, does not parse, or holds a session past its limits. Read
   * even before `start()`, so a page that signs in first still obeys it.
   */
  async #mustReauthenticate(): Promise<boolean> {
    if (this.#reauthRequired) return true;
    if (isLive(this.#state)) return false;
    try {
      const stored = await (this.#run?.store ?? this.#deps.store ?? createIdbStore(this.#key, this.#settings.clock)).get();
      const found = assess(stored, this.#now(), this.#settings.policy);
      return !found.live && found.reauth;
    } catch {
      return false; // no shared record to read: this tab's own knowledge is all there is
    }
  }

  async staySignedIn(): Promise<void> {
    // Look first, with what was true before: a deadline already past is not undone.
    await this.#liveNow();
    const now = this.#now();
    this.#dispatch({ type: 'activity', at: now, now, stay: true, remote: false });
    const state = this.#state;
    if (state.status === 'warning' && isCap(state.decision.reason)) throw limitReached(state.decision.reason);
  }

  async renew(): Promise<void> {
    // Within the limits only: a renewal never revives a session and never counts as activity.
    const live = await this.#liveNow();
    const run = this.#run!;
    // Live time (and its renewal window) starts with its chunk; a session that ended meanwhile has none.
    await loadTracking();
    const tracking = run.tracking;
    if (!tracking || !this.#holds(live.sessionId)) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
    return tracking.renewals.ask(() => this.#renewNow(run, live, tracking)).done;
  }

  /** One renewal through the protocol: here when this tab leads, else through the tab that does. */
  #renewNow(run: Run, live: Live, tracking: Tracking): Promise<void> {
    return this.#flows().then(({ lib, ctx }) => lib.renew(ctx, {
      live,
      channel: run.channel,
      leads: tracking.leads,
      current: () => (this.#holds(live.sessionId) ? (this.#state as WithLive).live : null),
      signal: tracking.signal,
      take: (tokens) => this.#tookRenewal(run, tokens),
      commit: async (next) => {
        await this.#writeNow(run, recordOf(next));
        this.#idTokenHint = next.tokens.idToken;
        this.#dispatch({ type: 'update', live: next, now: this.#now() });
      },
    }));
  }

  async getAccessToken(): Promise<string> {
    const { tokens } = await this.#liveNow();
    if (tokens.accessTokenExpiresAt !== null && tokens.accessTokenExpiresAt <= this.#now()) {
      throw new SessionError('LOGIN_REQUIRED', 'the access token has expired');
    }
    return tokens.accessToken;
  }

  async signOut(): Promise<void> {
    // A start() in flight must not sign this tab back in afterwards.
    this.#abort?.abort();
    const state = this.#state;
    const live = 'live' in state ? state.live : null;
    const idTokenHint = this.#idTokenHint;
    // Tokens go first, in every tab, so signing out works even when the provider cannot be reached.
    if (live) this.#run?.channel.post({ type: 'signed-out', sessionId: live.sessionId });
    this.#endSignedOut(live);
    try {
      const { lib, ctx } = await this.#flows();
      await lib.signOut(ctx, idTokenHint);
    } catch (error) {
      this.#emitError(error, 'NETWORK', 'sign-out');
      globalThis.location.assign(this.#settings.postLogoutRedirectUri);
    }
  }

  /** Ends the session as signed out (here, in another tab, or at the provider: `remote_logout`): record, tokens, status. */
  #endSignedOut(live: Live | null, reason: 'signed_out' | 'remote_logout' = 'signed_out'): void {
    const run = this.#run;
    // Signing out of a session that hit a limit does not undo it: the next sign-in still authenticates.
    const reauth = this.#reauthRequired || this.#state.status === 'expired';
    if (run && live) this.#write(run, { ...endedRecord(live, reason), reauthRequired: reauth });
    this.#idTokenHint = null;
    this.#reauthRequired = reauth;
    this.#held = null;
    this.#dispatch({ type: 'signed-out', reason });
  }

  // ---- what tab messages may do ----

  #tabsHost(run: Run): TabsHost {
    const here = () => this.#run === run;
    return {
      look: () => {
        if (here()) this.#lookNow();
        return [this.#state, this.#now()];
      },
      dispatch: (action) => here() && this.#dispatch(action),
      post: (message) => run.channel.post(message),
      adopt: (handover) => {
        this.#adopt(run, handover).catch((error: unknown) => this.#emitError(error, 'ID_TOKEN_INVALID', 'hand-over'));
      },
      tookRenewal: (tokens) => {
        this.#tookRenewal(run, tokens).catch(this.#reportTaken);
      },
      renewFor: (live) => {
        const tracking = run.tracking;
        // At most one renewal per window whoever asks (see tracking.ts).
        tracking?.renewFor(live, () => this.#renewNow(run, live, tracking));
      },
      signedOut: (reason) => {
        const state = this.#state;
        this.#endSignedOut('live' in state ? state.live : null, reason);
      },
    };
  }

  /**
   * Tokens another tab renewed, taken once their ID token is verified here: this user's, not
   * older than the one held, claims from it; a newer auth_time restarts the limits. Anything
   * else is dropped (and reported): nothing about the session changes.
   */
  #tookRenewal(run: Run, tokens: TokenSet): Promise<void> {
    const state = this.#state;
    if (!isLive(state)) return Promise.resolve();
    const held = state.live;
    return this.#loadVerifier().then(({ verifier }) => verifier.renewed(held, tokens, this.#now())).then((next) => {
      // Only onto the tokens it was checked against: a renewal taken meanwhile is not undone.
      if (this.#run !== run || (this.#state as Partial<WithLive>).live?.tokens !== held.tokens) return;
      this.#idTokenHint = next.tokens.idToken;
      this.#dispatch({ type: 'update', live: next, now: this.#now() });
    });
  }

  #reportTaken = (error: unknown) => this.#emitError(error, 'ID_TOKEN_INVALID', 'renewal');

  // ---- lazy parts ----

  /** The verification chunk (jose) and the provider's metadata, loaded on first need; keys are cached in it. */
  #loadVerifier(): Promise<{ verifier: Verifier; metadata: ProviderMetadata; profile: ProviderProfile }> {
    this.#verifier ??= import('./verify.js').then((lib) => lib.verifierFor(this.#settings, this.#deps.keys, this.#deps.metadata));
    return this.#retryable(this.#verifier, () => (this.#verifier = null));
  }

  /** The protocol chunk (oidc-client-ts) and the flows that use it, loaded on first need. */
  #flows(): Promise<{ lib: typeof Protocol; ctx: Protocol.FlowContext }> {
    this.#protocol ??= (async () => {
      const [lib, { verifier, metadata, profile }] = await Promise.all([import('./protocol/index.js'), this.#loadVerifier()]);
      const settings = this.#settings;
      const port = this.#deps.protocol ?? lib.createProtocol(settings, metadata, settings.clock, this.#now, profile);
      const record = async (sessionId: string) => (this.#run ? this.#recordOf(this.#run, sessionId) : null);
      return { lib, ctx: { port, verifier, settings, profile, now: this.#now, endSession: metadata.endSessionEndpoint, liveRecord: record, store: () => this.#run?.store ?? null } };
    })();
    return this.#retryable(this.#protocol, () => (this.#protocol = null));
  }

  /** A lazy load that failed (offline) is tried again next time. */
  #retryable<T>(promise: Promise<T>, forget: () => void): Promise<T> {
    promise.catch(forget);
    return promise;
  }

  // ---- the shared record ----

  /** The shared record, if it is of session `sessionId`, believable, active and inside its limits now. */
  async #recordOf(run: Run, sessionId: string): Promise<SessionRecord | null> {
    return liveRecord(await this.#read(run), this.#now(), this.#settings.policy, sessionId);
  }

  async #read(run: Run): Promise<unknown> {
    try {
      return await run.store.get();
    } catch (error) {
      this.#fallBackToMemory(run, error);
      return undefined;
    }
  }

  #write(run: Run, record: SessionRecord): void {
    void this.#writeNow(run, record);
  }

  async #writeNow(run: Run, record: SessionRecord, begin?: boolean): Promise<void> {
    try {
      await put(run.store, record, begin);
    } catch (error) {
      this.#fallBackToMemory(run, error);
      await put(run.store, record, begin);
    }
  }

  /** IndexedDB failed: keep enforcing the limits in this tab, from memory, and say so (while this run is the session's). */
  #fallBackToMemory(run: Run, error: unknown): void {
    if (run.store.kind === 'memory') return;
    run.store = createMemoryStore();
    if (this.#run === run) this.#events.emit('error', new SessionError('STORAGE', 'IndexedDB is unavailable: the session is kept in this tab only', { cause: error }));
  }

  // ---- small helpers ----

  #holds(sessionId: string): boolean {
    const state = this.#state;
    return isLive(state) && state.live.sessionId === sessionId;
  }

  /** Reports a failure of background work (`what`) as an `error` event; a SessionError as it is. */
  #emitError(error: unknown, code: SessionError['code'], what: string): void {
    this.#events.emit('error', error instanceof SessionError ? error : new SessionError(code, `${what} failed`, { cause: error }));
  }

}

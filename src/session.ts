import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { Emitter, type Unsubscribe } from './emitter.js';
import { SessionError } from './errors.js';
import { OidcAdapter, type TokenSet } from './oidc.js';
import { resolveOptions, type SessionOptions, type Settings } from './options.js';
import { decide, type LimitReason } from './policy.js';
import { verifyIdToken, type VerifiedIdToken } from './verify.js';

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
  /** The verified ID token's claims. */
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
  /** Finishes a redirect callback if on redirectUri, then settles the status. Rejects with the callback's SessionError. */
  start(): Promise<SessionSnapshot>;
  /** The current snapshot; the same object until something changes. */
  getSnapshot(): SessionSnapshot;
  /** Calls `fn` with the new snapshot on every change. */
  subscribe(fn: (snapshot: SessionSnapshot) => void): Unsubscribe;
  /** Listens to one named event. */
  on<K extends keyof SessionEvents>(type: K, fn: (payload: SessionEvents[K]) => void): Unsubscribe;
  /** Redirects to the provider to sign in (authorization code + PKCE). */
  signIn(options?: SignInOptions): Promise<void>;
  /** The access token, while the session is active and the token unexpired. */
  getAccessToken(): Promise<string>;
  /** Forgets the tokens, then signs out at the provider (end_session with id_token_hint). */
  signOut(): Promise<void>;
  /** Removes every listener, timer and channel. */
  stop(): void;
}

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

interface Signed {
  readonly tokens: TokenSet;
  readonly verified: VerifiedIdToken;
  readonly authTime: number;
  readonly lastActivityAt: number;
}

class SessionImpl implements Session {
  readonly #settings: Settings;
  readonly #events: Emitter<SessionEvents>;
  readonly #changes: Emitter<{ change: SessionSnapshot }>;
  #snapshot: SessionSnapshot = LOADING;
  #oidc: OidcAdapter | null = null;
  #keys: JWTVerifyGetKey | null = null;
  #signed: Signed | null = null;
  #starting: Promise<SessionSnapshot> | null = null;

  constructor(settings: Settings) {
    this.#settings = settings;
    const report = (error: unknown) => {
      // A listener's exception must not break the session or the other listeners.
      queueMicrotask(() => { throw error; });
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
    try {
      if (oidc.isSigninResponse(url)) {
        await this.#completeSignin(oidc, url);
      } else if (await oidc.isSignoutResponse(url)) {
        await oidc.completeSignout(url);
        globalThis.history.replaceState(globalThis.history.state, '', this.#settings.postLogoutRedirectUri);
        this.#set(signedOut('signed_out'));
      } else {
        this.#set(signedOut(null));
      }
    } catch (error) {
      this.#forget();
      this.#set(signedOut('error'));
      throw error;
    } finally {
      void oidc.clearStaleState().catch(() => undefined);
    }
    return this.#snapshot;
  }

  async #completeSignin(oidc: OidcAdapter, url: URL): Promise<void> {
    // Drop code and state from the address bar whatever happens: they are single-use.
    const cleanUrl = new URL(url.pathname, url.origin).href;
    let result: Awaited<ReturnType<OidcAdapter['completeSignin']>>;
    try {
      result = await oidc.completeSignin(url);
    } finally {
      globalThis.history.replaceState(globalThis.history.state, '', cleanUrl);
    }
    const metadata = await oidc.metadata();
    this.#keys ??= createRemoteJWKSet(new URL(metadata.jwksUri));
    const now = this.#settings.clock.now();
    const verified = await verifyIdToken(result.tokens.idToken, {
      issuer: this.#settings.authority,
      audience: this.#settings.clientId,
      keys: this.#keys,
      algorithms: this.#settings.profile.idTokenAlgorithms,
      now,
    });
    if (verified.sessionExpiresAt !== null && verified.sessionExpiresAt <= now) {
      // The Broker: services must not create new sessions from the ID token after session_expiry.
      throw new SessionError('LIMIT_REACHED', 'the provider\'s session_expiry has already passed');
    }
    // Missing auth_time: the absolute limit counts from sign-in completion, never "no limit".
    const authTime = verified.authTime ?? now;
    this.#signed = { tokens: result.tokens, verified, authTime, lastActivityAt: now };
    this.#refresh();
    this.#events.emit('signed-in', { claims: verified.claims });
    if (result.returnTo && this.#isSameOrigin(result.returnTo)) {
      globalThis.history.replaceState(globalThis.history.state, '', result.returnTo);
    }
  }

  #refresh(): void {
    const signed = this.#signed;
    if (!signed) return;
    const d = decide(
      { authTime: signed.authTime, lastActivityAt: signed.lastActivityAt, sessionExpiresAt: signed.verified.sessionExpiresAt },
      this.#settings.clock.now(),
      this.#settings.policy,
    );
    this.#set(Object.freeze({
      status: d.phase,
      reason: d.phase === 'active' ? null : d.reason,
      expiresAt: d.expiresAt,
      idleExpiresAt: d.idleExpiresAt,
      absoluteExpiresAt: d.absoluteExpiresAt,
      sessionExpiresAt: d.sessionExpiresAt,
      authTime: signed.authTime,
      lastActivityAt: signed.lastActivityAt,
      claims: signed.verified.claims,
    }));
  }

  async signIn(options: SignInOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" of signIn must be an object');
    const returnTo = options.returnTo ?? globalThis.location.href;
    if (typeof returnTo !== 'string') throw new TypeError('"returnTo" must be a string');
    if (!this.#isSameOrigin(returnTo)) {
      throw new SessionError('REDIRECT_REFUSED', `"returnTo" must be on this app's origin (${this.#settings.origin}); got '${returnTo}'`);
    }
    const { prompt } = options;
    if (prompt !== undefined && !this.#settings.profile.promptValues.includes(prompt)) {
      throw new TypeError(`"prompt" must be one of ${this.#settings.profile.promptValues.map((p) => `'${p}'`).join(', ')}; got ${JSON.stringify(prompt)}`);
    }
    await this.#client().signinRedirect({ returnTo: new URL(returnTo, this.#settings.origin).href, ...(prompt ? { prompt } : {}) });
  }

  async getAccessToken(): Promise<string> {
    const signed = this.#signed;
    const status = this.#snapshot.status;
    if (!signed || (status !== 'active' && status !== 'warning')) {
      throw new SessionError('LOGIN_REQUIRED', 'there is no active session');
    }
    const expiresAt = signed.tokens.accessTokenExpiresAt;
    if (expiresAt !== null && expiresAt <= this.#settings.clock.now()) {
      throw new SessionError('LOGIN_REQUIRED', 'the access token has expired');
    }
    return signed.tokens.accessToken;
  }

  async signOut(): Promise<void> {
    const idTokenHint = this.#signed?.tokens.idToken ?? null;
    // Tokens go first, so signing out works even when the provider cannot be reached.
    this.#forget();
    this.#set(signedOut('signed_out'));
    this.#events.emit('signed-out', { reason: 'signed_out' });
    const oidc = this.#client();
    let endSession: string | null = null;
    try {
      endSession = (await oidc.metadata()).endSessionEndpoint;
    } catch (error) {
      this.#events.emit('error', error instanceof SessionError ? error : new SessionError('NETWORK', 'could not load the provider\'s metadata', { cause: error }));
    }
    const hintRequired = this.#settings.profile.endSessionRequiresIdTokenHint;
    if (endSession && (idTokenHint || !hintRequired)) {
      await oidc.signoutRedirect(idTokenHint);
    } else {
      globalThis.location.assign(this.#settings.postLogoutRedirectUri);
    }
  }

  stop(): void {
    this.#events.clear();
    this.#changes.clear();
  }

  #client(): OidcAdapter {
    this.#oidc ??= new OidcAdapter(this.#settings);
    return this.#oidc;
  }

  #forget(): void {
    this.#signed = null;
  }

  #isSameOrigin(target: string): boolean {
    try {
      return new URL(target, this.#settings.origin).origin === this.#settings.origin;
    } catch {
      return false;
    }
  }

  #set(next: SessionSnapshot): void {
    const prev = this.#snapshot;
    if (sameSnapshot(prev, next)) return;
    this.#snapshot = next;
    this.#changes.emit('change', next);
  }
}

function sameSnapshot(a: SessionSnapshot, b: SessionSnapshot): boolean {
  return (Object.keys(a) as (keyof SessionSnapshot)[]).every((key) => a[key] === b[key]);
}

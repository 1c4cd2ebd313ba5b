import { ErrorResponse, ErrorTimeout, InMemoryWebStorage, User, UserManager, WebStorageStateStore } from 'oidc-client-ts';
import { SessionError } from './errors.js';
import type { Settings } from './options.js';

/** Tokens of one sign-in. Held in memory only, never in Web Storage or IndexedDB. */
export interface TokenSet {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string | null;
  /** Access token expiry, epoch ms, or null when the provider did not say. */
  readonly accessTokenExpiresAt: number | null;
}

/** The provider metadata the SDK relies on. */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly endSessionEndpoint: string | null;
}

/** Parameters of one authorize redirect. */
export interface AuthorizeRequest {
  /** Same-origin URL to land on after the callback. */
  readonly returnTo: string;
  readonly prompt?: 'none' | 'login';
  readonly maxAgeSec?: number;
  /** Set when this redirect is a silent renewal of that session (the iframe could not do it). */
  readonly renewSessionId?: string;
}

/** A completed sign-in response. */
export interface SigninResult {
  readonly tokens: TokenSet;
  readonly returnTo: string | null;
  /** The session this response renews, when it came back from a silent renewal redirect. */
  readonly renewSessionId: string | null;
}

/** The protocol operations the session needs; {@link OidcAdapter} is the real one. */
export interface OidcPort {
  metadata(): Promise<ProviderMetadata>;
  isSigninResponse(url: URL): boolean;
  signinRedirect(request: AuthorizeRequest): Promise<void>;
  completeSignin(url: URL): Promise<SigninResult>;
  /** In the hidden iframe of a silent renewal: hands the response to the parent window. */
  completeSilentSignin(url: URL): Promise<void>;
  isSignoutResponse(url: URL): Promise<boolean>;
  completeSignout(url: URL): Promise<void>;
  signoutRedirect(idTokenHint: string | null): Promise<void>;
  clearStaleState(): Promise<void>;
  /** Hands tokens received from another tab to the protocol layer (memory only). */
  setTokens(tokens: TokenSet, claims: Readonly<Record<string, unknown>>): Promise<void>;
  /**
   * Renews silently: `'refresh-token'` with the refresh token held, `'iframe'` in a hidden
   * iframe with `prompt=none` (and `max_age` when given). The new ID token is NOT verified here.
   */
  refresh(path: 'refresh-token' | 'iframe', maxAgeSec?: number): Promise<TokenSet>;
  /** Forgets the tokens held by the protocol layer. */
  forget(): Promise<void>;
}

// PKCE verifier and state survive the redirect in sessionStorage: per tab, gone with it,
// and they are not tokens. Tokens live in memory (InMemoryWebStorage).
const STATE_PREFIX = 'oidc-session-guard.';

/**
 * The protocol side: PKCE redirect and callback through oidc-client-ts, and the
 * end-session URL. Holds no policy. Creating it starts no timer and no listener
 * (automaticSilentRenew and monitorSession are off: the session decides when to renew).
 */
export class OidcAdapter implements OidcPort {
  readonly #settings: Settings;
  readonly #manager: UserManager;
  #metadata: Promise<ProviderMetadata> | null = null;

  constructor(settings: Settings) {
    this.#settings = settings;
    this.#manager = new UserManager({
      authority: settings.authority,
      client_id: settings.clientId,
      redirect_uri: settings.redirectUri,
      post_logout_redirect_uri: settings.postLogoutRedirectUri,
      response_type: 'code',
      scope: settings.scope,
      extraQueryParams: { ...settings.authParams },
      userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
      stateStore: new WebStorageStateStore({ store: globalThis.sessionStorage, prefix: STATE_PREFIX }),
      automaticSilentRenew: false,
      monitorSession: false,
      loadUserInfo: false,
      revokeTokensOnSignout: false,
      // Silent renewal in a hidden iframe comes back to the same redirect URI; start()
      // recognises the frame and hands the response to the parent.
      silent_redirect_uri: settings.redirectUri,
      silentRequestTimeoutInSeconds: 10,
      // NHS login does not support id_token_hint on authorize.
      includeIdTokenInSilentRenew: settings.profile.idTokenHintOnAuthorize,
      // Claims are read from the jose-verified token, not from oidc-client-ts's profile.
      filterProtocolClaims: false,
    });
  }

  /** Discovery metadata, fetched once; its issuer must equal `authority` exactly (OIDC Discovery §4.3). */
  metadata(): Promise<ProviderMetadata> {
    this.#metadata ??= this.#manager.metadataService.getMetadata().then(
      (raw) => {
        if (raw.issuer !== this.#settings.authority) {
          throw new SessionError('INVALID_OPTIONS', `the provider's issuer '${String(raw.issuer)}' is not "options.authority" '${this.#settings.authority}'`);
        }
        if (typeof raw.jwks_uri !== 'string') {
          throw new SessionError('INVALID_OPTIONS', 'the provider\'s metadata has no jwks_uri');
        }
        return { issuer: raw.issuer, jwksUri: raw.jwks_uri, endSessionEndpoint: raw.end_session_endpoint ?? null };
      },
      (error: unknown) => {
        this.#metadata = null;
        throw error instanceof SessionError ? error : new SessionError('NETWORK', 'could not load the provider\'s metadata', { cause: error });
      },
    );
    return this.#metadata;
  }

  /** Whether `url` is a sign-in response: on redirectUri with `state` and `code` or `error`. */
  isSigninResponse(url: URL): boolean {
    const redirect = new URL(this.#settings.redirectUri);
    return url.origin === redirect.origin && url.pathname === redirect.pathname
      && url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
  }

  /** Navigates to the provider's authorize endpoint (PKCE S256, state, nonce). */
  async signinRedirect(request: AuthorizeRequest): Promise<void> {
    await this.metadata();
    try {
      await this.#manager.signinRedirect({
        state: { returnTo: request.returnTo, renewSessionId: request.renewSessionId ?? null },
        nonce: randomToken(),
        redirectMethod: 'assign',
        ...(request.prompt ? { prompt: request.prompt } : {}),
        ...(request.maxAgeSec !== undefined ? { max_age: request.maxAgeSec } : {}),
      });
    } catch (error) {
      throw new SessionError('NETWORK', 'could not start sign-in', { cause: error });
    }
  }

  /** Completes the code exchange; the ID token is NOT verified here. */
  async completeSignin(url: URL): Promise<SigninResult> {
    let user: User;
    try {
      user = await this.#manager.signinRedirectCallback(url.href);
    } catch (error) {
      await this.#manager.removeUser();
      throw this.#mapError(error, 'the sign-in response could not be completed');
    }
    if (!user.id_token) {
      await this.#manager.removeUser();
      throw new SessionError('ID_TOKEN_INVALID', 'the token response has no id_token');
    }
    const state = user.state as { returnTo?: unknown; renewSessionId?: unknown } | undefined;
    return {
      tokens: tokensOf(user, user.id_token),
      returnTo: typeof state?.returnTo === 'string' ? state.returnTo : null,
      renewSessionId: typeof state?.renewSessionId === 'string' ? state.renewSessionId : null,
    };
  }

  async completeSilentSignin(url: URL): Promise<void> {
    await this.#manager.signinSilentCallback(url.href);
  }


  async setTokens(tokens: TokenSet, claims: Readonly<Record<string, unknown>>): Promise<void> {
    await this.#manager.storeUser(new User({
      id_token: tokens.idToken,
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken ?? undefined,
      token_type: 'Bearer',
      scope: this.#settings.scope,
      profile: claims as User['profile'],
      expires_at: tokens.accessTokenExpiresAt === null ? undefined : Math.floor(tokens.accessTokenExpiresAt / 1000),
    }));
  }

  async refresh(path: 'refresh-token' | 'iframe', maxAgeSec?: number): Promise<TokenSet> {
    const current = await this.#manager.getUser();
    // The iframe needs no tokens in hand (a tab restoring a session it does not hold).
    if (path === 'refresh-token' && !current?.refresh_token) throw new SessionError('RENEW_FAILED', 'there is no refresh token');
    let user: User | null;
    try {
      user = await this.#manager.signinSilent(path === 'iframe'
        ? { forceIframeAuth: true, ...(maxAgeSec === undefined ? {} : { max_age: maxAgeSec }) }
        : {});
    } catch (error) {
      throw this.#mapError(error, 'the renewal failed', 'RENEW_FAILED');
    }
    if (!user) throw new SessionError('RENEW_FAILED', 'the renewal returned no tokens');
    // A refresh may omit the ID token; the last one stays the hint for end-session.
    return tokensOf(user, user.id_token ?? current?.id_token ?? '');
  }

  forget(): Promise<void> {
    return this.#manager.removeUser();
  }

  /** Whether `url` is the return from end-session carrying a state this tab stored. */
  async isSignoutResponse(url: URL): Promise<boolean> {
    const target = new URL(this.#settings.postLogoutRedirectUri);
    const state = url.searchParams.get('state');
    if (url.origin !== target.origin || url.pathname !== target.pathname || !state) return false;
    return (await this.#manager.settings.stateStore.get(state)) !== null;
  }

  /** Consumes the stored sign-out state. */
  async completeSignout(url: URL): Promise<void> {
    try {
      await this.#manager.signoutRedirectCallback(url.href);
    } catch (error) {
      throw this.#mapError(error, 'the sign-out response could not be completed');
    }
  }

  /** Navigates to end_session with `id_token_hint`, `post_logout_redirect_uri` and `state`. */
  async signoutRedirect(idTokenHint: string | null): Promise<void> {
    await this.#manager.signoutRedirect({
      ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
      // Round-tripped so the return is recognised and its state consumed (RP-Initiated Logout §2).
      state: { signedOut: true },
      redirectMethod: 'assign',
    });
  }

  /** Removes expired PKCE/state entries left by abandoned sign-ins. */
  clearStaleState(): Promise<void> {
    return this.#manager.clearStaleState();
  }

  #mapError(error: unknown, message: string, fallback: 'CALLBACK_FAILED' | 'RENEW_FAILED' = 'CALLBACK_FAILED'): SessionError {
    if (error instanceof SessionError) return error;
    if (error instanceof ErrorResponse) {
      const code = error.error ?? '';
      const known = this.#settings.profile.loginRequiredErrors.includes(code);
      return new SessionError(known ? 'LOGIN_REQUIRED' : fallback, `${message}: the provider answered '${code}'${error.error_description ? ` (${error.error_description})` : ''}`, { cause: error });
    }
    if (error instanceof ErrorTimeout || (error instanceof TypeError && /fetch/i.test(error.message))) {
      return new SessionError('NETWORK', `${message}: the provider could not be reached`, { cause: error });
    }
    return new SessionError(fallback, `${message}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function tokensOf(user: User, idToken: string): TokenSet {
  return {
    idToken,
    accessToken: user.access_token,
    refreshToken: user.refresh_token ?? null,
    accessTokenExpiresAt: typeof user.expires_at === 'number' ? user.expires_at * 1000 : null,
  };
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

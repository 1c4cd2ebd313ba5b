// The protocol chunk, loaded by one dynamic import() when a redirect, callback, renewal or
// sign-out needs it. The only module that imports oidc-client-ts.
import { ErrorResponse, ErrorTimeout, OidcClient, WebStorageStateStore, type SigninResponse } from 'oidc-client-ts';
import type { Clock } from '../clock.js';
import { SessionError } from '../errors.js';
import type { Claims, TokenSet } from '../machine.js';
import { FRAME_MESSAGE_SOURCE, REQUEST_TIMEOUT_MS, STATE_PREFIX, within } from '../constants.js';
import type { ProviderMetadata } from '../metadata.js';
import type { Settings } from '../options.js';
import type { ProviderProfile } from '../profiles.js';
import { LostAnswer, type AuthorizeRequest, type OidcPort, type SigninResult } from './types.js';
import { limitOf } from './flows.js';

const TRANSIENT = new Set(['server_error', 'temporarily_unavailable']);

/** How long the hidden iframe of a silent renewal may take. */
export const SILENT_TIMEOUT_MS = 10_000;

/**
 * The protocol side: PKCE redirect and callback, refresh, the silent iframe and end-session,
 * through oidc-client-ts's `OidcClient`. Holds no tokens and no policy; starts nothing.
 */
export function createProtocol(settings: Settings, metadata: ProviderMetadata, clock: Clock, now: () => number, profile: ProviderProfile): OidcPort {
  const client = new OidcClient({
    authority: settings.authority,
    client_id: settings.clientId,
    redirect_uri: settings.redirectUri,
    post_logout_redirect_uri: settings.postLogoutRedirectUri,
    response_type: 'code',
    scope: settings.scope,
    // Fetched and checked once by the session (issuer, jwks_uri): not fetched again here.
    metadata: metadata.raw,
    stateStore: new WebStorageStateStore({ store: globalThis.sessionStorage, prefix: STATE_PREFIX }),
    loadUserInfo: false,
    // Claims are read from the jose-verified token, not from oidc-client-ts's profile.
    filterProtocolClaims: false,
    requestTimeoutInSeconds: REQUEST_TIMEOUT_MS / 1000,
  });
  const signinArgs = (request: AuthorizeRequest, type: 'si:r' | 'si:s') => ({
    request_type: type,
    // What the answer is checked against: when it was asked, and how recent an
    // authentication it must carry (prompt=login: one made after the request).
    state: {
      returnTo: request.returnTo,
      renewSessionId: request.renewSessionId ?? null,
      at: now(),
      maxAge: request.maxAgeSec ?? (request.prompt === 'login' ? 0 : null),
      maxAgeSent: request.maxAgeSec !== undefined,
      retried: request.retried === true,
      after: request.after ?? null,
    },
    nonce: globalThis.crypto.randomUUID(),
    extraQueryParams: { ...settings.authParams },
    ...(request.prompt ? { prompt: request.prompt } : {}),
    ...(request.maxAgeSec !== undefined ? { max_age: request.maxAgeSec } : {}),
    // NHS login does not accept id_token_hint on authorize.
    ...(request.idTokenHint && profile.idTokenHintOnAuthorize ? { id_token_hint: request.idTokenHint } : {}),
  });
  // oidc-client-ts's own time limit ends when the response's headers arrive; a body that
  // never comes would hang the call. This limit covers the whole call.
  const timed = <T>(work: Promise<T>): Promise<T> => within(work, REQUEST_TIMEOUT_MS, clock, () => new ErrorTimeout('no complete answer in time'));
  const mapError = (error: unknown, message: string, fallback: 'CALLBACK_FAILED' | 'RENEW_FAILED'): SessionError => {
    if (error instanceof SessionError) return error;
    // The provider failing for now (RFC 6749 §5.2 has no such code; HTTP 5xx, server_error,
    // temporarily_unavailable) counts as not reached: it may be retried.
    const transient = error instanceof ErrorResponse ? TRANSIENT.has(error.error ?? '') : /\(5\d\d\)/.test(String((error as Error | null)?.message));
    if (error instanceof ErrorResponse && !transient) {
      const code = error.error ?? '';
      const known = profile.loginRequiredErrors.includes(code);
      return new SessionError(known ? 'LOGIN_REQUIRED' : fallback, `${message}: the provider answered '${code}'${error.error_description ? ` (${error.error_description})` : ''}`, { cause: error });
    }
    // A timeout, an aborted request, fetch's TypeError, a 5xx: the provider was not reached.
    if (transient || error instanceof ErrorTimeout || error instanceof TypeError || (error as Error | null)?.name === 'AbortError') {
      const why = error instanceof ErrorResponse ? `could not serve it now ('${error.error}')` : 'could not be reached';
      return new SessionError('NETWORK', `${message}: the provider ${why}`, { cause: error });
    }
    return new SessionError(fallback, `${message}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  };

  return {
    async signinRedirect(request) {
      let url: string;
      try {
        url = (await client.createSigninRequest(signinArgs(request, 'si:r'))).url;
      } catch (error) {
        throw new SessionError('NETWORK', 'could not start sign-in', { cause: error });
      }
      globalThis.location.assign(url);
    },

    async completeSignin(url): Promise<SigninResult> {
      let response: SigninResponse;
      try {
        response = await timed(client.processSigninResponse(url.href));
      } catch (error) {
        throw mapError(error, 'the sign-in response could not be completed', 'CALLBACK_FAILED');
      }
      const state = (response.userState ?? {}) as Partial<Record<'returnTo' | 'renewSessionId' | 'at' | 'maxAge' | 'maxAgeSent' | 'retried' | 'after', unknown>>;
      const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
      return {
        tokens: tokensOf(response, now),
        returnTo: typeof state.returnTo === 'string' ? state.returnTo : null,
        renewSessionId: typeof state.renewSessionId === 'string' ? state.renewSessionId : null,
        // A state that does not say when it was made proves no recent authentication: it asks for one (fail closed).
        request: isCount(state.at) && (state.maxAge === null || isCount(state.maxAge))
          ? { at: state.at, maxAge: state.maxAge, maxAgeSent: state.maxAgeSent !== false, retried: state.retried === true, after: limitOf(state.after) }
          : { at: now(), maxAge: 0, maxAgeSent: true, retried: true, after: null },
      };
    },

    async refresh(tokens: TokenSet, claims: Claims) {
      if (!tokens.refreshToken) throw new SessionError('RENEW_FAILED', 'there is no refresh token');
      // Offline, nothing goes out: the refresh token stays good for the next renewal.
      if (globalThis.navigator?.onLine === false) throw new SessionError('NETWORK', 'the browser is offline: the refresh token was not sent');
      let response: SigninResponse;
      try {
        response = await timed(client.useRefreshToken({
          // oidc-client-ts's RefreshState, as a plain value: it is read, never kept. No scope:
          // RFC 6749 §6, a refresh may not ask for a scope not granted, and without one it gets
          // the scope as granted (which can be narrower than the one asked for at sign-in).
          state: { refresh_token: tokens.refreshToken, id_token: tokens.idToken, session_state: null, profile: claims as never },
          timeoutInSeconds: REQUEST_TIMEOUT_MS / 1000,
        }));
      } catch (error) {
        // The provider's error answer (RFC 6749 §5.2, an error code): nothing was issued, the
        // token holds. A gateway's JSON with a status text ("Gateway Timeout") is no such answer.
        if (error instanceof ErrorResponse && /^[a-z][a-z0-9_]*$/.test(error.error ?? '')) throw mapError(error, 'the renewal failed', 'RENEW_FAILED');
        // Sent, and no usable answer came back: the token may be spent, and is not sent again.
        throw new SessionError('RENEW_FAILED', `the renewal's answer was lost (${String(error)}): its refresh token may be spent`, { cause: new LostAnswer(error) });
      }
      // A refresh may omit the ID token and, without rotation, the refresh token (RFC 6749 §6): the last ones stay.
      return tokensOf(response, now, tokens);
    },

    async silent({ maxAgeSec, idTokenHint, signal }) {
      let response: SigninResponse;
      try {
        const request = await client.createSigninRequest(signinArgs({ returnTo: globalThis.location.href, prompt: 'none', ...(maxAgeSec === undefined ? {} : { maxAgeSec }), ...(idTokenHint ? { idTokenHint } : {}) }, 'si:s'));
        response = await timed(client.processSigninResponse(await inHiddenFrame(request.url, clock, signal)));
      } catch (error) {
        throw mapError(error, 'the renewal failed', 'RENEW_FAILED');
      }
      return tokensOf(response, now);
    },

    async completeSignout(url) {
      try {
        await client.processSignoutResponse(url.href);
      } catch (error) {
        throw mapError(error, 'the sign-out response could not be completed', 'CALLBACK_FAILED');
      }
    },

    async signoutRedirect(idTokenHint) {
      const request = await client.createSignoutRequest({
        ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
        // Round-tripped so the return is recognised and its state consumed (RP-Initiated Logout 1.0 §2).
        state: { signedOut: true },
        extraQueryParams: {},
      });
      globalThis.location.assign(request.url);
    },

    clearStaleState: () => client.clearStaleState(),
  };
}

/**
 * Loads `url` in a hidden iframe and resolves with the URL the provider sends it back to,
 * as the SDK started in that frame posts it (same origin only). No inline style: the
 * `hidden` attribute keeps it out of sight, so a strict CSP holds.
 */
function inHiddenFrame(url: string, clock: Clock, signal?: AbortSignal): Promise<string> {
  const doc = globalThis.document;
  const frame = doc.createElement('iframe');
  // Hidden: not rendered, and not exposed to assistive technology either.
  frame.hidden = true;
  return new Promise<string>((resolve, reject) => {
    const timer = clock.setTimeout(() => done(new ErrorTimeout('no answer in time')), SILENT_TIMEOUT_MS);
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { source?: unknown; url?: unknown } | null;
      if (event.source !== frame.contentWindow || event.origin !== globalThis.location.origin) return;
      if (data?.source !== FRAME_MESSAGE_SOURCE || typeof data.url !== 'string') return;
      done(null, data.url);
    };
    const onAbort = () => done(new Error('stopped'));
    const done = (error: Error | null, answer?: string) => {
      clock.clearTimeout(timer);
      globalThis.removeEventListener('message', onMessage);
      signal?.removeEventListener('abort', onAbort);
      frame.remove();
      if (error) reject(error);
      else resolve(answer as string);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort);
    globalThis.addEventListener('message', onMessage);
    doc.body.append(frame);
    frame.src = url;
  });
}

/**
 * The tokens of a response. What a refresh response leaves out (the ID token, an unrotated
 * refresh token) is `previous`'s; a sign-in response without an ID token is refused. The
 * access token's expiry is counted on the session's clock from `expires_in`.
 */
function tokensOf(response: SigninResponse, now: () => number, previous?: TokenSet): TokenSet {
  const idToken = response.id_token ?? previous?.idToken;
  if (!idToken) throw new SessionError('ID_TOKEN_INVALID', 'the token response has no id_token');
  const expiresIn = response.expires_in;
  return {
    idToken,
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previous?.refreshToken ?? null,
    accessTokenExpiresAt: typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? now() + expiresIn * 1000 : null,
  };
}

export { afterExpiry } from './expiry.js';
export { completeSignin, completeSignout, renew, RENEW_TIMEOUT_MS, restoreSilently, signIn, signOut } from './flows.js';
export type { FlowContext, RenewHost } from './flows.js';

// Types of the protocol layer, and the one error class its parts share. Eager code imports
// them with `import type` only (erased), so the lazy chunk in this folder stays lazy.
import type { Claims, TokenSet } from '../machine.js';
import type { AuthRequest } from '../trust.js';
import type { LimitReason } from '../policy.js';

/** Parameters of one authorize request. */
export interface AuthorizeRequest {
  /** Same-origin URL to land on after the callback. */
  readonly returnTo: string;
  readonly prompt?: 'none' | 'login';
  readonly maxAgeSec?: number;
  /** Set when this redirect is a silent renewal of that session (the iframe could not do it). */
  readonly renewSessionId?: string;
  /** This request repeats one the provider answered without authenticating the user again. */
  readonly retried?: boolean;
  /** The limit that ended the session this sign-in replaces (told by the `signed-in` event). */
  readonly after?: LimitReason | undefined;
  /** The ID token held, sent as `id_token_hint` where the provider takes one on authorize. */
  readonly idTokenHint?: string;
}

/** The authorize request a response answers, as its state remembers it. */
export interface AnsweredRequest extends AuthRequest {
  readonly retried: boolean;
  readonly after?: LimitReason | null;
}

/** A completed sign-in response. The ID token is NOT verified here. */
export interface SigninResult {
  readonly tokens: TokenSet;
  readonly returnTo: string | null;
  /** The session this response renews, when it came back from a silent renewal redirect. */
  readonly renewSessionId: string | null;
  /** The request it answers: when it was made, its `max_age` (0 for `prompt=login`). */
  readonly request: AnsweredRequest;
}

/**
 * The `cause` of a refresh that went out and whose answer never came back usable (the time
 * limit, a connection lost, a gateway's answer instead of the provider's): the provider may
 * have used, and rotated, the refresh token. Sent again it would be a reuse, which revokes
 * the whole grant at a provider with reuse detection (RFC 9700 §4.14.2).
 */
export class LostAnswer extends Error {
  constructor(cause: unknown) {
    super('the answer was lost', { cause });
    this.name = 'LostAnswer';
  }
}

/** The protocol operations the session needs; `createProtocol` in this folder is the real one. */
export interface OidcPort {
  /** Navigates to the authorize endpoint (PKCE S256, state, nonce). */
  signinRedirect(request: AuthorizeRequest): Promise<void>;
  /** Completes the code exchange of a redirect back from the provider. */
  completeSignin(url: URL): Promise<SigninResult>;
  /**
   * Renews with the refresh token, asking for the scope as granted (no `scope`, RFC 6749 §6).
   * The new ID token (if any) is NOT verified here. Rejects with a SessionError: `NETWORK`
   * when nothing was sent (offline) or the provider said it could not serve the request now;
   * `RENEW_FAILED` (or `LOGIN_REQUIRED`) when it refused; `RENEW_FAILED` caused by a
   * {@link LostAnswer} when the request went out and no usable answer came back.
   */
  refresh(tokens: TokenSet, claims: Claims): Promise<TokenSet>;
  /** Renews in a hidden iframe with `prompt=none`; needs no tokens in hand. `signal` removes the frame. */
  silent(request: { readonly maxAgeSec?: number; readonly idTokenHint: string | null; readonly signal?: AbortSignal | undefined }): Promise<TokenSet>;
  /** Consumes the state of a return from end-session. */
  completeSignout(url: URL): Promise<void>;
  /** Navigates to end-session with `id_token_hint`, `post_logout_redirect_uri` and `state`. */
  signoutRedirect(idTokenHint: string | null): Promise<void>;
  /** Removes expired PKCE/state entries left by abandoned sign-ins. */
  clearStaleState(): Promise<void>;
}

/**
 * Every code a {@link SessionError} can carry. Closed: `switch (err.code)` narrows.
 *
 * - `INVALID_OPTIONS`: the provider's metadata contradicts the options (issuer mismatch, missing endpoint).
 * - `ID_TOKEN_INVALID`: the ID token failed verification or carried a claim that does not parse.
 * - `CALLBACK_FAILED`: the redirect back from the provider could not be completed (bad state, provider error).
 * - `LOGIN_REQUIRED`: there is no usable session; the user must sign in.
 * - `LIMIT_REACHED`: the absolute or `session_expiry` cap has been reached; only a new sign-in helps.
 * - `RENEW_FAILED`: a silent renewal was refused by the provider.
 * - `NETWORK`: the provider could not be reached.
 * - `STORAGE`: the shared store (IndexedDB) is unavailable; the tab falls back to memory.
 * - `REDIRECT_REFUSED`: a redirect target is not on this app's origin.
 */
export type SessionErrorCode =
  | 'INVALID_OPTIONS'
  | 'ID_TOKEN_INVALID'
  | 'CALLBACK_FAILED'
  | 'LOGIN_REQUIRED'
  | 'LIMIT_REACHED'
  | 'RENEW_FAILED'
  | 'NETWORK'
  | 'STORAGE'
  | 'REDIRECT_REFUSED';

/**
 * The one error class of the SDK. Inspect `code`; the underlying error, if any, is in `cause`.
 * @example
 * try { await session.start() } catch (err) {
 *   if (err instanceof SessionError && err.code === 'ID_TOKEN_INVALID') showSignIn();
 * }
 */
export class SessionError extends Error {
  /** What went wrong, from a closed set. */
  readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionError';
    this.code = code;
  }
}

// Constants shared by the eager core and the lazy chunks: kept apart so that sharing them
// shares nothing else.

/** PKCE verifier and state survive a redirect in sessionStorage under this prefix: per tab, and not tokens. */
export const STATE_PREFIX = 'oidc-session-guard.';

/** What the hidden iframe of a silent renewal posts to its parent. */
export const FRAME_MESSAGE_SOURCE = 'oidc-session-guard';

/** How long a request to the provider may take before it counts as a network failure. */
export const REQUEST_TIMEOUT_MS = 10_000;

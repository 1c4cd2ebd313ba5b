// Constants (and one helper) shared by the eager core and the lazy chunks: kept apart so
// that sharing them shares nothing else.
import type { Clock, TimerHandle } from './clock.js';
import type { Live } from './machine.js';

/** PKCE verifier and state survive a redirect in sessionStorage under this prefix: per tab, and not tokens. */
export const STATE_PREFIX = 'oidc-session-guard.';

/** What the hidden iframe of a silent renewal posts to its parent. */
export const FRAME_MESSAGE_SOURCE = 'oidc-session-guard';

/**
 * How far in the future a timestamp from another tab may be (tabs share one machine clock;
 * this absorbs the time between stamping and reading). Anything later is not believed.
 */
export const FUTURE_TOLERANCE_MS = 2_000;

/** How long a request to the provider may take before it counts as a network failure. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** `work`, or a rejection with `error` if it has not settled after `ms` on `clock`. */
export function within<T>(work: Promise<T>, ms: number, clock: Clock, error: () => Error): Promise<T> {
  let timer: TimerHandle;
  return Promise.race([work, new Promise<never>((_resolve, reject) => {
    timer = clock.setTimeout(() => reject(error()), ms);
  })]).finally(() => clock.clearTimeout(timer));
}

/** `live` without its refresh token: spent, or perhaps spent (its refresh's answer was lost), so never sent again. */
export const withoutRefreshToken = (live: Live): Live => ({ ...live, tokens: { ...live.tokens, refreshToken: null } });

// When a tab renews, and how often, whoever asks: its own timer, the app's renew(), another
// tab. In the live-time chunk (tracking.ts).

/** Automatic renewal starts this long before the access token expires. */
export const RENEW_BEFORE_EXPIRY_MS = 60_000;
/** After an automatic renewal failed, the next is not tried for this long. */
export const RENEW_RETRY_MS = 60_000;
/** Automatic renewals are at least this far apart, whatever lifetime the provider gives tokens. */
export const RENEW_MIN_INTERVAL_MS = 5_000;

/**
 * When automatic renewal is due (epoch ms), or null when the access token has no known
 * expiry: a minute ahead, or half the token's lifetime if that is shorter, never sooner
 * than {@link RENEW_MIN_INTERVAL_MS} after the tokens were obtained (a provider handing
 * out nearly expired tokens is not hammered), and not within {@link RENEW_RETRY_MS} of a
 * failure.
 */
export function renewDueAt(accessTokenExpiresAt: number | null, obtainedAt: number, failedAt: number): number | null {
  if (accessTokenExpiresAt === null) return null;
  const lead = Math.min(RENEW_BEFORE_EXPIRY_MS, Math.max(0, (accessTokenExpiresAt - obtainedAt) / 2));
  return Math.max(accessTokenExpiresAt - lead, obtainedAt + RENEW_MIN_INTERVAL_MS, failedAt + RENEW_RETRY_MS);
}

/** Tokens renewed this recently are shared again rather than renewed again. */
export const RENEW_DEDUPE_MS = 5_000;
/**
 * A tab that does not renew for the others (a follower) renews its own tokens this long
 * after the renewing tab should have: only when that tab is gone quiet (frozen, holding
 * its lock), never in a race with it.
 */
export const FOLLOWER_GRACE_MS = 30_000;

/** What asking for a renewal came to. */
export type Asked =
  /** A renewal started. */
  | 'ran'
  /** One was in flight: its outcome is this one's. */
  | 'joined'
  /** One succeeded less than {@link RENEW_DEDUPE_MS} ago: the tokens held are fresh. */
  | 'fresh'
  /** One failed less than {@link RENEW_RETRY_MS} ago: that failure, again. */
  | 'failed';

/** One session's renewals in one tab: one at a time, at most one per window, backing off after a failure. */
export interface Renewals {
  /** Starts `work` (one renewal) unless the window says otherwise; `done` settles with the outcome. */
  ask(work: () => Promise<void>): { readonly asked: Asked; readonly done: Promise<void> };
  /** When automatic renewal is due for tokens that expire at `expiresAt` and were obtained at `obtainedAt` (see `renewDueAt`), or null. */
  dueAt(expiresAt: number | null, obtainedAt: number): number | null;
}

export function renewals(now: () => number): Renewals {
  let running: Promise<void> | null = null;
  let succeededAt = -Infinity;
  let failedAt = -Infinity;
  let failure: unknown = null;
  return {
    ask(work) {
      const at = now();
      if (running) return { asked: 'joined', done: running };
      if (at - succeededAt < RENEW_DEDUPE_MS) return { asked: 'fresh', done: Promise.resolve() };
      if (at - failedAt < RENEW_RETRY_MS) return { asked: 'failed', done: Promise.reject(failure) };
      const done = work().then(() => {
        succeededAt = now();
      }, (error: unknown) => {
        failedAt = now();
        failure = error;
        throw error;
      }).finally(() => {
        running = null;
      });
      running = done;
      return { asked: 'ran', done };
    },
    // A renewal that succeeded counts as obtaining the tokens, whatever they came back as.
    dueAt: (expiresAt, obtainedAt) => renewDueAt(expiresAt, Math.max(obtainedAt, succeededAt), failedAt),
  };
}

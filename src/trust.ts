// What a verified ID token may do to a session: begin one, renew one, continue the shared
// record's, or hand one to another tab. Pure; loaded with verification (the only module
// that imports this is verify.ts), so a tab that takes its session from another tab needs
// no more than that chunk.
import type { SessionHandover, SessionTiming } from './channel.js';
import { FUTURE_TOLERANCE_MS } from './constants.js';
import { SessionError } from './errors.js';
import type { Live, TokenSet } from './machine.js';
import type { SessionRecord } from './store.js';
import type { VerifiedIdToken } from './verify.js';

/**
 * `auth_time` and `iat` come from one clock, the provider's: an `auth_time` later than
 * `iat` by more than this (rounding to whole seconds, nothing else) is refused.
 */
export const AUTH_TIME_TOLERANCE_MS = 5_000;

/** What this tab asked the provider for, to check the answer against (OIDC Core §3.1.2.1). */
export interface AuthRequest {
  /** When the authorize request was made, epoch ms on this clock. */
  readonly at: number;
  /** The `max_age` asked for, in seconds; 0 when the user had to authenticate again (`prompt=login`); null when none. */
  readonly maxAge: number | null;
  /** `max_age` was sent, so `auth_time` must be present (OIDC Core §3.1.2.1); without it (`prompt=login` only) an absent `auth_time` proves nothing either way. */
  readonly maxAgeSent: boolean;
}

const invalid = (message: string): SessionError => new SessionError('ID_TOKEN_INVALID', message);

/**
 * How a new `auth_time` relates to the session's (as the provider sent them). Newer means
 * the provider authenticated the user again, so both limits restart (NIST SP 800-63B rev 3
 * §7.2: only reauthentication resets both); older is not a continuation of this session.
 * A provider that omits `auth_time` keeps the limits as they are.
 */
export function compareAuthTime(previous: number | null, next: number | null): 'same' | 'newer' | 'older' {
  if (previous === null || next === null || next === previous) return 'same';
  return next > previous ? 'newer' : 'older';
}

/**
 * A token's times on this clock. The token's `iat` measures the provider's clock; the
 * difference moves `auth_time` and `session_expiry` only when that makes them earlier (this
 * clock is slow). A clock ahead of the provider's, and a token older than it says, are
 * indistinguishable, so neither lengthens anything. A missing `auth_time` counts from now
 * (sign-in completion), never "no limit"; it is never later than now.
 */
export function localTimes(v: VerifiedIdToken, now: number): { authTime: number; sessionExpiresAt: number | null } {
  const skew = Math.min(now - v.issuedAt, 0);
  return {
    authTime: v.authTime === null ? now : Math.min(now, v.authTime + skew),
    sessionExpiresAt: v.sessionExpiresAt === null ? null : v.sessionExpiresAt + skew,
  };
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isTimeOrNull = (value: unknown) => value === null || isTime(value);
const isToken = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** The tokens another tab sent, as a token set; anything else is refused. */
export function parseTokens(value: unknown): TokenSet {
  const t = value as Partial<Record<keyof TokenSet, unknown>>;
  if (!(isToken(t.idToken) && isToken(t.accessToken) && (t.refreshToken === null || isToken(t.refreshToken)) && isTimeOrNull(t.accessTokenExpiresAt))) {
    throw invalid('the tokens another tab sent are malformed');
  }
  return t as TokenSet;
}

/** The timing another tab sent; a time that is not one, or activity later than `now`, is refused. */
function parseTiming(value: unknown, now: number): SessionTiming {
  const t = value as Partial<Record<keyof SessionTiming, unknown>>;
  if (!(isTime(t.signedInAt) && isTime(t.authTime) && isTimeOrNull(t.providerAuthTime) && isTimeOrNull(t.sessionExpiresAt) && isTime(t.lastActivityAt) && t.lastActivityAt <= now + FUTURE_TOLERANCE_MS
    && (t.renewedAt === undefined || (isTime(t.renewedAt) && t.renewedAt <= now + FUTURE_TOLERANCE_MS)))) {
    throw invalid('the session timing another tab sent is malformed');
  }
  return t as SessionTiming;
}

/** The earlier of two deadlines, where null is none. */
const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * Checks an answer to an authorize request against it. With `max_age` (0 after a limit, or
 * with `prompt=login`), the authentication must be recent enough:
 * `iat − auth_time` (the provider's own clock) at most `max_age` plus the time the request
 * took on this clock. A provider that ignored `prompt=login` and answered by single sign-on
 * with an old `auth_time` is caught here (NIST SP 800-63B rev 3 §7.2). When `max_age` was
 * sent, `auth_time` must be present; a provider that takes `prompt=login` but not `max_age`
 * (NHS login) and omits `auth_time` cannot be checked, and is taken at its word.
 */
export function checkAuthAge(v: VerifiedIdToken, request: AuthRequest | null, now: number): void {
  if (!request || request.maxAge === null) return;
  if (v.authTime === null) {
    if (!request.maxAgeSent) return;
    throw new SessionError('LOGIN_REQUIRED', 'max_age was requested and the ID token has no auth_time (OIDC Core §3.1.2.1)');
  }
  const allowed = request.maxAge * 1000 + Math.max(0, now - request.at) + AUTH_TIME_TOLERANCE_MS;
  if (v.issuedAt - v.authTime > allowed) {
    throw new SessionError('LOGIN_REQUIRED', request.maxAge === 0
      ? 'the provider did not authenticate the user again: its auth_time is older than the request for it'
      : `the provider's auth_time is older than the max_age of ${request.maxAge} s`);
  }
}

/** A new session from a sign-in response. */
export function beginSession(tokens: TokenSet, v: VerifiedIdToken, now: number, sessionId: string, request: AuthRequest | null): Live {
  // The Broker: no new session from an ID token after session_expiry (on the provider's clock).
  if (v.sessionExpiresAt !== null && v.sessionExpiresAt <= v.issuedAt) throw new SessionError('LIMIT_REACHED', 'the provider\'s session_expiry has already passed');
  checkAuthAge(v, request, now);
  const { authTime, sessionExpiresAt } = localTimes(v, now);
  return { sessionId, tokens, claims: v.claims, sid: v.sid, renewedAt: 0, signedInAt: now, authTime, providerAuthTime: v.authTime, sessionExpiresAt, lastActivityAt: now };
}

/**
 * Tokens renewed for `live`, by this tab or another: the session as it goes on. The ID
 * token (when new) must be this user's, not older than the one it replaces, and not of an
 * older authentication; a newer `auth_time` restarts both limits. Claims come from the
 * verified token only. `v` is null when the ID token is the one `live` holds.
 */
export function renewedSession(live: Live, tokens: TokenSet, v: VerifiedIdToken | null, now: number, heldIssuedAt: number): Live {
  // The same tokens again (a hand-over, a shared renewal already taken) say nothing of when they were obtained.
  if (!v) return { ...live, tokens, renewedAt: tokens.refreshToken === live.tokens.refreshToken && tokens.accessToken === live.tokens.accessToken ? live.renewedAt : now };
  if (v.claims.sub !== live.claims.sub) throw invalid('the renewed ID token is for another user');
  if (v.issuedAt < heldIssuedAt) throw invalid('the renewed ID token is older than the one it replaces');
  const change = compareAuthTime(live.providerAuthTime, v.authTime);
  if (change === 'older') throw invalid('the renewed ID token\'s auth_time is older than the session\'s');
  const local = localTimes(v, now);
  const again = change === 'newer'
    ? { authTime: local.authTime, providerAuthTime: v.authTime, sessionExpiresAt: local.sessionExpiresAt, lastActivityAt: now }
    : { sessionExpiresAt: earliest(live.sessionExpiresAt, local.sessionExpiresAt) };
  return { ...live, tokens, claims: v.claims, sid: v.sid ?? live.sid, renewedAt: now, ...again };
}

/**
 * The shared record's session, continued with tokens fresh from the provider (a silent
 * renewal by a tab that had none, or back from a top-level `prompt=none`). They must be
 * the record's user; the record's authentication must be the token's or older (a record
 * claiming a newer one than the provider knows is not believed); a newer `auth_time`
 * restarts both limits. Timing never later than the token allows.
 */
export function continueSession(record: SessionRecord, fresh: Live, v: VerifiedIdToken): Live {
  if (v.claims.sub !== record.sub) throw new SessionError('LOGIN_REQUIRED', 'the provider\'s session is another user\'s');
  const change = compareAuthTime(record.providerAuthTime, v.authTime);
  if (change === 'older') throw invalid('the shared record claims a newer authentication than the provider\'s');
  const timing = change === 'newer' ? {} : {
    authTime: Math.min(record.authTime, fresh.authTime),
    providerAuthTime: record.providerAuthTime ?? v.authTime,
    lastActivityAt: Math.min(record.lastActivityAt, fresh.lastActivityAt),
    sessionExpiresAt: earliest(record.sessionExpiresAt, fresh.sessionExpiresAt),
  };
  return { ...fresh, sessionId: record.sessionId, signedInAt: Math.min(record.signedInAt, fresh.signedInAt), renewedAt: fresh.signedInAt, ...timing };
}

/**
 * A session another tab hands over. The shared record (null when IndexedDB is
 * unavailable: then the handing tab's timing is all there is) must be of this user and
 * this authentication (`auth_time`); a session this tab holds (`current`: live, or ended at
 * a limit) keeps its user and is replaced only by a newer authentication, proven by a
 * verified `auth_time`, so no message revives one. Timing is the record's, never later
 * than the token allows. `authTimeRequired`: the provider's every session began with an
 * `auth_time` (it takes `max_age`, which makes it mandatory).
 */
export function adoptSession(handover: SessionHandover, v: VerifiedIdToken, record: SessionRecord | null, current: Live | null, now: number, authTimeRequired: boolean): Live {
  const sent = parseTiming(handover.timing, now);
  const timing = record ?? sent;
  // Where every sign-in asks for max_age, every session began with a verified auth_time:
  // timing without one is not of a session this SDK began.
  if (authTimeRequired && timing.providerAuthTime === null) throw invalid('the session timing names no auth_time, which this provider always sends');
  if (record && v.claims.sub !== record.sub) throw invalid('the handed-over ID token is not for this session\'s user');
  // A token without auth_time (a refresh may leave it out, OIDC Core §12.2) is of the record's authentication.
  if (v.authTime !== null && v.authTime !== timing.providerAuthTime) throw invalid('the handed-over ID token is not of this session\'s authentication');
  if (current) {
    // A session held here (live, or ended at a limit) never changes user through a message, and
    // gives way only to a newer authentication proven by a verified auth_time: a record says nothing.
    if (v.claims.sub !== current.claims.sub) throw invalid('a session here is never switched to another user by another tab');
    const newer = v.authTime !== null && (current.providerAuthTime === null ? localTimes(v, now).authTime > current.authTime : v.authTime > current.providerAuthTime);
    if (!newer) throw invalid('a session here is replaced only by a newer authentication');
  }
  const local = localTimes(v, now);
  return {
    sessionId: handover.sessionId,
    tokens: parseTokens(handover.tokens),
    claims: v.claims,
    sid: v.sid,
    // The handing tab's tokens, renewed when it says (see the record's renewedAt).
    renewedAt: sent.renewedAt ?? 0,
    signedInAt: timing.signedInAt,
    authTime: Math.min(timing.authTime, local.authTime),
    providerAuthTime: v.authTime ?? timing.providerAuthTime,
    sessionExpiresAt: earliest(timing.sessionExpiresAt, local.sessionExpiresAt),
    // Activity is merged: the handing tab may have seen input it has not written yet.
    lastActivityAt: Math.min(now, Math.max(timing.lastActivityAt, sent.lastActivityAt)),
  };
}

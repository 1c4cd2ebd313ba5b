// Rules that apply to tokens the provider sends: the `auth_time` rules, clock skew, and
// what an authorize request carries. Pure; in the protocol folder because only the lazily
// loaded protocol uses them, so they load with it.
import type { ProviderProfile } from '../providers.js';

/**
 * How a renewed ID token's `auth_time` relates to the session's (epoch ms, as the provider
 * sent them). Unchanged is normal; newer means the provider authenticated the user again,
 * so both limits restart (NIST 800-63B rev3 §7.2: only reauthentication resets both);
 * older is not a continuation of this session and is rejected. A provider that omits
 * `auth_time` keeps the limits as they are.
 */
export function compareAuthTime(previous: number | null, next: number | null): 'same' | 'newer' | 'older' {
  if (previous === null || next === null || next === previous) return 'same';
  return next > previous ? 'newer' : 'older';
}

/** Clock differences up to this are ordinary; beyond it, server times are moved onto the local clock. */
export const SKEW_TOLERANCE_MS = 30_000;

/** The times an ID token states, epoch ms on the provider's clock. */
export interface ServerTimes {
  /** `auth_time`, or null when absent. */
  readonly authTime: number | null;
  /** `session_expiry`, or null when absent. */
  readonly sessionExpiresAt: number | null;
  /** `iat`. */
  readonly issuedAt: number;
}

/**
 * Server times onto this clock. A missing `auth_time` counts from `now` (sign-in
 * completion), never "no limit". When `iat` and this clock disagree by more than
 * {@link SKEW_TOLERANCE_MS}, `auth_time` and `session_expiry` move by the difference.
 */
export function localTimes(token: ServerTimes, now: number): { authTime: number; sessionExpiresAt: number | null } {
  const offset = now - token.issuedAt;
  const skew = Math.abs(offset) > SKEW_TOLERANCE_MS ? offset : 0;
  return {
    authTime: token.authTime === null ? now : token.authTime + skew,
    sessionExpiresAt: token.sessionExpiresAt === null ? null : token.sessionExpiresAt + skew,
  };
}

/** What the SDK adds to one authorize request. */
export interface AuthorizeExtras {
  readonly prompt?: 'none' | 'login';
  readonly maxAgeSec?: number;
}

/**
 * The `prompt` and `max_age` of one authorize request, from the provider's profile.
 *
 * NIST 800-63B rev3 §7.2.1: tell the IdP the maximum acceptable authentication age. That
 * age is the absolute limit itself: `max_age` bounds now − auth_time at the provider, so
 * sending the absolute limit makes the provider enforce the same cap as the session (a
 * silent renewal past it fails with login_required). After a limit was reached the user
 * must authenticate again: `prompt=login` and `max_age=0` (equal to prompt=login, OIDC Core).
 * Never `max_age` where the provider does not support it (NHS login).
 */
export function authorizeExtras(
  profile: ProviderProfile,
  request: { readonly prompt?: 'none' | 'login'; readonly reauthRequired: boolean; readonly absoluteTimeoutMs: number },
): AuthorizeExtras {
  const prompt = request.reauthRequired ? 'login' : request.prompt;
  if (!profile.supportsMaxAge) return prompt ? { prompt } : {};
  const maxAgeSec = request.reauthRequired ? 0 : Math.floor(request.absoluteTimeoutMs / 1000);
  return prompt ? { prompt, maxAgeSec } : { maxAgeSec };
}

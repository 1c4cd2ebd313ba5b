// What an authorize request carries. Pure; in the protocol folder because only the lazily
// loaded protocol uses it, so it loads with it. (What the provider's answers may do to a
// session is in trust.ts, with verification.)
import type { ProviderProfile } from '../profiles.js';

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
 * Never `max_age` where the provider does not support it (NHS login), and no `max_age=0`
 * where it refuses that.
 */
export function authorizeExtras(
  profile: ProviderProfile,
  request: { readonly prompt?: 'none' | 'login'; readonly reauthRequired: boolean; readonly absoluteTimeoutMs: number },
): AuthorizeExtras {
  const prompt = request.reauthRequired ? 'login' : request.prompt;
  if (!profile.supportsMaxAge) return prompt ? { prompt } : {};
  // A provider that refuses max_age=0 gets prompt=login alone (the answer's auth_time still proves it).
  if (request.reauthRequired && !profile.supportsMaxAgeZero) return { prompt: 'login' };
  const maxAgeSec = request.reauthRequired ? 0 : Math.floor(request.absoluteTimeoutMs / 1000);
  return prompt ? { prompt, maxAgeSec } : { maxAgeSec };
}

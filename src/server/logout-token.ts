// The logout token of OpenID Connect Back-Channel Logout 1.0 (incorporating errata set 1),
// validated as its §2.6 says, with the negative cases of the OpenID Foundation's RP
// conformance plan (oidcc-client-back-channel-logout-rp) each refused.
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { VerifyOptions } from '../verify.js';

/** The `events` member that makes a JWT a logout token (§2.4). */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token that failed validation; `message` says which rule. */
export class LogoutTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogoutTokenError';
  }
}

/** What a valid logout token says: whose session ended. At least one of `sub` and `sid`. */
export interface LogoutClaims {
  readonly iss: string;
  readonly sub: string | null;
  readonly sid: string | null;
  readonly jti: string;
  /** `exp` (without one, `iat` + the oldest age accepted), epoch ms: the `jti` need be remembered no longer. */
  readonly expiresAt: number;
}

/** What a logout token is checked against: as an ID token is (the browser's `VerifyOptions`), plus its age. */
export interface LogoutTokenOptions extends VerifyOptions {
  /** The oldest `iat` accepted, seconds before now. @default 600 */
  readonly maxAgeSec?: number;
  /**
   * Whether `exp` is required (Back-Channel Logout 1.0 final requires it; some providers omit
   * it: the profile's `logoutTokenRequiresExp`). Without it the token's age is still bounded
   * by `maxAgeSec`, and its `jti` remembered that long. @default true
   */
  readonly requireExp?: boolean;
}

const fail = (message: string, cause?: unknown): never => {
  throw new LogoutTokenError(message, cause === undefined ? undefined : { cause });
};

const optionalString = (payload: JWTPayload, name: 'sub' | 'sid'): string | null => {
  const value = payload[name];
  if (value === undefined) return null;
  return typeof value === 'string' && value !== '' ? value : fail(`"${name}" must be a non-empty string`);
};

/**
 * Validates a logout token (§2.6): signature against the provider's keys with an allowed
 * asymmetric algorithm; `typ` `logout+jwt` when present; `iss`, `aud`, `iat` and `exp`;
 * `sub` or `sid`; `events` with the back-channel logout member (an object); no `nonce`;
 * a `jti`. Whether the `jti` was seen before is the caller's check (it needs the store).
 * @throws LogoutTokenError naming the rule broken.
 */
export async function validateLogoutToken(token: string, options: LogoutTokenOptions): Promise<LogoutClaims> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    return fail('the logout token is not a JWS', error);
  }
  const algorithms = options.algorithms.filter((alg) => alg !== 'none' && !alg.startsWith('HS'));
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) fail(`algorithm ${JSON.stringify(header.alg)} is not accepted`);
  // §2.4 recommends explicit typing; a token typed as something else is not a logout token.
  if (header.typ !== undefined && !/^(application\/)?(logout\+jwt|jwt)$/i.test(header.typ)) fail(`"typ" ${JSON.stringify(header.typ)} is not logout+jwt`);
  let payload: JWTPayload;
  const maxAgeSec = options.maxAgeSec ?? 600;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms,
      currentDate: new Date(options.now),
      clockTolerance: options.clockToleranceSec ?? 60,
      maxTokenAge: maxAgeSec,
      requiredClaims: ['iss', 'aud', 'iat', 'jti', ...(options.requireExp === false ? [] : ['exp'])],
    }));
  } catch (error) {
    return fail(`the logout token failed verification: ${(error as Error).message}`, error);
  }
  const sub = optionalString(payload, 'sub');
  const sid = optionalString(payload, 'sid');
  if (sub === null && sid === null) fail('the logout token has neither "sub" nor "sid"');
  const events = payload.events as Record<string, unknown> | undefined;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) fail('"events" must be a JSON object');
  const event = events![BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) fail(`"events" lacks the ${BACKCHANNEL_LOGOUT_EVENT} member (an object)`);
  if ('nonce' in payload) fail('a logout token must not contain "nonce"');
  if (typeof payload.jti !== 'string' || payload.jti === '') fail('"jti" must be a non-empty string');
  return { iss: payload.iss!, sub, sid, jti: payload.jti!, expiresAt: (payload.exp ?? payload.iat! + maxAgeSec) * 1000 };
}

// Loaded lazily: the only module that imports jose.
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { SessionHandover } from './channel.js';
import type { Clock } from './clock.js';
import { SessionError } from './errors.js';
import type { Live, TokenSet } from './machine.js';
import type { SessionRecord } from './store.js';
import { adoptSession, AUTH_TIME_TOLERANCE_MS, beginSession, checkAuthAge, continueSession, parseTokens, renewedSession, type AuthRequest } from './trust.js';

import { fetchJson, fetchMetadata, type ProviderMetadata } from './metadata.js';
import type { Settings } from './options.js';
import { profileOf, type ProviderProfile } from './profiles.js';

export { fetchMetadata } from './metadata.js';

/** The session facts read from a verified ID token. Times in epoch ms. */
export interface SessionClaims {
  /** `auth_time`, or null when the provider did not send it. */
  readonly authTime: number | null;
  /** `session_expiry` (the Signaturgruppen Broker's absolute end), or null. */
  readonly sessionExpiresAt: number | null;
  /** `iat`: when the provider issued the token, to measure clock skew. */
  readonly issuedAt: number;
  /** The provider session id: `sid`, else the Broker's `neb_sid`, else null. */
  readonly sid: string | null;
}

/** A verified ID token: its claims (`sub` a non-empty string) and the session facts read from them. */
export interface VerifiedIdToken extends SessionClaims {
  readonly claims: Readonly<Record<string, unknown>> & { readonly sub: string };
}

const joseCode = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

const invalid = (message: string, cause?: unknown): SessionError =>
  new SessionError('ID_TOKEN_INVALID', message, cause === undefined ? undefined : { cause });

/** A claim the provider sent that cannot be true: named, with its value. */
const impossible = (claim: string, value: unknown, why: string): SessionError =>
  invalid(`the provider sent ID token claim "${claim}" = ${JSON.stringify(value)}, which cannot be true: ${why}`);

function epochSeconds(value: unknown, claim: string): number {
  // JWT NumericDate (RFC 7519 §2): seconds since the epoch. Reject what would be nonsense as a time.
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw impossible(claim, value, 'it must be a non-negative number of seconds');
  return value * 1000;
}

/**
 * Reads the session facts from verified claims. Fails closed: a claim present but
 * malformed ends sign-in with `ID_TOKEN_INVALID`, it is never ignored.
 *
 * `session_expiry` may be a number or a numeric string: the Signaturgruppen Broker's
 * documented example ID token carries it as a string such as "1781823778".
 */
export function readSessionClaims(payload: Readonly<Record<string, unknown>>): SessionClaims {
  const issuedAt = epochSeconds(payload.iat, 'iat');
  const authTime = payload.auth_time === undefined ? null : epochSeconds(payload.auth_time, 'auth_time');
  // 0 is no time of an authentication: a provider that could not tell (it reads auth_time from
  // a cookie the token request does not carry). Signing in again would only get it again.
  if (authTime === 0) throw impossible('auth_time', 0, 'no one authenticated in 1970');
  // One clock, the provider's: authentication cannot come after the token it produced.
  if (authTime !== null && authTime > issuedAt + AUTH_TIME_TOLERANCE_MS) throw impossible('auth_time', payload.auth_time, 'it is after the token\'s "iat"');

  let sessionExpiresAt: number | null = null;
  const rawExpiry = payload.session_expiry;
  if (rawExpiry !== undefined) {
    if (typeof rawExpiry === 'string') {
      if (!/^\d{1,12}$/.test(rawExpiry)) {
        throw invalid(`ID token claim "session_expiry" must be epoch seconds as a number or a string of digits; got ${JSON.stringify(rawExpiry)}`);
      }
      sessionExpiresAt = Number(rawExpiry) * 1000;
    } else {
      sessionExpiresAt = epochSeconds(rawExpiry, 'session_expiry');
    }
  }

  const sidClaim = payload.sid ?? payload.neb_sid;
  if (sidClaim !== undefined && (typeof sidClaim !== 'string' || sidClaim === '')) {
    throw invalid(`ID token claim "${payload.sid === undefined ? 'neb_sid' : 'sid'}" must be a non-empty string`);
  }
  return { authTime, sessionExpiresAt, issuedAt, sid: sidClaim ?? null };
}

/** What an ID token is checked against. */
export interface VerifyOptions {
  /** The expected `iss`, exactly. */
  readonly issuer: string;
  /** The client id: must be in `aud`, and be `azp` when `aud` has several entries. */
  readonly audience: string;
  /** The provider's keys (jose `createRemoteJWKSet` or `createLocalJWKSet`). */
  readonly keys: JWTVerifyGetKey;
  /** Allowed `alg` values; `none` and HMAC are never accepted. */
  readonly algorithms: readonly string[];
  /** Current time, epoch ms. */
  readonly now: number;
  /** Tolerated clock difference for `exp`/`iat`/`nbf`, seconds. */
  readonly clockToleranceSec?: number;
}

/**
 * Verifies an ID token with jose: signature against the provider's JWKS, `alg` in the
 * allow-list, `iss`, `aud` (and `azp`), `exp`, and the presence of `sub` and `iat`.
 * @throws SessionError `ID_TOKEN_INVALID`, with jose's error as `cause`.
 */
export async function verifyIdToken(idToken: string, options: VerifyOptions): Promise<VerifiedIdToken> {
  const algorithms = options.algorithms.filter((alg) => alg !== 'none' && !alg.startsWith('HS'));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms,
      currentDate: new Date(options.now),
      clockTolerance: options.clockToleranceSec ?? 60,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    }));
  } catch (error) {
    // A key set that could not be fetched is a NETWORK SessionError already (fetchJson).
    if (error instanceof SessionError) throw error;
    // jose's errors carry a code (ERR_JWS_…, ERR_JWT_…, ERR_JWKS_…), matched by value so the
    // errors namespace is not bundled; anything else is not a valid token either.
    throw invalid(`ID token rejected: ${String((error as Error).message)} (${String(joseCode(error))})`, error);
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('ID token claim "sub" must be a non-empty string');
  // OIDC Core §3.1.3.7: with several audiences, azp must be present and be this client.
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== options.audience) {
    throw invalid('ID token has several audiences and "azp" is not this client');
  }
  if (payload.azp !== undefined && payload.azp !== options.audience) {
    throw invalid('ID token "azp" is not this client');
  }
  return { claims: Object.freeze({ ...payload }) as VerifiedIdToken['claims'], ...readSessionClaims(payload) };
}

/**
 * Verifies the ID tokens of one provider and client (its JWKS fetched once and cached),
 * and applies what they say to a session.
 *
 * Every token is judged as of its own `iat`: the provider's clock, as the token measures
 * it, so a device clock that is fast or slow neither fails a good token nor passes an old
 * one as new. An ID token's expiry is unrelated to the session's lifetime (OIDC Core §2);
 * the session's limits bound it. No token older than the absolute limit (by this clock)
 * is taken: no session it could belong to is still inside its limits.
 */
export interface Verifier {
  /** Verifies a token: signature, `alg`, `iss`, `aud`, `azp`, `exp` and `iat` as of its `iat`; its age by `now`. */
  verify(idToken: string, now: number): Promise<VerifiedIdToken>;
  /** A new session from a sign-in response; `request` is the authorize request it answers (its `max_age`). */
  begin(tokens: TokenSet, now: number, sessionId: string, request: AuthRequest | null): Promise<Live>;
  /** The shared record's session, continued with tokens fresh from the provider (see `continueSession`). */
  resume(record: SessionRecord, tokens: TokenSet, now: number, request: AuthRequest | null): Promise<Live>;
  /** `live` with renewed tokens, from the provider or another tab (see `renewedSession`). */
  renewed(live: Live, tokens: TokenSet, now: number, request?: AuthRequest | null): Promise<Live>;
  /** A session another tab hands over, checked against the shared record (see `adoptSession`). */
  adopt(handover: SessionHandover, record: SessionRecord | null, current: Live | null, now: number): Promise<Live>;
}

/** What a {@link Verifier} checks against. */
export interface VerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  /** The provider's `jwks_uri`; its keys are fetched once and cached (see {@link remoteKeys}). */
  readonly jwksUri: string;
  readonly clock: Clock;
  /** The oldest token taken, ms: the session's absolute limit. */
  readonly maxTokenAgeMs: number;
  /** Every sign-in carries `max_age`, so every session began with a verified `auth_time`. */
  readonly authTimeRequired: boolean;
  /** Keys to use instead of `jwksUri` (tests). */
  readonly keys?: JWTVerifyGetKey;
}

/** `iat` of a compact JWS, read without verifying (only to know when to judge it). */
export function issuedAtOf(idToken: string): number {
  let iat: unknown;
  try {
    iat = (JSON.parse(atob(idToken.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { iat?: unknown }).iat;
  } catch (error) {
    throw invalid('ID token rejected: it does not parse', error);
  }
  return epochSeconds(iat, 'iat');
}

export function createVerifier(options: VerifierOptions): Verifier {
  const keys = options.keys ?? remoteKeys(options.jwksUri, options.clock);
  const verify = async (idToken: string, now: number) => {
    const v = await verifyIdToken(idToken, { ...options, keys, now: issuedAtOf(idToken) });
    if (now - v.issuedAt > options.maxTokenAgeMs) throw invalid('ID token rejected: it was issued longer ago than the session\'s absolute limit');
    // Longer before the token than any session can last: not the authentication of a session
    // inside its limits (and not a reason to sign in again, which would get the same answer).
    if (v.authTime !== null && v.issuedAt - v.authTime > options.maxTokenAgeMs + AUTH_TIME_TOLERANCE_MS) {
      throw impossible('auth_time', v.authTime / 1000, `it is ${Math.round((v.issuedAt - v.authTime) / 60_000)} minutes before the token's "iat", longer than a session can last (${options.maxTokenAgeMs / 60_000} minutes)`);
    }
    return v;
  };
  // Where every sign-in carries max_age (which makes auth_time mandatory), an answer without
  // auth_time proves no authentication, also when the request had only prompt=login.
  const strict = (request: AuthRequest | null) => (request && options.authTimeRequired ? { ...request, maxAgeSent: true } : request);
  return {
    verify,
    begin: async (tokens, now, sessionId, request) => beginSession(tokens, await verify(tokens.idToken, now), now, sessionId, strict(request)),
    async resume(record, tokens, now, request) {
      const v = await verify(tokens.idToken, now);
      return continueSession(record, beginSession(tokens, v, now, record.sessionId, strict(request)), v);
    },
    async renewed(live, sent, now, request = null) {
      const tokens = parseTokens(sent);
      if (tokens.idToken === live.tokens.idToken) return renewedSession(live, tokens, null, now, 0);
      const v = await verify(tokens.idToken, now);
      checkAuthAge(v, strict(request), now);
      return renewedSession(live, tokens, v, now, issuedAtOf(live.tokens.idToken));
    },
    adopt: async (handover, record, current, now) => adoptSession(handover, await verify(parseTokens(handover.tokens).idToken, now), record, current, now, options.authTimeRequired),
  };
}

/** A key set is fetched again for an unknown `kid` at most this often. */
export const JWKS_REFETCH_MS = 30_000;

/**
 * The provider's keys from `jwksUri`, fetched on first use and cached; fetched again when a
 * token names a key the cached set lacks (key rotation), at most every
 * {@link JWKS_REFETCH_MS}, so a stream of bad tokens cannot make it hammer the provider.
 */
export function remoteKeys(jwksUri: string, clock: Clock): JWTVerifyGetKey {
  let cached: JWTVerifyGetKey | null = null;
  let fetchedAt = -Infinity;
  let loading: Promise<JWTVerifyGetKey> | null = null;
  const load = () => (loading ??= fetchJson(jwksUri, clock, 'the provider\'s keys')
    .then((jwks) => {
      fetchedAt = clock.now();
      return (cached = createLocalJWKSet(jwks as JSONWebKeySet));
    })
    .finally(() => {
      loading = null;
    }));
  return async (header, token) => {
    const keys = cached ?? (await load());
    try {
      return await keys(header, token);
    } catch (error) {
      if (joseCode(error) !== 'ERR_JWKS_NO_MATCHING_KEY' || clock.now() - fetchedAt < JWKS_REFETCH_MS) throw error;
      return (await load())(header, token);
    }
  };
}

/** The verifier of one session's provider and client, with the provider's metadata (fetched unless given). */
export async function verifierFor(settings: Settings, keys?: JWTVerifyGetKey, given?: ProviderMetadata): Promise<{ verifier: Verifier; metadata: ProviderMetadata; profile: ProviderProfile }> {
  const { authority, clientId, clock } = settings;
  const profile = profileOf(settings.provider, settings.quirks);
  // With the server companion, metadata, keys and tokens go through it (same origin).
  const fetched = given ?? (await fetchMetadata(authority, clock, settings.serverUrl ?? authority));
  // Through the companion, keys and tokens go to it, whatever the document says (it is built
  // from a request's Host, which a cache could have been poisoned with).
  const { serverUrl } = settings;
  const metadata = serverUrl ? { ...fetched, jwksUri: `${serverUrl}/jwks`, raw: { ...fetched.raw, token_endpoint: `${serverUrl}/token`, jwks_uri: `${serverUrl}/jwks` } } : fetched;
  const verifier = createVerifier({ issuer: authority, audience: clientId, algorithms: profile.idTokenAlgorithms, jwksUri: metadata.jwksUri, clock, maxTokenAgeMs: settings.policy.absoluteTimeoutMs, authTimeRequired: profile.supportsMaxAge, ...(keys ? { keys } : {}) });
  return { verifier, metadata, profile };
}

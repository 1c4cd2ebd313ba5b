// The quirks of each provider the protocol and verification act on, as data. Loaded with
// verification (only verify.ts imports it); what the eager core needs of a provider, and the
// check of an app's own quirks, are in providers.ts.
import type { ProviderName } from './providers.js';

/**
 * The quirks of one identity provider, as data. Sources: NHS login's developer documentation
 * and Interface Specification; the Signaturgruppen Broker's public documentation (sessions,
 * claims, logout, troubleshooting).
 */
export interface ProviderProfile {
  /** ID token signature algorithms accepted. Never `none`, never HMAC (a public client has no secret). */
  readonly idTokenAlgorithms: readonly string[];
  /** Whether authorize accepts `max_age`. NHS login: not supported (its Interface Specification). */
  readonly supportsMaxAge: boolean;
  /** Error codes of a failed `prompt=none` meaning "the user must sign in". NHS login adds `sso_login_required`. */
  readonly loginRequiredErrors: readonly string[];
  /** Whether end-session refuses a request without `id_token_hint`. */
  readonly endSessionRequiresIdTokenHint: boolean;
  /** Whether authorize accepts `id_token_hint` (sent on silent renewal). NHS login: not supported. */
  readonly idTokenHintOnAuthorize: boolean;
  /**
   * Whether authorize accepts `max_age=0` (valid, OIDC Core §3.1.2.1, and refused by some
   * providers). Without it a reauthentication sends `prompt=login` alone, and is still proven:
   * the new `auth_time` must not be earlier than the request.
   */
  readonly supportsMaxAgeZero: boolean;
  /** Whether `prompt=none` is refused without `id_token_hint` (only RECOMMENDED by OIDC Core): then no silent request is made without one. */
  readonly promptNoneRequiresIdTokenHint: boolean;
  /** Whether a logout token must carry `exp` (REQUIRED since Back-Channel Logout 1.0 final; some providers omit it). The server companion's rule. */
  readonly logoutTokenRequiresExp: boolean;
}

const STANDARD_ERRORS = ['login_required', 'interaction_required', 'consent_required', 'account_selection_required'] as const;
/** What every profile shares unless it says otherwise: the specifications' rules. */
const STANDARD = { supportsMaxAgeZero: true, promptNoneRequiresIdTokenHint: false, logoutTokenRequiresExp: true } as const;
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** Every profile, keyed by name. */
export const profiles: Readonly<Record<ProviderName, ProviderProfile>> = Object.freeze<Record<ProviderName, ProviderProfile>>({
  generic: Object.freeze<ProviderProfile>({
    ...STANDARD,
    idTokenAlgorithms: ASYMMETRIC_ALGS,
    supportsMaxAge: true,
    loginRequiredErrors: STANDARD_ERRORS,
    endSessionRequiresIdTokenHint: false,
    idTokenHintOnAuthorize: true,
  }),
  'nhs-login': Object.freeze<ProviderProfile>({
    ...STANDARD,
    // NHS login signs tokens with RS512 (its Interface Specification).
    idTokenAlgorithms: ['RS512'],
    // max_age, ui_locales, id_token_hint and login_hint are not supported on authorize.
    supportsMaxAge: false,
    // A failed prompt=none may answer with the NHS-specific sso_login_required.
    loginRequiredErrors: [...STANDARD_ERRORS, 'sso_login_required'],
    endSessionRequiresIdTokenHint: false,
    // id_token_hint is not supported on authorize.
    idTokenHintOnAuthorize: false,
  }),
  'signaturgruppen-broker': Object.freeze<ProviderProfile>({
    ...STANDARD,
    idTokenAlgorithms: ASYMMETRIC_ALGS,
    supportsMaxAge: true,
    loginRequiredErrors: STANDARD_ERRORS,
    // End session: a valid id_token_hint is MANDATORY.
    endSessionRequiresIdTokenHint: true,
    idTokenHintOnAuthorize: true,
  }),
});

/** The profile an app's settings name: a named profile with the app's own quirks over it. */
export const profileOf = (name: ProviderName, quirks: Partial<ProviderProfile>): ProviderProfile =>
  Object.freeze({ ...profiles[name], ...quirks });

/** The name of a provider profile. */
export type ProviderName = 'generic' | 'nhs-login' | 'signaturgruppen-broker';

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
  /** Whether the token endpoint needs client authentication that only a server can add (the server companion). */
  readonly tokenEndpointNeedsServer: boolean;
  /** Whether discovery, JWKS and token calls must go through the app's server (no CORS from browsers). */
  readonly noBrowserCors: boolean;
  /** Whether end-session refuses a request without `id_token_hint`. */
  readonly endSessionRequiresIdTokenHint: boolean;
  /** Whether authorize accepts `id_token_hint` (sent on silent renewal). NHS login: not supported. */
  readonly idTokenHintOnAuthorize: boolean;
  /** Authorize parameters the provider refuses; `options.authParams` naming one is rejected. */
  readonly unsupportedAuthParams: readonly string[];
}

const STANDARD_ERRORS = ['login_required', 'interaction_required', 'consent_required', 'account_selection_required'] as const;
const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** Every profile, keyed by name. */
export const providers: Readonly<Record<ProviderName, ProviderProfile>> = Object.freeze<Record<ProviderName, ProviderProfile>>({
  generic: Object.freeze<ProviderProfile>({
    idTokenAlgorithms: ASYMMETRIC_ALGS,
    supportsMaxAge: true,
    loginRequiredErrors: STANDARD_ERRORS,
    tokenEndpointNeedsServer: false,
    noBrowserCors: false,
    endSessionRequiresIdTokenHint: false,
    idTokenHintOnAuthorize: true,
    unsupportedAuthParams: [],
  }),
  'nhs-login': Object.freeze<ProviderProfile>({
    // NHS login signs tokens with RS512 (its Interface Specification).
    idTokenAlgorithms: ['RS512'],
    // max_age, ui_locales, id_token_hint and login_hint are not supported on authorize.
    supportsMaxAge: false,
    // A failed prompt=none may answer with the NHS-specific sso_login_required.
    loginRequiredErrors: [...STANDARD_ERRORS, 'sso_login_required'],
    // Public clients are not supported: private_key_jwt at the token endpoint.
    tokenEndpointNeedsServer: true,
    noBrowserCors: false,
    endSessionRequiresIdTokenHint: false,
    idTokenHintOnAuthorize: false,
    // Not supported on authorize: max_age, ui_locales, id_token_hint, login_hint. (Vectors of
    // trust go in authParams.vtr, a JSON array string such as ["P9.Cp.Cd","P9.Cp.Ck"].)
    unsupportedAuthParams: ['ui_locales', 'login_hint'],
  }),
  'signaturgruppen-broker': Object.freeze<ProviderProfile>({
    idTokenAlgorithms: ASYMMETRIC_ALGS,
    supportsMaxAge: true,
    loginRequiredErrors: STANDARD_ERRORS,
    tokenEndpointNeedsServer: false,
    // The Broker allows no CORS from browsers: discovery, JWKS and token go through the RP's server.
    noBrowserCors: true,
    // End session: a valid id_token_hint is MANDATORY.
    endSessionRequiresIdTokenHint: true,
    idTokenHintOnAuthorize: true,
    // idp_values (authParams) selects the identity provider, e.g. mitid, mitid_erhverv.
    unsupportedAuthParams: [],
  }),
});

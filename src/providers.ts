/** The name of a provider profile. */
export type ProviderName = 'generic' | 'nhs-login' | 'signaturgruppen-broker';

/**
 * What the eager core needs of each provider; the quirks the protocol and verification act
 * on are in profiles.ts, loaded with verification. Sources: NHS login's developer
 * documentation and Interface Specification; the Signaturgruppen Broker's public
 * documentation.
 */
export const providers: Readonly<Record<ProviderName, { readonly needsServer: boolean; readonly unsupportedAuthParams: readonly string[] }>> = {
  generic: { needsServer: false, unsupportedAuthParams: [] },
  // Public clients are not supported: private_key_jwt (RFC 7523) at the token endpoint, which
  // only a server can add. Not supported on authorize: max_age, ui_locales, id_token_hint,
  // login_hint (vectors of trust go in authParams.vtr, a JSON array string such as
  // ["P9.Cp.Cd","P9.Cp.Ck"]).
  'nhs-login': { needsServer: true, unsupportedAuthParams: ['ui_locales', 'login_hint'] },
  // No CORS from browsers: discovery, JWKS and token go through the service's server.
  // idp_values (authParams) selects the identity provider, e.g. mitid, mitid_erhverv.
  'signaturgruppen-broker': { needsServer: true, unsupportedAuthParams: [] },
};

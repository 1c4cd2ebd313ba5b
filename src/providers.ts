import type { ProviderProfile } from './profiles.js';

/** The name of a provider profile. */
export type ProviderName = 'generic' | 'nhs-login' | 'signaturgruppen-broker';

/** What the eager core needs of a provider; the quirks the protocol and verification act on are in profiles.ts. */
export interface ProviderNeeds {
  /** The token endpoint needs the server companion (client authentication, or no CORS from browsers). */
  readonly needsServer: boolean;
  /** Authorize parameters the provider refuses, so `authParams` may not carry them. */
  readonly unsupportedAuthParams: readonly string[];
}

/**
 * A provider described by the app: a named profile, and each quirk in which this provider
 * differs from it. Every field is validated (a TypeError names the bad one).
 * @example { extends: 'generic', supportsMaxAgeZero: false, promptNoneRequiresIdTokenHint: true }
 */
export type ProviderQuirks = { readonly extends: ProviderName } & Partial<ProviderProfile>;

/**
 * What the eager core needs of each provider. Sources: NHS login's developer documentation
 * and Interface Specification; the Signaturgruppen Broker's public documentation.
 */
export const providers: Readonly<Record<ProviderName, ProviderNeeds>> = {
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

/** Asymmetric JWS algorithms (RFC 7518, RFC 8037): never `none`, never HMAC (a public client has no secret). */
export const ASYMMETRIC_ALG = /^((RS|PS|ES)(256|384|512)|EdDSA|Ed25519)$/;

/** The quirks an app may set: lists of strings, and flags. */
const LISTS = ['idTokenAlgorithms', 'loginRequiredErrors'];
const FLAGS = ['supportsMaxAge', 'supportsMaxAgeZero', 'endSessionRequiresIdTokenHint', 'idTokenHintOnAuthorize', 'promptNoneRequiresIdTokenHint', 'logoutTokenRequiresExp'];

/**
 * The provider option (`createSession`'s and the companion's): a profile name, or a named
 * profile with the quirks that differ. Returns the name and those quirks.
 * @throws TypeError naming the bad field (`path` is the option's name).
 */
export function resolveProvider(value: unknown, path: string): { readonly name: ProviderName; readonly quirks: Partial<ProviderProfile> } {
  const names = Object.keys(providers);
  const named = typeof value !== 'object' || value === null;
  const given = (named ? { extends: value === undefined ? 'generic' : value } : value) as Record<string, unknown>;
  const quirks: Record<string, unknown> = {};
  // `extends` first, and always, and the object's own: a profile is a named one and what differs from it.
  for (const [key, field] of Object.entries({ extends: Object.hasOwn(given, 'extends') ? given.extends : undefined, ...given })) {
    const list = LISTS.includes(key) && Array.isArray(field) && field.length > 0 && field.every((item) => typeof item === 'string' && item !== '')
      && (key !== 'idTokenAlgorithms' || field.every((alg: string) => ASYMMETRIC_ALG.test(alg)));
    if (key === 'extends' ? !names.includes(field as string) : !(list || (FLAGS.includes(key) && typeof field === 'boolean'))) {
      throw new TypeError(`"${named ? path : `${path}.${key}`}" ${key === 'extends' ? `must be one of ${names.map((n) => `'${n}'`).join(', ')}${named ? ' or { extends, ...quirks }' : ''}`
        : LISTS.includes(key) ? `must be a non-empty list of strings${key === 'idTokenAlgorithms' ? ' of asymmetric algorithms (never none or HMAC)' : ''}`
          : FLAGS.includes(key) ? 'must be true or false' : 'is not a provider quirk'}; got ${JSON.stringify(field)}`);
    }
    if (key !== 'extends') quirks[key] = list ? Object.freeze([...(field as string[])]) : field;
  }
  return { name: given.extends as ProviderName, quirks: Object.freeze(quirks) };
}

// The companion's options, validated once: a bad one throws a TypeError naming it.
import type { JWK } from 'jose';
import type { ClientAuth } from './assertion.js';
import { memoryStore, type CompanionStore } from './store.js';
import { profileOf, profiles, type ProviderProfile } from '../profiles.js';
import { resolveProvider, type ProviderName, type ProviderQuirks } from '../providers.js';

export type CompanionProvider = ProviderName;

/** A provider's logout API: called with the latest ID token on `POST {mount}/logout`. */
export interface LogoutApi {
  readonly url: string;
  /** @default 'POST' */
  readonly method?: 'POST' | 'DELETE';
  /** The JSON body for an ID token. @default (idToken) => ({ id_token: idToken }) */
  readonly body?: (idToken: string) => unknown;
}

export interface CompanionOptions {
  /** The provider's issuer, exactly as in its discovery document. https (http on localhost only). */
  readonly issuer: string;
  readonly clientId: string;
  /** The redirect URIs registered for the client; a code exchange for another is refused. */
  readonly redirectUris: readonly string[];
  /**
   * The provider profile, as the browser's `provider` option: a name, or a named profile with
   * the quirks in which this provider differs (the companion acts on `idTokenAlgorithms` and
   * `logoutTokenRequiresExp`).
   * @default 'generic'
   */
  readonly provider?: CompanionProvider | ProviderQuirks;
  /** Client authentication added at the token endpoint. NHS login: `private_key_jwt` (RS512), required. Without it the client is public. */
  readonly clientAuth?: ClientAuth;
  /** Shared state. @default memoryStore() (one instance); redisStore() for several. */
  readonly store?: CompanionStore;
  /** The public URL of the mount point, e.g. https://app.example/auth. @default the request's origin and mount path */
  readonly publicUrl?: string;
  /** The provider's logout API. @default the Broker's `POST <issuer>/api/v1/session/logout` for 'signaturgruppen-broker', none otherwise */
  readonly logoutApi?: LogoutApi | null;
  /** How long sessions, logged-out marks and used `jti`s are kept, ms: no shorter than a session can live. @default 24 h */
  readonly retentionMs?: number;
}


export interface CompanionSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly redirectUris: ReadonlySet<string>;
  /** The named profile the provider extends. */
  readonly provider: CompanionProvider;
  /** The profile with the app's quirks: the same rules as the browser's (ID token and logout token algorithms, `exp` on logout tokens). */
  readonly profile: ProviderProfile;
  /** The algorithms accepted for ID tokens, logout tokens and client assertions: the profile's. */
  readonly algorithms: readonly string[];
  readonly clientAuth: (ClientAuth & { readonly alg?: string }) | null;
  /** The client assertion's algorithm, for private_key_jwt. */
  readonly assertionAlg: string;
  readonly store: CompanionStore;
  readonly ownStore: boolean;
  readonly publicUrl: string | null;
  readonly logoutApi: Required<LogoutApi> | null;
  readonly retentionMs: number;
}

const KNOWN = new Set(['issuer', 'clientId', 'redirectUris', 'provider', 'clientAuth', 'store', 'publicUrl', 'logoutApi', 'retentionMs']);
const bad = (name: string, problem: string): never => {
  throw new TypeError(`"${name}" ${problem}`);
};
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function url(value: unknown, name: string): URL {
  if (typeof value !== 'string' || value === '') return bad(name, 'must be a non-empty string');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return bad(name, `must be an absolute URL; got '${value}'`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname))) bad(name, `must use https (http only on localhost, 127.0.0.1 or [::1]); got '${value}'`);
  return parsed;
}

function clientAuthOf(value: unknown, provider: CompanionProvider, algorithms: readonly string[]): { auth: ClientAuth | null; alg: string } {
  const fallbackAlg = provider === 'nhs-login' ? 'RS512' : 'RS256';
  if (value === undefined) {
    if (provider === 'nhs-login') bad('clientAuth', "is required for 'nhs-login': it accepts no public clients (private_key_jwt, RS512)");
    return { auth: null, alg: fallbackAlg };
  }
  if (!isObject(value)) return bad('clientAuth', 'must be an object');
  if (value.method === 'private_key_jwt') {
    const jwk = value.privateJwk;
    if (!isObject(jwk) || typeof jwk.kty !== 'string') return bad('clientAuth.privateJwk', 'must be a JWK (an object with "kty")');
    if (typeof jwk.d !== 'string') bad('clientAuth.privateJwk', 'must be a private key (it has no "d")');
    const alg = value.alg ?? jwk.alg ?? fallbackAlg;
    if (typeof alg !== 'string' || !algorithms.includes(alg)) bad('clientAuth.alg', `must be one of ${algorithms.join(', ')} for '${provider}'; got ${JSON.stringify(alg)}`);
    return { auth: { method: 'private_key_jwt', privateJwk: jwk as JWK }, alg: alg as string };
  }
  if (value.method === 'client_secret_basic' || value.method === 'client_secret_post') {
    if (provider === 'nhs-login') bad('clientAuth.method', "must be 'private_key_jwt' for 'nhs-login'");
    if (typeof value.clientSecret !== 'string' || value.clientSecret === '') bad('clientAuth.clientSecret', 'must be a non-empty string');
    return { auth: { method: value.method, clientSecret: value.clientSecret as string }, alg: fallbackAlg };
  }
  return bad('clientAuth.method', `must be 'private_key_jwt', 'client_secret_basic' or 'client_secret_post'; got ${JSON.stringify(value.method)}`);
}

const STORE_METHODS = ['useOnce', 'mark', 'marked', 'publish', 'subscribe', 'putSession', 'getSession', 'close'] as const;

/** Validates `createCompanion`'s options. @throws TypeError naming the bad option. */
export function resolveCompanionOptions(options: unknown): CompanionSettings {
  if (!isObject(options)) return bad('options', 'must be an object');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) bad(key, 'is not an option of createCompanion');
  const issuer = url(options.issuer, 'issuer');
  if (issuer.search || issuer.hash) bad('issuer', 'must not have a query or fragment');
  if (typeof options.clientId !== 'string' || options.clientId === '') bad('clientId', 'must be a non-empty string');
  const uris = options.redirectUris;
  if (!Array.isArray(uris) || uris.length === 0) bad('redirectUris', 'must name at least one redirect URI');
  const redirectUris = new Set((uris as unknown[]).map((uri, i) => url(uri, `redirectUris[${i}]`).href));
  const { name: provider, quirks } = resolveProvider(options.provider, 'provider');
  const profile = profileOf(provider, quirks);
  // Client assertions are signed with the key the app registered: the named profile's algorithms, whatever it accepts for ID tokens.
  const { auth, alg } = clientAuthOf(options.clientAuth, provider, profiles[provider].idTokenAlgorithms);
  const store = options.store ?? memoryStore();
  if (!isObject(store) || STORE_METHODS.some((m) => typeof store[m] !== 'function')) bad('store', `must be a store (memoryStore() or redisStore()) with ${STORE_METHODS.join(', ')}`);
  const publicUrl = options.publicUrl === undefined ? null : url(options.publicUrl, 'publicUrl').href.replace(/\/+$/, '');
  let logoutApi: Required<LogoutApi> | null = null;
  const api = options.logoutApi === undefined && provider === 'signaturgruppen-broker' ? { url: `${issuer.href.replace(/\/+$/, '')}/api/v1/session/logout` } : options.logoutApi;
  if (api !== undefined && api !== null) {
    if (!isObject(api)) bad('logoutApi', 'must be an object with a "url", or null');
    const method = (api as Record<string, unknown>).method ?? 'POST';
    if (method !== 'POST' && method !== 'DELETE') bad('logoutApi.method', `must be 'POST' or 'DELETE'; got ${JSON.stringify(method)}`);
    const body = (api as Record<string, unknown>).body ?? ((idToken: string) => ({ id_token: idToken }));
    if (typeof body !== 'function') bad('logoutApi.body', 'must be a function of the ID token');
    logoutApi = { url: url((api as Record<string, unknown>).url, 'logoutApi.url').href, method: method as 'POST', body: body as (idToken: string) => unknown };
  }
  const retentionMs = options.retentionMs ?? 86_400_000;
  if (typeof retentionMs !== 'number' || !Number.isFinite(retentionMs) || retentionMs < 60_000) bad('retentionMs', 'must be a number of milliseconds, at least 60000');
  return {
    issuer: options.issuer as string,
    clientId: options.clientId as string,
    redirectUris,
    provider,
    profile,
    algorithms: profile.idTokenAlgorithms,
    clientAuth: auth,
    assertionAlg: alg,
    store: store as CompanionStore,
    ownStore: options.store === undefined,
    publicUrl,
    logoutApi,
    retentionMs: retentionMs as number,
  };
}

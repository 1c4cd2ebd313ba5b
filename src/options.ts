import { systemClock, type Clock } from './clock.js';
import { resolvePolicy, type PresetName, type SessionPolicy } from './policy.js';
import { isProviderName, providers, type ProviderName, type ProviderProfile } from './providers.js';

/** What to do when the session hits a limit. */
export type OnExpired = 'reauthenticate' | 'sign-out' | 'none';

/** Options of {@link createSession}. */
export interface SessionOptions {
  /** The provider's issuer URL, exactly as its discovery document's `issuer`. */
  authority: string;
  /** The client id registered at the provider. */
  clientId: string;
  /** Where the provider sends the user back after sign-in; must be on this app's origin. */
  redirectUri: string;
  /**
   * Where the provider sends the user after sign-out; must be on this app's origin.
   * @default the root of redirectUri's origin
   */
  postLogoutRedirectUri?: string;
  /**
   * Space-separated scopes; must include `openid`.
   * @default 'openid'
   */
  scope?: string;
  /**
   * The provider profile, which sets the provider's quirks.
   * @default 'generic'
   */
  provider?: ProviderName;
  /**
   * The session limits: a preset name or custom limits in milliseconds.
   * @default 'nist-800-63b-3-aal2'
   */
  policy?: PresetName | { idleTimeoutMs: number; absoluteTimeoutMs: number; warningBeforeMs?: number };
  /**
   * What happens at a limit: send the user back through authentication, sign out, or only emit `expired`.
   * @default 'reauthenticate'
   */
  onExpired?: OnExpired;
  /** Base URL of the server companion (`oidc-session-guard/server`), when used. Same origin as the app. */
  serverUrl?: string;
  /**
   * Extra authorize parameters the provider understands, e.g. `{ vtr: '["P9.Cp.Cd"]' }` for NHS login.
   * @default {}
   */
  authParams?: Record<string, string>;
  /**
   * The source of time; inject one in tests.
   * @default the global Date and timers
   */
  clock?: Clock;
}

/** Options after validation, with defaults filled in. Frozen. */
export interface Settings {
  readonly authority: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly scope: string;
  readonly provider: ProviderName;
  readonly profile: ProviderProfile;
  readonly policy: SessionPolicy;
  readonly onExpired: OnExpired;
  readonly serverUrl: string | null;
  readonly authParams: Readonly<Record<string, string>>;
  readonly clock: Clock;
  /** The app's origin: every redirect target must be on it. */
  readonly origin: string;
}

const KNOWN = new Set(['authority', 'clientId', 'redirectUri', 'postLogoutRedirectUri', 'scope', 'provider', 'policy', 'onExpired', 'serverUrl', 'authParams', 'clock']);
const ON_EXPIRED: readonly OnExpired[] = ['reauthenticate', 'sign-out', 'none'];
// Parameters the SDK sets itself; letting authParams override them would break PKCE, state or the limits.
const RESERVED_PARAMS = new Set(['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method', 'prompt', 'max_age', 'id_token_hint', 'request', 'request_uri']);

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`"${name}" must be a non-empty string`);
  return value;
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

function absoluteUrl(value: unknown, name: string): URL {
  const text = nonEmptyString(value, name);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`"${name}" must be an absolute URL; got '${text}'`);
  }
  // Plain http only on this machine (development); everything else must be https.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new TypeError(`"${name}" must use https (http only for localhost); got '${text}'`);
  }
  if (url.hash) throw new TypeError(`"${name}" must not have a fragment; got '${text}'`);
  return url;
}

function currentOrigin(): string | null {
  const location = (globalThis as { location?: { origin?: string } }).location;
  return typeof location?.origin === 'string' && location.origin !== 'null' ? location.origin : null;
}

/**
 * Validates `createSession`'s options and settles the defaults, once.
 * @throws TypeError whose message names the bad option.
 */
export function resolveOptions(options: unknown): Settings {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('"options" must be an object');
  }
  const input = options as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) throw new TypeError(`"options.${key}" is not an option of createSession`);
  }

  const authorityUrl = absoluteUrl(input.authority, 'options.authority');
  if (authorityUrl.search) throw new TypeError('"options.authority" must not have a query');
  const clientId = nonEmptyString(input.clientId, 'options.clientId');
  const redirect = absoluteUrl(input.redirectUri, 'options.redirectUri');
  const origin = currentOrigin() ?? redirect.origin;
  if (redirect.origin !== origin) {
    throw new TypeError(`"options.redirectUri" must be on this app's origin (${origin}); got '${redirect.href}'`);
  }
  const postLogout = input.postLogoutRedirectUri === undefined
    ? new URL('/', redirect)
    : absoluteUrl(input.postLogoutRedirectUri, 'options.postLogoutRedirectUri');
  if (postLogout.origin !== origin) {
    throw new TypeError(`"options.postLogoutRedirectUri" must be on this app's origin (${origin}); got '${postLogout.href}'`);
  }

  const scope = input.scope === undefined ? 'openid' : nonEmptyString(input.scope, 'options.scope');
  if (!scope.split(/\s+/).includes('openid')) throw new TypeError(`"options.scope" must include 'openid'; got '${scope}'`);

  const provider = input.provider === undefined ? 'generic' : input.provider;
  if (!isProviderName(provider)) {
    throw new TypeError(`"options.provider" must be one of ${Object.keys(providers).map((k) => `'${k}'`).join(', ')}; got ${JSON.stringify(provider)}`);
  }
  const profile = providers[provider];
  if (profile.tokenEndpointNeedsServer || profile.noBrowserCors) {
    // NHS login needs private_key_jwt at the token endpoint and the Broker allows no CORS:
    // both go through the server companion, which this version does not include yet.
    throw new TypeError(`"options.provider" '${provider}' needs the server companion, which this version does not include yet`);
  }

  const policy = resolvePolicy(input.policy);

  const onExpired = input.onExpired === undefined ? 'reauthenticate' : input.onExpired;
  if (!ON_EXPIRED.includes(onExpired as OnExpired)) {
    throw new TypeError(`"options.onExpired" must be one of ${ON_EXPIRED.map((k) => `'${k}'`).join(', ')}; got ${JSON.stringify(onExpired)}`);
  }

  let serverUrl: string | null = null;
  if (input.serverUrl !== undefined) {
    const server = absoluteUrl(input.serverUrl, 'options.serverUrl');
    if (server.origin !== origin) {
      throw new TypeError(`"options.serverUrl" must be on this app's origin (${origin}); got '${server.href}'`);
    }
    serverUrl = server.href.replace(/\/+$/, '');
  }

  const authParams: Record<string, string> = {};
  if (input.authParams !== undefined) {
    if (typeof input.authParams !== 'object' || input.authParams === null || Array.isArray(input.authParams)) {
      throw new TypeError('"options.authParams" must be an object of strings');
    }
    for (const [key, value] of Object.entries(input.authParams)) {
      if (RESERVED_PARAMS.has(key)) throw new TypeError(`"options.authParams.${key}" is set by the SDK and cannot be overridden`);
      if (profile.unsupportedAuthParams.includes(key)) {
        throw new TypeError(`"options.authParams.${key}" is not supported by the '${provider}' provider`);
      }
      if (typeof value !== 'string') throw new TypeError(`"options.authParams.${key}" must be a string`);
      authParams[key] = value;
    }
  }

  const clock = input.clock === undefined ? systemClock : input.clock;
  if (typeof clock !== 'object' || clock === null
    || typeof (clock as Clock).now !== 'function'
    || typeof (clock as Clock).setTimeout !== 'function'
    || typeof (clock as Clock).clearTimeout !== 'function'
    || ((clock as Clock).monotonicNow !== undefined && typeof (clock as Clock).monotonicNow !== 'function')) {
    throw new TypeError('"options.clock" must have now(), setTimeout() and clearTimeout()');
  }

  return Object.freeze({
    // Kept as given: it is compared, exactly, with the discovery document's and the ID token's `iss`.
    authority: input.authority as string,
    clientId,
    redirectUri: redirect.href,
    postLogoutRedirectUri: postLogout.href,
    scope,
    provider,
    profile,
    policy,
    onExpired: onExpired as OnExpired,
    serverUrl,
    authParams: Object.freeze(authParams),
    clock: clock as Clock,
    origin,
  });
}

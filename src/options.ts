import { systemClock, type Clock } from './clock.js';
import { resolvePolicy, type PresetName, type SessionPolicy } from './policy.js';
import { providers, resolveProvider, type ProviderName, type ProviderQuirks } from './providers.js';
import type { ProviderProfile } from './profiles.js';

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
   * The provider profile, which sets the provider's quirks: a name, or a named profile with
   * the fields in which this provider differs from it (each validated), e.g.
   * `{ extends: 'generic', supportsMaxAgeZero: false, promptNoneRequiresIdTokenHint: true }`.
   * @default 'generic'
   */
  provider?: ProviderName | ProviderQuirks;
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
  /** The named profile the provider extends. */
  readonly provider: ProviderName;
  /** The fields in which the provider differs from that profile. */
  readonly quirks: Readonly<Partial<ProviderProfile>>;
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

/** Throws the TypeError that names the bad option. */
function bad(name: string, message: string): never {
  throw new TypeError(`"${name}" ${message}`);
}

const quoted = (list: readonly string[]) => list.map((k) => `'${k}'`).join(', ');

function nonEmptyString(value: unknown, name: string): string {
  return typeof value === 'string' && value.trim() !== '' ? value : bad(name, 'must be a non-empty string');
}

function oneOf<T extends string>(value: unknown, list: readonly T[], name: string, fallback: T): T {
  if (value === undefined) return fallback;
  return list.includes(value as T) ? (value as T) : bad(name, `must be one of ${quoted(list)}; got ${JSON.stringify(value)}`);
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

/** An absolute https URL (http on this machine only, for development), without a fragment; on `origin` when given. */
function absoluteUrl(value: unknown, name: string, origin?: string): URL {
  const text = nonEmptyString(value, name);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad(name, `must be an absolute URL; got '${text}'`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) bad(name, `must use https (http only for localhost); got '${text}'`);
  if (url.hash) bad(name, `must not have a fragment; got '${text}'`);
  if (origin !== undefined && url.origin !== origin) bad(name, `must be on this app's origin (${origin}); got '${url.href}'`);
  return url;
}

function currentOrigin(): string | null {
  const location = (globalThis as { location?: { origin?: string } }).location;
  return typeof location?.origin === 'string' && location.origin !== 'null' ? location.origin : null;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Validates `createSession`'s options and settles the defaults, once.
 * @throws TypeError whose message names the bad option.
 */
export function resolveOptions(options: unknown): Settings {
  if (!isObject(options)) return bad('options', 'must be an object');
  const input = options;
  for (const key of Object.keys(input)) if (!KNOWN.has(key)) bad(`options.${key}`, 'is not an option of createSession');

  if (absoluteUrl(input.authority, 'options.authority').search) bad('options.authority', 'must not have a query');
  const clientId = nonEmptyString(input.clientId, 'options.clientId');
  const redirectOrigin = absoluteUrl(input.redirectUri, 'options.redirectUri').origin;
  const origin = currentOrigin() ?? redirectOrigin;
  const redirect = absoluteUrl(input.redirectUri, 'options.redirectUri', origin);
  const postLogout = input.postLogoutRedirectUri === undefined
    ? new URL('/', redirect)
    : absoluteUrl(input.postLogoutRedirectUri, 'options.postLogoutRedirectUri', origin);

  const scope = input.scope === undefined ? 'openid' : nonEmptyString(input.scope, 'options.scope');
  if (!scope.split(/\s+/).includes('openid')) bad('options.scope', `must include 'openid'; got '${scope}'`);

  const { name: provider, quirks } = resolveProvider(input.provider, 'options.provider');
  const profile = providers[provider];
  const policy = resolvePolicy(input.policy);
  const onExpired = oneOf(input.onExpired, ON_EXPIRED, 'options.onExpired', 'reauthenticate');
  const serverUrl = input.serverUrl === undefined ? null : absoluteUrl(input.serverUrl, 'options.serverUrl', origin).href.replace(/\/+$/, '');
  // NHS login needs private_key_jwt at the token endpoint and the Broker allows no CORS:
  // both go through the server companion (oidc-session-guard/server).
  if (profile.needsServer && serverUrl === null) {
    bad('options.serverUrl', `(the server companion) is required for '${provider}'`);
  }

  const authParams: Record<string, string> = {};
  if (input.authParams !== undefined) {
    if (!isObject(input.authParams)) bad('options.authParams', 'must be an object of strings');
    for (const [key, value] of Object.entries(input.authParams)) {
      const name = `options.authParams.${key}`;
      if (RESERVED_PARAMS.has(key)) bad(name, 'is set by the SDK and cannot be overridden');
      if (profile.unsupportedAuthParams.includes(key)) bad(name, `is not supported by the '${provider}' provider`);
      authParams[key] = typeof value === 'string' ? value : bad(name, 'must be a string');
    }
  }

  const clock = (input.clock ?? systemClock) as Clock;
  const fn = (key: keyof Clock) => typeof clock[key] === 'function';
  if (!isObject(clock) || !fn('now') || !fn('setTimeout') || !fn('clearTimeout') || !(clock.monotonicNow === undefined || fn('monotonicNow'))) {
    bad('options.clock', 'must have now(), setTimeout() and clearTimeout()');
  }

  return Object.freeze({
    // Kept as given: it is compared, exactly, with the discovery document's and the ID token's `iss`.
    authority: input.authority as string,
    clientId,
    redirectUri: redirect.href,
    postLogoutRedirectUri: postLogout.href,
    scope,
    provider,
    quirks,
    policy,
    onExpired,
    serverUrl,
    authParams: Object.freeze(authParams),
    clock,
    origin,
  });
}

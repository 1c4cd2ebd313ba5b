import type { Clock } from './clock.js';
import { REQUEST_TIMEOUT_MS } from './constants.js';
import { SessionError } from './errors.js';

/** The provider metadata the SDK relies on (OpenID Connect Discovery 1.0 §3). */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly endSessionEndpoint: string | null;
  /** The whole document, handed to the protocol layer so it does not fetch it again. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/**
 * Fetches the discovery document of `issuer`, from `from` (the server companion, which
 * passes it through with `token_endpoint` and `jwks_uri` pointing at itself; the provider
 * itself by default). Its `issuer` must equal `issuer` exactly
 * (OpenID Connect Discovery 1.0 §4.3) and it must name a `jwks_uri`.
 * @throws SessionError `INVALID_OPTIONS` when it contradicts the options, `NETWORK` when unreachable.
 */
export async function fetchMetadata(issuer: string, clock: Clock, from = issuer): Promise<ProviderMetadata> {
  const url = `${from.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const raw = await fetchJson(url, clock, 'the provider\'s metadata');
  const doc = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (doc.issuer !== issuer) {
    throw new SessionError('INVALID_OPTIONS', `the provider's issuer '${String(doc.issuer)}' is not "options.authority" '${issuer}'`);
  }
  if (typeof doc.jwks_uri !== 'string') throw new SessionError('INVALID_OPTIONS', 'the provider\'s metadata has no jwks_uri');
  const endSession = doc.end_session_endpoint;
  return Object.freeze({ issuer, jwksUri: doc.jwks_uri, endSessionEndpoint: typeof endSession === 'string' ? endSession : null, raw: doc });
}

/**
 * GETs JSON from the provider within {@link REQUEST_TIMEOUT_MS}.
 * @throws SessionError `NETWORK` naming `what` when it fails, times out or is not JSON.
 */
export async function fetchJson(url: string, clock: Clock, what: string): Promise<unknown> {
  const abort = new AbortController();
  const timer = clock.setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(url, { signal: abort.signal, headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await response.json();
  } catch (error) {
    throw new SessionError('NETWORK', `could not load ${what} from ${url}`, { cause: error });
  } finally {
    clock.clearTimeout(timer);
  }
}

// The provider as the companion sees it: its discovery document and its keys, fetched with
// a time limit and cached.
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** How long a request to the provider may take. */
export const PROVIDER_TIMEOUT_MS = 10_000;
/** The JWKS is kept at least this long, at most a day, else as its Cache-Control says (10 minutes without). */
const KEYS_MIN_MS = 60_000;
const KEYS_MAX_MS = 86_400_000;
const KEYS_DEFAULT_MS = 600_000;
/** A key set is fetched again for an unknown `kid` at most this often. */
export const KEYS_REFETCH_MS = 30_000;

/** The provider's answer was not usable. */
export class ProviderError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderError';
  }
}

/** GETs JSON within the time limit. */
export async function getJson(url: string): Promise<{ body: Record<string, unknown>; maxAgeMs: number | null }> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  } catch (error) {
    throw new ProviderError(`could not reach ${url}`, { cause: error });
  }
  if (!response.ok) throw new ProviderError(`${url} answered HTTP ${response.status}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new ProviderError(`${url} did not answer JSON`, { cause: error });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ProviderError(`${url} did not answer a JSON object`);
  const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(response.headers.get('cache-control') ?? '');
  return { body: body as Record<string, unknown>, maxAgeMs: maxAge ? Number(maxAge[1]) * 1000 : null };
}

/** The provider's discovery document and keys, cached. */
export interface Provider {
  metadata(): Promise<Record<string, unknown>>;
  /** The JWKS document as the provider serves it (cached as its Cache-Control says, within bounds). */
  jwks(): Promise<JSONWebKeySet>;
  /** Keys for jose's `jwtVerify`: an unknown `kid` fetches the set again (at most every 30 s). */
  readonly keys: JWTVerifyGetKey;
}

export function providerOf(issuer: string): Provider {
  let metadata: Promise<Record<string, unknown>> | null = null;
  type Held = { set: JSONWebKeySet; local: JWTVerifyGetKey; until: number; fetchedAt: number };
  let jwks: Held | null = null;
  let loading: Promise<Held> | null = null;
  const loadMetadata = () => {
    metadata ??= getJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`).then(({ body }) => {
      // OpenID Connect Discovery 1.0 §4.3: the issuer must be exactly the one configured.
      if (body.issuer !== issuer) throw new ProviderError(`the provider's issuer '${String(body.issuer)}' is not '${issuer}'`);
      if (typeof body.token_endpoint !== 'string' || typeof body.jwks_uri !== 'string') throw new ProviderError('the provider\'s metadata lacks token_endpoint or jwks_uri');
      return body;
    });
    metadata.catch(() => (metadata = null)); // tried again on the next request
    return metadata;
  };
  const loadKeys = (): Promise<Held> => (loading ??= loadMetadata()
    .then((doc) => getJson(doc.jwks_uri as string))
    .then(({ body, maxAgeMs }) => {
      if (!Array.isArray(body.keys)) throw new ProviderError('the provider\'s JWKS has no "keys"');
      const now = Date.now();
      const keep = Math.min(KEYS_MAX_MS, Math.max(KEYS_MIN_MS, maxAgeMs ?? KEYS_DEFAULT_MS));
      return (jwks = { set: body as unknown as JSONWebKeySet, local: createLocalJWKSet(body as unknown as JSONWebKeySet), until: now + keep, fetchedAt: now });
    })
    .finally(() => {
      loading = null;
    }));
  const current = async () => (jwks && jwks.until > Date.now() ? jwks : loadKeys());
  return {
    metadata: loadMetadata,
    jwks: async () => (await current()).set,
    keys: async (header, token) => {
      const held = await current();
      try {
        return await held.local(header, token);
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || Date.now() - held.fetchedAt < KEYS_REFETCH_MS) throw error;
        return (await loadKeys()).local(header, token);
      }
    },
  };
}

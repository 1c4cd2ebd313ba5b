// Client authentication at the token endpoint, added by the companion (a browser cannot
// hold the key or the secret): private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9),
// client_secret_basic or client_secret_post (RFC 6749 §2.3.1).
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';

/** How the companion authenticates the client at the provider's token endpoint. */
export type ClientAuth =
  | { readonly method: 'private_key_jwt'; readonly privateJwk: JWK; readonly alg?: string }
  | { readonly method: 'client_secret_basic' | 'client_secret_post'; readonly clientSecret: string };

/** How long a client assertion is valid. Short: it is made for one request. */
export const ASSERTION_LIFETIME_SEC = 60;

/**
 * A client assertion: `iss` = `sub` = the client id, `aud` = the token endpoint, a fresh
 * `jti`, `iat` now and `exp` a minute later, signed with the private key (`kid` from the JWK).
 */
export async function clientAssertion(clientId: string, tokenEndpoint: string, jwk: JWK, alg: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const key = await importJWK(jwk, alg);
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT', ...(jwk.kid ? { kid: jwk.kid } : {}) })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenEndpoint)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_SEC)
    .sign(key);
}

/** Adds client authentication to a token request: form fields, and headers to send. */
export async function authenticate(form: URLSearchParams, auth: ClientAuth, clientId: string, tokenEndpoint: string, alg: string): Promise<Record<string, string>> {
  switch (auth.method) {
    case 'private_key_jwt':
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', await clientAssertion(clientId, tokenEndpoint, auth.privateJwk, alg));
      return {};
    case 'client_secret_post':
      form.set('client_secret', auth.clientSecret);
      return {};
    case 'client_secret_basic': {
      // RFC 6749 §2.3.1: each part form-encoded before the Basic encoding.
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      form.delete('client_id');
      return { authorization: `Basic ${Buffer.from(`${enc(clientId)}:${enc(auth.clientSecret)}`).toString('base64')}` };
    }
  }
}

// Parts of the server companion on their own: the client assertion (RFC 7523) and the
// provider's keys as the companion caches them. The provider here is a stand-in HTTP server
// that counts what it is asked (how often keys are fetched cannot be seen at the real one).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ASSERTION_LIFETIME_SEC, authenticate, clientAssertion } from '../../src/server/assertion.js';
import { KEYS_REFETCH_MS, providerOf } from '../../src/server/provider.js';

const servers: Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('the client assertion (private_key_jwt, RFC 7523 §3)', () => {
  it("has iss = sub = the client id, aud = the token endpoint, a fresh jti, iat now and exp a minute later, signed RS512 with the key's kid", async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS512', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'client-key' };
    const now = Date.UTC(2026, 10, 29, 12, 0, 0);
    const one = await clientAssertion('nhs-client', 'https://op.example/token', jwk, 'RS512', now);
    const two = await clientAssertion('nhs-client', 'https://op.example/token', jwk, 'RS512', now);
    expect(decodeProtectedHeader(one)).toEqual({ alg: 'RS512', typ: 'JWT', kid: 'client-key' });
    const { payload } = await jwtVerify(one, publicKey, { currentDate: new Date(now), algorithms: ['RS512'] });
    expect(payload).toMatchObject({ iss: 'nhs-client', sub: 'nhs-client', aud: 'https://op.example/token', iat: now / 1000, exp: now / 1000 + ASSERTION_LIFETIME_SEC });
    expect(payload.jti).toEqual(expect.any(String));
    expect((await jwtVerify(two, publicKey, { currentDate: new Date(now) })).payload.jti).not.toBe(payload.jti);
  });

  it('adds the assertion to the form, or the secret in a form field or Basic header (each part form-encoded, RFC 6749 §2.3.1)', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'c' });
    expect(await authenticate(form, { method: 'private_key_jwt', privateJwk: await exportJWK(privateKey) }, 'c', 'https://op.example/token', 'RS256')).toEqual({});
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(form.get('client_assertion')).toMatch(/^ey/);
    const post = new URLSearchParams({ client_id: 'c' });
    await authenticate(post, { method: 'client_secret_post', clientSecret: 's3' }, 'c', 'x', 'RS256');
    expect(post.get('client_secret')).toBe('s3');
    const basic = new URLSearchParams({ client_id: 'my client' });
    const headers = await authenticate(basic, { method: 'client_secret_basic', clientSecret: 'p:ss w' }, 'my client', 'x', 'RS256');
    expect(headers.authorization).toBe(`Basic ${Buffer.from('my+client:p%3Ass+w').toString('base64')}`);
    expect(basic.has('client_id')).toBe(false);
  });
});

describe("the provider's keys, cached", () => {
  async function standIn(maxAge: string | null) {
    const keys = await Promise.all([generateKeyPair('RS256'), generateKeyPair('RS256')]);
    let served = [{ ...(await exportJWK(keys[0]!.publicKey)), kid: 'k1', alg: 'RS256' }];
    const rotate = async () => {
      served = [...served, { ...(await exportJWK(keys[1]!.publicKey)), kid: 'k2', alg: 'RS256' }];
    };
    let fetches = 0;
    let issuer = '';
    const server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` }));
      } else {
        fetches += 1;
        res.writeHead(200, { 'content-type': 'application/json', ...(maxAge ? { 'cache-control': maxAge } : {}) }).end(JSON.stringify({ keys: served }));
      }
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sign = (kid: string) => new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'RS256', kid }).sign(keys[kid === 'k1' ? 0 : 1]!.privateKey);
    return { issuer, fetches: () => fetches, rotate, sign };
  }

  it('keeps the key set as long as its Cache-Control says (within bounds), then fetches it again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const op = await standIn('public, max-age=120');
    const provider = providerOf(op.issuer);
    await provider.jwks();
    await provider.jwks();
    expect(op.fetches()).toBe(1);
    vi.setSystemTime(Date.now() + 121_000);
    await provider.jwks();
    expect(op.fetches()).toBe(2);
  });

  it('fetches again for an unknown kid (a rotated key), at most every 30 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const op = await standIn(null);
    const provider = providerOf(op.issuer);
    await jwtVerify(await op.sign('k1'), provider.keys);
    await op.rotate();
    vi.setSystemTime(Date.now() + KEYS_REFETCH_MS);
    await expect(jwtVerify(await op.sign('k2'), provider.keys)).resolves.toBeTruthy();
    expect(op.fetches()).toBe(2);
    // A stream of tokens naming unknown keys does not make it hammer the provider.
    const stranger = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k9' }).sign((await generateKeyPair('RS256')).privateKey);
    for (let i = 0; i < 5; i++) await expect(jwtVerify(stranger, provider.keys)).rejects.toBeTruthy();
    expect(op.fetches()).toBe(2);
  });
});

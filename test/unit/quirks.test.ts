// A provider's quirks, described by the app (`provider: { extends, ...quirks }`): every field
// validated by createSession and by the companion alike (a TypeError naming it), and acted on
// by both. The behaviours each quirk changes are tested where they act: renewal.test.ts
// (prompt=none without a hint), trust.test.ts (no max_age=0), server-logout-token.test.ts
// (logout tokens without exp).
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { profileOf, profiles } from '../../src/profiles.js';
import { authorizeExtras } from '../../src/protocol/rules.js';
import { createCompanion } from '../../src/server/index.js';
import { resolveCompanionOptions } from '../../src/server/options.js';

const valid = { authority: 'https://idp.example', clientId: 'my-spa', redirectUri: 'https://app.example/callback' };
const companion = { issuer: 'https://idp.example', clientId: 'c', redirectUris: ['https://app.example/callback'] };

describe('provider: { extends, ...quirks }', () => {
  it('extends a named profile with the quirks given, and nothing else', () => {
    const settings = resolveOptions({ ...valid, provider: { extends: 'signaturgruppen-broker', supportsMaxAgeZero: false, promptNoneRequiresIdTokenHint: true, idTokenAlgorithms: ['ES256'] }, serverUrl: 'https://app.example/auth' });
    expect(settings.provider).toBe('signaturgruppen-broker');
    const profile = profileOf(settings.provider, settings.quirks);
    expect(profile).toEqual({ ...profiles['signaturgruppen-broker'], supportsMaxAgeZero: false, promptNoneRequiresIdTokenHint: true, idTokenAlgorithms: ['ES256'] });
    expect(Object.isFrozen(profile)).toBe(true);
  });

  it('keeps what the named profile needs: the Broker and NHS login still need the server companion', () => {
    expect(() => createSession({ ...valid, provider: { extends: 'nhs-login', supportsMaxAge: false } })).toThrow('"options.serverUrl" (the server companion) is required for \'nhs-login\'');
  });

  it.each([
    [{ extends: 'okta' }, '"options.provider.extends" must be one of \'generic\', \'nhs-login\', \'signaturgruppen-broker\'; got "okta"'],
    [{ supportsMaxAge: false }, '"options.provider.extends" must be one of'],
    [{ extends: 'generic', supportsMaxAge: 'no' }, '"options.provider.supportsMaxAge" must be true or false; got "no"'],
    [{ extends: 'generic', promptNoneRequiresIdTokenHint: 1 }, '"options.provider.promptNoneRequiresIdTokenHint" must be true or false; got 1'],
    [{ extends: 'generic', loginRequiredErrors: 'login_required' }, '"options.provider.loginRequiredErrors" must be a non-empty list of strings; got "login_required"'],
    [{ extends: 'generic', loginRequiredErrors: ['login_required', ''] }, '"options.provider.loginRequiredErrors" must be a non-empty list of strings'],
    [{ extends: 'generic', loginRequiredErrors: [] }, '"options.provider.loginRequiredErrors" must be a non-empty list of strings; got []'],
    [{ extends: 'generic', idTokenAlgorithms: ['HS256'] }, '"options.provider.idTokenAlgorithms" must be a non-empty list of strings of asymmetric algorithms'],
    [{ extends: 'generic', idTokenAlgorithms: ['none'] }, '"options.provider.idTokenAlgorithms" must be a non-empty list of strings of asymmetric algorithms'],
    [{ extends: 'generic', idTokenAlgorithms: [] }, '"options.provider.idTokenAlgorithms" must be a non-empty list of strings of asymmetric algorithms'],
    [null, '"options.provider" must be one of \'generic\', \'nhs-login\', \'signaturgruppen-broker\' or { extends, ...quirks }; got null'],
    [Object.create({ extends: 'generic' }) as object, '"options.provider.extends" must be one of'],
    [{ extends: 'generic', supportsMaxage: false }, '"options.provider.supportsMaxage" is not a provider quirk; got false'],
    [{ extends: 'generic', needsServer: false }, '"options.provider.needsServer" is not a provider quirk'],
    [['generic'], '"options.provider.0" is not a provider quirk'],
    [42, '"options.provider" must be one of \'generic\', \'nhs-login\', \'signaturgruppen-broker\' or { extends, ...quirks }; got 42'],
  ])('refuses %j with a TypeError naming the field', (provider, message) => {
    expect(() => createSession({ ...valid, provider } as never)).toThrow(TypeError);
    expect(() => createSession({ ...valid, provider } as never)).toThrow(message);
  });

  it('the companion takes the same option, validated the same way', () => {
    expect(() => createCompanion({ ...companion, provider: { extends: 'generic', idTokenAlgorithms: ['HS256'] } } as never)).toThrow('"provider.idTokenAlgorithms" must be a non-empty list of strings of asymmetric algorithms');
    expect(() => createCompanion({ ...companion, provider: { extends: 'generic', logoutTokenRequiresExp: 'no' } } as never)).toThrow('"provider.logoutTokenRequiresExp" must be true or false');
  });

  it('the companion acts on the quirks: the algorithms it accepts, and whether logout tokens need exp', () => {
    expect(resolveCompanionOptions(companion).profile).toMatchObject({ logoutTokenRequiresExp: true });
    const quirky = resolveCompanionOptions({ ...companion, provider: { extends: 'generic', idTokenAlgorithms: ['ES256', 'Ed25519'], logoutTokenRequiresExp: false } });
    expect(quirky.algorithms).toEqual(['ES256', 'Ed25519']);
    // Its client assertion is signed with the app's registered key: the named profile's algorithms still apply to it.
    expect(resolveCompanionOptions({ ...companion, provider: { extends: 'generic', idTokenAlgorithms: ['ES256'] }, clientAuth: { method: 'private_key_jwt', privateJwk: { kty: 'RSA', d: 'x' }, alg: 'RS256' } }).assertionAlg).toBe('RS256');
    expect(quirky.profile.logoutTokenRequiresExp).toBe(false);
    // One set of rules: the companion accepts every algorithm the browser does for the same profile.
    for (const name of ['generic', 'nhs-login', 'signaturgruppen-broker'] as const) {
      expect(resolveCompanionOptions({ ...companion, provider: name, ...(name === 'nhs-login' ? { clientAuth: { method: 'private_key_jwt', privateJwk: { kty: 'RSA', d: 'x' } } } : {}) }).algorithms).toEqual(profiles[name].idTokenAlgorithms);
    }
  });

  it('a provider that refuses max_age=0 gets prompt=login alone after a limit, and max_age otherwise', () => {
    const profile = profileOf('generic', { supportsMaxAgeZero: false });
    expect(authorizeExtras(profile, { reauthRequired: true, absoluteTimeoutMs: 12 * 3600_000 })).toEqual({ prompt: 'login' });
    expect(authorizeExtras(profile, { reauthRequired: false, absoluteTimeoutMs: 12 * 3600_000 })).toEqual({ maxAgeSec: 43_200 });
  });
});

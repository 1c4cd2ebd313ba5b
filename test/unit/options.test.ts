import { describe, expect, it, vi } from 'vitest';
import { createSession, presets } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

const valid = {
  authority: 'https://idp.example',
  clientId: 'my-spa',
  redirectUri: 'https://app.example/callback',
};

describe('createSession options', () => {
  it('settles the defaults: openid scope, generic provider, NIST rev 3 AAL2, reauthenticate', () => {
    const settings = resolveOptions(valid);
    expect(settings.scope).toBe('openid');
    expect(settings.provider).toBe('generic');
    expect(settings.policy).toBe(presets['nist-800-63b-3-aal2']);
    expect(settings.policy).toEqual({ idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3600_000, warningBeforeMs: 120_000 });
    expect(settings.onExpired).toBe('reauthenticate');
    expect(settings.postLogoutRedirectUri).toBe('https://app.example/');
    expect(settings.serverUrl).toBeNull();
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it.each([
    [{ ...valid, authority: undefined }, '"options.authority" must be a non-empty string'],
    [{ ...valid, authority: 'idp.example' }, '"options.authority" must be an absolute URL'],
    [{ ...valid, authority: 'http://idp.example' }, '"options.authority" must use https'],
    [{ ...valid, clientId: '' }, '"options.clientId" must be a non-empty string'],
    [{ ...valid, clientId: 42 }, '"options.clientId" must be a non-empty string'],
    [{ ...valid, redirectUri: '/callback' }, '"options.redirectUri" must be an absolute URL'],
    [{ ...valid, postLogoutRedirectUri: 'https://evil.example/' }, '"options.postLogoutRedirectUri" must be on this app\'s origin'],
    [{ ...valid, scope: 'profile email' }, '"options.scope" must include \'openid\''],
    [{ ...valid, provider: 'okta' }, '"options.provider" must be one of'],
    [{ ...valid, policy: 'nist-aal9' }, '"options.policy" must be one of'],
    [{ ...valid, policy: { idleTimeoutMs: -1, absoluteTimeoutMs: 1000 } }, '"options.policy.idleTimeoutMs" must be a positive'],
    [{ ...valid, policy: { idleTimeoutMs: 600_000, absoluteTimeoutMs: 3600_000, warningBeforeMs: 10_000 } }, '"options.policy.warningBeforeMs" must be at least 20000 ms'],
    [{ ...valid, policy: { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3600_000, warningBeforeMs: 60_000 } }, '"options.policy.warningBeforeMs" (60000 ms) must be shorter than'],
    [{ ...valid, policy: { idleTimeoutMs: 3600_000, absoluteTimeoutMs: 60_000 } }, '"options.policy.absoluteTimeoutMs" must not be shorter'],
    [{ ...valid, policy: { idleTimeoutMs: 3600_000, absoluteTimeoutMs: 7200_000, idle: 1 } }, '"options.policy.idle" is not a policy field'],
    [{ ...valid, onExpired: 'logout' }, '"options.onExpired" must be one of'],
    [{ ...valid, serverUrl: 'https://other.example/api' }, '"options.serverUrl" must be on this app\'s origin'],
    [{ ...valid, authParams: { prompt: 'none' } }, '"options.authParams.prompt" is set by the SDK'],
    [{ ...valid, authParams: { vtr: ['P9'] } }, '"options.authParams.vtr" must be a string'],
    [{ ...valid, clock: { now: () => 0 } }, '"options.clock" must have now(), setTimeout() and clearTimeout()'],
    [{ ...valid, clientID: 'typo' }, '"options.clientID" is not an option of createSession'],
    [{ ...valid, provider: 'nhs-login' }, '"options.serverUrl" (the server companion) is required for \'nhs-login\''],
    [{ ...valid, provider: 'signaturgruppen-broker' }, '"options.serverUrl" (the server companion) is required for \'signaturgruppen-broker\''],
  ])('rejects a bad option with a TypeError naming it (%#)', (options, message) => {
    expect(() => createSession(options as never)).toThrow(TypeError);
    expect(() => createSession(options as never)).toThrow(message);
  });

  it('takes the NHS login and Broker profiles with a server companion on this origin', () => {
    const serverUrl = `${new URL(valid.redirectUri).origin}/auth`;
    expect(() => createSession({ ...valid, provider: 'nhs-login', serverUrl })).not.toThrow();
    expect(() => createSession({ ...valid, provider: 'signaturgruppen-broker', serverUrl })).not.toThrow();
  });

  it('rejects a missing options object', () => {
    expect(() => createSession(undefined as never)).toThrow('"options" must be an object');
  });

  it('accepts a custom policy and freezes it', () => {
    const settings = resolveOptions({ ...valid, policy: { idleTimeoutMs: 600_000, absoluteTimeoutMs: 3600_000 } });
    expect(settings.policy).toEqual({ idleTimeoutMs: 600_000, absoluteTimeoutMs: 3600_000, warningBeforeMs: 120_000 });
    expect(Object.isFrozen(settings.policy)).toBe(true);
  });

  it('allows plain http only on loopback', () => {
    expect(resolveOptions({ ...valid, authority: 'http://127.0.0.1:3001', redirectUri: 'http://localhost:3000/callback' }).authority).toBe('http://127.0.0.1:3001');
  });

  it('requires redirect URIs on the page\'s own origin when running in a page', () => {
    vi.stubGlobal('location', { origin: 'https://app.example', href: 'https://app.example/' });
    expect(() => resolveOptions({ ...valid, redirectUri: 'https://evil.example/callback' })).toThrow('"options.redirectUri" must be on this app\'s origin (https://app.example)');
    expect(resolveOptions(valid).origin).toBe('https://app.example');
  });
});

import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/options.js';
import { authorizeExtras } from '../../src/protocol/rules.js';
import { compareAuthTime } from '../../src/trust.js';
import { profiles } from '../../src/profiles.js';
import { providers } from '../../src/providers.js';

const TWELVE_HOURS = 12 * 3600_000;

describe('authorize parameters per provider', () => {
  it('generic and the Broker send max_age = the absolute limit in seconds', () => {
    for (const name of ['generic', 'signaturgruppen-broker'] as const) {
      expect(authorizeExtras(profiles[name], { reauthRequired: false, absoluteTimeoutMs: TWELVE_HOURS })).toEqual({ maxAgeSec: 43_200 });
      expect(authorizeExtras(profiles[name], { prompt: 'none', reauthRequired: false, absoluteTimeoutMs: TWELVE_HOURS })).toEqual({ prompt: 'none', maxAgeSec: 43_200 });
    }
  });

  it('after a limit: prompt=login and max_age=0, whatever was asked', () => {
    expect(authorizeExtras(profiles.generic, { prompt: 'none', reauthRequired: true, absoluteTimeoutMs: TWELVE_HOURS })).toEqual({ prompt: 'login', maxAgeSec: 0 });
  });

  it('NHS login never gets max_age (unsupported there), only prompt', () => {
    expect(authorizeExtras(profiles['nhs-login'], { reauthRequired: false, absoluteTimeoutMs: TWELVE_HOURS })).toEqual({});
    expect(authorizeExtras(profiles['nhs-login'], { reauthRequired: true, absoluteTimeoutMs: TWELVE_HOURS })).toEqual({ prompt: 'login' });
  });

  it('NHS login keeps vtr in the authorize parameters and refuses what it does not support', () => {
    expect(profiles['nhs-login']).toMatchObject({ idTokenAlgorithms: ['RS512'], supportsMaxAge: false, idTokenHintOnAuthorize: false });
    expect(providers['nhs-login']).toMatchObject({ needsServer: true, unsupportedAuthParams: ['ui_locales', 'login_hint'] });
    expect(profiles['nhs-login'].loginRequiredErrors).toContain('sso_login_required');
    expect(profiles['signaturgruppen-broker']).toMatchObject({ endSessionRequiresIdTokenHint: true });
    expect(providers['signaturgruppen-broker']).toMatchObject({ needsServer: true });
    expect(() => resolveOptions({ authority: 'https://idp.example', clientId: 'c', redirectUri: 'https://app.example/cb', authParams: { vtr: '["P9.Cp.Cd"]' } }).authParams).not.toThrow();
    expect(resolveOptions({ authority: 'https://idp.example', clientId: 'c', redirectUri: 'https://app.example/cb', authParams: { vtr: '["P9.Cp.Cd"]' } }).authParams).toEqual({ vtr: '["P9.Cp.Cd"]' });
  });
});

describe('compareAuthTime', () => {
  it('same, newer, older', () => {
    expect(compareAuthTime(1000, 1000)).toBe('same');
    expect(compareAuthTime(1000, 2000)).toBe('newer');
    expect(compareAuthTime(2000, 1000)).toBe('older');
  });

  it('keeps the limits when the provider omits auth_time', () => {
    expect(compareAuthTime(null, 2000)).toBe('same');
    expect(compareAuthTime(2000, null)).toBe('same');
  });
});

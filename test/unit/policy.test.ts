import { describe, expect, it } from 'vitest';
import { decide, presets, resolvePolicy } from '../../src/policy.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const policy = presets['nist-800-63b-3-aal2'];
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);

describe('presets', () => {
  it('carry the NIST SP 800-63B limits', () => {
    expect(presets['nist-800-63b-3-aal2']).toMatchObject({ idleTimeoutMs: 30 * MIN, absoluteTimeoutMs: 12 * HOUR });
    expect(presets['nist-800-63b-3-aal3']).toMatchObject({ idleTimeoutMs: 15 * MIN, absoluteTimeoutMs: 12 * HOUR });
    expect(presets['nist-800-63b-4-aal2']).toMatchObject({ idleTimeoutMs: 1 * HOUR, absoluteTimeoutMs: 24 * HOUR });
    expect(presets['nist-800-63b-4-aal3']).toMatchObject({ idleTimeoutMs: 15 * MIN, absoluteTimeoutMs: 12 * HOUR });
    expect(resolvePolicy(undefined)).toBe(presets['nist-800-63b-3-aal2']);
  });
});

describe('decide', () => {
  const record = { authTime: T0, lastActivityAt: T0, sessionExpiresAt: null };

  it('is active at 29:59 idle and expired (idle) at 30:00', () => {
    expect(decide(record, T0 + 30 * MIN - 1000, policy).phase).toBe('warning');
    expect(decide(record, T0 + 27 * MIN, policy).phase).toBe('active');
    const at30 = decide(record, T0 + 30 * MIN, policy);
    expect(at30).toMatchObject({ phase: 'expired', reason: 'idle', expiresAt: T0 + 30 * MIN });
  });

  it('starts the warning exactly warningBeforeMs before the deadline', () => {
    expect(decide(record, T0 + 28 * MIN - 1, policy).phase).toBe('active');
    expect(decide(record, T0 + 28 * MIN, policy).phase).toBe('warning');
  });

  it('expires at authTime + 12 h even while the user stays active', () => {
    const busy = { ...record, lastActivityAt: T0 + 12 * HOUR - MIN };
    expect(decide(busy, T0 + 12 * HOUR - 1, policy).reason).toBe('absolute');
    expect(decide(busy, T0 + 12 * HOUR, policy)).toMatchObject({ phase: 'expired', reason: 'absolute' });
  });

  it('lets an earlier session_expiry win', () => {
    const broker = { ...record, lastActivityAt: T0 + 4 * HOUR - MIN, sessionExpiresAt: T0 + 4 * HOUR };
    expect(decide(broker, T0 + 4 * HOUR, policy)).toMatchObject({ phase: 'expired', reason: 'session_expiry', expiresAt: T0 + 4 * HOUR });
  });

  it('fails closed on a record that does not parse', () => {
    expect(decide({ ...record, authTime: Number.NaN }, T0, policy)).toMatchObject({ phase: 'expired', reason: 'error' });
    expect(decide({ ...record, lastActivityAt: 'x' as unknown as number }, T0, policy)).toMatchObject({ phase: 'expired', reason: 'error' });
  });
});

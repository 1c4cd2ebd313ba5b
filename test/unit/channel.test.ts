import { describe, expect, it } from 'vitest';
import { CHANNEL_VERSION, FUTURE_TOLERANCE_MS, parseMessage } from '../../src/channel.js';

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';
const tokens = { idToken: JWT, accessToken: 'at', refreshToken: 'rt', accessTokenExpiresAt: NOW + 300_000 };
const timing = { signedInAt: NOW - 60_000, authTime: NOW - 60_000, providerAuthTime: NOW - 60_000, sessionExpiresAt: null, lastActivityAt: NOW - 1000 };
const wire = (message: Record<string, unknown>) => ({ v: CHANNEL_VERSION, sentAt: NOW, ...message });

describe('parseMessage', () => {
  it.each([
    ['activity', { type: 'activity', sessionId: 's', at: NOW }],
    ['warning dismissed', { type: 'warning-dismissed', sessionId: 's', at: NOW }],
    ['signed in', { type: 'signed-in', sessionId: 's', tokens, timing }],
    ['renewed', { type: 'renewed', sessionId: 's', tokens, claims: { sub: 'alice' } }],
    ['renew request', { type: 'renew-request', sessionId: 's' }],
    ['renew failed', { type: 'renew-failed', sessionId: 's', code: 'RENEW_FAILED' }],
    ['signed out', { type: 'signed-out', sessionId: 's' }],
    ['expired', { type: 'expired', sessionId: 's', reason: 'idle' }],
    ['token request', { type: 'token-request', sessionId: 's', requestId: 'r' }],
    ['token offer', { type: 'token-offer', requestId: 'r', sessionId: 's', tokens, timing }],
  ])('accepts a well-formed %s message', (_name, message) => {
    expect(parseMessage(wire(message), NOW)).toEqual(wire(message));
  });

  it.each([
    ['garbage', 'hello'],
    ['null', null],
    ['an array', [1, 2]],
    ['another version', { v: 2, sentAt: NOW, type: 'activity', sessionId: 's', at: NOW }],
    ['no version', { sentAt: NOW, type: 'activity', sessionId: 's', at: NOW }],
    ['an unknown type', wire({ type: 'extend', sessionId: 's', by: 3600_000 })],
    ['activity with a string time', wire({ type: 'activity', sessionId: 's', at: String(NOW) })],
    ['activity with NaN', wire({ type: 'activity', sessionId: 's', at: Number.NaN })],
    ['activity without a session id', wire({ type: 'activity', at: NOW })],
    ['activity with an empty session id', wire({ type: 'activity', sessionId: '', at: NOW })],
    ['activity stamped in the future', wire({ type: 'activity', sessionId: 's', at: NOW + FUTURE_TOLERANCE_MS + 1 })],
    ['a message sent from the future', { v: CHANNEL_VERSION, sentAt: NOW + FUTURE_TOLERANCE_MS + 1, type: 'activity', sessionId: 's', at: NOW }],
    ['expired with an unknown reason', wire({ type: 'expired', sessionId: 's', reason: 'bored' })],
    ['a hand-over without timing', wire({ type: 'signed-in', sessionId: 's', tokens })],
  ])('drops %s', (_name, raw) => {
    expect(parseMessage(raw, NOW)).toBeNull();
  });

  it('keeps a message that only ends a session, whatever its stamp: a clock cannot abuse it', () => {
    for (const message of [{ type: 'signed-out', sessionId: 's' }, { type: 'expired', sessionId: 's', reason: 'idle' }]) {
      const raw = { v: CHANNEL_VERSION, sentAt: NOW + 3600_000, ...message };
      expect(parseMessage(raw, NOW)).toEqual(raw);
    }
  });

  it('keeps a sign-out heard from the server companion (reason remote_logout) and drops one with another reason', () => {
    expect(parseMessage(wire({ type: 'signed-out', sessionId: 's', reason: 'remote_logout' }), NOW)).not.toBeNull();
    expect(parseMessage(wire({ type: 'signed-out', sessionId: 's', reason: 'idle' }), NOW)).toBeNull();
  });

  it('accepts timestamps within the tolerance ahead', () => {
    expect(parseMessage(wire({ type: 'activity', sessionId: 's', at: NOW + FUTURE_TOLERANCE_MS }), NOW)).not.toBeNull();
  });
});


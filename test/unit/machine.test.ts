import { describe, expect, it } from 'vitest';
import { eventsOf, LOADING, reduce, sameSnapshot, snapshotOf, type Action, type Live, type SessionEvent, type State } from '../../src/machine.js';
import { presets } from '../../src/policy.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const policy = presets['nist-800-63b-3-aal2'];
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);

const tokens = { idToken: 'id-1', accessToken: 'at-1', refreshToken: 'rt-1', accessTokenExpiresAt: T0 + 5 * MIN };
const makeLive = (over: Partial<Live> = {}): Live => ({
  sessionId: 's1', tokens, claims: { sub: 'alice' }, sid: 'sid-1', signedInAt: T0, authTime: T0,
  providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0, renewedAt: 0, ...over,
});

const begin = (over: Partial<Live> = {}, now = T0): State => reduce(LOADING, { type: 'begin', live: makeLive(over), now }, policy);
const look = (now: number): Action => ({ type: 'look', now });
const input = (at: number, now = at, stay = false): Action => ({ type: 'activity', at, now, stay, remote: false });
const update = (over: Partial<Live>, now: number): Action => ({ type: 'update', live: makeLive(over), now });

/** One transition: the next state and the events it emits. */
function step(state: State, action: Action): { next: State; events: SessionEvent[] } {
  const next = reduce(state, action, policy);
  return { next, events: eventsOf(state, next, 'now' in action ? action.now : T0) };
}
const names = (events: SessionEvent[]) => events.map(([name]) => name);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const alice = makeLive();
const active = reduce(LOADING, { type: 'begin', live: alice, now: T0 }, policy);
const warned = reduce(active, look(T0 + 28 * MIN), policy);
const expired = reduce(warned, look(T0 + 30 * MIN), policy);

describe('begin', () => {
  it('judges a new session active, warning or expired by the time it begins at', () => {
    expect(begin({}, T0 + 27 * MIN).status).toBe('active');
    expect(begin({}, T0 + 28 * MIN).status).toBe('warning');
    expect(begin({}, T0 + 30 * MIN)).toMatchObject({ status: 'expired', reason: 'idle' });
  });

  it('expires at once when auth_time is older than the 12 h cap, with signed-in then expired and no warning', () => {
    const { next, events } = step(LOADING, { type: 'begin', live: makeLive({ authTime: T0 - 13 * HOUR }), now: T0 });
    expect(next).toMatchObject({ status: 'expired', reason: 'absolute' });
    expect(names(events)).toEqual(['signed-in', 'expired']);
  });
});

describe('look', () => {
  it('warns at 28:00 idle with one warning event carrying expiresAt, reason and msLeft', () => {
    const { next, events } = step(active, look(T0 + 28 * MIN));
    expect(next.status).toBe('warning');
    expect(events).toEqual([['warning', { expiresAt: T0 + 30 * MIN, reason: 'idle', msLeft: 2 * MIN }]]);
  });

  it('fires the warning once by construction: looking again during it returns the same state', () => {
    const { next, events } = step(warned, look(T0 + 29 * MIN));
    expect(next).toBe(warned);
    expect(events).toEqual([]);
  });

  it('returns the same state object when an active session is looked at again', () => {
    expect(reduce(active, look(T0 + 10 * MIN), policy)).toBe(active);
  });

  it('expires at 30:00 idle with one expired event', () => {
    const { next, events } = step(warned, look(T0 + 30 * MIN));
    expect(next).toMatchObject({ status: 'expired', reason: 'idle' });
    expect(events).toEqual([['expired', { reason: 'idle' }]]);
  });
});

describe('activity', () => {
  it('counts input that happened while the session was active, even if it arrives during the warning', () => {
    const { next, events } = step(warned, input(T0 + 27 * MIN, T0 + 28 * MIN + 30_000));
    expect(next).toMatchObject({ status: 'active', live: { lastActivityAt: T0 + 27 * MIN } });
    expect(events).toEqual([['activity', { at: T0 + 27 * MIN }]]);
  });

  it('does not extend the session with input made during a warning', () => {
    const { next, events } = step(warned, input(T0 + 28 * MIN + 30_000));
    expect(next).toBe(warned);
    expect(events).toEqual([]);
  });

  it('ignores input older than the newest activity', () => {
    const busy = begin({ lastActivityAt: T0 + 10 * MIN }, T0 + 10 * MIN);
    expect(reduce(busy, input(T0 + 5 * MIN, T0 + 11 * MIN), policy)).toBe(busy);
  });

  it('ends an idle warning on "Stay signed in" and emits activity', () => {
    const { next, events } = step(warned, input(T0 + 29 * MIN, T0 + 29 * MIN, true));
    expect(next.status).toBe('active');
    expect(snapshotOf(next).expiresAt).toBe(T0 + 59 * MIN);
    expect(events).toEqual([['activity', { at: T0 + 29 * MIN }]]);
  });

  it.each([
    ['absolute', {}, T0 + 11 * HOUR + 59 * MIN],
    ['session_expiry', { sessionExpiresAt: T0 + 4 * HOUR }, T0 + 3 * HOUR + 59 * MIN],
  ] as const)('keeps a warning of the %s limit on "Stay signed in" and emits no second warning', (reason, over, now) => {
    const warning = begin({ ...over, lastActivityAt: now - 5 * MIN }, now);
    expect(warning).toMatchObject({ status: 'warning', decision: { reason } });
    const { next, events } = step(warning, input(now + 30_000, now + 30_000, true));
    expect(next).toMatchObject({ status: 'warning', decision: { reason } });
    expect(names(events)).toEqual(['activity']);
  });

  it.each([
    ['input made while active', false, T0 + 27 * MIN],
    ['"Stay signed in" pressed during the warning', true, T0 + 29 * MIN],
  ])('never revives: %s but handled past the deadline expires the session', (_name, stay, at) => {
    const { next, events } = step(warned, input(at, T0 + 30 * MIN, stay));
    expect(next).toMatchObject({ status: 'expired', reason: 'idle', live: { lastActivityAt: T0 } });
    expect(names(events)).toEqual(['expired']);
  });
});

describe('limits', () => {
  it('expires at authTime + 12h even while the user stays active', () => {
    let state = begin({ lastActivityAt: T0 + 11 * HOUR + 50 * MIN }, T0 + 11 * HOUR + 50 * MIN);
    state = reduce(state, input(T0 + 11 * HOUR + 57 * MIN), policy);
    expect(state).toMatchObject({ status: 'active', live: { lastActivityAt: T0 + 11 * HOUR + 57 * MIN } });
    state = reduce(state, look(T0 + 11 * HOUR + 58 * MIN), policy);
    expect(snapshotOf(state)).toMatchObject({ status: 'warning', reason: 'absolute', expiresAt: T0 + 12 * HOUR });
    expect(reduce(state, look(T0 + 12 * HOUR), policy)).toMatchObject({ status: 'expired', reason: 'absolute' });
  });

  it('expires at the provider session_expiry when it comes before the other limits', () => {
    const state = begin({ sessionExpiresAt: T0 + 4 * HOUR, lastActivityAt: T0 + 3 * HOUR + 59 * MIN }, T0 + 3 * HOUR + 59 * MIN);
    expect(reduce(state, look(T0 + 4 * HOUR), policy)).toMatchObject({ status: 'expired', reason: 'session_expiry' });
  });

  it.each([
    ['idle and absolute', { lastActivityAt: T0 + 11 * HOUR + 30 * MIN }, 'absolute', T0 + 12 * HOUR],
    ['idle and session_expiry', { lastActivityAt: T0 + 3 * HOUR + 30 * MIN, sessionExpiresAt: T0 + 4 * HOUR }, 'session_expiry', T0 + 4 * HOUR],
    ['absolute and session_expiry', { lastActivityAt: T0 + 11 * HOUR + 50 * MIN, sessionExpiresAt: T0 + 12 * HOUR }, 'session_expiry', T0 + 12 * HOUR],
  ] as const)('gives a tie between %s to the limit no activity can move', (_name, over, reason, at) => {
    expect(snapshotOf(begin(over, at - MIN))).toMatchObject({ status: 'warning', reason, expiresAt: at });
    expect(begin(over, at)).toMatchObject({ status: 'expired', reason });
  });
});

describe('update', () => {
  const renewed = { ...tokens, accessToken: 'at-2', accessTokenExpiresAt: T0 + 20 * MIN };

  it('ignores an update for another session', () => {
    const { next, events } = step(active, update({ sessionId: 's2', tokens: renewed }, T0 + MIN));
    expect(next).toBe(active);
    expect(events).toEqual([]);
  });

  it('never revives an expired session with a renewal', () => {
    const { next, events } = step(expired, update({ tokens: renewed, lastActivityAt: T0 + 30 * MIN }, T0 + 30 * MIN));
    expect(next).toBe(expired);
    expect(events).toEqual([]);
  });

  it('emits renewed when an update brings new tokens', () => {
    const { next, events } = step(active, update({ tokens: renewed, renewedAt: T0 + 4 * MIN }, T0 + 4 * MIN));
    expect(next).toMatchObject({ status: 'active', live: { tokens: renewed } });
    expect(events).toEqual([['renewed', { accessTokenExpiresAt: T0 + 20 * MIN }]]);
  });
});

describe('expire', () => {
  it('ends a live session with the reason another tab gave', () => {
    const { next, events } = step(active, { type: 'expire', reason: 'idle', now: T0 + 10 * MIN, remote: true });
    expect(next).toMatchObject({ status: 'expired', reason: 'idle' });
    expect(events).toEqual([['expired', { reason: 'idle' }]]);
  });

  it('wipes the tokens and hides the claims of an expired session', () => {
    expect(expired.status === 'expired' && expired.live.tokens).toEqual({ idToken: '', accessToken: '', refreshToken: null, accessTokenExpiresAt: null });
    expect(snapshotOf(expired).claims).toBeNull();
    expect(snapshotOf(active).claims).toEqual({ sub: 'alice' });
  });
});

describe('signed-out and stop', () => {
  it.each([
    ['an active', active, 'remote_logout', 'remote_logout'],
    ['an expired', expired, 'error', 'error'],
    ['a warning', warned, null, 'signed_out'],
  ] as const)('emits signed-out with the reason when %s session signs out', (_name, from, reason, told) => {
    const { next, events } = step(from, { type: 'signed-out', reason });
    expect(next).toEqual({ status: 'signed-out', reason });
    expect(events).toEqual([['signed-out', { reason: told }]]);
  });

  it('emits nothing when signing out while loading', () => {
    const { next, events } = step(LOADING, { type: 'signed-out', reason: 'signed_out' });
    expect(next.status).toBe('signed-out');
    expect(events).toEqual([]);
  });

  it('returns to loading on stop and emits nothing', () => {
    const { next, events } = step(active, { type: 'stop' });
    expect(next).toBe(LOADING);
    expect(events).toEqual([]);
  });
});

describe('snapshotOf', () => {
  it('carries the timing of a live session and no reason while active', () => {
    expect(snapshotOf(active)).toEqual({
      status: 'active', reason: null, expiresAt: T0 + 30 * MIN, idleExpiresAt: T0 + 30 * MIN, absoluteExpiresAt: T0 + 12 * HOUR,
      sessionExpiresAt: null, authTime: T0, lastActivityAt: T0, claims: { sub: 'alice' },
    });
  });

  it('says the reason of each status', () => {
    expect(snapshotOf(LOADING)).toMatchObject({ status: 'loading', reason: null, expiresAt: null, claims: null });
    expect(snapshotOf(warned)).toMatchObject({ status: 'warning', reason: 'idle' });
    expect(snapshotOf(reduce(active, { type: 'expire', reason: 'absolute', now: T0, remote: true }, policy)).reason).toBe('absolute');
    expect(snapshotOf({ status: 'signed-out', reason: 'remote_logout' })).toMatchObject({ status: 'signed-out', reason: 'remote_logout', claims: null });
  });

  it('compares snapshots by what they say', () => {
    const resumed = reduce(LOADING, { type: 'begin', live: alice, now: T0 + MIN }, policy);
    expect(resumed).not.toBe(active);
    expect(sameSnapshot(snapshotOf(active), snapshotOf(resumed))).toBe(true);
    expect(sameSnapshot(snapshotOf(active), snapshotOf(warned))).toBe(false);
    expect(sameSnapshot(snapshotOf(active), snapshotOf(begin({ lastActivityAt: T0 + 1 }, T0 + 1)))).toBe(false);
  });
});

describe('reduce is pure', () => {
  const actions: Action[] = [
    look(T0 + 29 * MIN), look(T0 + 31 * MIN), input(T0 + 29 * MIN, T0 + 29 * MIN, true), input(T0 + 27 * MIN, T0 + 29 * MIN),
    update({ tokens: { ...tokens, accessToken: 'at-2' } }, T0 + 29 * MIN), { type: 'expire', reason: 'error', now: T0 + 29 * MIN, remote: false },
    { type: 'signed-out', reason: 'signed_out' }, { type: 'stop' }, { type: 'begin', live: makeLive({ sessionId: 's2' }), now: T0 + 29 * MIN },
  ];

  it.each(actions.map((action) => [action.type, action] as const))('gives equal results for the same state and %s action', (_type, action) => {
    expect(reduce(warned, action, policy)).toEqual(reduce(warned, action, policy));
  });

  it('never mutates the state or action it is given', () => {
    const state = deepFreeze(structuredClone(warned));
    const copy = structuredClone(state);
    for (const action of actions) expect(() => reduce(state, deepFreeze(action), policy)).not.toThrow();
    expect(state).toEqual(copy);
  });
});

describe('what the reducer refuses to trust', () => {
  it('warns again when "Stay signed in" turns an idle warning into a warning of the 12 h cap', () => {
    // Last input at 11 h 29 min 30 s: an idle warning at 11 h 58 min 30 s, the cap 1 min 30 s away.
    const lastInput = T0 + 11.5 * HOUR - 0.5 * MIN;
    const late = reduce(LOADING, { type: 'begin', live: makeLive({ lastActivityAt: lastInput }), now: lastInput }, policy);
    const idleWarning = reduce(late, look(T0 + 11.5 * HOUR + 28.5 * MIN), policy);
    expect(snapshotOf(idleWarning)).toMatchObject({ status: 'warning', reason: 'idle' });
    const { next, events } = step(idleWarning, input(T0 + 11.5 * HOUR + 28.5 * MIN, T0 + 11.5 * HOUR + 28.5 * MIN, true));
    expect(snapshotOf(next)).toMatchObject({ status: 'warning', reason: 'absolute', expiresAt: T0 + 12 * HOUR });
    expect(events.filter(([name]) => name === 'warning')).toEqual([['warning', { expiresAt: T0 + 12 * HOUR, reason: 'absolute', msLeft: 1.5 * MIN }]]);
  });

  it('takes input stamped ahead of the clock as input now: it extends nothing', () => {
    const next = reduce(active, input(T0 + 10 * MIN, T0 + MIN), policy);
    expect(snapshotOf(next)).toMatchObject({ lastActivityAt: T0 + MIN, idleExpiresAt: T0 + 31 * MIN });
  });

  it('never moves activity back on a renewal', () => {
    const moved = reduce(active, input(T0 + 20 * MIN), policy);
    const next = reduce(moved, update({ lastActivityAt: T0, tokens: { ...tokens, accessToken: 'at-2' } }, T0 + 21 * MIN), policy);
    expect(snapshotOf(next)).toMatchObject({ status: 'active', lastActivityAt: T0 + 20 * MIN });
  });

  it('shows a session another tab expired as ended now, not at a deadline still ahead', () => {
    const next = reduce(active, { type: 'expire', reason: 'idle', now: T0 + MIN, remote: true }, policy);
    expect(snapshotOf(next)).toMatchObject({ status: 'expired', reason: 'idle', expiresAt: T0 + MIN });
  });
});

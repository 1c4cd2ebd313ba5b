import type { SessionError } from './errors.js';
import { decide, type Decision, type LimitReason, type SessionPolicy } from './policy.js';

/** Tokens of one sign-in. Held in memory only, never in Web Storage or IndexedDB. */
export interface TokenSet {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string | null;
  /** Access token expiry, epoch ms, or null when the provider did not say. */
  readonly accessTokenExpiresAt: number | null;
}

/** Claims of a verified ID token. */
export type Claims = Readonly<Record<string, unknown>>;

/** The live session of a tab: one value, replaced (never mutated) by each transition. */
export interface Live {
  /** Random id of one sign-in, shared by every tab that holds it. */
  readonly sessionId: string;
  readonly tokens: TokenSet;
  readonly claims: Claims;
  /** The provider's session id (`sid`, else the Broker's `neb_sid`): routes a back-channel logout. */
  readonly sid: string | null;
  readonly signedInAt: number;
  /** When the user authenticated, on this clock. */
  readonly authTime: number;
  /** `auth_time` as the provider sent it, to compare with a renewal's; null if absent. */
  readonly providerAuthTime: number | null;
  readonly sessionExpiresAt: number | null;
  readonly lastActivityAt: number;
  /** When the tokens were last renewed, or 0. */
  readonly renewedAt: number;
  /** Set on a sign-in back from the reauthentication a limit led to: that limit. */
  readonly after?: LimitReason | null;
}

/** Where the session stands. */
export type SessionStatus = 'loading' | 'signed-out' | 'active' | 'warning' | 'expired';

/** Why the session is where it is, when that is worth saying. */
export type SessionReason = null | LimitReason | 'signed_out' | 'remote_logout' | 'error';

/** Why a session was signed out, as the `signed-out` event tells it. */
export type SignedOutReason = 'signed_out' | 'remote_logout' | 'error';

/** The session's state: one value. */
export type State =
  | { readonly status: 'loading' }
  | { readonly status: 'signed-out'; readonly reason: SessionReason }
  | { readonly status: 'active' | 'warning'; readonly live: Live; readonly decision: Decision }
  | { readonly status: 'expired'; readonly live: Live; readonly decision: Decision; readonly reason: LimitReason | 'error' };

/** A state that holds a session (live or just expired). */
export type WithLive = Extract<State, { live: Live }>;

/** Every change of state. `now` is the session's time; `remote` marks what another tab said. */
export type Action =
  | { readonly type: 'stop' }
  | { readonly type: 'signed-out'; readonly reason: SessionReason }
  | { readonly type: 'begin'; readonly live: Live; readonly now: number }
  | { readonly type: 'look'; readonly now: number }
  | { readonly type: 'activity'; readonly at: number; readonly now: number; readonly stay: boolean; readonly remote: boolean }
  /** The shared record's `lastActivityAt`: activity another tab accepted, which this tab did not hear of. */
  | { readonly type: 'record'; readonly at: number; readonly now: number }
  | { readonly type: 'update'; readonly live: Live; readonly now: number }
  | { readonly type: 'expire'; readonly reason: LimitReason | 'error'; readonly now: number; readonly remote: boolean };

export const LOADING: State = Object.freeze({ status: 'loading' });

/** Whether `state` holds a session that is inside its limits. */
export const isLive = (state: State): state is Extract<State, { status: 'active' | 'warning' }> =>
  state.status === 'active' || state.status === 'warning';

const hasLive = (state: State): state is WithLive => 'live' in state;

/** No tokens: what an expired session holds. */
const NO_TOKENS: TokenSet = Object.freeze({ idToken: '', accessToken: '', refreshToken: null, accessTokenExpiresAt: null });

/** The session ended: its tokens go, its timing stays to be shown. */
const ended = (live: Live, decision: Decision, reason: LimitReason | 'error'): State =>
  ({ status: 'expired', live: { ...live, tokens: NO_TOKENS }, decision, reason });

/** The state of `live` at `now`: active, warning or expired, by the one rule. */
function judge(live: Live, now: number, policy: SessionPolicy): State {
  const decision = decide(live, now, policy);
  return decision.phase === 'expired' ? ended(live, decision, decision.reason) : { status: decision.phase, live, decision };
}

/**
 * The one reducer. Pure: the same state, action and policy give the same state. An action
 * that changes nothing returns `state` itself.
 */
export function reduce(state: State, action: Action, policy: SessionPolicy): State {
  switch (action.type) {
    case 'stop':
      return LOADING;
    case 'signed-out':
      return state.status === 'signed-out' && state.reason === action.reason ? state : { status: 'signed-out', reason: action.reason };
    case 'begin':
      return judge(action.live, action.now, policy);
    default:
      break;
  }
  if (!isLive(state)) return state; // nothing changes a session that is not live
  const { live } = state;
  switch (action.type) {
    case 'look':
      return settle(state, judge(live, action.now, policy));
    case 'update': {
      // A renewal never moves activity back.
      const next = { ...action.live, lastActivityAt: Math.max(action.live.lastActivityAt, live.lastActivityAt) };
      return action.live.sessionId === live.sessionId ? settle(state, judge(next, action.now, policy)) : state;
    }
    case 'expire': {
      // Another tab saw the deadline pass: it has passed here too, whatever this tab last computed.
      const d = decide(live, action.now, policy);
      return ended(live, { ...d, phase: 'expired', expiresAt: Math.min(d.expiresAt, action.now) }, action.reason);
    }
    case 'activity': {
      // Input counts if the session was active when it happened; "Stay signed in" also
      // counts during a warning. Neither can revive a session past its deadline, and input
      // is never later than now (fail closed: a timestamp ahead of the clock extends nothing).
      const now = judge(live, action.now, policy);
      if (now.status === 'expired') return now;
      const at = Math.min(action.at, action.now);
      const phaseAt = decide(live, at, policy).phase;
      const counts = at > live.lastActivityAt && (action.stay ? phaseAt !== 'expired' : phaseAt === 'active');
      return settle(state, counts ? judge({ ...live, lastActivityAt: at }, action.now, policy) : now);
    }
    case 'record':
      // Judged where the input happened, and written only there if it counted: it stands here
      // too, however stale this tab's own view (never later than now, never past a cap).
      return settle(state, judge({ ...live, lastActivityAt: Math.max(live.lastActivityAt, Math.min(action.at, action.now)) }, action.now, policy));
  }
}

/** Keeps `prev` when `next` says the same, so "nothing changed" is `next === prev`. */
function settle(prev: State, next: State): State {
  if (prev.status !== next.status || !hasLive(next) || !hasLive(prev) || prev.live !== next.live) return next;
  const a = prev.decision;
  const b = next.decision;
  return a.expiresAt === b.expiresAt && a.reason === b.reason && a.phase === b.phase ? prev : next;
}

/** What is true of the session now. The same object until something changes. */
export interface SessionSnapshot {
  readonly status: SessionStatus;
  readonly reason: SessionReason;
  /** Epoch ms: the earliest of the three deadlines below. */
  readonly expiresAt: number | null;
  /** Epoch ms: `lastActivityAt` + the idle limit. */
  readonly idleExpiresAt: number | null;
  /** Epoch ms: `authTime` + the absolute limit. */
  readonly absoluteExpiresAt: number | null;
  /** Epoch ms: the provider's `session_expiry`, or null. */
  readonly sessionExpiresAt: number | null;
  /** Epoch ms: when the user authenticated (`auth_time`, else when sign-in completed). */
  readonly authTime: number | null;
  /** Epoch ms: the newest user activity. */
  readonly lastActivityAt: number | null;
  /** The verified ID token's claims, while signed in. */
  readonly claims: Claims | null;
}

const EMPTY: Omit<SessionSnapshot, 'status' | 'reason'> = {
  expiresAt: null, idleExpiresAt: null, absoluteExpiresAt: null, sessionExpiresAt: null, authTime: null, lastActivityAt: null, claims: null,
};

/** The snapshot of a state. */
export function snapshotOf(state: State): SessionSnapshot {
  if (!hasLive(state)) return Object.freeze({ ...EMPTY, status: state.status, reason: state.status === 'signed-out' ? state.reason : null });
  const { live, decision: d } = state;
  const expired = state.status === 'expired';
  return Object.freeze({
    status: state.status,
    reason: expired ? state.reason : state.status === 'warning' ? d.reason : null,
    expiresAt: d.expiresAt,
    idleExpiresAt: d.idleExpiresAt,
    absoluteExpiresAt: d.absoluteExpiresAt,
    sessionExpiresAt: d.sessionExpiresAt,
    authTime: live.authTime,
    lastActivityAt: live.lastActivityAt,
    // Claims go with the tokens: an expired session shows none.
    claims: expired ? null : live.claims,
  });
}

/** Whether two snapshots say the same. */
export function sameSnapshot(a: SessionSnapshot, b: SessionSnapshot): boolean {
  return (Object.keys(a) as (keyof SessionSnapshot)[]).every((key) => a[key] === b[key]);
}

/** The events of a session and their payloads. */
export interface SessionEvents {
  /**
   * `after`: when this sign-in is the reauthentication a limit led to in this tab, that
   * limit ('idle', 'absolute', 'session_expiry'), so the app can say why; else null.
   */
  'signed-in': { readonly claims: Claims; readonly after: LimitReason | null };
  activity: { readonly at: number };
  warning: { readonly expiresAt: number; readonly reason: LimitReason; readonly msLeft: number };
  expired: { readonly reason: LimitReason | 'error' };
  'signed-out': { readonly reason: SignedOutReason };
  renewed: { readonly accessTokenExpiresAt: number | null };
  error: SessionError;
}

/** One event to emit. */
export type SessionEvent = { [K in keyof SessionEvents]: readonly [K, SessionEvents[K]] }[keyof SessionEvents];

/**
 * The events of one transition, derived from the states alone: `warning` fires when a
 * warning begins (once however often the state is looked at), `expired` when a session
 * ends at a limit, `signed-out` when a session (live or expired) ends otherwise.
 */
export function eventsOf(prev: State, next: State, now: number): SessionEvent[] {
  const events: SessionEvent[] = [];
  const before = hasLive(prev) ? prev : null;
  if (hasLive(next)) {
    const same = before !== null && before.live.sessionId === next.live.sessionId;
    if (!same) events.push(['signed-in', { claims: next.live.claims, after: next.live.after ?? null }]);
    if (same && next.live.lastActivityAt > before.live.lastActivityAt) events.push(['activity', { at: next.live.lastActivityAt }]);
    if (same && isLive(next) && next.live.tokens.accessToken !== before.live.tokens.accessToken) events.push(['renewed', { accessTokenExpiresAt: next.live.tokens.accessTokenExpiresAt }]);
    const was = same ? before.status : null;
    // A warning of another limit (idle turned into the cap) is a new warning.
    const newReason = was === 'warning' && before!.decision.reason !== next.decision.reason;
    if (next.status === 'warning' && (was !== 'warning' || newReason)) {
      const d = next.decision;
      events.push(['warning', { expiresAt: d.expiresAt, reason: d.reason as LimitReason, msLeft: d.expiresAt - now }]);
    }
    if (next.status === 'expired' && was !== 'expired') events.push(['expired', { reason: next.reason }]);
  } else if (before && next.status === 'signed-out') {
    const { reason } = next;
    events.push(['signed-out', { reason: reason === 'remote_logout' || reason === 'error' ? reason : 'signed_out' }]);
  }
  return events;
}

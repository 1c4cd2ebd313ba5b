import type { Envelope, SessionHandover, SessionTiming, TabMessage } from './channel.js';
import { withoutRefreshToken } from './constants.js';
import { isLive, type Action, type Live, type State, type TokenSet } from './machine.js';
import { pick, TIMING_FIELDS } from './store.js';

/** How long a new tab waits for a live tab to hand over the session. */
export const TOKEN_REQUEST_TIMEOUT_MS = 1_000;

/** A live session as one tab hands it to another. */
export function handoverOf(live: Live): SessionHandover {
  return { sessionId: live.sessionId, tokens: live.tokens, timing: pick(live, TIMING_FIELDS) as unknown as SessionTiming };
}

/** What tab messages may ask of the session. */
export interface TabsHost {
  /** Looks at the clock (and pending input) first, so a message never acts on a stale state; returns the state and its time. */
  look(): readonly [State, number];
  dispatch(action: Action): void;
  post(message: TabMessage): void;
  /** Takes over a session another tab signed in to, once its ID token is verified here. */
  adopt(handover: SessionHandover): void;
  /** Takes tokens another tab renewed, once their ID token is verified here. */
  tookRenewal(tokens: TokenSet): void;
  /** A follower asks for a renewal: the leader renews, or shares the outcome of the last one (see renewal.ts). */
  renewFor(live: Live): void;
  /** Another tab signed out of this session, or it was logged out at the provider (`remote_logout`). */
  signedOut(reason?: 'remote_logout'): void;
}

/**
 * What another tab says. Messages can end a session or add activity; they never extend a
 * deadline. Messages about another session are ignored.
 */
export function onTabMessage(m: Envelope, host: TabsHost): void {
  if (m.type === 'token-offer') return; // an answer, taken by the request that asked
  const [state, now] = host.look();
  const mine = 'live' in state && state.live.sessionId === m.sessionId;
  if (m.type === 'signed-in') {
    if (!mine || !isLive(state)) host.adopt(m);
    return;
  }
  if (!mine) return;
  if (m.type === 'signed-out') {
    // Also ends a tab that had expired and waits to reauthenticate: the user chose to leave.
    host.signedOut(m.reason);
    return;
  }
  if (!isLive(state)) return;
  const { live } = state;
  switch (m.type) {
    case 'activity':
    case 'warning-dismissed':
      host.dispatch({ type: 'activity', at: m.at, now, stay: m.type === 'warning-dismissed', remote: true });
      break;
    case 'expired':
      host.dispatch({ type: 'expire', reason: m.reason, now, remote: true });
      break;
    case 'token-request':
      host.post({ type: 'token-offer', requestId: m.requestId, ...handoverOf(live) });
      break;
    case 'renewed':
      host.tookRenewal(m.tokens);
      break;
    case 'renew-request':
      host.renewFor(live);
      break;
    case 'renew-failed':
      // Also an answer to a request; and a refresh token that may be spent is spent in every tab.
      if (m.spent === true) host.dispatch({ type: 'update', live: withoutRefreshToken(live), now });
      break;
  }
}

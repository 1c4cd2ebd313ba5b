// oidc-session-guard/react: the session's snapshot as React state. React is an optional peer
// dependency; only this entry imports it.
import { useSyncExternalStore } from 'react';
import type { Session, SessionSnapshot } from '../session.js';

/**
 * The session's current snapshot; the component re-renders on every change. Built on
 * `useSyncExternalStore`: no tearing under concurrent rendering, and safe in StrictMode
 * (it subscribes and unsubscribes as React asks; starting and stopping the session is the
 * app's, e.g. `useEffect(() => { void session.start(); return session.stop; }, [session])`).
 * @example
 * const snapshot = useSession(session);
 * if (snapshot.status === 'warning') return <p>Signing out at {new Date(snapshot.expiresAt!).toLocaleTimeString()}</p>;
 */
export function useSession(session: Pick<Session, 'subscribe' | 'getSnapshot'>): SessionSnapshot {
  return useSyncExternalStore(session.subscribe, session.getSnapshot, session.getSnapshot);
}

// In the protocol chunk: every action but 'none' signs in or out, which loads it anyway.
import type { OnExpired } from '../options.js';

/** What the expiry step may ask of the session. */
export interface ExpiryHost {
  /** Whether the session is still expired (nothing has signed in again meanwhile). */
  stillExpired(): boolean;
  /** Redirects to the provider with `prompt=login`; rejects if it could not. */
  reauthenticate(): Promise<void>;
  /** Signs out, through end-session. */
  signOut(): void;
}

/**
 * Carries out `onExpired` after a limit ended session `sessionId`. Returns the function
 * that cancels what is still waiting (a hidden tab's wait to become visible).
 *
 * `'reauthenticate'`: NHS login requires that at the end of each period the user is sent
 * back through authentication without interaction. Exactly one tab navigates: the one
 * that takes the Web Lock named `lockName` (held until the page unloads); the others stay
 * `expired` and take the new session over when it comes. A hidden tab waits until seen.
 */
export function afterExpiry(mode: OnExpired, lockName: string, host: ExpiryHost): () => void {
  if (mode === 'none') return () => undefined;
  if (mode === 'sign-out') {
    host.signOut();
    return () => undefined;
  }
  const go = () => {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (!locks) {
      // Without Web Locks every visible tab redirects (see the README's limits).
      host.reauthenticate().catch(() => undefined);
      return;
    }
    // Held while the page goes to the provider (released when it unloads); released at once
    // if the redirect could not start, so a later try in any tab can take it.
    void locks.request(lockName, { ifAvailable: true }, (lock) => {
      if (!lock || !host.stillExpired()) return undefined;
      return host.reauthenticate().then(() => new Promise<void>(() => undefined));
    }).catch(() => undefined);
  };
  const doc = globalThis.document;
  if (doc.visibilityState === 'visible') {
    go();
    return () => undefined;
  }
  let waiting = true;
  const onVisible = () => {
    if (doc.visibilityState !== 'visible') return;
    cancel();
    if (host.stillExpired()) go();
  };
  const cancel = () => {
    if (waiting) doc.removeEventListener('visibilitychange', onVisible);
    waiting = false;
  };
  doc.addEventListener('visibilitychange', onVisible);
  return cancel;
}

// In the protocol chunk: every action but 'none' signs in or out, which loads it anyway.
import type { Leadership } from '../channel.js';
import type { OnExpired } from '../options.js';

/** What the expiry step may ask of the session. */
export interface ExpiryHost {
  /** Whether the session is still expired (nothing has signed in again meanwhile). */
  stillExpired(): boolean;
  /** Redirects to the provider with `prompt=login`; rejects if it could not. */
  reauthenticate(): Promise<void>;
  /** Signs out, through end-session. */
  signOut(): void;
  /** Claims the lock that lets one tab go (see {@link afterExpiry}); null without Web Locks. */
  claim(): Leadership | null;
}

/**
 * Carries out `onExpired` after a limit ended session `sessionId`. Returns the function
 * that cancels what is still waiting (a hidden tab's wait to become visible).
 *
 * `'reauthenticate'`: NHS login requires that at the end of each period the user is sent
 * back through authentication without interaction. Exactly one tab navigates: the one
 * that holds the reauthentication Web Lock (until the page unloads): `claim`, taken by a
 * visible tab at the moment of expiry, or taken here by a tab that was hidden then, once
 * it is seen. The others stay `expired` and take the new session over when it comes.
 */
export function afterExpiry(mode: OnExpired, host: ExpiryHost, claim: Leadership | null): () => void {
  if (mode === 'none') return () => undefined;
  if (mode === 'sign-out') {
    host.signOut();
    return () => undefined;
  }
  const go = (held: Leadership | null) => {
    if (!held) {
      // Without Web Locks every visible tab redirects (see the README's limits).
      host.reauthenticate().catch(() => undefined);
      return;
    }
    // The tab that got the lock goes; it holds it while the page goes to the provider (until
    // it unloads), or lets go at once if the redirect could not start. (A claim does not wait
    // in line: a tab that did not get it never gets it later.)
    void held.decided().then((mine) => {
      if (mine && host.stillExpired()) host.reauthenticate().catch(() => held.close());
      else held.close();
    });
  };
  // A visible tab claimed the lock when it saw the expiry (every tab sees it at once, while
  // loading this chunk takes each its own time).
  if (claim) {
    go(claim);
    return () => claim.close();
  }
  const doc = globalThis.document;
  if (doc.visibilityState === 'visible') {
    go(host.claim());
    return () => undefined;
  }
  let waiting = true;
  const onVisible = () => {
    if (doc.visibilityState !== 'visible') return;
    cancel();
    if (host.stillExpired()) go(host.claim());
  };
  const cancel = () => {
    if (waiting) doc.removeEventListener('visibilitychange', onVisible);
    waiting = false;
  };
  doc.addEventListener('visibilitychange', onVisible);
  return cancel;
}

// Loaded only with a server companion (`serverUrl`), by the tab that leads: it holds the
// companion's event stream for the session this browser holds (one connection per browser,
// not per tab: browsers allow 6 per origin on HTTP/1.1) and hears when it was logged out.
import type { Clock, TimerHandle } from './clock.js';

/** The wait before reconnecting doubles from this, to at most {@link MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 1_000;
export const MAX_BACKOFF_MS = 60_000;

/**
 * Listens to `url` (Server-Sent Events) and calls `onLogout` once, when a `logout` event
 * comes. A lost connection is opened again with backoff; on connecting, the companion says
 * at once if the session was logged out meanwhile. Returns the function that stops it.
 */
export function listenForLogout(url: string, clock: Clock, onLogout: () => void): () => void {
  let source: EventSource | null = null;
  let timer: TimerHandle | null = null;
  let wait = FIRST_BACKOFF_MS;
  let stopped = false;
  const stop = () => {
    stopped = true;
    source?.close();
    source = null;
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
  };
  const open = () => {
    timer = null;
    if (stopped) return;
    const current = new EventSource(url);
    source = current;
    current.addEventListener('ready', () => {
      wait = FIRST_BACKOFF_MS;
    });
    current.addEventListener('logout', () => {
      stop();
      onLogout();
    });
    current.onerror = () => {
      // Our own backoff, not the browser's fixed retry: closed, and opened again later.
      current.close();
      if (stopped || source !== current) return;
      source = null;
      timer = clock.setTimeout(open, wait);
      wait = Math.min(wait * 2, MAX_BACKOFF_MS);
    };
  };
  open();
  return stop;
}

import type { Clock, TimerHandle } from './clock.js';

/**
 * How often activity is passed on (to the shared record, the snapshot and the `activity`
 * event): at most once per 5 seconds. The timestamp passed on is that of the latest input,
 * not of the flush, and decisions also read the input not yet passed on, so the idle
 * deadline is exact to the input; other tabs learn of it at most 5 seconds late.
 */
export const ACTIVITY_THROTTLE_MS = 5_000;

/** Trusted user input that counts as activity. `scroll` is caught in the capture phase. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'scroll'] as const;

export interface ActivityTracker {
  /** Returns the time of the latest input not yet passed on (epoch ms) and forgets it; null if none. */
  take(): number | null;
  /** Removes the listeners and the timer. */
  stop(): void;
}

export interface ActivityOptions {
  readonly window: Window;
  readonly clock: Clock;
  /** The time to stamp input with; the session's effective time. @default clock.now */
  readonly now?: () => number;
  /** Called at most once per `throttleMs` after trusted input; `take()` then gives its time. */
  readonly onActivity: () => void;
  readonly throttleMs?: number;
}

/**
 * Listens for trusted user input (pointer, key, wheel, touch, scroll, the tab becoming
 * visible). The handler does O(1) work: it notes the time and, if none is pending,
 * schedules one flush. It never touches storage.
 */
export function trackActivity(options: ActivityOptions): ActivityTracker {
  const { window: win, clock, onActivity } = options;
  const now = options.now ?? (() => clock.now());
  const throttleMs = options.throttleMs ?? ACTIVITY_THROTTLE_MS;
  const doc = win.document;
  let latest: number | null = null;
  let timer: TimerHandle | null = null;
  let lastFlushAt = -Infinity;

  const flush = () => {
    timer = null;
    if (latest === null) return;
    lastFlushAt = now();
    onActivity();
  };

  const handler = (event: Event) => {
    // Scripts can dispatch events; only the user's own input keeps a session alive.
    if (!event.isTrusted) return;
    if (event.type === 'visibilitychange' && doc.visibilityState !== 'visible') return;
    latest = now();
    if (timer === null) timer = clock.setTimeout(flush, Math.max(0, lastFlushAt + throttleMs - latest));
  };

  const listenerOptions: AddEventListenerOptions = { capture: true, passive: true };
  for (const type of ACTIVITY_EVENTS) win.addEventListener(type, handler, listenerOptions);
  doc.addEventListener('visibilitychange', handler, listenerOptions);

  return {
    take() {
      const at = latest;
      latest = null;
      return at;
    },
    stop() {
      for (const type of ACTIVITY_EVENTS) win.removeEventListener(type, handler, listenerOptions);
      doc.removeEventListener('visibilitychange', handler, listenerOptions);
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      latest = null;
    },
  };
}

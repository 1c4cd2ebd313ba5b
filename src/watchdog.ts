import type { Clock, TimerHandle } from './clock.js';

/**
 * The safety-net poll: the watchdog looks again at least this often while a session is
 * live, whatever the next deadline. Browsers may delay it (hidden tabs: once a minute);
 * the wake events below catch up at once.
 */
export const WATCHDOG_POLL_MS = 15_000;

/** Events after which time may have jumped: sleep, a frozen or throttled tab, a lost network. */
export const WAKE_EVENTS = { window: ['pageshow', 'focus', 'online'], document: ['visibilitychange', 'resume'] } as const;

export interface Watchdog {
  /** Looks again now. */
  poke(): void;
  /** Removes the listeners and the timer. */
  stop(): void;
}

export interface WatchdogOptions {
  readonly window: Window;
  readonly clock: Clock;
  /** The time deadlines are on. @default clock.now */
  readonly now?: () => number;
  /** Decides what is true now; returns the next time worth looking (epoch ms), or null to stop looking. */
  readonly look: () => number | null;
  /** Called on each wake event, before the look. */
  readonly woke?: (() => void) | undefined;
  readonly pollMs?: number;
}

/**
 * Schedules the next look at the next deadline, capped by a short poll, and looks again
 * on every wake event. It never counts down: each look reads the wall clock. The first
 * look is the first `poke()`.
 */
export function startWatchdog(options: WatchdogOptions): Watchdog {
  const { window: win, clock, look } = options;
  const pollMs = options.pollMs ?? WATCHDOG_POLL_MS;
  const now = options.now ?? (() => clock.now());
  let timer: TimerHandle | null = null;
  let stopped = false;

  const run = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    if (stopped) return;
    const next = look();
    // A look can start another (a listener that acts on the session): keep one timer only.
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    if (next === null || stopped) return;
    const delay = Math.min(Math.max(0, next - now()), pollMs);
    timer = clock.setTimeout(run, delay);
  };

  const onWake = () => {
    options.woke?.();
    run();
  };
  for (const type of WAKE_EVENTS.window) win.addEventListener(type, onWake);
  for (const type of WAKE_EVENTS.document) win.document.addEventListener(type, onWake);

  return {
    poke: run,
    stop() {
      stopped = true;
      for (const type of WAKE_EVENTS.window) win.removeEventListener(type, onWake);
      for (const type of WAKE_EVENTS.document) win.document.removeEventListener(type, onWake);
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}

/** Timer handle as returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The source of time for one session. Injected so tests can move time by hours in
 * milliseconds; the default wraps the globals lazily, so fake timers installed after
 * import still apply.
 */
export interface Clock {
  /** Wall-clock time, epoch milliseconds. */
  now(): number;
  /** Schedules `fn` after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer from {@link Clock.setTimeout}. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Optional: milliseconds from a monotonic source (`performance.now()`), which the wall
   * clock being set back does not move. With it, time keeps moving forward when the wall
   * clock jumps back, so a clock set back extends no deadline.
   */
  monotonicNow?(): number;
}

/** The clock used when none is injected: arrow functions around the globals. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  monotonicNow: () => globalThis.performance.now(),
});

/**
 * Wall-clock time that never goes back: when the wall clock is set back, time goes on from
 * the last reading by the monotonic clock's elapsed time, so nothing is extended. A wall
 * clock jumping forward (sleep) is taken as it is; a reading that is not a finite number is
 * taken as the end of time (fail closed).
 */
export function monotonicTime(clock: Clock): () => number {
  let last: { readonly t: number; readonly mono: number | undefined } | null = null;
  return () => {
    const wall = clock.now();
    const mono = clock.monotonicNow?.();
    let t: number;
    if (!Number.isFinite(wall)) t = Number.MAX_SAFE_INTEGER;
    else if (!last) t = wall;
    else if (mono !== undefined && last.mono !== undefined && Number.isFinite(mono) && mono >= last.mono) t = Math.max(wall, last.t + (mono - last.mono));
    else t = Math.max(wall, last.t);
    last = { t, mono };
    return t;
  };
}

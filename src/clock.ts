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

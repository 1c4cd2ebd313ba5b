// Before a tab ends the session, or warns of its end, on its own deadline: the shared record.
// Channel messages are news a tab can miss (the HTML standard delivers none to a document
// that is not fully active: a page in the back/forward cache, a frozen tab); the record is
// the truth.
import type { State } from './machine.js';

/** Reads the shared record before a move toward the end, and when the page wakes. */
export interface RecordWatch {
  /**
   * Whether the move from `state` to `next` (this tab's own view) must wait for the record:
   * a warning or an expiry on this tab's own deadline. The record is read once per deadline;
   * then `take` hears what it holds and `again` looks again.
   */
  holds(state: State, next: State): boolean;
  /** The page woke (back from the back/forward cache, resumed, shown again): the record is read. */
  woke(): void;
  /** Settles once no read is pending (and what it found has been taken). */
  settled(): Promise<void>;
}

/** `read` reads the shared record (a failure leaves this tab's own deadline standing: fail closed); `take` hears what it holds. */
export function watchRecord(read: () => Promise<unknown>, take: (value: unknown) => void, again: () => void): RecordWatch {
  let checked: string | null = null;
  let reading: Promise<void> | null = null;
  const check = (key: string | null) => {
    reading ??= read().then(take, () => undefined).finally(() => {
      reading = null;
      checked = key;
      again();
    });
  };
  return {
    holds(state, next) {
      const toward = next.status === 'expired' || (next.status === 'warning' && state.status === 'active');
      if ((state.status !== 'active' && state.status !== 'warning') || !toward) return false;
      const key = `${next.status}@${next.decision.expiresAt}`;
      if (key === checked) return false;
      check(key);
      return true;
    },
    woke: () => check(checked),
    settled: async () => {
      while (reading) await reading;
    },
  };
}

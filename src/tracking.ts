// Live time: what runs while a session is live in a tab. User input, the watchdog that looks
// at the deadlines, the renewing tab (leadership), automatic renewal, the shared record read
// before a deadline acts, and the companion's event stream. Loaded by one dynamic import()
// once there is a session to run: a signed-out page never loads it.
import type { Leadership, TabMessage } from './channel.js';
import type { Clock } from './clock.js';
import type { SessionError } from './errors.js';
import type { Settings } from './options.js';
// It imports no module the eager core loads (types only): its own parts come with it, and
// what it needs of the core (the reducer, the record's judgement) comes through its host.
import { trackActivity } from './activity.js';
import { watchRecord } from './expiry.js';
import type { Action, Live, State } from './machine.js';
import { FOLLOWER_GRACE_MS, renewals, type Renewals } from './renewal.js';
import type { RecordStore, SessionRecord } from './store.js';
import { startWatchdog } from './watchdog.js';

/** What live time needs from the session. */
export interface TrackingHost {
  readonly sessionId: string;
  /** The session's settings: its clock, and the companion's mount point (`serverUrl`). */
  readonly settings: Pick<Settings, 'clock' | 'serverUrl'>;
  readonly now: () => number;
  /** The shared record (read before a deadline acts, when it is shared: IndexedDB). */
  readonly store: () => RecordStore;
  /** Elects the renewing tab among this app's tabs (channel.ts `electLeader`), under `leaderName`. */
  elect(name: string, clock: Clock): Promise<Leadership> | Leadership;
  readonly leaderName: string;
  /** Posts to the other tabs. */
  post(message: TabMessage): void;
  state(): State;
  /** The state `action` would lead to (the reducer, pure), without dispatching it. */
  next(action: Action): State;
  dispatch(action: Action): void;
  /** The stored value as a record, if it parses and can be true at `now` (store.ts `believable`). */
  believable(value: unknown, now: number): SessionRecord | null;
  /** Renews (automatic renewal goes through `renew()`, and its window). */
  renew(): Promise<void>;
  /** The session ended elsewhere, or was logged out at the provider: signed out here, and the record says so. */
  signedOut(live: Live | null, reason: 'signed_out' | 'remote_logout'): void;
  /** Another session took this one's place in the record: this one ends, that one is taken up. */
  replaced(): void;
  error(error: unknown, code: SessionError['code'], what: string): void;
  /** Closes the shared record's database connection (see `closeDatabase`). */
  closeDatabase(): void;
}

/** Live time in one tab, for one session. */
export interface Tracking {
  readonly sessionId: string;
  /** Aborted when tracking ends. */
  readonly signal: AbortSignal;
  /** This session's renewals in this tab, whoever asks for them. */
  readonly renewals: Renewals;
  /** Whether this tab renews for the others; settles once that is known. */
  leads(): Promise<boolean>;
  /**
   * Another tab asks for a renewal of `live`: the leader runs `work` (one renewal, which
   * tells every tab its outcome), or answers with the outcome of the last one within its window.
   */
  renewFor(live: Live, work: () => Promise<void>): void;
  /** Looks now: takes pending input, decides, reschedules. */
  poke(): void;
  /** Settles once no read of the shared record is pending (a deadline waits for one). */
  settled(): Promise<void>;
  stop(): void;
}

/**
 * What the shared record says of the live session `live` that this tab may have missed
 * (a frozen tab, a page in the back/forward cache: no channel message reaches either):
 * later activity of the same session, that session's end, or another session in its place.
 * Null when it says nothing new, or nothing believable (then this tab's own view stands).
 */
export type RecordNews =
  | { readonly type: 'activity'; readonly at: number }
  | { readonly type: 'ended'; readonly reason: NonNullable<SessionRecord['endedReason']> }
  | { readonly type: 'replaced' }
  | null;

/** What a believable record (or none) says of `live` (see {@link RecordNews}). */
export function newsOf(record: SessionRecord | null, live: Live): RecordNews {
  if (!record) return null;
  if (record.sessionId !== live.sessionId) return { type: 'replaced' };
  if (record.status === 'ended') return { type: 'ended', reason: record.endedReason ?? 'error' };
  return record.lastActivityAt > live.lastActivityAt ? { type: 'activity', at: record.lastActivityAt } : null;
}

/** Whether `state` holds a session inside its limits (machine.ts `isLive`, kept out of this chunk's imports). */
const live = (state: State): state is Extract<State, { status: 'active' | 'warning' }> => state.status === 'active' || state.status === 'warning';

export function startTracking(host: TrackingHost): Tracking {
  const win = globalThis as unknown as Window;
  const { now, sessionId } = host;
  const { clock, serverUrl } = host.settings;
  const abort = new AbortController();
  const leader = Promise.resolve(host.elect(host.leaderName, clock));
  let elected: Leadership | null = null;
  let remote: (() => void) | null = null;
  let autoRenewing = false;
  /** Input taken while the record is read, for the look after. */
  let pending: number | null = null;
  const renewed = renewals(now);

  /** What the shared record holds that this tab did not hear of (see `newsOf`). */
  const take = (value: unknown) => {
    const state = host.state();
    if (abort.signal.aborted || !live(state)) return;
    const at = now();
    const news = newsOf(host.believable(value, at), state.live);
    if (news?.type === 'activity') host.dispatch({ type: 'record', at: news.at, now: at });
    else if (news?.type === 'ended') {
      if (news.reason === 'signed_out' || news.reason === 'remote_logout') host.signedOut(state.live, news.reason);
      else host.dispatch({ type: 'expire', reason: news.reason, now: at, remote: true });
    } else if (news) host.replaced();
  };

  /**
   * With a server companion, the leading tab holds its event stream (a lazy chunk): a logout
   * at the provider (back-channel) or through the companion signs out every tab. Asked at
   * each look, so a tab that comes to lead later takes it up.
   */
  const listenRemote = () => {
    const url = serverUrl;
    if (!url || remote || !elected?.isLeader()) return;
    remote = () => undefined;
    import('./remote.js').then((lib) => {
      // Throws without EventSource: then said once, and not tried again in this run.
      if (!abort.signal.aborted) {
        remote = lib.listenForLogout(`${url}/events`, clock, () => {
          // Heard here: every other tab hears it from this one.
          const state = host.state();
          if (live(state) && state.live.sessionId === sessionId) host.post({ type: 'signed-out', sessionId, reason: 'remote_logout' });
          host.signedOut('live' in state ? state.live : null, 'remote_logout');
        });
      }
    }).catch((error: unknown) => host.error(error, 'NETWORK', 'logout events'));
  };

  /**
   * Automatic renewal, shortly before the access token expires, and only while the user is
   * active (never during a warning): by the renewing tab (the leader), or by another tab
   * only once the leader has let it pass (a frozen tab holding the lock). Returns when it is due.
   */
  const autoRenewAt = (state: Extract<State, { status: 'active' | 'warning' }>, at: number): number | null => {
    const { live } = state;
    const due = renewed.dueAt(live.tokens.accessTokenExpiresAt, live.renewedAt || live.signedInAt);
    if (due === null) return null;
    const when = elected?.isLeader() ? due : due + FOLLOWER_GRACE_MS;
    if (at < when) return when;
    if (state.status !== 'active' || autoRenewing) return null;
    autoRenewing = true;
    // Not from inside this look: renew() looks at the clock itself.
    queueMicrotask(() => {
      host.renew()
        .catch((error: unknown) => host.error(error, 'RENEW_FAILED', 'renewal'))
        .finally(() => {
          autoRenewing = false;
          watchdog.poke();
        });
    });
    return null;
  };

  /** Takes the input not yet passed on, decides what is true now, and returns when to look again. */
  const look = (): number | null => {
    listenRemote();
    const input = tracker.take();
    if (input !== null) pending = Math.max(pending ?? input, input);
    const at = now();
    const action: Action = pending === null ? { type: 'look', now: at } : { type: 'activity', at: pending, now: at, stay: false, remote: false };
    // Toward the end on this tab's own deadline: the shared record first (it looks again then,
    // with the input kept: input in a tab that missed the others' news is judged after it).
    if (watch?.holds(host.state(), host.next(action))) return null;
    pending = null;
    host.dispatch(action);
    const state = host.state();
    if (!live(state)) return null;
    const next = state.status === 'active' ? state.decision.warningAt : state.decision.expiresAt;
    const renewAt = autoRenewAt(state, at);
    return renewAt !== null && renewAt > at ? Math.min(next, renewAt) : next;
  };

  const tracker = trackActivity({ window: win, clock, now, onActivity: () => watchdog.poke() });
  // A memory record is this tab's own: nothing in it to have missed.
  const store = host.store();
  const watch = store.kind === 'indexeddb' ? watchRecord(() => host.store().get(), take, () => watchdog.poke()) : null;
  const watchdog = startWatchdog({ window: win, clock, now, look, woke: watch?.woke });
  // Into the back/forward cache: Chromium evicts a cached page whose open database connection
  // another tab's write would meet; closed, it comes back (and reads the record, see watchRecord).
  const onHide = (event: PageTransitionEvent) => event.persisted && host.closeDatabase();
  win.addEventListener('pagehide', onHide);
  void leader.then(async (lead) => {
    if (abort.signal.aborted) return lead.close();
    elected = lead;
    if (await lead.decided()) listenRemote();
  }, () => undefined);

  return {
    sessionId,
    signal: abort.signal,
    renewals: renewed,
    leads: async () => (await leader).decided(),
    renewFor(held, work) {
      if (!elected?.isLeader()) return;
      const { asked, done } = renewed.ask(work);
      if (asked === 'fresh') host.post({ type: 'renewed', sessionId, tokens: held.tokens });
      done.catch((error: Partial<SessionError>) => asked === 'failed' && host.post({ type: 'renew-failed', sessionId, code: error.code ?? 'RENEW_FAILED' }));
    },
    poke: () => watchdog.poke(),
    settled: () => watch?.settled() ?? Promise.resolve(),
    stop() {
      abort.abort();
      win.removeEventListener('pagehide', onHide);
      tracker.stop();
      watchdog.stop();
      elected?.close();
      remote?.();
    },
  };
}

import { createStore, get, update, type UseStore } from 'idb-keyval';
import type { Clock } from './clock.js';
import { FUTURE_TOLERANCE_MS, within } from './constants.js';
import type { Live, SessionReason } from './machine.js';
import { decide, type SessionPolicy } from './policy.js';


/**
 * The shared record: timing state and the user's `sub`, never a token. It is the truth
 * across tabs, checked before it is believed (see {@link assess}). Times are epoch ms on
 * this machine's clock (server times already moved onto it).
 */
export interface SessionRecord {
  readonly v: 1;
  /** Random id of one sign-in; messages and records of another sign-in are ignored. */
  readonly sessionId: string;
  /** The verified `sub` of the session: a token for another user never continues it. */
  readonly sub: string;
  readonly status: 'active' | 'ended';
  /** Why the session ended, when it has. */
  readonly endedReason: 'idle' | 'absolute' | 'session_expiry' | 'signed_out' | 'remote_logout' | 'error' | null;
  /** The next sign-in must authenticate again (`prompt=login`): the last session hit a limit. */
  readonly reauthRequired: boolean;
  readonly signedInAt: number;
  readonly authTime: number;
  /** auth_time as the provider sent it (before any skew correction), or null when absent. */
  readonly providerAuthTime: number | null;
  readonly sessionExpiresAt: number | null;
  readonly lastActivityAt: number;
  /**
   * When the tokens were last renewed, or a renewal claimed (see the protocol's
   * `claimRefresh`): a tab whose tokens are older may hold a rotated refresh token, and does
   * not send it. Absent (0) in a record an older version wrote.
   */
  readonly renewedAt?: number;
}

/** Where the record is kept. */
export interface RecordStore {
  readonly kind: 'indexeddb' | 'memory';
  get(): Promise<unknown>;
  /**
   * Reads the record and, in the same transaction, writes what `fn` makes of it (the record
   * as it parses, or null); `fn` returning null writes nothing. Resolves with the record as
   * it is after.
   */
  change(fn: (stored: SessionRecord | null) => SessionRecord | null): Promise<SessionRecord | null>;
}

/** Writes `record` over what is there (see `merged`); `begin`: a new session's first write. */
export const put = (store: RecordStore, record: SessionRecord, begin = false): Promise<unknown> =>
  store.change((stored) => merged(stored, record, begin));

/** The IndexedDB database the SDK owns. */
export const DATABASE_NAME = 'oidc-session-guard';
const OBJECT_STORE = 'records';

let opened: UseStore | null = null;

/** The SDK's own IndexedDB database (idb-keyval's handle), opened on first use. */
export function database(): UseStore {
  if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
  opened ??= createStore(DATABASE_NAME, OBJECT_STORE);
  return opened;
}

/**
 * Closes the SDK's connection to its database (opened again on next use). A page going into
 * the back/forward cache closes it: Chromium evicts a cached page whose open connection
 * another tab's write would meet, and the page then reloads instead of coming back.
 */
export function closeDatabase(): void {
  const use = opened;
  opened = null;
  use?.('readonly', (store) => store.transaction.db.close()).catch(() => undefined);
}

/** How long one IndexedDB read or write may take; then the tab goes on from memory. */
export const STORE_TIMEOUT_MS = 5_000;

/**
 * The record in IndexedDB, through idb-keyval, in the SDK's own database. Opens nothing
 * until first used. A read or write that does not finish in time (a database blocked by
 * another connection) fails, so nothing waits on it for ever.
 */
export function createIdbStore(key: string, clock: Clock): RecordStore {
  const timed = <T>(work: () => Promise<T>) => within(work(), STORE_TIMEOUT_MS, clock, () => new Error('IndexedDB did not answer in time'));
  return {
    kind: 'indexeddb',
    get: () => timed(() => get(key, database())),
    // Read and written in one transaction: IndexedDB runs them one at a time.
    change: (fn) => {
      let after: SessionRecord | null = null;
      return timed(() => update(key, (stored) => {
        const parsed = parseRecord(stored);
        const old = typeof parsed === 'object' ? parsed : null;
        const next = fn(old);
        after = next ?? old;
        return next ?? stored;
      }, database())).then(() => after);
    },
  };
}

/** The record in this tab's memory: the fallback when IndexedDB is unavailable. */
export function createMemoryStore(): RecordStore {
  let value: unknown;
  const parsed = () => {
    const record = parseRecord(value);
    return typeof record === 'object' ? record : null;
  };
  return {
    kind: 'memory',
    get: async () => value,
    change: async (fn) => {
      const next = fn(parsed());
      if (next) value = next;
      return parsed();
    },
  };
}

/**
 * What a write leaves in the store, given what is there (as it parses, or null): a session
 * beginning in this tab (`begin`) replaces another session's record; otherwise a tab never
 * writes over another session's record (a sign-in it did not hear of). It never makes a
 * session that ended active again, and never moves activity or the last renewal back
 * (another tab may have written later ones it has not heard of).
 */
export function merged(old: SessionRecord | null, next: SessionRecord, begin = false): SessionRecord | null {
  if (!old || (begin && old.sessionId !== next.sessionId)) return next;
  if (old.sessionId !== next.sessionId || (old.status === 'ended' && next.status === 'active')) return null;
  // An end written over an end keeps the stricter: the next sign-in still authenticates after a
  // limit (only an ended record requires it).
  return next.status === 'ended' ? { ...next, reauthRequired: next.reauthRequired || old.reauthRequired } : { ...next, lastActivityAt: Math.max(old.lastActivityAt, next.lastActivityAt), renewedAt: Math.max(old.renewedAt ?? 0, next.renewedAt ?? 0) };
}

const ENDED_REASONS = new Set(['idle', 'absolute', 'session_expiry', 'signed_out', 'remote_logout', 'error', null]);
const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/**
 * Reads a stored value as a record (its known fields only). `undefined` means none;
 * anything else that does not parse returns 'invalid' so the caller can fail closed.
 */
export function parseRecord(value: unknown): SessionRecord | undefined | 'invalid' {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) return 'invalid';
  const r = value as Record<string, unknown>;
  const ok = r.v === 1
    && typeof r.sessionId === 'string' && r.sessionId.length > 0
    && typeof r.sub === 'string'
    && (r.status === 'active' || r.status === 'ended')
    && ENDED_REASONS.has(r.endedReason as string | null)
    && typeof r.reauthRequired === 'boolean'
    && isTime(r.signedInAt) && isTime(r.authTime) && isTime(r.lastActivityAt)
    && (r.sessionExpiresAt === null || isTime(r.sessionExpiresAt))
    && (r.providerAuthTime === null || isTime(r.providerAuthTime))
    && (r.renewedAt === undefined || isTime(r.renewedAt));
  if (!ok) return 'invalid';
  return { v: 1, ...pick(r, RECORD_FIELDS) } as SessionRecord;
}

/** The timing of a session, as the record and the tabs' hand-over carry it. */
export const TIMING_FIELDS = ['signedInAt', 'authTime', 'providerAuthTime', 'sessionExpiresAt', 'lastActivityAt', 'renewedAt'] as const;
const RECORD_FIELDS = ['sessionId', 'sub', 'status', 'endedReason', 'reauthRequired', ...TIMING_FIELDS] as const;

/** The named fields of `from`, and no other. */
export const pick = <K extends string>(from: Partial<Record<K, unknown>>, keys: readonly K[]) =>
  Object.fromEntries(keys.map((key) => [key, from[key]])) as Record<K, unknown>;

/**
 * Whether a record that parses still cannot be true at `now`: a time later than now (a
 * tampered record, or this clock set back since it was written: either way nothing can
 * justify its deadlines), times out of order, an authentication later than the provider's
 * `auth_time`, or a session that ended at a limit without requiring authentication again.
 */
function implausible(r: SessionRecord, now: number): boolean {
  return Math.max(r.signedInAt, r.authTime, r.lastActivityAt) > now + FUTURE_TOLERANCE_MS
    || r.lastActivityAt < Math.max(r.signedInAt, r.authTime)
    || r.authTime > (r.providerAuthTime ?? r.authTime)
    || (r.status === 'ended' && !r.reauthRequired && r.endedReason !== 'signed_out' && r.endedReason !== 'remote_logout');
}

/** What the stored record means now. */
export type Assessment =
  /** No session, or one that ended: `reason` for the signed-out state; `reauth`, the next sign-in must authenticate; `end`, the record to write (a session past its limits that no tab ended). */
  | { readonly live: null; readonly reason: SessionReason; readonly reauth: boolean; readonly end: SessionRecord | null }
  | { readonly live: SessionRecord };

/**
 * Judges a stored value at `now`: none, ended, past its limits while no tab looked (ended
 * now, and the next sign-in must authenticate again), or live. Fails closed: a record
 * that does not parse, or cannot be true (see `implausible`), ends the session (reason
 * `'error'`) and requires authentication again.
 */
export function assess(value: unknown, now: number, policy: SessionPolicy): Assessment {
  const record = parseRecord(value);
  if (record === 'invalid' || (record && implausible(record, now))) return { live: null, reason: 'error', reauth: true, end: null };
  if (!record) return { live: null, reason: null, reauth: false, end: null };
  if (record.status === 'ended') return { live: null, reason: record.endedReason === 'signed_out' ? null : record.endedReason, reauth: record.reauthRequired, end: null };
  const d = decide(record, now, policy);
  if (d.phase !== 'expired') return { live: record };
  return { live: null, reason: d.reason, reauth: true, end: { ...record, status: 'ended', endedReason: d.reason, reauthRequired: true } };
}

/** The record of a live session: timing and `sub`, never a token. */
export function recordOf(live: Live): SessionRecord {
  return {
    v: 1,
    sessionId: live.sessionId,
    sub: live.claims.sub as string,
    status: 'active',
    endedReason: null,
    reauthRequired: false,
    ...(pick(live, TIMING_FIELDS) as Pick<Live, (typeof TIMING_FIELDS)[number]>),
  };
}

/** The record of a session that ended; after a limit the next sign-in must authenticate again. */
export function endedRecord(live: Live, reason: NonNullable<SessionRecord['endedReason']>): SessionRecord {
  const reauthRequired = reason !== 'signed_out' && reason !== 'remote_logout';
  return { ...recordOf(live), status: 'ended', endedReason: reason, reauthRequired };
}

/**
 * The stored value as the record of session `sessionId` if that session is active and
 * inside its limits at `now`; null otherwise. The one check every path that trusts the
 * record makes.
 */
export function liveRecord(value: unknown, now: number, policy: SessionPolicy, sessionId: string): SessionRecord | null {
  const { live } = assess(value, now, policy) as { live: SessionRecord | null };
  return live?.sessionId === sessionId ? live : null;
}

/** The stored value as a record if it parses and can be true at `now` (see `implausible`); else null. */
export function believable(value: unknown, now: number): SessionRecord | null {
  const record = parseRecord(value);
  return record && record !== 'invalid' && !implausible(record, now) ? record : null;
}

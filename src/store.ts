import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { Live } from './machine.js';
import { decide, type SessionPolicy } from './policy.js';

/**
 * The shared record: timing state only, never a token. It is the truth across tabs.
 * Times are epoch ms on this machine's clock (server times already corrected for skew).
 */
export interface SessionRecord {
  readonly v: 1;
  /** Random id of one sign-in; messages and records of another sign-in are ignored. */
  readonly sessionId: string;
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
}

/** Where the record is kept. */
export interface RecordStore {
  readonly kind: 'indexeddb' | 'memory';
  get(): Promise<unknown>;
  set(record: SessionRecord): Promise<void>;
}

/** The IndexedDB database the SDK owns. */
export const DATABASE_NAME = 'oidc-session-guard';
const OBJECT_STORE = 'records';

/** The record in IndexedDB, through idb-keyval, in the SDK's own database. Opens nothing until first used. */
export function createIdbStore(key: string): RecordStore {
  let store: UseStore | null = null;
  const use = (): UseStore => {
    if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
    store ??= createStore(DATABASE_NAME, OBJECT_STORE);
    return store;
  };
  return {
    kind: 'indexeddb',
    get: async () => get(key, use()),
    set: async (record) => set(key, record, use()),
  };
}

/** The record in this tab's memory: the fallback when IndexedDB is unavailable. */
export function createMemoryStore(): RecordStore {
  let value: SessionRecord | undefined;
  return {
    kind: 'memory',
    get: async () => value,
    set: async (record) => {
      value = record;
    },
  };
}

const ENDED_REASONS = new Set(['idle', 'absolute', 'session_expiry', 'signed_out', 'remote_logout', 'error', null]);
const isTime = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/**
 * Reads a stored value as a record. `undefined` means none; anything else that does not
 * parse returns 'invalid' so the caller can fail closed (end the session).
 */
export function parseRecord(value: unknown): SessionRecord | undefined | 'invalid' {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) return 'invalid';
  const r = value as Record<string, unknown>;
  const ok = r.v === 1
    && typeof r.sessionId === 'string' && r.sessionId.length > 0
    && (r.status === 'active' || r.status === 'ended')
    && ENDED_REASONS.has(r.endedReason as string | null)
    && typeof r.reauthRequired === 'boolean'
    && isTime(r.signedInAt) && isTime(r.authTime) && isTime(r.lastActivityAt)
    && (r.sessionExpiresAt === null || isTime(r.sessionExpiresAt))
    && (r.providerAuthTime === null || isTime(r.providerAuthTime));
  if (!ok) return 'invalid';
  return {
    v: 1,
    sessionId: r.sessionId as string,
    status: r.status as SessionRecord['status'],
    endedReason: r.endedReason as SessionRecord['endedReason'],
    reauthRequired: r.reauthRequired as boolean,
    signedInAt: r.signedInAt as number,
    authTime: r.authTime as number,
    providerAuthTime: r.providerAuthTime as number | null,
    sessionExpiresAt: r.sessionExpiresAt as number | null,
    lastActivityAt: r.lastActivityAt as number,
  };
}

/** The record of a live session: timing only, never a token. */
export function recordOf(live: Live): SessionRecord {
  return {
    v: 1,
    sessionId: live.sessionId,
    status: 'active',
    endedReason: null,
    reauthRequired: false,
    signedInAt: live.signedInAt,
    authTime: live.authTime,
    providerAuthTime: live.providerAuthTime,
    sessionExpiresAt: live.sessionExpiresAt,
    lastActivityAt: live.lastActivityAt,
  };
}

/** The record of a session that ended; after a limit the next sign-in must authenticate again. */
export function endedRecord(live: Live, reason: NonNullable<SessionRecord['endedReason']>): SessionRecord {
  const reauthRequired = reason !== 'signed_out' && reason !== 'remote_logout';
  return { ...recordOf(live), status: 'ended', endedReason: reason, reauthRequired };
}

/**
 * The stored value as a record of a session that is active and inside its limits at
 * `now` (and is `sessionId`, when given); null otherwise. The one check every path that
 * trusts the record makes.
 */
export function liveRecord(value: unknown, now: number, policy: SessionPolicy, sessionId?: string): SessionRecord | null {
  const record = parseRecord(value);
  if (!record || record === 'invalid' || record.status !== 'active') return null;
  if (sessionId !== undefined && record.sessionId !== sessionId) return null;
  return decide(record, now, policy).phase === 'expired' ? null : record;
}

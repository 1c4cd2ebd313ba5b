// Loaded only where the browser lacks a native BroadcastChannel or Web Locks (before
// Chrome 69, Firefox 96, Safari 15.4). The transport is the `broadcast-channel` package (the
// only module that imports it); leadership is a lease in the SDK's own IndexedDB database.
import { BroadcastChannel } from 'broadcast-channel';
import type { Leadership, Transport } from './channel.js';
import type { UseStore } from 'idb-keyval';
import type { Clock, TimerHandle } from './clock.js';

/** Which `broadcast-channel` method: its own choice (undefined), or the in-process one for tests. */
export type FallbackKind = 'simulate' | undefined;

export function openFallback(name: string, onData: (data: unknown) => void, kind: FallbackKind): Transport {
  const channel = new BroadcastChannel<unknown>(name, { ...(kind ? { type: kind } : {}), webWorkerSupport: false });
  channel.onmessage = onData;
  return {
    post: (data) => {
      channel.postMessage(data).catch(() => undefined);
    },
    close: () => {
      void channel.close();
    },
  };
}

/** How long a lease lasts, and how often its holder renews it. */
export const LEASE_MS = 10_000;
export const LEASE_RENEW_MS = 3_000;

interface Lease {
  readonly holder: string;
  /** Epoch ms, on the machine's clock, which the tabs share. */
  readonly until: number;
}

/** The SDK's IndexedDB database, as idb-keyval opens it (the eager store's handle). */
export type Database = UseStore;

/**
 * Reads and rewrites `key` in one readwrite transaction: IndexedDB runs those one at a
 * time, so two tabs never interleave (idb-keyval's `update`, on the handle given).
 */
function update(database: Database, key: string, fn: (old: Lease | undefined) => Lease): Promise<void> {
  return database('readwrite', (store) => new Promise<void>((resolve, reject) => {
    const read = store.get(key);
    read.onsuccess = () => {
      store.put(fn(read.result as Lease | undefined), key);
      store.transaction.oncomplete = () => resolve();
      store.transaction.onerror = () => reject(store.transaction.error);
    };
    read.onerror = () => reject(read.error);
  }));
}

/**
 * Leadership without Web Locks: a lease kept in IndexedDB. Each tab, every
 * {@link LEASE_RENEW_MS}, takes the lease if it is free, expired or its own, in one
 * readwrite transaction (IndexedDB runs them one at a time, so two tabs never both take
 * it). A tab leads only while its own lease is unexpired, so a throttled or frozen leader
 * stops leading on its own before another takes over. Where IndexedDB is unavailable too,
 * the tab leads alone.
 */
export function leaseLeadership(name: string, clock: Clock, database: () => Database, tabId: string = globalThis.crypto.randomUUID()): Leadership {
  let until = 0;
  let alone = false;
  let closed = false;
  let timer: TimerHandle | null = null;
  const beat = async () => {
    timer = null;
    try {
      await update(database(), `lease|${name}`, (lease) => {
        const now = clock.now();
        const mine = !lease || lease.holder === tabId || lease.until <= now;
        until = mine && !closed ? now + LEASE_MS : 0;
        return until ? { holder: tabId, until } : (lease as Lease); // not taken: the lease exists and is another tab's
      });
    } catch {
      alone = true;
    }
    if (!closed) timer = clock.setTimeout(() => void beat(), LEASE_RENEW_MS);
  };
  const first = beat();
  const isLeader = () => !closed && (alone || clock.now() < until);
  return {
    isLeader,
    decided: () => first.then(isLeader),
    close() {
      closed = true;
      if (timer !== null) clock.clearTimeout(timer);
      // Hand the lease on at once rather than when it runs out.
      if (until) void update(database(), `lease|${name}`, (lease) => (lease?.holder === tabId ? { holder: tabId, until: 0 } : lease ?? { holder: '', until: 0 })).catch(() => undefined);
      until = 0;
    },
  };
}

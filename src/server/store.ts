// What the companion keeps between requests, and shares between its instances: `jti`s of
// logout tokens already used, logged-out marks, the sessions browsers hold, and the news of
// a logout. memoryStore() keeps them in this process; redisStore() shares them.

/** The session a browser holds, as its opaque handle names it. */
export interface HeldSession {
  readonly sub: string;
  /** The provider's session id (`sid`, else the Broker's `neb_sid`), or null. */
  readonly sid: string | null;
  /** When the companion first saw this session (its code exchange), epoch ms: a logout marked before it is not about it. */
  readonly since: number;
}

/** The companion's shared state. Every method may reject when the store is unreachable. */
export interface CompanionStore {
  /** Records `key` as used for `ttlMs`; resolves false if it was already used (a replay). */
  useOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Undoes `useOnce(key)`: the work it guarded could not be done, and may be tried again. */
  release(key: string): Promise<void>;
  /** Marks `keys` as logged out at `at` (epoch ms), for `ttlMs`. */
  mark(keys: readonly string[], at: number, ttlMs: number): Promise<void>;
  /** The latest time any of `keys` was marked logged out, or null. */
  marked(keys: readonly string[]): Promise<number | null>;
  /** Tells every instance (this one too) that `keys` were logged out. */
  publish(keys: readonly string[]): Promise<void>;
  /** Calls `fn` with the keys of every logout any instance publishes; resolves, once listening, with the unsubscribe function. */
  subscribe(fn: (keys: readonly string[]) => void): Promise<() => void>;
  /** Remembers the session a browser's handle names, for `ttlMs`. */
  putSession(handle: string, session: HeldSession, ttlMs: number): Promise<void>;
  /** The session a handle names, or null. */
  getSession(handle: string): Promise<HeldSession | null>;
  /** Releases what the store holds (connections, timers). */
  close(): Promise<void>;
}

/**
 * The store of one process: enough for one instance. Entries expire on read; a sweep every
 * minute drops the expired ones so memory stays bounded by what is live.
 */
export function memoryStore(): CompanionStore {
  const entries = new Map<string, { value: unknown; until: number }>();
  const listeners = new Set<(keys: readonly string[]) => void>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.until <= Date.now()) entries.delete(key);
    return entries.get(key);
  };
  const sweep = setInterval(() => {
    for (const key of [...entries.keys()]) live(key);
  }, 60_000);
  sweep.unref();
  const put = (key: string, value: unknown, ttlMs: number) => entries.set(key, { value, until: Date.now() + ttlMs });
  return {
    async useOnce(key, ttlMs) {
      if (live(`jti|${key}`)) return false;
      put(`jti|${key}`, true, ttlMs);
      return true;
    },
    async release(key) {
      entries.delete(`jti|${key}`);
    },
    async mark(keys, at, ttlMs) {
      for (const key of keys) put(`out|${key}`, Math.max(at, (live(`out|${key}`)?.value as number | undefined) ?? at), ttlMs);
    },
    marked: async (keys) => keys.reduce<number | null>((latest, key) => {
      const at = live(`out|${key}`)?.value as number | undefined;
      return at === undefined ? latest : Math.max(at, latest ?? at);
    }, null),
    async publish(keys) {
      for (const fn of [...listeners]) fn(keys);
    },
    async subscribe(fn) {
      listeners.add(fn);
      return () => {
        listeners.delete(fn);
      };
    },
    async putSession(handle, session, ttlMs) {
      put(`session|${handle}`, session, ttlMs);
    },
    getSession: async (handle) => (live(`session|${handle}`)?.value as HeldSession | undefined) ?? null,
    async close() {
      clearInterval(sweep);
      listeners.clear();
      entries.clear();
    },
  };
}

// The companion's store in Redis (through ioredis, an optional peer dependency), for several
// instances behind a load balancer: used `jti`s and logged-out marks with TTLs, the sessions
// browsers hold, and pub/sub so a logout received by one instance reaches the event streams
// on every other.
import type { Redis, RedisOptions } from 'ioredis';
import type { CompanionStore, HeldSession } from './store.js';

export interface RedisStoreOptions {
  /** A Redis URL, e.g. redis://127.0.0.1:6379; or `client`. */
  readonly url?: string;
  /** An ioredis client of the app's own (not closed by `close()`); a second connection is made from it for pub/sub. */
  readonly client?: Redis;
  /** Prefix of every key and of the channel. @default 'osg:' */
  readonly prefix?: string;
}

/**
 * How long a command may wait. Commands are not queued while Redis is away (ioredis's
 * offline queue is off), so the companion answers 503 within this, never hangs, and
 * reconnects in the background.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

const CONNECTION: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  // Reconnect for ever, at most every 2 s: Redis coming back is recovered from.
  retryStrategy: (times) => Math.min(times * 200, 2_000),
  lazyConnect: false,
};

const isSession = (value: unknown): value is HeldSession => {
  const v = value as Partial<HeldSession> | null;
  return typeof v?.sub === 'string' && (v.sid === null || typeof v.sid === 'string') && typeof v.since === 'number';
};

/** A store shared by every companion instance that uses the same Redis and prefix. */
export function redisStore(options: RedisStoreOptions): CompanionStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" of redisStore must be an object');
  const { url, client, prefix = 'osg:' } = options;
  if ((url === undefined) === (client === undefined)) throw new TypeError('redisStore needs exactly one of "url" and "client"');
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) throw new TypeError(`"url" must be a redis:// or rediss:// URL; got ${JSON.stringify(url)}`);
  const channel = `${prefix}logout`;
  const made: Redis[] = [];
  const quiet = (redis: Redis) => {
    // Errors while Redis is away surface as failed commands; the event itself must not crash the process.
    redis.on('error', () => undefined);
    return redis;
  };
  const connect = async (): Promise<Redis> => {
    if (client) return client;
    const { Redis: Client } = await import('ioredis');
    const redis = quiet(new Client(url!, CONNECTION));
    made.push(redis);
    // Commands are not queued while offline: the first waits for the connection (within the limit).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Redis did not answer in time')), REDIS_COMMAND_TIMEOUT_MS);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return redis;
  };
  let main: Promise<Redis> | null = null;
  const redis = () => {
    main ??= connect();
    // A first connection that failed is tried again next time; once made, ioredis reconnects by itself.
    main.catch(() => {
      main = null;
    });
    return main;
  };
  const listeners = new Set<(keys: readonly string[]) => void>();
  let subscriber: Promise<Redis> | null = null;
  const subscribe = () => (subscriber ??= redis().then(async (base) => {
    const sub = quiet(base.duplicate({ ...CONNECTION, enableOfflineQueue: true }));
    made.push(sub);
    sub.on('message', (_channel: string, message: string) => {
      let keys: unknown;
      try {
        keys = JSON.parse(message);
      } catch {
        return;
      }
      if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) for (const fn of [...listeners]) fn(keys);
    });
    await sub.subscribe(channel);
    return sub;
  }));
  return {
    async useOnce(key, ttlMs) {
      return (await (await redis()).set(`${prefix}jti|${key}`, '1', 'PX', Math.ceil(ttlMs), 'NX')) === 'OK';
    },
    async release(key) {
      await (await redis()).del(`${prefix}jti|${key}`);
    },
    async mark(keys, at, ttlMs) {
      const r = await redis();
      await Promise.all(keys.map((key) => r.set(`${prefix}out|${key}`, String(at), 'PX', Math.ceil(ttlMs))));
    },
    async marked(keys) {
      if (keys.length === 0) return null;
      const values = await (await redis()).mget(...keys.map((key) => `${prefix}out|${key}`));
      const times = values.map(Number).filter((n) => Number.isFinite(n) && n > 0);
      return times.length ? Math.max(...times) : null;
    },
    async publish(keys) {
      await (await redis()).publish(channel, JSON.stringify(keys));
    },
    async subscribe(fn) {
      // Resolves once SUBSCRIBE is active: a logout published after it is heard.
      try {
        await subscribe();
      } catch (error) {
        subscriber = null;
        throw error;
      }
      listeners.add(fn);
      return () => {
        listeners.delete(fn);
      };
    },
    async putSession(handle, session, ttlMs) {
      await (await redis()).set(`${prefix}session|${handle}`, JSON.stringify(session), 'PX', Math.ceil(ttlMs));
    },
    async getSession(handle) {
      const text = await (await redis()).get(`${prefix}session|${handle}`);
      if (text === null) return null;
      try {
        const value: unknown = JSON.parse(text);
        return isSession(value) ? value : null;
      } catch {
        return null;
      }
    },
    async close() {
      listeners.clear();
      await Promise.all(made.map((r) => r.quit().catch(() => r.disconnect())));
    },
  };
}

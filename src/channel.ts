import type { Clock, TimerHandle } from './clock.js';
import type { Unsubscribe } from './emitter.js';
import type { TokenSet } from './machine.js';
import { FUTURE_TOLERANCE_MS } from './constants.js';
import { database } from './store.js';

/** The version of the message set; messages of another version are dropped. */
export const CHANNEL_VERSION = 1;

export { FUTURE_TOLERANCE_MS } from './constants.js';

/** The timing of a session, as one tab tells the others. Epoch ms. */
export interface SessionTiming {
  readonly signedInAt: number;
  readonly authTime: number;
  readonly providerAuthTime: number | null;
  readonly sessionExpiresAt: number | null;
  readonly lastActivityAt: number;
  /** When the tokens were last renewed, or 0 (absent: an older version wrote it). */
  readonly renewedAt?: number;
}

/** A session as handed from one tab to another: its id, tokens and timing. Claims come from verifying the ID token. */
export interface SessionHandover {
  readonly sessionId: string;
  readonly tokens: TokenSet;
  readonly timing: SessionTiming;
}

/** Every message between tabs. `sentAt` is the sender's clock, epoch ms. */
export type TabMessage =
  | { readonly type: 'activity'; readonly sessionId: string; readonly at: number }
  | { readonly type: 'warning-dismissed'; readonly sessionId: string; readonly at: number }
  | ({ readonly type: 'signed-in' } & SessionHandover)
  | { readonly type: 'renewed'; readonly sessionId: string; readonly tokens: TokenSet }
  | { readonly type: 'renew-request'; readonly sessionId: string }
  /** `spent`: the refresh went out and its answer was lost; every tab drops that refresh token. */
  | { readonly type: 'renew-failed'; readonly sessionId: string; readonly code: string; readonly spent?: true }
  | { readonly type: 'signed-out'; readonly sessionId: string; readonly reason?: 'remote_logout' }
  | { readonly type: 'expired'; readonly sessionId: string; readonly reason: 'idle' | 'absolute' | 'session_expiry' | 'error' }
  | { readonly type: 'token-request'; readonly sessionId: string; readonly requestId: string }
  | ({ readonly type: 'token-offer'; readonly requestId: string } & SessionHandover);

/** A message on the wire: the message with the version and the sender's time. */
export type Envelope = TabMessage & { readonly v: typeof CHANNEL_VERSION; readonly sentAt: number };

type Fields = Record<string, unknown>;
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 200;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

// The tokens and timing a hand-over or renewal carries are checked where they are taken,
// with the ID token's verification (trust.ts `parseTokens`, `parseTiming`): only their
// presence here.
const handoverOk = (m: Fields): boolean => isId(m.sessionId) && isObject(m.tokens) && isObject(m.timing);

const EXPIRY_REASONS = new Set(['idle', 'absolute', 'session_expiry', 'error']);

/**
 * Validates a message from another tab. Returns null for anything malformed, of another
 * version, or stamped in the future beyond {@link FUTURE_TOLERANCE_MS}: such a message is
 * dropped, and can never extend a deadline.
 */
export function parseMessage(raw: unknown, now: number): Envelope | null {
  if (!isObject(raw) || raw.v !== CHANNEL_VERSION || !isTime(raw.sentAt)) return null;
  const latest = now + FUTURE_TOLERANCE_MS;
  // Stamped in the future: dropped, unless it only ends a session (that a clock cannot abuse).
  if (raw.sentAt > latest && raw.type !== 'signed-out' && raw.type !== 'expired') return null;
  let ok: boolean;
  switch (raw.type) {
    case 'activity':
    case 'warning-dismissed':
      ok = isId(raw.sessionId) && isTime(raw.at) && raw.at <= latest;
      break;
    case 'signed-in':
      ok = handoverOk(raw);
      break;
    case 'token-offer':
      ok = isId(raw.requestId) && handoverOk(raw);
      break;
    case 'renewed':
      ok = isId(raw.sessionId) && isObject(raw.tokens);
      break;
    case 'signed-out':
      ok = isId(raw.sessionId) && (raw.reason === undefined || raw.reason === 'remote_logout');
      break;
    case 'renew-request':
      ok = isId(raw.sessionId);
      break;
    case 'renew-failed':
      // `spent` is acted on only when it is true (tabs.ts).
      ok = isId(raw.sessionId) && typeof raw.code === 'string';
      break;
    case 'expired':
      ok = isId(raw.sessionId) && EXPIRY_REASONS.has(raw.reason as string);
      break;
    case 'token-request':
      ok = isId(raw.sessionId) && isId(raw.requestId);
      break;
    default:
      ok = false;
  }
  return ok ? (raw as unknown as Envelope) : null;
}

/** Raw messages between the tabs of one app: a native BroadcastChannel, or the fallback. */
export interface Transport {
  post(data: unknown): void;
  close(): void;
}

/**
 * The transport, chosen per browser: the native BroadcastChannel (Chrome 54+, Firefox 38+,
 * Safari 15.4+), else the `broadcast-channel` package, loaded only then.
 */
export async function openTransport(name: string, onData: (data: unknown) => void): Promise<Transport> {
  if (typeof globalThis.BroadcastChannel !== 'function') return (await import('./fallback.js')).openFallback(name, onData, undefined);
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event) => onData(event.data);
  return { post: (data) => channel.postMessage(data), close: () => channel.close() };
}

/** The renewal leader among the tabs: a Web Lock (Chrome 69+, Firefox 96+, Safari 15.4+), else the fallback's lease. */
export async function electLeader(name: string, clock: Clock): Promise<Leadership> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  return locks ? lockLeadership(locks, name) : (await import('./fallback.js')).leaseLeadership(name, clock, database);
}

/** Messages to and from the other tabs of this app, for one authority and client. */
export interface TabChannel {
  post(message: TabMessage): void;
  /** Calls `fn` with every valid message from another tab. */
  onMessage(fn: (message: Envelope) => void): Unsubscribe;
  /**
   * Posts `message` and resolves with the first answer `accept` maps to a value, or with
   * null after `timeoutMs` or when the channel closes.
   */
  request<R>(message: TabMessage, accept: (answer: Envelope) => R | undefined, timeoutMs: number): Promise<R | null>;
  /** Closes the channel; pending requests resolve with null. */
  close(): void;
}

/** Opens the channel of `name`: validated, versioned messages over one transport. */
export async function openChannel(name: string, options: { readonly now: () => number; readonly clock: Clock }): Promise<TabChannel> {
  const { now, clock } = options;
  const listeners = new Set<(message: Envelope) => void>();
  const pending = new Set<() => void>();
  let closed = false;
  const transport = await openTransport(name, (raw) => {
    const message = parseMessage(raw, now());
    if (message && !closed) for (const fn of [...listeners]) fn(message);
  });
  const post = (message: TabMessage) => {
    // A closed channel (the tab is stopping) drops the message, as an unloaded tab would.
    if (!closed) transport.post({ ...message, v: CHANNEL_VERSION, sentAt: now() });
  };
  const onMessage = (fn: (message: Envelope) => void): Unsubscribe => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  };
  return {
    post,
    onMessage,
    request: (message, accept, timeoutMs) => new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const finish = (value: never | null) => {
        if (timer !== null) clock.clearTimeout(timer);
        pending.delete(cancel);
        off();
        resolve(value);
      };
      const cancel = () => finish(null);
      const off = onMessage((answer) => {
        const value = accept(answer);
        if (value !== undefined) finish(value as never);
      });
      if (closed) return cancel();
      pending.add(cancel);
      timer = clock.setTimeout(cancel, timeoutMs);
      post(message);
    }),
    close() {
      closed = true;
      for (const cancel of [...pending]) cancel();
      listeners.clear();
      transport.close();
    },
  };
}

/** The single renewer among the tabs that hold a live session. */
export interface Leadership {
  readonly isLeader: () => boolean;
  /** Resolves once it is known whether this tab leads (true) or another tab does (false). */
  decided(): Promise<boolean>;
  close(): void;
}

/**
 * Leadership through a Web Lock: the tab holding the lock leads until it closes or
 * unloads (the browser then releases it), and the next waiting tab takes over. With `wait`
 * false it is a one-time claim: a tab that does not get the lock at once never leads.
 */
export function lockLeadership(locks: LockManager, name: string, wait = true): Leadership {
  let leader = false;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const abort = new AbortController();
  const lead = () => {
    leader = !abort.signal.aborted;
    return held;
  };
  // The lock is held while the callback's promise is pending, so the first answer comes out aside.
  const first = new Promise<void>((resolve) => {
    locks.request(name, { ifAvailable: true }, (lock) => {
      resolve();
      if (lock) return lead();
      // Another tab leads: wait in line for when it goes (unless this is a one-time claim).
      if (wait) locks.request(name, { signal: abort.signal }, lead).catch(() => undefined);
      return undefined;
    }).catch(() => resolve());
  });
  return {
    isLeader: () => leader,
    // Asked each time: a tab that waited in line leads once the leader has gone.
    decided: () => first.then(() => leader),
    close() {
      leader = false;
      abort.abort();
      release();
    },
  };
}

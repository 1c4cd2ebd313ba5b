import { BroadcastChannel, createLeaderElection, type LeaderElector } from 'broadcast-channel';
import type { Clock } from './clock.js';
import type { TokenSet } from './oidc.js';

/** The version of the message set; messages of another version are dropped. */
export const CHANNEL_VERSION = 1;

/**
 * How far in the future a message's timestamps may be (tabs share one machine clock;
 * this absorbs the time between stamping and delivery). Anything later is dropped.
 */
export const FUTURE_TOLERANCE_MS = 2_000;

/** The timing of a session, as one tab tells the others. Epoch ms. */
export interface SessionTiming {
  readonly signedInAt: number;
  readonly authTime: number;
  readonly providerAuthTime: number | null;
  readonly sessionExpiresAt: number | null;
  readonly lastActivityAt: number;
}

/** A session as handed from one tab to another: its id, tokens, verified claims and timing. */
export interface SessionHandover {
  readonly sessionId: string;
  readonly tokens: TokenSet;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly timing: SessionTiming;
}

/** Every message between tabs. `sentAt` is the sender's clock, epoch ms. */
export type TabMessage =
  | { readonly type: 'activity'; readonly sessionId: string; readonly at: number }
  | { readonly type: 'warning-dismissed'; readonly sessionId: string; readonly at: number }
  | ({ readonly type: 'signed-in' } & SessionHandover)
  | { readonly type: 'renewed'; readonly sessionId: string; readonly tokens: TokenSet; readonly claims: Readonly<Record<string, unknown>> }
  | { readonly type: 'renew-request'; readonly sessionId: string }
  | { readonly type: 'renew-failed'; readonly sessionId: string; readonly code: string }
  | { readonly type: 'signed-out'; readonly sessionId: string }
  | { readonly type: 'expired'; readonly sessionId: string; readonly reason: 'idle' | 'absolute' | 'session_expiry' | 'error' }
  | { readonly type: 'token-request'; readonly sessionId: string; readonly requestId: string }
  | ({ readonly type: 'token-offer'; readonly requestId: string } & SessionHandover);

/** A message on the wire: the message with the version and the sender's time. */
export type Envelope = TabMessage & { readonly v: typeof CHANNEL_VERSION; readonly sentAt: number };

type Fields = Record<string, unknown>;
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 200;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isJwt = (value: unknown): value is string => typeof value === 'string' && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(value);

function isTokens(value: unknown): value is TokenSet {
  return isObject(value)
    && isJwt(value.idToken)
    && typeof value.accessToken === 'string' && value.accessToken.length > 0
    && (value.refreshToken === null || (typeof value.refreshToken === 'string' && value.refreshToken.length > 0))
    && (value.accessTokenExpiresAt === null || isTime(value.accessTokenExpiresAt));
}

function timingOk(value: unknown, latest: number): value is SessionTiming {
  return isObject(value)
    && isTime(value.signedInAt) && value.signedInAt <= latest
    && isTime(value.authTime)
    && (value.providerAuthTime === null || isTime(value.providerAuthTime))
    && isTime(value.lastActivityAt) && value.lastActivityAt <= latest
    && (value.sessionExpiresAt === null || isTime(value.sessionExpiresAt));
}

function handoverOk(m: Fields, latest: number): boolean {
  return isId(m.sessionId) && isTokens(m.tokens) && isObject(m.claims) && typeof m.claims.sub === 'string' && timingOk(m.timing, latest);
}

const EXPIRY_REASONS = new Set(['idle', 'absolute', 'session_expiry', 'error']);

/**
 * Validates a message from another tab. Returns null for anything malformed, of another
 * version, or stamped in the future beyond {@link FUTURE_TOLERANCE_MS}: such a message is
 * dropped, and can never extend a deadline.
 */
export function parseMessage(raw: unknown, now: number): Envelope | null {
  if (!isObject(raw) || raw.v !== CHANNEL_VERSION || !isTime(raw.sentAt)) return null;
  const latest = now + FUTURE_TOLERANCE_MS;
  if (raw.sentAt > latest) return null;
  let ok: boolean;
  switch (raw.type) {
    case 'activity':
    case 'warning-dismissed':
      ok = isId(raw.sessionId) && isTime(raw.at) && raw.at <= latest;
      break;
    case 'signed-in':
      ok = handoverOk(raw, latest);
      break;
    case 'token-offer':
      ok = isId(raw.requestId) && handoverOk(raw, latest);
      break;
    case 'renewed':
      ok = isId(raw.sessionId) && isTokens(raw.tokens) && isObject(raw.claims);
      break;
    case 'renew-request':
    case 'signed-out':
      ok = isId(raw.sessionId);
      break;
    case 'renew-failed':
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

/** Activity from several tabs merges as the newest. */
export function mergeActivity(current: number, incoming: number): number {
  return Math.max(current, incoming);
}

/** How the tabs of one app talk: broadcast-channel's native BroadcastChannel, or 'simulate' in tests. */
export type ChannelKind = 'native' | 'simulate';

/** Messages to and from the other tabs of this app, for one authority and client. */
export interface TabChannel {
  post(message: TabMessage): void;
  /** Calls `fn` with every valid message from another tab; returns the unsubscribe function. */
  onMessage(fn: (message: Envelope) => void): () => void;
  close(): Promise<void>;
}

export interface ChannelOptions {
  readonly kind?: ChannelKind;
  readonly now: () => number;
}

/** Opens the channel of `name`. */
export function openChannel(name: string, options: ChannelOptions): TabChannel {
  const channel = new BroadcastChannel<unknown>(name, { type: options.kind ?? 'native', webWorkerSupport: false });
  const listeners = new Set<(message: Envelope) => void>();
  channel.onmessage = (raw: unknown) => {
    const message = parseMessage(raw, options.now());
    if (!message) return;
    for (const fn of [...listeners]) fn(message);
  };
  return {
    post(message) {
      const envelope: Envelope = { ...message, v: CHANNEL_VERSION, sentAt: options.now() };
      // A closed channel (the tab is stopping) drops the message, as an unloaded tab would.
      channel.postMessage(envelope).catch(() => undefined);
    },
    onMessage(fn) {
      listeners.add(fn);
      return () => {
        listeners.delete(fn);
      };
    },
    close: () => channel.close(),
  };
}

/**
 * The single renewer among the tabs that hold a live session: Web Locks where the browser
 * has them, else broadcast-channel's own election (createLeaderElection picks).
 */
export interface Leadership {
  readonly isLeader: () => boolean;
  /** Resolves once it is known whether this tab leads (true) or another tab does (false). */
  decided(): Promise<boolean>;
  close(): Promise<void>;
}

/** How often, and how many times, `decided()` checks an election still under way. */
const ELECTION_CHECK_MS = 20;
const ELECTION_CHECKS = 100;

export function electLeader(name: string, clock: Clock, kind: ChannelKind = 'native'): Leadership {
  const channel = new BroadcastChannel<unknown>(`${name}:leader`, { type: kind, webWorkerSupport: false });
  const elector: LeaderElector = createLeaderElection(channel);
  void elector.awaitLeadership().catch(() => undefined);
  const pause = () => new Promise<void>((resolve) => {
    clock.setTimeout(resolve, ELECTION_CHECK_MS);
  });
  return {
    isLeader: () => elector.isLeader,
    async decided() {
      // Right after a tab starts, its own request for leadership may not be granted yet:
      // wait until this tab leads, or another tab is seen to hold the leadership.
      for (let i = 0; i < ELECTION_CHECKS && !elector.isDead; i += 1) {
        if (elector.isLeader) return true;
        if (await elector.hasLeader()) return elector.isLeader;
        await pause();
      }
      return elector.isLeader;
    },
    close: async () => {
      await elector.die().catch(() => undefined);
      await channel.close();
    },
  };
}

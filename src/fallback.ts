// Loaded only where the browser lacks a native BroadcastChannel or Web Locks (Safari before
// 15.4): the `broadcast-channel` package's IndexedDB or localStorage transport, and its
// leader election. The only module that imports it.
import { BroadcastChannel, createLeaderElection } from 'broadcast-channel';
import type { Clock } from './clock.js';
import type { Leadership, Transport, Transports } from './channel.js';

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

/** How often, and how many times, `decided()` checks an election still under way. */
const ELECTION_CHECK_MS = 20;
const ELECTION_CHECKS = 100;

export function electFallback(name: string, clock: Clock, kind: FallbackKind): Leadership {
  const channel = new BroadcastChannel<unknown>(`${name}:leader`, { ...(kind ? { type: kind } : {}), webWorkerSupport: false });
  const elector = createLeaderElection(channel);
  void elector.awaitLeadership().catch(() => undefined);
  const pause = () => new Promise<void>((resolve) => {
    clock.setTimeout(resolve, ELECTION_CHECK_MS);
  });
  return {
    isLeader: () => elector.isLeader,
    async decided() {
      // Right after a tab starts, its own claim may not be settled yet: wait until this tab
      // leads, or another tab is seen to lead.
      for (let i = 0; i < ELECTION_CHECKS && !elector.isDead; i += 1) {
        if (elector.isLeader) return true;
        if (await elector.hasLeader()) return elector.isLeader;
        await pause();
      }
      return elector.isLeader;
    },
    close: () => {
      void elector.die().catch(() => undefined).then(() => channel.close());
    },
  };
}

/** Both fallback transports, as one {@link Transports}. */
export function fallbackTransports(kind: FallbackKind): Transports {
  return {
    open: async (name, onData) => openFallback(name, onData, kind),
    elect: async (name, clock) => electFallback(name, clock, kind),
  };
}

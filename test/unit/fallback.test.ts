// The fallback for browsers without a native BroadcastChannel or Web Locks: broadcast-channel
// as the transport (its in-process 'simulate' method here) and leadership as a lease in
// IndexedDB (fake-indexeddb stands in for the browser's here: Node has none).
import 'fake-indexeddb/auto';
import { afterEach, expect, it } from 'vitest';
import { LEASE_MS, LEASE_RENEW_MS, leaseLeadership, openFallback } from '../../src/fallback.js';
import type { Leadership } from '../../src/channel.js';
import { database } from '../../src/store.js';
import { FakeClock } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const open: Leadership[] = [];
let n = 0;
const lease = (clock: FakeClock) => {
  const leadership = leaseLeadership(`test-${n}`, clock, database);
  open.push(leadership);
  return leadership;
};
// IndexedDB transactions settle on real (fake-indexeddb) time, not the test clock.
const settled = () => new Promise((resolve) => setTimeout(resolve, 30));

afterEach(() => {
  for (const l of open.splice(0)) l.close();
  n += 1;
});

it('carries messages between two tabs over broadcast-channel', async () => {
  const heard: unknown[] = [];
  const a = openFallback('fallback-test', () => undefined, 'simulate');
  const b = openFallback('fallback-test', (data) => heard.push(data), 'simulate');
  a.post({ type: 'activity', at: 1 });
  await settled();
  a.close();
  b.close();
  expect(heard).toEqual([{ type: 'activity', at: 1 }]);
});

it('gives the lease to exactly one of two tabs', async () => {
  const clock = new FakeClock(T0);
  const [first, second] = [lease(clock), lease(clock)];
  const decided = await Promise.all([first.decided(), second.decided()]);
  expect(decided.filter(Boolean)).toHaveLength(1);
  expect([first.isLeader(), second.isLeader()]).toEqual(decided);
});

it('hands the lease on when the leader closes', async () => {
  const clock = new FakeClock(T0);
  const first = lease(clock);
  expect(await first.decided()).toBe(true);
  const second = lease(clock);
  expect(await second.decided()).toBe(false);
  first.close();
  await settled();
  clock.advance(LEASE_RENEW_MS);
  await settled();
  expect(second.isLeader()).toBe(true);
  expect(first.isLeader()).toBe(false);
});

it('a leader that stops renewing (frozen tab) stops leading when its lease runs out, and another takes over', async () => {
  // One clock per tab, on the same wall time: the frozen tab's timers never run.
  const frozenClock = new FakeClock(T0);
  const otherClock = new FakeClock(T0);
  const frozen = lease(frozenClock);
  expect(await frozen.decided()).toBe(true);
  const other = lease(otherClock);
  expect(await other.decided()).toBe(false);
  frozenClock.sleep(LEASE_MS);
  expect(frozen.isLeader()).toBe(false);
  for (let t = 0; t < LEASE_MS + LEASE_RENEW_MS; t += LEASE_RENEW_MS) {
    otherClock.advance(LEASE_RENEW_MS);
    await settled();
  }
  expect(other.isLeader()).toBe(true);
});

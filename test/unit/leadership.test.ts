// Leadership through Web Locks. Node has no navigator.locks: a small in-memory LockManager
// stands in, granting one exclusive lock per name in request order, as browsers do.
import { expect, it } from 'vitest';
import { lockLeadership } from '../../src/channel.js';

function fakeLocks(): LockManager {
  const queues = new Map<string, { granted: boolean; grant: () => void }[]>();
  const next = (name: string) => {
    const queue = queues.get(name) ?? [];
    const head = queue[0];
    if (head && !head.granted) head.grant();
  };
  const request = (name: string, options: LockOptions, callback: LockGrantedCallback<unknown>): Promise<unknown> => new Promise((resolve, reject) => {
    const queue = queues.get(name) ?? [];
    queues.set(name, queue);
    if (options.ifAvailable && queue.length > 0) {
      resolve(Promise.resolve(callback(null)));
      return;
    }
    const entry = {
      granted: false,
      grant: () => {
        entry.granted = true;
        void Promise.resolve(callback({ name, mode: 'exclusive' } as Lock)).then(resolve, reject).finally(() => {
          queue.splice(queue.indexOf(entry), 1);
          next(name);
        });
      },
    };
    options.signal?.addEventListener('abort', () => {
      if (entry.granted) return;
      queue.splice(queue.indexOf(entry), 1);
      reject(new DOMException('aborted', 'AbortError'));
    });
    queue.push(entry);
    next(name);
  });
  return { request: request as LockManager['request'], query: async () => ({}) };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

it('one tab leads; when it goes, the tab waiting in line leads, and says so when asked again', async () => {
  const locks = fakeLocks();
  const a = lockLeadership(locks, 'x');
  const b = lockLeadership(locks, 'x');
  expect(await a.decided()).toBe(true);
  expect(await b.decided()).toBe(false);
  a.close();
  await settled();
  expect(b.isLeader()).toBe(true);
  expect(await b.decided()).toBe(true);
  expect(await a.decided()).toBe(false);
  b.close();
});

it('a tab closed before its turn never leads', async () => {
  const locks = fakeLocks();
  const a = lockLeadership(locks, 'y');
  const b = lockLeadership(locks, 'y');
  await b.decided();
  b.close();
  a.close();
  await settled();
  expect(b.isLeader()).toBe(false);
  expect(await b.decided()).toBe(false);
});

it('a one-time claim that does not get the lock never gets it, even when the holder goes', async () => {
  const locks = fakeLocks();
  const holder = lockLeadership(locks, 'z', false);
  const late = lockLeadership(locks, 'z', false);
  expect(await holder.decided()).toBe(true);
  expect(await late.decided()).toBe(false);
  holder.close();
  await settled();
  expect(late.isLeader()).toBe(false);
  expect(await late.decided()).toBe(false);
  late.close();
});

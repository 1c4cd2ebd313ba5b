// The shared record in IndexedDB (fake-indexeddb stands in for the browser's here: Node has
// none): read and written in one transaction, a write merged with what is there, and a
// refresh claimed in it first. The same rules as the memory store, which the session tests use.
import 'fake-indexeddb/auto';
import { expect, it } from 'vitest';
import type { Live } from '../../src/machine.js';
import { renewTokens, type FlowContext } from '../../src/protocol/flows.js';
import { profiles } from '../../src/profiles.js';
import { createIdbStore, put, type RecordStore, type SessionRecord } from '../../src/store.js';
import { FakeClock, write } from './support.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
let keys = 0;
const fresh = () => createIdbStore(`test|${(keys += 1)}`, new FakeClock(T0));
const record = (over: Partial<SessionRecord> = {}): SessionRecord => ({ v: 1, sessionId: 's', sub: 'alice', status: 'active', endedReason: null, reauthRequired: false, signedInAt: T0, authTime: T0, providerAuthTime: T0, sessionExpiresAt: null, lastActivityAt: T0, renewedAt: 0, ...over });

it('a write is merged with what is there, in one transaction: activity and the last renewal never go back, another session\'s record is kept', async () => {
  const store = fresh();
  await put(store, record({ lastActivityAt: T0 + 5000, renewedAt: T0 + 100 }), true);
  await put(store, record({ lastActivityAt: T0 + 1000, renewedAt: T0 }));
  expect(await store.get()).toMatchObject({ lastActivityAt: T0 + 5000, renewedAt: T0 + 100 });
  await put(store, record({ sessionId: 'stale' }));
  expect(await store.get()).toMatchObject({ sessionId: 's' });
  await put(store, record({ sessionId: 'signed-in-here' }), true);
  expect(await store.get()).toMatchObject({ sessionId: 'signed-in-here' });
});

it('change() resolves with the record as it stands, also when it writes nothing', async () => {
  const store = fresh();
  await write(store, record({ renewedAt: 100 }));
  expect(await store.change(() => null)).toMatchObject({ renewedAt: 100 });
  expect(await store.change((r) => ({ ...r!, renewedAt: 200 }))).toMatchObject({ renewedAt: 200 });
  expect(await fresh().change(() => null)).toBeNull();
});

/** A renewal of `live` against `store`, with a provider that records what it is sent. */
async function renewAgainst(store: RecordStore, live: Live) {
  const sent: string[] = [];
  const tokens = { idToken: 'h.p.s', accessToken: 'a', refreshToken: 'r', accessTokenExpiresAt: null };
  const ctx = {
    port: {
      refresh: async (held: { refreshToken: string | null }) => {
        sent.push(held.refreshToken!);
        return tokens;
      },
      silent: async () => {
        sent.push('silent');
        return tokens;
      },
    },
    profile: profiles.generic,
    settings: { policy: { absoluteTimeoutMs: 12 * 3600_000 } },
    now: () => T0 + 1000,
    store: () => store,
  } as unknown as FlowContext;
  await renewTokens(live, ctx, new AbortController().signal, { spent: async () => undefined });
  return sent;
}

it('a refresh is claimed in IndexedDB first: a tab whose tokens are older than the last renewal there sends no refresh token', async () => {
  const live = { sessionId: 's', tokens: { idToken: 'h.p.s', accessToken: 'a', refreshToken: 'old', accessTokenExpiresAt: null }, claims: { sub: 'alice' }, renewedAt: 50 } as unknown as Live;
  const stale = fresh();
  await write(stale, record({ renewedAt: 100 }));
  expect(await renewAgainst(stale, live)).toEqual(['silent']);
  const current = fresh();
  await write(current, record({ renewedAt: 50 }));
  expect(await renewAgainst(current, live)).toEqual(['old']);
  // The claim is in the record: the same token is not sent twice.
  expect(await current.get()).toMatchObject({ renewedAt: T0 + 1000 });
  expect(await renewAgainst(current, live)).toEqual(['silent']);
});

it('a refresh the provider refused gives its claim back: the token every tab holds is still the newest', async () => {
  const live = { sessionId: 's', tokens: { idToken: 'h.p.s', accessToken: 'a', refreshToken: 'kept', accessTokenExpiresAt: null }, claims: { sub: 'alice' }, renewedAt: 50 } as unknown as Live;
  const store = fresh();
  await write(store, record({ renewedAt: 50 }));
  const ctx = {
    port: {
      refresh: async () => {
        const { SessionError } = await import('../../src/errors.js');
        throw new SessionError('NETWORK', "stand-in provider: the renewal failed: the provider could not serve it now ('temporarily_unavailable')");
      },
    },
    profile: profiles.generic,
    settings: { policy: { absoluteTimeoutMs: 12 * 3600_000 } },
    now: () => T0 + 1000,
    store: () => store,
  } as unknown as FlowContext;
  await expect(renewTokens(live, ctx, new AbortController().signal, { spent: async () => undefined })).rejects.toMatchObject({ code: 'NETWORK' });
  expect(await store.get()).toMatchObject({ renewedAt: 50 });
  // Another tab holding the same token (and so the same renewedAt) may send it later.
  expect(await renewAgainst(store, { ...live, tokens: { ...live.tokens, refreshToken: 'kept' } } as Live)).toEqual(['kept']);
});

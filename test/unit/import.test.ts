import { afterEach, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.resetModules();
});

it('importing the package and creating a session starts nothing', async () => {
  const calls: string[] = [];
  const record = (name: string) => vi.fn((..._args: unknown[]) => {
    calls.push(name);
  });
  vi.stubGlobal('setTimeout', record('setTimeout'));
  vi.stubGlobal('setInterval', record('setInterval'));
  vi.stubGlobal('fetch', record('fetch'));
  vi.stubGlobal('addEventListener', record('addEventListener'));
  vi.stubGlobal('indexedDB', { open: record('indexedDB.open') });
  vi.stubGlobal('BroadcastChannel', record('BroadcastChannel'));
  vi.stubGlobal('localStorage', { setItem: record('localStorage.setItem') });
  vi.stubGlobal('sessionStorage', { setItem: record('sessionStorage.setItem') });

  const sdk = await import('../../src/index.js');
  const session = sdk.createSession({ authority: 'https://idp.example', clientId: 'spa', redirectUri: 'https://app.example/callback' });

  expect(session.getSnapshot().status).toBe('loading');
  expect(calls).toEqual([]);
});

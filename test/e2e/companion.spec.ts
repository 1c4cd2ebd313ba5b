// The server companion in Chromium: the NHS login client signs in through it (the local
// provider accepts no public client for it and verifies the companion's private_key_jwt
// assertion), and renews through it.
import type { Page } from '@playwright/test';
import { CLIENTS } from '../../demo/idp/index.js';
import { COMPANION_PATH, startDemo, type Demo, type DemoOptions } from '../../demo/server.js';
import { expect, signIn, test } from './fixtures.js';

const outcome = (page: Page, fn: string) => page.evaluate(`(${fn})(window.demoSession).then(() => 'resolved', (e) => e.code)`) as Promise<string>;

async function withDemo(options: DemoOptions, run: (demo: Demo) => Promise<void>): Promise<void> {
  const demo = await startDemo(options);
  try {
    await run(demo);
  } finally {
    await demo.close();
  }
}

test('the NHS login client signs in and renews through the server companion, which adds private_key_jwt; the browser never calls the provider\'s token endpoint', async ({ page }) => {
  await withDemo({ client: 'nhs-login' }, async (demo) => {
    const tokenCalls: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/token')) tokenCalls.push(request.url());
    });
    const mark = demo.idp.events.length;
    await signIn(page, demo);
    const companionToken = `${new URL(demo.appUrl).origin}${COMPANION_PATH}/token`;
    expect(tokenCalls).toEqual([companionToken]);
    const tokens = demo.idp.events.slice(mark).filter((e) => e.type === 'token');
    expect(tokens.map((e) => [e.clientId, e.params.grant_type])).toEqual([[CLIENTS.nhsLogin, 'authorization_code']]);
    expect(await outcome(page, '(s) => s.renew()')).toBe('resolved');
    expect(tokenCalls).toEqual([companionToken, companionToken]);
    expect(demo.idp.events.filter((e) => e.type === 'token.error')).toEqual([]);
  });
});

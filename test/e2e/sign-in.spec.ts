import { expect, openApp, signIn, submitLogin, test, TEST_USER } from './fixtures.js';

test('signs in through the local provider and lands active with the verified sub and authTime', async ({ page, demo }) => {
  const before = Date.now();
  await signIn(page, demo);
  const after = Date.now();

  await expect(page).toHaveURL(demo.appUrl);
  await expect(page.getByTestId('sub')).toHaveText(TEST_USER.sub);
  const snapshot = await page.evaluate(() => (window as unknown as { demoSession: { getSnapshot(): { authTime: number; claims: Record<string, unknown>; absoluteExpiresAt: number; idleExpiresAt: number; expiresAt: number } } }).demoSession.getSnapshot());
  // auth_time is whole seconds; the user authenticated between `before` and `after`.
  expect(snapshot.authTime).toBe((snapshot.claims.auth_time as number) * 1000);
  expect(snapshot.authTime).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  expect(snapshot.authTime).toBeLessThanOrEqual(after);
  expect(snapshot.claims.iss).toBe(demo.idp.issuer);
  expect(snapshot.claims.aud).toBe('generic');
  // The default policy: 12 h absolute from auth_time, 30 min idle from the last activity.
  expect(snapshot.absoluteExpiresAt).toBe(snapshot.authTime + 12 * 3600_000);
  expect(snapshot.expiresAt).toBe(snapshot.idleExpiresAt);
});

test('the authorize request uses PKCE S256 and no client secret is ever sent', async ({ page, demo }) => {
  const authorize: URL[] = [];
  const tokenRequests: { body: string; authorization: string | undefined }[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== demo.idp.issuer) return;
    if (url.pathname === '/auth') authorize.push(url);
    if (url.pathname === '/token' && request.method() === 'POST') {
      tokenRequests.push({ body: request.postData() ?? '', authorization: request.headers().authorization });
    }
  });

  await signIn(page, demo);

  expect(authorize).toHaveLength(1);
  const params = authorize[0]!.searchParams;
  expect(params.get('code_challenge_method')).toBe('S256');
  expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(params.get('response_type')).toBe('code');
  expect(params.get('state')).toBeTruthy();
  expect(params.has('client_secret')).toBe(false);

  expect(tokenRequests).toHaveLength(1);
  const body = new URLSearchParams(tokenRequests[0]!.body);
  expect(body.get('grant_type')).toBe('authorization_code');
  expect(body.get('code_verifier')).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
  expect(body.has('client_secret')).toBe(false);
  expect(body.has('client_assertion')).toBe(false);
  expect(tokenRequests[0]!.authorization).toBeUndefined();
});

test('an ID token tampered with in transit leaves the user signed out with ID_TOKEN_INVALID and nothing stored', async ({ page, demo }) => {
  let tampered = '';
  let accessToken = '';
  await page.route(`${demo.idp.issuer}/token`, async (route) => {
    const response = await route.fetch();
    const json = (await response.json()) as { id_token: string; access_token: string };
    const [header, payload, signature] = json.id_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    claims.sub = 'mallory';
    tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    accessToken = json.access_token;
    await route.fulfill({ response, json: { ...json, id_token: tampered } });
  });

  await openApp(page, demo);
  await submitLogin(page);

  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'ID_TOKEN_INVALID');
  await expect(page.getByTestId('status')).toHaveText('signed-out');
  expect(tampered).not.toBe('');
  // The code and state are gone from the address bar.
  expect(new URL(page.url()).search).toBe('');

  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(stored).not.toContain(tampered.split('.')[1]);
  expect(stored).not.toContain(accessToken);
  const rejection = await page.evaluate(() => (window as unknown as { demoSession: { getAccessToken(): Promise<string> } }).demoSession.getAccessToken().then(
    () => 'resolved',
    (error: { code: string }) => error.code,
  ));
  expect(rejection).toBe('LOGIN_REQUIRED');
});

test('signs out through the provider end-session endpoint with id_token_hint and returns signed out', async ({ page, demo }) => {
  await signIn(page, demo);
  const endSession = page.waitForRequest((request) => request.url().startsWith(`${demo.idp.issuer}/session/end?`));
  await page.getByTestId('sign-out').click();
  const url = new URL((await endSession).url());
  expect(url.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(url.searchParams.get('post_logout_redirect_uri')).toBe(demo.appUrl);
  expect(url.searchParams.get('state')).toBeTruthy();

  await page.waitForURL((u) => u.href.startsWith(demo.appUrl) && !u.search);
  await expect(page.getByTestId('status')).toHaveText('signed-out');
  await expect(page.getByTestId('reason')).toHaveText('(signed_out)');

  // The provider session is gone: signing in again asks for the password.
  await page.getByTestId('sign-in').click();
  await expect(page.getByLabel('Password')).toBeVisible();
});

// The script-tag demo (demo/script-tag.html): plain JavaScript, using only what
// dist/oidc-session-guard.iife.js puts on window.OidcSessionGuard.
const { createSession, defineTimeoutDialog, SessionError } = window.OidcSessionGuard;
const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

function showError(error) {
  $('error').hidden = false;
  $('error').textContent = error instanceof SessionError ? `${error.code}: ${error.message}` : String(error);
}

async function main() {
  const config = await (await fetch('/config.json')).json();
  const here = `${location.origin}/script-tag.html`;
  const session = createSession({
    authority: config.authority,
    clientId: config.clientId,
    provider: config.provider,
    onExpired: config.onExpired,
    ...(config.serverPath ? { serverUrl: `${location.origin}${config.serverPath}` } : {}),
    redirectUri: here,
    postLogoutRedirectUri: here,
    scope: 'openid profile email',
  });
  window.demoSession = session;
  defineTimeoutDialog();
  document.querySelector('session-timeout-dialog').session = session;

  const render = (snapshot) => {
    const signedIn = snapshot.status === 'active' || snapshot.status === 'warning';
    $('status').textContent = snapshot.status;
    $('reason').textContent = snapshot.reason ? `(${snapshot.reason})` : '';
    $('who').textContent = signedIn ? `Signed in as ${snapshot.claims?.name ?? snapshot.claims?.sub}.` : '';
    $('sign-in').hidden = signedIn || snapshot.status === 'loading';
    $('sign-out').hidden = !signedIn;
  };
  session.subscribe(render);
  $('sign-in').addEventListener('click', () => session.signIn({ returnTo: here }).catch(showError));
  $('sign-out').addEventListener('click', () => session.signOut().catch(showError));
  await session.start().catch(showError);
  render(session.getSnapshot());
  document.body.dataset.ready = 'true';
}

main().catch(showError);

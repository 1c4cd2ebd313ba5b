import { createSession, SessionError, type Session, type SessionSnapshot } from 'oidc-session-guard';

interface DemoConfig {
  authority: string;
  clientId: string;
  provider: 'generic' | 'nhs-login' | 'signaturgruppen-broker';
  onExpired: 'reauthenticate' | 'sign-out' | 'none';
  authParams: Record<string, string>;
  /** Where the server companion is mounted on this origin, or null. */
  serverPath: string | null;
}

const EVENT_TYPES = ['signed-in', 'activity', 'warning', 'expired', 'signed-out', 'renewed', 'error'] as const;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`missing element ${id}`);
  return el;
};
const time = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString());

function render(snapshot: SessionSnapshot): void {
  $('status').textContent = snapshot.status;
  $('reason').textContent = snapshot.reason ? `(${snapshot.reason})` : '';
  const signedIn = snapshot.status === 'active' || snapshot.status === 'warning';
  $('sign-in').hidden = signedIn || snapshot.status === 'loading';
  $('sign-out').hidden = !signedIn;
  $('renew').hidden = !signedIn;
  $('details').hidden = !snapshot.claims;
  $('sub').textContent = String(snapshot.claims?.sub ?? '');
  $('auth-time').textContent = time(snapshot.authTime);
  $('auth-time').dataset.epochMs = String(snapshot.authTime ?? '');
  $('last-activity').textContent = time(snapshot.lastActivityAt);
  $('idle-expires').textContent = time(snapshot.idleExpiresAt);
  $('absolute-expires').textContent = time(snapshot.absoluteExpiresAt);
  $('session-expires').textContent = time(snapshot.sessionExpiresAt);
  $('expires').textContent = time(snapshot.expiresAt);
  $('claims').textContent = snapshot.claims ? JSON.stringify(snapshot.claims, null, 2) : '';
  $('warning').hidden = snapshot.status !== 'warning';
  $('warning-at').textContent = time(snapshot.expiresAt);
  $('warning-reason').textContent = snapshot.reason ?? '';
}

function logEvent(type: string, payload: unknown): void {
  const item = document.createElement('li');
  item.dataset.type = type;
  item.textContent = `${new Date().toISOString()} ${type} ${payload instanceof Error ? payload.message : JSON.stringify(payload)}`;
  $('events').append(item);
}

function showError(error: unknown): void {
  const el = $('error');
  el.hidden = false;
  el.dataset.code = error instanceof SessionError ? error.code : 'UNKNOWN';
  el.textContent = error instanceof SessionError ? `${error.code}: ${error.message}` : String(error);
}

async function main(): Promise<void> {
  const config = (await (await fetch('/config.json')).json()) as DemoConfig;
  const session: Session = createSession({
    authority: config.authority,
    clientId: config.clientId,
    provider: config.provider,
    onExpired: config.onExpired,
    authParams: config.authParams,
    ...(config.serverPath ? { serverUrl: `${location.origin}${config.serverPath}` } : {}),
    redirectUri: `${location.origin}/callback`,
    postLogoutRedirectUri: `${location.origin}/`,
    scope: 'openid profile email',
  });
  // Exposed for the end-to-end tests and for poking at in the console.
  (window as unknown as { demoSession: Session }).demoSession = session;
  session.subscribe(render);
  session.on('error', showError);
  for (const type of EVENT_TYPES) session.on(type, (payload) => logEvent(type, payload));
  $('renew').addEventListener('click', () => {
    session.renew().catch(showError);
  });
  $('stay-signed-in').addEventListener('click', () => {
    session.staySignedIn().catch(showError);
  });
  $('sign-in').addEventListener('click', () => {
    session.signIn({ returnTo: '/' }).catch(showError);
  });
  $('sign-out').addEventListener('click', () => {
    session.signOut().catch(showError);
  });
  try {
    await session.start();
  } catch (error) {
    showError(error);
  }
  render(session.getSnapshot());
  document.body.dataset.ready = 'true';
}

main().catch(showError);

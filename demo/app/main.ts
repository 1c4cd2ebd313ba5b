import { createSession, SessionError, type Session, type SessionOptions, type SessionSnapshot } from 'oidc-session-guard';
import { defineTimeoutDialog } from 'oidc-session-guard/ui';

interface DemoConfig {
  authority: string;
  clientId: string;
  provider: 'generic' | 'nhs-login' | 'signaturgruppen-broker';
  onExpired: 'reauthenticate' | 'sign-out' | 'none';
  authParams: Record<string, string>;
  /** Where the server companion is mounted on this origin, or null. */
  serverPath: string | null;
}

/** What the "Try it" controls chose: kept in localStorage (no tokens: those stay in memory). */
interface DemoSettings {
  short?: boolean;
  /** Any policy (npm run bench sets one whose warning comes a second after activity). */
  policy?: { idleTimeoutMs: number; absoluteTimeoutMs: number; warningBeforeMs: number };
  onExpired?: '' | DemoConfig['onExpired'];
  lang?: string;
}

const SETTINGS_KEY = 'oidc-session-guard-demo';
/** Short enough to watch the whole cycle: idle 1 minute (warned 20 s before), 5 minutes in all. */
const SHORT_POLICY = { idleTimeoutMs: 60_000, warningBeforeMs: 20_000, absoluteTimeoutMs: 5 * 60_000 };
/** What `onExpired` does, in words. */
const AT_LIMIT: Record<DemoConfig['onExpired'], string> = {
  reauthenticate: 'you are sent to sign in again (onExpired: reauthenticate)',
  'sign-out': 'you are signed out at the identity provider too (onExpired: sign-out)',
  none: 'you stay on this page, signed out, and the dialog says why (onExpired: none)',
};
const EVENT_TYPES = ['signed-in', 'activity', 'warning', 'expired', 'signed-out', 'renewed', 'error'] as const;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`missing element ${id}`);
  return el;
};

function readSettings(): DemoSettings {
  try {
    const value = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') as unknown;
    return typeof value === 'object' && value !== null ? (value as DemoSettings) : {};
  } catch {
    return {};
  }
}
const saveSettings = (settings: DemoSettings) => localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));

// ---- times and reasons as people read them ----

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** "14:05:09 (in 29 minutes)": local time, and how far from now. */
function when(ms: number | null): string {
  if (ms === null) return '—';
  const seconds = Math.round((ms - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const ago = abs < 60 ? relative.format(seconds, 'second') : abs < 3600 ? relative.format(Math.round(seconds / 60), 'minute') : relative.format(Math.round(seconds / 3600), 'hour');
  return `${clock.format(ms)} (${ago})`;
}

/** "30 minutes", "12 hours", "20 seconds". */
function duration(ms: number): string {
  const [value, unit] = ms % 3_600_000 === 0 ? [ms / 3_600_000, 'hour'] : ms % 60_000 === 0 ? [ms / 60_000, 'minute'] : [Math.round(ms / 1000), 'second'];
  return new Intl.NumberFormat('en', { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

function reasonInWords(reason: string | null, policy: { idleTimeoutMs: number; absoluteTimeoutMs: number }): string {
  switch (reason) {
    case 'idle': return `you did nothing here for ${duration(policy.idleTimeoutMs)}`;
    case 'absolute': return `${duration(policy.absoluteTimeoutMs)} have passed since you signed in, the most a session may last`;
    case 'session_expiry': return 'the identity provider’s end for this session (session_expiry) was reached';
    case 'remote_logout': return 'you signed out somewhere else: the identity provider told this service (back-channel logout)';
    case 'signed_out': return 'you signed out';
    case 'error': return 'the session could not be trusted or kept (see the error above)';
    default: return '';
  }
}

function nameOf(claims: SessionSnapshot['claims']): string {
  const name = claims?.name ?? claims?.email ?? claims?.sub;
  return typeof name === 'string' ? name : 'someone';
}

// ---- the page ----

function render(snapshot: SessionSnapshot, policy: { idleTimeoutMs: number; absoluteTimeoutMs: number }): void {
  const { status, reason } = snapshot;
  const signedIn = status === 'active' || status === 'warning';
  const why = reasonInWords(reason, policy);
  $('session-heading').textContent = reason === 'signed_out' ? 'You have signed out' : status === 'signed-out' && reason ? 'You have been signed out' : 'Your session';
  $('summary').textContent = {
    loading: 'Checking your session…',
    active: `You are signed in as ${nameOf(snapshot.claims)}.`,
    warning: `You are signed in as ${nameOf(snapshot.claims)}, but you will be signed out ${when(snapshot.expiresAt)}: ${why}.`,
    expired: `Your session has ended because ${why}.`,
    'signed-out': reason === 'signed_out' ? 'You have signed out, here and at the identity provider. Sign in to carry on.'
      : reason ? `You have been signed out because ${why}. Sign in to carry on.` : 'You are not signed in.',
  }[status];
  $('sign-in').hidden = signedIn || status === 'loading';
  $('sign-out').hidden = !signedIn;
  $('renew').hidden = !signedIn;
  $('times').hidden = !signedIn;
  $('signed-in-at').textContent = when(snapshot.authTime);
  $('active-at').textContent = when(snapshot.lastActivityAt);
  $('idle-at').textContent = when(snapshot.idleExpiresAt);
  const caps = [snapshot.absoluteExpiresAt, snapshot.sessionExpiresAt].filter((t): t is number => t !== null);
  $('cap-at').textContent = caps.length ? when(Math.min(...caps)) : '—';
  // The raw values, for the tests and the curious.
  $('status').textContent = status;
  $('reason').textContent = reason ? `(${reason})` : '';
  $('sub').textContent = String(snapshot.claims?.sub ?? '');
  $('auth-time').textContent = snapshot.authTime === null ? '' : new Date(snapshot.authTime).toISOString();
  $('auth-time').dataset.epochMs = String(snapshot.authTime ?? '');
  $('expires').textContent = snapshot.expiresAt === null ? '' : new Date(snapshot.expiresAt).toISOString();
  $('claims').textContent = snapshot.claims ? JSON.stringify(snapshot.claims, null, 2) : '';
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
  // `?no-sdk`: the same page without the SDK, the benchmark's baseline for the cost of activity.
  if (new URLSearchParams(location.search).has('no-sdk')) {
    $('summary').textContent = 'This page runs without the SDK (the benchmark’s baseline).';
    document.body.dataset.ready = 'true';
    return;
  }
  const config = (await (await fetch('/config.json')).json()) as DemoConfig;
  const settings = readSettings();
  const chosenPolicy = settings.policy ?? (settings.short ? SHORT_POLICY : undefined);
  const onExpired = settings.onExpired || config.onExpired;
  const options: SessionOptions = {
    authority: config.authority,
    clientId: config.clientId,
    provider: config.provider,
    onExpired,
    authParams: config.authParams,
    ...(config.serverPath ? { serverUrl: `${location.origin}${config.serverPath}` } : {}),
    ...(chosenPolicy ? { policy: chosenPolicy } : {}),
    redirectUri: `${location.origin}/callback`,
    postLogoutRedirectUri: `${location.origin}/`,
    scope: 'openid profile email',
  };
  // Marks for the benchmark's start-up figure: from the session created to its first known status.
  performance.mark('osg:created');
  const session: Session = createSession(options);
  const offKnown = session.subscribe((snapshot) => {
    if (snapshot.status === 'loading') return;
    performance.mark('osg:known');
    offKnown();
  });
  // Exposed for the end-to-end tests and for poking at in the console.
  (window as unknown as { demoSession: Session }).demoSession = session;

  // The timeout dialog: defined once, given the session before start() so it sees every event.
  defineTimeoutDialog();
  const dialog = document.querySelector('session-timeout-dialog')!;
  dialog.lang = settings.lang ?? 'en';
  dialog.session = session;

  const policy = chosenPolicy ?? { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3_600_000, warningBeforeMs: 2 * 60_000 };
  $('policy').textContent = `Now: signed out after ${duration(policy.idleTimeoutMs)} without activity (warned ${duration(policy.warningBeforeMs)} before), and ${duration(policy.absoluteTimeoutMs)} after signing in whatever you do. At a limit: ${AT_LIMIT[onExpired]}.`;
  const show = () => render(session.getSnapshot(), policy);
  session.subscribe(show);
  // Times read "in 29 minutes": they move on by themselves.
  setInterval(show, 1000);
  session.on('error', showError);
  for (const type of EVENT_TYPES) session.on(type, (payload) => logEvent(type, payload));

  $<HTMLInputElement>('short-policy').checked = settings.short === true;
  $<HTMLSelectElement>('on-expired').value = settings.onExpired ?? '';
  $<HTMLSelectElement>('language').value = dialog.lang;
  $('short-policy').addEventListener('change', (event) => {
    saveSettings({ ...readSettings(), short: (event.target as HTMLInputElement).checked });
    location.reload();
  });
  $('on-expired').addEventListener('change', (event) => {
    saveSettings({ ...readSettings(), onExpired: (event.target as HTMLSelectElement).value as DemoSettings['onExpired'] });
    location.reload();
  });
  $('language').addEventListener('change', (event) => {
    const lang = (event.target as HTMLSelectElement).value;
    saveSettings({ ...readSettings(), lang });
    dialog.lang = lang;
  });
  $('renew').addEventListener('click', () => {
    session.renew().catch(showError);
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
  show();
  document.body.dataset.ready = 'true';
}

main().catch(showError);

// What the session does through the protocol: the callback, silent restore, renewal (with
// its rules), sign-in and sign-out redirects. In the protocol chunk: they run only when the
// protocol is loaded anyway.
import { SessionError } from '../errors.js';
import type { TabChannel } from '../channel.js';
import type { Live, TokenSet } from '../machine.js';
import type { Settings } from '../options.js';
import type { SessionRecord } from '../store.js';
import type { VerifiedIdToken, Verifier } from '../verify.js';
import { authorizeExtras, compareAuthTime, localTimes } from './rules.js';
import type { OidcPort } from './types.js';

/** What a renewal changes in a live session; the caller applies it to the session as it is then. */
export interface Renewal {
  readonly tokens: TokenSet;
  readonly claims: Live['claims'];
  readonly sid: string | null;
  /** Set when the provider authenticated the user again (a newer `auth_time`): both limits restart. */
  readonly reauthenticated: { readonly authTime: number; readonly providerAuthTime: number | null } | null;
}

/** `max_age` for a silent request inside the limits: the absolute limit (see `authorizeExtras`). */
export const silentMaxAge = (settings: Settings): number | undefined =>
  authorizeExtras(settings.profile, { reauthRequired: false, absoluteTimeoutMs: settings.policy.absoluteTimeoutMs }).maxAgeSec;

/**
 * NIST SP 800-63B rev 3 §7.2: a newer `auth_time` is a reauthentication and restarts both
 * limits; an older one is not a continuation of this session and is refused.
 */
export function authTimeChange(live: Pick<Live, 'providerAuthTime'>, verified: VerifiedIdToken, now: number): Renewal['reauthenticated'] {
  switch (compareAuthTime(live.providerAuthTime, verified.authTime)) {
    case 'older':
      throw new SessionError('ID_TOKEN_INVALID', 'the renewed ID token\'s auth_time is older than the session\'s');
    case 'newer':
      return { authTime: localTimes(verified, now).authTime, providerAuthTime: verified.authTime };
    case 'same':
      return null;
  }
}

/** A renewal applied to the session as it is now. */
export function applyRenewal(live: Live, renewal: Renewal, now: number): Live {
  const again = renewal.reauthenticated;
  return {
    ...live,
    tokens: renewal.tokens,
    claims: renewal.claims,
    sid: renewal.sid ?? live.sid,
    renewedAt: now,
    ...(again ? { authTime: again.authTime, providerAuthTime: again.providerAuthTime, lastActivityAt: now } : {}),
  };
}

/** A new session from freshly verified tokens. */
export function sessionFrom(tokens: TokenSet, verified: VerifiedIdToken, now: number, sessionId: string): Live {
  const { authTime, sessionExpiresAt } = localTimes(verified, now);
  return { sessionId, tokens, claims: verified.claims, sid: verified.sid, renewedAt: 0, signedInAt: now, authTime, providerAuthTime: verified.authTime, sessionExpiresAt, lastActivityAt: now };
}

/**
 * After a silent renewal that had no tokens in hand (a top-level redirect, or a tab that
 * restored silently): the session of `record` goes on, with its id and its timing (a
 * renewal is not activity), under the `auth_time` rules.
 */
export function continueSession(record: SessionRecord, fresh: Live, verified: VerifiedIdToken, now: number): Live {
  const { sessionId, signedInAt, authTime, providerAuthTime, lastActivityAt } = record;
  // A newer auth_time restarts both limits from it (fresh has them so); otherwise the record's timing goes on.
  const again = authTimeChange(record, verified, now);
  return { ...fresh, sessionId, signedInAt, renewedAt: now, ...(again ? {} : { authTime, providerAuthTime, lastActivityAt }) };
}

/** What the flows need from the session. */
export interface FlowContext {
  readonly port: OidcPort;
  readonly verifier: Verifier;
  readonly settings: Settings;
  readonly now: () => number;
  /** The provider's end-session endpoint, or null. */
  readonly endSession: string | null;
  /** The shared record, if it is of session `sessionId`, active and inside its limits now; else null. */
  readonly liveRecord: (sessionId: string) => Promise<SessionRecord | null>;
}

/**
 * Renews `live`: with the refresh token when the provider issued one (a refresh that
 * fails is not retried another way: the provider refused the grant), else in a hidden
 * iframe with `prompt=none`. When the iframe fails because the provider's cookie does not
 * reach it (third-party cookies blocked) or it does not answer, a visible tab falls back
 * to a top-level `prompt=none` redirect that comes back to the same session: then this
 * resolves with `'navigating'`. The new ID token is verified, must be for the same `sub`,
 * and obeys the `auth_time` rules.
 */
export async function renewTokens(live: Live, ctx: FlowContext, signal?: AbortSignal): Promise<Renewal | 'navigating'> {
  const { port, settings } = ctx;
  const viaRefreshToken = live.tokens.refreshToken !== null;
  const maxAgeSec = silentMaxAge(settings);
  let tokens: TokenSet;
  try {
    tokens = viaRefreshToken ? await port.refresh(live.tokens, live.claims) : await port.silent({ ...(maxAgeSec === undefined ? {} : { maxAgeSec }), idTokenHint: live.tokens.idToken, signal });
  } catch (error) {
    const fallback = !viaRefreshToken && error instanceof SessionError && (error.code === 'LOGIN_REQUIRED' || error.code === 'NETWORK');
    if (!fallback || globalThis.document?.visibilityState !== 'visible') throw error;
    await port.signinRedirect({ returnTo: globalThis.location.href, prompt: 'none', ...(maxAgeSec === undefined ? {} : { maxAgeSec }), renewSessionId: live.sessionId });
    return 'navigating';
  }
  if (tokens.idToken === live.tokens.idToken) return { tokens, claims: live.claims, sid: live.sid, reauthenticated: null };
  const now = ctx.now();
  const verified = await ctx.verifier.verify(tokens.idToken, now);
  if (verified.claims.sub !== live.claims.sub) throw new SessionError('ID_TOKEN_INVALID', 'the renewed ID token is for another user');
  return { tokens, claims: verified.claims, sid: verified.sid, reauthenticated: authTimeChange(live, verified, now) };
}

/**
 * Completes the redirect back from the provider: redeems the code (PKCE), verifies the ID
 * token, and builds the session; back from a top-level `prompt=none` renewal, the same
 * session goes on if the record says it is still inside its limits.
 */
export async function completeSignin(ctx: FlowContext, url: URL, newId: string): Promise<{ live: Live; returnTo: string | null }> {
  let result: Awaited<ReturnType<OidcPort['completeSignin']>>;
  try {
    result = await ctx.port.completeSignin(url);
  } finally {
    // Drop code and state from the address bar whatever happens: they are single-use.
    globalThis.history.replaceState(globalThis.history.state, '', new URL(url.pathname, url.origin).href);
  }
  const now = ctx.now();
  const verified = await ctx.verifier.verify(result.tokens.idToken, now);
  const live = sessionFrom(result.tokens, verified, now, newId);
  if (live.sessionExpiresAt !== null && live.sessionExpiresAt <= now) {
    // The Broker: services must not create new sessions from the ID token after session_expiry.
    throw new SessionError('LIMIT_REACHED', 'the provider\'s session_expiry has already passed');
  }
  // Only a same-origin page to land on (the state round-trips through the provider).
  const returnTo = result.returnTo && isSameOrigin(result.returnTo, ctx.settings.origin) ? result.returnTo : null;
  if (!result.renewSessionId) return { live, returnTo };
  return { live: await continued(ctx, result.renewSessionId, live, verified, now), returnTo };
}

/**
 * No tab holds the tokens of the record's session: renew silently in a hidden iframe
 * (`prompt=none`) and go on with the same session, only while the record says it is inside
 * its limits. No top-level redirect on load.
 */
export async function restoreSilently(ctx: FlowContext, sessionId: string, signal: AbortSignal): Promise<Live> {
  const maxAgeSec = silentMaxAge(ctx.settings);
  const tokens = await ctx.port.silent({ ...(maxAgeSec === undefined ? {} : { maxAgeSec }), idTokenHint: null, signal });
  const now = ctx.now();
  const verified = await ctx.verifier.verify(tokens.idToken, now);
  return continued(ctx, sessionId, sessionFrom(tokens, verified, now, sessionId), verified, now);
}

async function continued(ctx: FlowContext, sessionId: string, fresh: Live, verified: VerifiedIdToken, now: number): Promise<Live> {
  const record = await ctx.liveRecord(sessionId);
  if (!record) throw new SessionError('LOGIN_REQUIRED', 'the session ended before its silent renewal came back');
  return continueSession(record, fresh, verified, now);
}

/** Whether `target` (absolute, or relative to the app) is on the app's origin. */
export function isSameOrigin(target: string, origin: string): boolean {
  try {
    return new URL(target, origin).origin === origin;
  } catch {
    return false;
  }
}

/** Back from end-session: consumes its state and leaves `postLogoutRedirectUri` clean in the address bar. */
export async function completeSignout(ctx: FlowContext, url: URL): Promise<void> {
  await ctx.port.completeSignout(url);
  globalThis.history.replaceState(globalThis.history.state, '', ctx.settings.postLogoutRedirectUri);
}

/**
 * Redirects to the authorize endpoint (PKCE). `returnTo` must be on the app's origin.
 * After a limit (`reauthRequired`), with `prompt=login` (and `max_age=0` where supported),
 * and `prompt=none` is refused: NIST SP 800-63B rev 3 §7.2, the provider's cookie alone
 * must not revive a session that hit a limit.
 */
export async function signIn(ctx: FlowContext, options: { returnTo?: unknown; prompt?: unknown }, reauthRequired: boolean): Promise<void> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" of signIn must be an object');
  const { origin, profile, policy } = ctx.settings;
  const returnTo = options.returnTo ?? globalThis.location.href;
  if (typeof returnTo !== 'string') throw new TypeError('"returnTo" must be a string');
  if (!isSameOrigin(returnTo, origin)) throw new SessionError('REDIRECT_REFUSED', `"returnTo" must be on this app's origin (${origin}); got '${returnTo}'`);
  const { prompt } = options;
  // Every supported provider takes these two (NHS login: empty, none, login).
  if (prompt !== undefined && prompt !== 'none' && prompt !== 'login') throw new TypeError(`"prompt" must be 'none' or 'login'; got ${JSON.stringify(prompt)}`);
  if (reauthRequired && prompt === 'none') throw new SessionError('LOGIN_REQUIRED', 'the last session reached a limit: the user must authenticate again');
  await ctx.port.signinRedirect({ returnTo: new URL(returnTo, origin).href, ...authorizeExtras(profile, { prompt, reauthRequired, absoluteTimeoutMs: policy.absoluteTimeoutMs }) });
}

/**
 * Goes to the provider's end-session endpoint with `id_token_hint` (RP-Initiated Logout
 * 1.0); without one, or when the provider requires a hint and there is none (the Broker),
 * to `postLogoutRedirectUri`.
 */
export async function signOut(ctx: FlowContext, idTokenHint: string | null): Promise<void> {
  if (ctx.endSession && (idTokenHint || !ctx.settings.profile.endSessionRequiresIdTokenHint)) await ctx.port.signoutRedirect(idTokenHint);
  else globalThis.location.assign(ctx.settings.postLogoutRedirectUri);
}

/** How long a tab waits for the renewing tab (the leader) to share new tokens. */
export const RENEW_TIMEOUT_MS = 15_000;

/** What a renewal needs from the session. */
export interface RenewHost {
  /** The session as it was when `renew()` was called. */
  readonly live: Live;
  readonly channel: TabChannel;
  /** Whether this tab is the one that renews for all (the leader). */
  leads(): Promise<boolean>;
  /** The live session now, if it is still `live`'s; else null. */
  current(): Live | null;
  /** Keeps the renewed session: the record, the tokens, the state. */
  commit(next: Live): Promise<void>;
  /** Aborted when the session stops being live (signed out, expired, stopped). */
  readonly signal: AbortSignal;
}

/** One renewal for every tab: the leader renews and shares; the others ask it and wait. */
export async function renew(ctx: FlowContext, host: RenewHost): Promise<void> {
  const leads = await host.leads();
  if (!host.current()) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
  return leads ? renewHere(ctx, host) : renewViaLeader(host);
}

async function renewHere(ctx: FlowContext, host: RenewHost): Promise<void> {
  const { live, channel } = host;
  try {
    const renewal = await renewTokens(live, ctx, host.signal);
    if (renewal === 'navigating') {
      // The page is going to the provider. If it stays (an app's beforeunload said so), the
      // renewal fails after a while rather than blocking every later one.
      await new Promise<void>((resolve) => ctx.settings.clock.setTimeout(() => resolve(), RENEW_TIMEOUT_MS));
      throw new SessionError('RENEW_FAILED', 'the page did not go to the provider for the renewal');
    }
    const current = host.current();
    if (!current) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
    const next = applyRenewal(current, renewal, ctx.now());
    await host.commit(next);
    channel.post({ type: 'renewed', sessionId: next.sessionId, tokens: next.tokens, claims: next.claims });
  } catch (error) {
    const failure = error instanceof SessionError ? error : new SessionError('RENEW_FAILED', 'the renewal failed', { cause: error });
    channel.post({ type: 'renew-failed', sessionId: live.sessionId, code: failure.code });
    throw failure;
  }
}

async function renewViaLeader(host: RenewHost): Promise<void> {
  const { sessionId } = host.live;
  // The answer, or null when none comes in time or the session ends first.
  const ended = new Promise<null>((resolve) => host.signal.addEventListener('abort', () => resolve(null), { once: true }));
  const answer = host.signal.aborted ? null : await Promise.race([ended, host.channel.request({ type: 'renew-request', sessionId },
    (m) => (m.sessionId !== sessionId ? undefined : m.type === 'renewed' ? 'ok' : m.type === 'renew-failed' ? m.code : undefined), RENEW_TIMEOUT_MS)]);
  if (answer === 'ok') return;
  if (!host.current()) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
  throw new SessionError(answer === 'LOGIN_REQUIRED' || answer === 'NETWORK' ? answer : 'RENEW_FAILED', `the renewing tab ${answer === null ? 'did not answer in time' : 'failed to renew'}`);
}

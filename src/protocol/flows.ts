// What the session does through the protocol: the callback, silent restore, renewal (with
// its rules), sign-in and sign-out redirects. In the protocol chunk: they run only when the
// protocol is loaded anyway.
import { REQUEST_TIMEOUT_MS, within, withoutRefreshToken } from '../constants.js';
import { SessionError } from '../errors.js';
import type { TabChannel } from '../channel.js';
import type { Live, State, TokenSet } from '../machine.js';
import type { Settings } from '../options.js';
import type { ProviderProfile } from '../profiles.js';
import type { RecordStore, SessionRecord } from '../store.js';
import type { AuthRequest } from '../trust.js';
import type { Verifier } from '../verify.js';
import { authorizeExtras } from './rules.js';
import { LostAnswer, type OidcPort } from './types.js';
import type { LimitReason } from '../policy.js';

/** `max_age` for a silent request inside the limits: the absolute limit (see `authorizeExtras`). */
export const silentMaxAge = (ctx: FlowContext): number | undefined =>
  authorizeExtras(ctx.profile, { reauthRequired: false, absoluteTimeoutMs: ctx.settings.policy.absoluteTimeoutMs }).maxAgeSec;

/** `value` if it names a limit ('idle', 'absolute', 'session_expiry'), else null: one check for the sign-in state both ways. */
export const limitOf = (value: unknown): LimitReason | null =>
  value === 'idle' || value === 'absolute' || value === 'session_expiry' ? value : null;

/** A silent request made now: what its answer is checked against. */
const silentRequest = (ctx: FlowContext, maxAgeSec: number | undefined): AuthRequest => ({ at: ctx.now(), maxAge: maxAgeSec ?? null, maxAgeSent: maxAgeSec !== undefined });

/** What the flows need from the session. */
export interface FlowContext {
  readonly port: OidcPort;
  readonly verifier: Verifier;
  readonly settings: Settings;
  /** The provider's quirks the protocol acts on. */
  readonly profile: ProviderProfile;
  readonly now: () => number;
  /** The provider's end-session endpoint, or null. */
  readonly endSession: string | null;
  /** The shared record, if it is of session `sessionId`, active and inside its limits now; else null. */
  readonly liveRecord: (sessionId: string) => Promise<SessionRecord | null>;
  /** The shared record's store (to claim a refresh in it), or null when the session is not running. */
  readonly store: () => RecordStore | null;
}

/**
 * Claims the next refresh of `live`'s session in the shared record, in one transaction: only
 * when no tab renewed (or claimed a renewal) after the tokens held here were obtained. A tab
 * that missed a renewal (frozen, in the back/forward cache, stopped during one) may hold a
 * refresh token another tab's rotation spent: it does not send it. Resolves true when the
 * refresh may go out (also when there is no record to claim in, or it cannot be read).
 */
async function claimRefresh(ctx: FlowContext, live: Live): Promise<number> {
  // Later than anything this tab holds, so a claim always moves the record on.
  const at = Math.max(ctx.now(), live.renewedAt + 1);
  let claimed = false;
  try {
    const after = await ctx.store()?.change((r) => {
      claimed = r?.sessionId === live.sessionId && r.status === 'active' && (r.renewedAt ?? 0) <= live.renewedAt;
      return claimed ? { ...r!, renewedAt: at } : null;
    });
    return !after || claimed ? at : 0;
  } catch {
    return at;
  }
}

/** Gives a claim back (the provider refused the refresh and used nothing): the tokens every tab holds are still the newest. */
async function unclaim(ctx: FlowContext, live: Live, at: number): Promise<void> {
  await ctx.store()?.change((r) => (r?.sessionId === live.sessionId && r.renewedAt === at ? { ...r, renewedAt: live.renewedAt } : null)).catch(() => undefined);
}

/** What a renewal tells its caller about the refresh token it holds. */
export interface RefreshTokenNews {
  /** The token may be spent: dropped here, and (`everywhere`) in every tab. */
  spent(everywhere: boolean): Promise<void>;
}

/**
 * Whether a `prompt=none` request can be made: a provider that refuses it without
 * `id_token_hint` takes one only with a hint it accepts on authorize.
 */
export const silentAllowed = (profile: ProviderProfile, hint: string | null): boolean =>
  !profile.promptNoneRequiresIdTokenHint || (hint !== null && profile.idTokenHintOnAuthorize);

/** Whether a refresh went out and its answer was lost (see {@link LostAnswer}). */
const isLost = (error: unknown): error is SessionError => error instanceof SessionError && error.cause instanceof LostAnswer;

/**
 * Renews `live`'s tokens: with the refresh token when the provider issued one (a refresh
 * the provider refuses is not retried another way). A refresh whose answer was lost is
 * never sent again: its token may have been used (`spent` drops it), and `prompt=none`
 * takes its place where the provider allows one. Without a refresh token: `prompt=none` in
 * a hidden iframe; when that fails because the provider's cookie does not reach it
 * (third-party cookies blocked) or it does not answer, a visible tab falls back to a
 * top-level `prompt=none` redirect that comes back to the same session: then this resolves
 * with `'navigating'`. The caller verifies what comes back (see `Verifier.renewed`).
 */
export async function renewTokens(live: Live, ctx: FlowContext, signal: AbortSignal, news: RefreshTokenNews): Promise<{ tokens: TokenSet; request: AuthRequest | null } | 'navigating'> {
  const { port } = ctx;
  const maxAgeSec = silentMaxAge(ctx);
  const hint = live.tokens.idToken;
  const claimed = live.tokens.refreshToken === null ? 0 : await claimRefresh(ctx, live);
  if (live.tokens.refreshToken !== null && !claimed) {
    // Another tab renewed after these tokens were obtained: this refresh token may be spent.
    await news.spent(false);
  } else if (live.tokens.refreshToken !== null) {
    try {
      return { tokens: await port.refresh(live.tokens, live.claims), request: null };
    } catch (error) {
      if (!isLost(error)) {
        await unclaim(ctx, live, claimed);
        throw error;
      }
      await news.spent(true);
      if (!silentAllowed(ctx.profile, hint)) throw error;
    }
  }
  if (!silentAllowed(ctx.profile, hint)) {
    throw new SessionError('RENEW_FAILED', 'no refresh token, and no id_token_hint for prompt=none');
  }
  if (signal.aborted) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
  const request = silentRequest(ctx, maxAgeSec);
  try {
    return { tokens: await port.silent({ ...(maxAgeSec === undefined ? {} : { maxAgeSec }), idTokenHint: hint, signal }), request };
  } catch (error) {
    const fallback = error instanceof SessionError && (error.code === 'LOGIN_REQUIRED' || error.code === 'NETWORK');
    if (!fallback || globalThis.document?.visibilityState !== 'visible') throw error;
    await port.signinRedirect({ returnTo: globalThis.location.href, prompt: 'none', ...(maxAgeSec === undefined ? {} : { maxAgeSec }), renewSessionId: live.sessionId, idTokenHint: hint });
    return 'navigating';
  }
}

/**
 * Completes the redirect back from the provider: redeems the code (PKCE), verifies the ID
 * token, and builds the session; back from a top-level `prompt=none` renewal, the same
 * session goes on if the record says it is still inside its limits.
 */
export async function completeSignin(ctx: FlowContext, url: URL, newId: string): Promise<{ live: Live; returnTo: string | null; fresh: boolean }> {
  let result: Awaited<ReturnType<OidcPort['completeSignin']>>;
  try {
    result = await ctx.port.completeSignin(url);
  } finally {
    // Drop code and state from the address bar whatever happens: they are single-use.
    globalThis.history.replaceState(globalThis.history.state, '', new URL(url.pathname, url.origin).href);
  }
  const now = ctx.now();
  // Only a same-origin page to land on (the state round-trips through the provider).
  const returnTo = result.returnTo && isSameOrigin(result.returnTo, ctx.settings.origin) ? result.returnTo : null;
  try {
    if (!result.renewSessionId) {
      const live = await ctx.verifier.begin(result.tokens, now, newId, result.request);
      return { live: result.request.after ? { ...live, after: result.request.after } : live, returnTo, fresh: true };
    }
    const record = await ctx.liveRecord(result.renewSessionId);
    if (!record) throw new SessionError('LOGIN_REQUIRED', 'the session ended before its silent renewal came back');
    return { live: await ctx.verifier.resume(record, result.tokens, now, result.request), returnTo, fresh: false };
  } catch (error) {
    // The provider did not authenticate the user again although asked to (prompt=login or
    // max_age=0): nothing of the answer is kept, and the user is sent once more (onExpired
    // 'reauthenticate'), never round and round.
    const again = error instanceof SessionError && error.code === 'LOGIN_REQUIRED' && result.request?.maxAge === 0;
    if (again && !result.request!.retried && ctx.settings.onExpired === 'reauthenticate') {
      await signIn(ctx, { returnTo: returnTo ?? ctx.settings.origin, prompt: 'login' }, true, true, result.request!.after ?? undefined);
    }
    throw error;
  }
}

/**
 * No tab holds the tokens of the record's session: renew silently in a hidden iframe
 * (`prompt=none`) and go on with the same session, only while the record says it is inside
 * its limits, and only for the record's user. No top-level redirect on load.
 */
export async function restoreSilently(ctx: FlowContext, sessionId: string, signal: AbortSignal): Promise<Live> {
  // A tab with no tokens has no hint to give.
  if (!silentAllowed(ctx.profile, null)) throw new SessionError('LOGIN_REQUIRED', 'no id_token_hint for prompt=none');
  const maxAgeSec = silentMaxAge(ctx);
  const request = silentRequest(ctx, maxAgeSec);
  const tokens = await ctx.port.silent({ ...(maxAgeSec === undefined ? {} : { maxAgeSec }), idTokenHint: null, signal });
  const record = await ctx.liveRecord(sessionId);
  if (!record) throw new SessionError('LOGIN_REQUIRED', 'the session ended before its silent renewal came back');
  return ctx.verifier.resume(record, tokens, ctx.now(), request);
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
export async function signIn(ctx: FlowContext, options: { returnTo?: unknown; prompt?: unknown }, reauthRequired: boolean, retried = false, state?: State | LimitReason): Promise<void> {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" of signIn must be an object');
  const { profile } = ctx;
  const { origin, policy } = ctx.settings;
  const returnTo = options.returnTo ?? globalThis.location.href;
  if (typeof returnTo !== 'string') throw new TypeError('"returnTo" must be a string');
  if (!isSameOrigin(returnTo, origin)) throw new SessionError('REDIRECT_REFUSED', `"returnTo" must be on this app's origin (${origin}); got '${returnTo}'`);
  const { prompt } = options;
  // The limit that ended this tab's session: the state remembers it, and the `signed-in`
  // event on the way back tells it.
  const after = typeof state === 'string' ? state : state && 'reason' in state ? limitOf(state.reason) : null;
  // Every supported provider takes these two (NHS login: empty, none, login).
  if (prompt !== undefined && prompt !== 'none' && prompt !== 'login') throw new TypeError(`"prompt" must be 'none' or 'login'; got ${JSON.stringify(prompt)}`);
  if (reauthRequired && prompt === 'none') throw new SessionError('LOGIN_REQUIRED', 'the last session reached a limit: the user must authenticate again');
  await ctx.port.signinRedirect({ returnTo: new URL(returnTo, origin).href, ...(retried ? { retried } : {}), ...(after ? { after } : {}), ...authorizeExtras(profile, { prompt, reauthRequired, absoluteTimeoutMs: policy.absoluteTimeoutMs }) });
}

/**
 * Signs out at the provider. With a server companion, through it first (its logout API
 * call, when the provider has one, makes a redirect unneeded); else, or if that fails, to the
 * provider's end-session endpoint with `id_token_hint` (RP-Initiated Logout 1.0); without
 * one, or when the provider requires a hint and there is none (the Broker), to
 * `postLogoutRedirectUri`.
 */
export async function signOut(ctx: FlowContext, idTokenHint: string | null): Promise<void> {
  const { serverUrl, postLogoutRedirectUri, clock } = ctx.settings;
  if (serverUrl && idTokenHint) {
    // The companion ends the session for every tab and instance it serves, and calls the
    // provider's logout API where there is one (the Broker's): then no redirect to it is needed.
    // The whole answer within the limit (a body that never comes is cut off too); anything
    // but a clear "logged out at the provider" goes on to end-session.
    const ask = async () => {
      const answer = await fetch(`${serverUrl}/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: idTokenHint }) });
      return answer.ok && ((await answer.json()) as { provider?: unknown } | null)?.provider === 'logged_out';
    };
    const ended = await within(ask(), REQUEST_TIMEOUT_MS, clock, () => new Error('timeout')).catch(() => false);
    if (ended) return globalThis.location.assign(postLogoutRedirectUri);
  }
  if (ctx.endSession && (idTokenHint || !ctx.profile.endSessionRequiresIdTokenHint)) await ctx.port.signoutRedirect(idTokenHint);
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
  /** Takes tokens the renewing tab shared, once verified here; rejects if they are refused. */
  take(tokens: TokenSet): Promise<void>;
}

/**
 * One renewal for every tab: the leader renews and shares; the others ask it and wait. A
 * leader that does not answer in time (a frozen tab still holds its lock) does not block
 * the renewal: this tab renews with `prompt=none`, never with the refresh token the leader
 * may be using.
 */
export async function renew(ctx: FlowContext, host: RenewHost): Promise<void> {
  const leads = await host.leads();
  if (!host.current()) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
  if (leads) return renewHere(ctx, host);
  if (await askLeader(host)) return;
  const current = host.current();
  if (!current) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
  if (!silentAllowed(ctx.profile, current.tokens.idToken)) throw new SessionError('RENEW_FAILED', 'the renewing tab did not answer in time');
  return renewHere(ctx, { ...host, live: withoutRefreshToken(current) });
}

async function renewHere(ctx: FlowContext, host: RenewHost): Promise<void> {
  const { live, channel } = host;
  try {
    const renewal = await renewTokens(live, ctx, host.signal, {
      async spent(everywhere) {
        // Dropped here and now (a hand-over meanwhile must not carry it), and, when it may have
        // been used, in every tab at once: the page may leave for the provider next.
        const current = host.current();
        if (current) await host.commit(withoutRefreshToken(current));
        if (everywhere) channel.post({ type: 'renew-failed', sessionId: live.sessionId, code: 'RENEW_FAILED', spent: true });
      },
    });
    if (renewal === 'navigating') {
      // The page is going to the provider. If it stays (an app's beforeunload said so), the
      // renewal fails after a while rather than blocking every later one.
      const { clock } = ctx.settings;
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(resolve, RENEW_TIMEOUT_MS);
        host.signal.addEventListener('abort', () => {
          clock.clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      throw new SessionError(host.signal.aborted ? 'LOGIN_REQUIRED' : 'RENEW_FAILED', host.signal.aborted ? 'the session ended' : 'the page did not go to the provider for the renewal');
    }
    const current = host.current();
    if (!current) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
    const next = await ctx.verifier.renewed(current, renewal.tokens, ctx.now(), renewal.request);
    await host.commit(next);
    channel.post({ type: 'renewed', sessionId: next.sessionId, tokens: next.tokens });
  } catch (error) {
    const failure = error instanceof SessionError ? error : new SessionError('RENEW_FAILED', 'the renewal failed', { cause: error });
    channel.post({ type: 'renew-failed', sessionId: live.sessionId, code: failure.code });
    throw failure;
  }
}

/** Asks the leader: true once its new tokens are taken here, false when no answer came in time; rejects with its failure. */
async function askLeader(host: RenewHost): Promise<boolean> {
  const { sessionId } = host.live;
  // The answer, or null when none comes in time or the session ends first. (A notice that
  // the refresh token is spent is no answer: the renewing tab goes on.)
  let end = () => undefined as void;
  const ended = new Promise<null>((resolve) => {
    end = () => resolve(null);
    host.signal.addEventListener('abort', end, { once: true });
  });
  const answer = host.signal.aborted ? null : await Promise.race([ended, host.channel.request({ type: 'renew-request', sessionId },
    (m) => (m.sessionId !== sessionId ? undefined : m.type === 'renewed' ? m.tokens : m.type === 'renew-failed' && m.spent !== true ? m.code : undefined), RENEW_TIMEOUT_MS)]);
  host.signal.removeEventListener('abort', end);
  if (!host.current()) throw new SessionError('LOGIN_REQUIRED', 'the session ended');
  // The new tokens, verified here before renew() resolves: getAccessToken() then returns them.
  if (typeof answer === 'object' && answer) {
    await host.take(answer);
    return true;
  }
  if (answer === null) return false;
  throw new SessionError(answer === 'LOGIN_REQUIRED' || answer === 'NETWORK' ? answer : 'RENEW_FAILED', 'the renewing tab failed to renew');
}

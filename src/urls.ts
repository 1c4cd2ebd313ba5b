// Recognising the pages the provider sends the user back to, without loading the protocol.
import { FRAME_MESSAGE_SOURCE, STATE_PREFIX } from './constants.js';

/** Whether `url` is a sign-in response: on `redirectUri` with `state` and `code` or `error`. */
export function isSigninResponse(url: URL, redirectUri: string): boolean {
  const redirect = new URL(redirectUri);
  const q = url.searchParams;
  return url.origin === redirect.origin && url.pathname === redirect.pathname && q.has('state') && (q.has('code') || q.has('error'));
}

/** Whether `url` is the return from end-session carrying a state this tab stored. */
export function isSignoutResponse(url: URL, postLogoutRedirectUri: string): boolean {
  const target = new URL(postLogoutRedirectUri);
  const state = url.searchParams.get('state');
  if (url.origin !== target.origin || url.pathname !== target.pathname || !state) return false;
  try {
    return globalThis.sessionStorage.getItem(STATE_PREFIX + state) !== null;
  } catch {
    return false;
  }
}

/** In the hidden iframe of a silent renewal: hands the response URL to the parent, on this origin only. */
export function notifyParent(url: string): void {
  globalThis.parent.postMessage({ source: FRAME_MESSAGE_SOURCE, url }, globalThis.location.origin);
}

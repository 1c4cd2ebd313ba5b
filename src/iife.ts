// The script-tag build: `dist/oidc-session-guard.iife.js` sets `window.OidcSessionGuard`.
export { createSession, presets, SessionError } from './index.js';

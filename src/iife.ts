// The script-tag build: `dist/oidc-session-guard.iife.js` sets `window.OidcSessionGuard`:
// the core and the timeout dialog (`defineTimeoutDialog()` registers <session-timeout-dialog>).
export { createSession, presets, SessionError } from './index.js';
export { defineTimeoutDialog } from './ui/index.js';

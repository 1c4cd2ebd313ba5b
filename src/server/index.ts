// oidc-session-guard/server: the Node companion (Node 20+). What a browser cannot do: client
// authentication at the token endpoint, the provider's logout API, and receiving
// back-channel logout and delivering it to every tab.
export { createCompanion, BODY_LIMIT_BYTES, SESSION_COOKIE } from './companion.js';
export type { Companion, CompanionRequest } from './companion.js';
export type { CompanionOptions, CompanionProvider, LogoutApi } from './options.js';
export type { ClientAuth } from './assertion.js';
export { memoryStore } from './store.js';
export { redisStore, REDIS_COMMAND_TIMEOUT_MS } from './redis.js';
export type { RedisStoreOptions } from './redis.js';
export type { CompanionStore, HeldSession } from './store.js';
export { validateLogoutToken, LogoutTokenError, BACKCHANNEL_LOGOUT_EVENT } from './logout-token.js';
export type { LogoutClaims, LogoutTokenOptions } from './logout-token.js';

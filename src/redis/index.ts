/**
 * `hopwise/redis`: one session for a fleet of workers. A cookie store and a token source kept in
 * Redis (or Valkey), shared by every process that names the same namespace or key. The Redis
 * client (the `redis` package) is an optional peer dependency, imported only when a store or token
 * source makes its own connection; nothing here is on the main `hopwise` import path.
 */
export { RedisCookieStore } from './cookie-store.js';
export type { RedisCookieStoreOptions, RedisCookieStoreStats } from './cookie-store.js';
export { sharedToken } from './token.js';
export type { SharedToken, SharedTokenOptions } from './token.js';
export type { RedisClientLike } from './connection.js';

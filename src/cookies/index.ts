/** The public surface of the cookie module; src/index.ts re-exports from here. */
export { CookieJar, DEFAULT_MAX_COOKIES, DEFAULT_MAX_COOKIES_PER_DOMAIN } from './jar.js';
export type { CookieJarOptions, CookieFileFormat, CookieLoadOptions } from './jar.js';
export { ReferenceStore } from './store.js';
export type { CookieStorage, StoredCookie } from './store.js';
export { FastStore } from './fast-store.js';
export type { CookieJarJSON, CookieRefusal } from './formats.js';
export type { Cookie, CookieContext, CookieKey, CookieSendReason, CookieStore, CookieVerdict, SameSite, SetCookieRejectReason, SetCookieResult } from './types.js';
export { parseSetCookie } from './parse.js';
export type { ParsedSetCookie, SetCookieParseError } from './parse.js';
export { parseCookieDate } from './date.js';

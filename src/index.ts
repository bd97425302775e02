// The public surface of hopwise. Everything a user imports comes from here; nothing else is API.
export { Session, type FetchInit, type FetchInput } from './session.js';
export { HopwiseResponse } from './response.js';
export type { SessionOptions, TimeoutOptions, RedirectState, RetryOptions } from './options.js';
export { bearer, basic, header, type AuthProvider, type AuthContext, type CredentialSource, type ScopeOption } from './credentials/auth.js';
export { digest, digestResponse, type DigestOptions, type DigestInput } from './credentials/digest.js';
export { parseChallenges, type Challenge } from './credentials/challenge.js';
export { HstsStore, type HstsEntry } from './hop/hsts.js';
export { HopwiseError, HopwiseOptionError, HopwiseRedirectError, HopwiseNetworkError, ERROR_CODES, type ErrorCode } from './errors.js';
export { REASONS, describeReason, type ReasonCode } from './trace/reasons.js';
export type {
  Hop,
  Decision,
  DecisionAction,
  DecisionSubject,
  DecisionOf,
  HeaderDecision,
  AuthDecision,
  CookieDecision,
  CookieFacts,
  SetCookieDecision,
  MethodDecision,
  BodyDecision,
  LocationDecision,
  RedirectDecision,
  RouteDecision,
  ProxyAuthDecision,
  AddressDecision,
  RetryDecision,
  HstsDecision,
  OriginPair,
  ClientRedirectKind,
  HopTimings,
} from './trace/types.js';
export type { HopMessage } from './session.js';
export { CookieJar } from './cookies/jar.js';
export type { BrowserSameSite, Cookie, CookieBatch, CookieEvaluation, CookieStore, CookieVerdict, SetCookieResult, SameSite } from './cookies/types.js';
export { SECRET_LOOKING as SECRET_HEADER_PATTERN } from './credentials/sensitive.js';
export { diagnose, FINDINGS, type Finding, type FindingCode } from './doctor/index.js';
export { diagnoseHar, type DiagnoseHarOptions, type HarDiagnosis, type HarChainDiagnosis, type HarSource, type HarNote, type ReplayedHop } from './har/index.js';
export type { CookieContext, CookieJarOptions, CookieJarJSON, CookieLoadOptions, CookieRefusal } from './cookies/index.js';

/**
 * The doctor: `diagnose(hops, error?)` reads a finished trace (and the error it ended with, if any)
 * and returns findings with fixes for the client and for the server. `FINDINGS` is the one list of
 * finding codes with their meaning.
 */
export { diagnose, hasProblems, trustPatternFor } from './rules.js';
export type { DiagnosableHop, DiagnosableError } from './rules.js';
export { FINDINGS } from './findings.js';
export type { Finding, FindingCode, Severity, FactValue } from './findings.js';
export { renderFinding, renderFindings } from './render.js';

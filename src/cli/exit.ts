/**
 * Exit codes of `hopwise URL`: curl's numbers for what curl users script against, so `|| case $?`
 * written for curl keeps working. `trace` keeps 0/1/2 and `doctor` 0/1/2 (see their help). Pure data
 * and one function: no library code is loaded to compute a code (the error is matched by its `code`).
 */

export interface ExitCode {
  code: number;
  /** curl's name for it, when curl has the code. */
  curl?: string;
  meaning: string;
}

export const EXIT_CODES: readonly ExitCode[] = [
  { code: 0, meaning: 'a final response arrived (any status, unless --fail)' },
  {
    code: 1,
    curl: 'CURLE_UNSUPPORTED_PROTOCOL',
    meaning:
      'hopwise refused to follow a redirect: to a scheme other than http(s) (ERR_UNSAFE_REDIRECT, where curl also exits 1), https to http without --allow-downgrade (ERR_INSECURE_REDIRECT), a body resent to an untrusted origin (ERR_CROSS_ORIGIN_BODY, ERR_BODY_NOT_REPLAYABLE). hopwise doctor explains',
  },
  { code: 2, curl: 'CURLE_FAILED_INIT', meaning: 'bad arguments or options (the message names the flag); a file a flag names cannot be read' },
  { code: 3, curl: 'CURLE_URL_MALFORMAT', meaning: 'a Location header that is not a URL (ERR_INVALID_REDIRECT)' },
  { code: 6, curl: 'CURLE_COULDNT_RESOLVE_HOST', meaning: 'the host name does not resolve (ERR_CONNECT: ENOTFOUND, EAI_AGAIN)' },
  { code: 7, curl: 'CURLE_COULDNT_CONNECT', meaning: 'the connection could not be made (ERR_CONNECT: refused, unreachable)' },
  { code: 22, curl: 'CURLE_HTTP_RETURNED_ERROR', meaning: 'with --fail or --fail-with-body: the final status was 400 or more' },
  { code: 23, curl: 'CURLE_WRITE_ERROR', meaning: 'the body or headers could not be written (-o, -O, -D, or stdout when its reader went away)' },
  { code: 28, curl: 'CURLE_OPERATION_TIMEDOUT', meaning: 'a time limit fired: --max-time, --connect-timeout, or a stalled server (ERR_TIMEOUT)' },
  { code: 35, curl: 'CURLE_SSL_CONNECT_ERROR', meaning: 'the TLS handshake failed (ERR_TLS)' },
  { code: 47, curl: 'CURLE_TOO_MANY_REDIRECTS', meaning: 'more redirects than --max-redirs, or a redirect loop (ERR_TOO_MANY_REDIRECTS, ERR_REDIRECT_LOOP)' },
  { code: 52, curl: 'CURLE_GOT_NOTHING', meaning: 'the server closed the connection without answering' },
  { code: 56, curl: 'CURLE_RECV_ERROR', meaning: 'the connection failed during the exchange (ERR_NETWORK, ERR_HEADER_TOO_LARGE)' },
  { code: 60, curl: 'CURLE_PEER_FAILED_VERIFICATION', meaning: "the server's certificate could not be verified (ERR_TLS); trust its CA with --cacert" },
];

/** Codes of certificate verification failures (curl's 60), as Node and undici report them. */
const CERT = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|HOSTNAME_MISMATCH|DEPTH_ZERO/;

/** The deepest `code` in an error's cause chain (undici wraps Node's socket errors). */
function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = err, i = 0; e && typeof e === 'object' && i < 6; e = (e as { cause?: unknown }).cause, i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') codes.push(c);
  }
  return codes;
}

/** curl's exit code for a hopwise error (a HopwiseError: `code`, `cause`, `hops`). */
export function exitCodeFor(err: { code: string; cause?: unknown; hops?: readonly { status: number }[] }): number {
  const causes = causeCodes(err.cause);
  switch (err.code) {
    case 'ERR_CONNECT':
      return causes.some((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN' || c === 'EAI_NONAME' || c === 'EAI_FAIL') ? 6 : 7;
    case 'ERR_TIMEOUT':
    case 'ERR_ABORTED':
      return 28;
    case 'ERR_TLS':
      return causes.some((c) => CERT.test(c)) ? 60 : 35;
    case 'ERR_TOO_MANY_REDIRECTS':
    case 'ERR_REDIRECT_LOOP':
      return 47;
    case 'ERR_UNSAFE_REDIRECT':
    case 'ERR_INSECURE_REDIRECT':
    case 'ERR_CROSS_ORIGIN_BODY':
    case 'ERR_BODY_NOT_REPLAYABLE':
      return 1;
    case 'ERR_INVALID_REDIRECT':
      return 3;
    case 'ERR_INVALID_URL':
    case 'ERR_INVALID_OPTION':
    case 'ERR_UNKNOWN_OPTION':
    case 'ERR_INVALID_BODY':
      return 2;
    case 'ERR_NETWORK': {
      // undici says "other side closed" (UND_ERR_SOCKET) when the server hung up; with no status on
      // the failing hop that is curl's "empty reply from server"
      const last = err.hops?.[err.hops.length - 1];
      const closed = causes.some((c) => c === 'UND_ERR_SOCKET' || c === 'ECONNRESET' || c === 'UND_ERR_CLOSED');
      return closed && (!last || last.status === 0) ? 52 : 56;
    }
    case 'ERR_HEADER_TOO_LARGE':
      return 56;
    default:
      return 56;
  }
}

export function exitCodesText(): string {
  const lines = ["Exit status of hopwise URL (curl's numbers where curl has the case):", ''];
  for (const e of EXIT_CODES) lines.push(`  ${String(e.code).padStart(2)}  ${e.meaning}`);
  lines.push(
    '',
    'hopwise trace: 0 a final response arrived; 1 the chain stopped with an error (the hops up to it are printed); 2 bad arguments.',
    'hopwise doctor: 0 no problem found (info notes only); 1 findings (warnings or errors); 2 bad arguments, or no hop got a response.',
    '',
  );
  return lines.join('\n');
}

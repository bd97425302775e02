/**
 * The cookie-date algorithm of RFC 6265bis §5.1.1. Servers write Expires in many broken shapes
 * ("Wed,18-Apr-07", "19/Apr\2007", two-digit years...), so this is deliberately not Date.parse:
 * it is the tolerant token scan every browser implements, and it never throws.
 */

/** §5.1.1 delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E. A table is faster than a regex split. */
const DELIMITER = new Uint8Array(128);
DELIMITER[0x09] = 1;
for (let c = 0x20; c <= 0x2f; c++) DELIMITER[c] = 1;
for (let c = 0x3b; c <= 0x40; c++) DELIMITER[c] = 1;
for (let c = 0x5b; c <= 0x60; c++) DELIMITER[c] = 1;
for (let c = 0x7b; c <= 0x7e; c++) DELIMITER[c] = 1;

// The productions of §5.1.1, each "digits, then optionally a non-digit and anything".
const TIME = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D[\s\S]*)?$/;
const DAY_OF_MONTH = /^(\d{1,2})(?:\D[\s\S]*)?$/;
const YEAR = /^(\d{2,4})(?:\D[\s\S]*)?$/;
const IMF_FIXDATE = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

function tokens(input: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    const delim = code < 128 && DELIMITER[code] === 1;
    if (delim) {
      if (start >= 0) out.push(input.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(input.slice(start));
  return out;
}

/**
 * Parse a cookie-date (RFC 6265bis §5.1.1). Returns ms since the epoch (UTC), or null when the
 * algorithm says the date fails to parse. The weekday is ignored, as the RFC says.
 */
export function parseCookieDate(input: string): number | null {
  // Fast path for the one format servers almost always send (IMF-fixdate, RFC 9110 §5.6.7). It
  // gives exactly what the general algorithm below would, and skips the tokenising.
  const fixdate = IMF_FIXDATE.exec(input);
  if (fixdate) {
    const month = MONTHS[fixdate[2]!.toLowerCase()];
    if (month !== undefined) {
      return validDate(Number(fixdate[3]), month, Number(fixdate[1]), Number(fixdate[4]), Number(fixdate[5]), Number(fixdate[6]));
    }
  }
  let hour = -1,
    minute = -1,
    second = -1,
    day = -1,
    month = -1,
    year = -1;
  for (const token of tokens(input)) {
    // §5.1.1 step 2: try time, then day-of-month, then month, then year, each only until found.
    if (hour < 0) {
      const m = TIME.exec(token);
      if (m) {
        hour = Number(m[1]);
        minute = Number(m[2]);
        second = Number(m[3]);
        continue;
      }
    }
    if (day < 0) {
      const m = DAY_OF_MONTH.exec(token);
      if (m) {
        day = Number(m[1]);
        continue;
      }
    }
    if (month < 0 && token.length >= 3) {
      const found = MONTHS[token.slice(0, 3).toLowerCase()];
      if (found !== undefined) {
        month = found;
        continue;
      }
    }
    if (year < 0) {
      const m = YEAR.exec(token);
      if (m) {
        year = Number(m[1]);
        continue;
      }
    }
  }
  // §5.1.1 steps 3-4: two-digit years.
  if (year >= 70 && year <= 99) year += 1900;
  else if (year >= 0 && year <= 69) year += 2000;
  // §5.1.1 step 5: every part found and in range.
  if (hour < 0 || day < 0 || month < 0 || year < 0) return null;
  return validDate(year, month, day, hour, minute, second);
}

function validDate(year: number, month: number, day: number, hour: number, minute: number, second: number): number | null {
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = Date.UTC(year, month, day, hour, minute, second);
  // §5.1.1 step 6: a day that does not exist in that month (31 Feb) fails instead of rolling over.
  if (new Date(ms).getUTCDate() !== day) return null;
  return ms;
}

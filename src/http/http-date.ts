const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** `Sun, 06 Nov 1994 08:49:37 GMT`, the form every sender must use. */
const IMF_FIXDATE = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`,
);
/** `Sunday, 06-Nov-94 08:49:37 GMT`, obsolete but still to be read. */
const RFC_850 = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`,
);
/** `Sun Nov  6 08:49:37 1994`, C's asctime(), obsolete but still to be read. */
const ASCTIME = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTH}) ([ \\d]\\d) ${TIME} (\\d{4})$`,
);

/**
 * The time an HTTP-date names, in milliseconds, or undefined for anything else. RFC 9110 has a
 * recipient ignore a conditional header whose date is invalid; `Date.parse` would read `3000`
 * or `2099-01-01` as dates, and answer 304 or 412 to what the client never sent as one.
 */
export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let match = IMF_FIXDATE.exec(text);
  if (match) return utc(Number(match[3]), match[2]!, match[1]!, match.slice(4, 7));
  match = RFC_850.exec(text);
  if (match) return utc(fullYear(Number(match[3])), match[2]!, match[1]!, match.slice(4, 7));
  match = ASCTIME.exec(text);
  if (match) return utc(Number(match[6]), match[1]!, match[2]!, match.slice(3, 6));
  return undefined;
}

/** RFC 9110: a two-digit year more than 50 years ahead is the last past year ending so. */
function fullYear(twoDigits: number): number {
  const now = new Date().getUTCFullYear();
  let year = now - (now % 100) + twoDigits;
  if (year > now + 50) year -= 100;
  return year;
}

function utc(year: number, month: string, day: string, clock: string[]): number | undefined {
  const [hours, minutes, seconds] = clock.map(Number) as [number, number, number];
  const monthIndex = MONTHS.indexOf(month);
  const date = Number(day.trim());
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  // Checked without a leap second (60, which RFC 9110 allows): Date.UTC rolls 31 Feb over into
  // March, and such a day does not exist.
  const time = Date.UTC(year, monthIndex, date, hours, minutes, Math.min(seconds, 59));
  if (new Date(time).getUTCDate() !== date) return undefined;
  return seconds === 60 ? time + 1000 : time;
}

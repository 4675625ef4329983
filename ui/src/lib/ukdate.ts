// Dates and times as an advocate types and reads them: day/month/year and the
// 24-hour clock, whatever the system locale. The web view's own date widgets
// follow the locale (month/day/year under a US or C locale), so 11/12 could be
// saved as 12 November; these functions never guess.

export const DATE_FORMAT = "Use day/month/year, for example 14/11/2026";
export const TIME_FORMAT = "Use the 24-hour clock, hours:minutes, for example 18:30";

/** A value for the form, or what to tell the advocate. An empty entry is the empty value. */
export type Parsed = { value: string; error?: undefined } | { value?: undefined; error: string };

const two = (n: number) => String(n).padStart(2, "0");

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** "11/12/2026" (also "11.12.2026", "11-12-2026", "1/2/2026") as "2026-12-11". */
export function parseUkDate(text: string): Parsed {
  const t = text.trim();
  if (t === "") return { value: "" };
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d+)$/.exec(t);
  if (!m) return { error: DATE_FORMAT };
  // A two-digit year is not guessed at: 01/02/30 could be 1930 or 2030.
  if (m[3].length !== 4) return { error: `Write the year in full. ${DATE_FORMAT}` };
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return { error: `There is no month ${month}. ${DATE_FORMAT}` };
  if (day < 1 || day > daysIn(year, month))
    return { error: `There is no ${two(day)}/${two(month)}/${m[3]}. ${DATE_FORMAT}` };
  return { value: `${m[3]}-${two(month)}-${two(day)}` };
}

/** "9:05", "09:05", "9.05", "0905" or "905" as "09:05"; 24:00 and "9pm" are refused. */
export function parseUkTime(text: string): Parsed {
  const t = text.trim();
  if (t === "") return { value: "" };
  const m = /^(\d{1,2})[:.](\d{2})$/.exec(t) ?? /^(\d{1,2})(\d{2})$/.exec(t);
  if (!m) return { error: TIME_FORMAT };
  const [hour, minute] = [Number(m[1]), Number(m[2])];
  if (hour > 23 || minute > 59) return { error: `There is no time ${m[1]}:${m[2]}. ${TIME_FORMAT}` };
  return { value: `${two(hour)}:${two(minute)}` };
}

/** "2026-12-11" (or the date part of "2026-12-11T09:05") as "11/12/2026"; anything else as "". */
export function formatUkDate(value: string | null | undefined): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value ?? "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "";
}

/** The time part of "2026-12-11T09:05" as "09:05"; anything else as "". */
export function formatUkTime(value: string | null | undefined): string {
  const m = /^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2})/.exec(value ?? "");
  return m ? `${m[1]}:${m[2]}` : "";
}

/**
 * A date and a time, as typed, into the form's "YYYY-MM-DDTHH:MM" (London wall
 * clock, as `londonLocalNow` gives). Both blank is blank; one without the other is an error.
 */
export function parseUkDateTime(
  dateText: string,
  timeText: string,
): { value: string; dateError?: string; timeError?: string } {
  const date = parseUkDate(dateText);
  const time = parseUkTime(timeText);
  let dateError = date.error;
  let timeError = time.error;
  if (date.value === "" && timeText.trim()) dateError = `Add the date. ${DATE_FORMAT}`;
  if (time.value === "" && dateText.trim()) timeError = `Add the time. ${TIME_FORMAT}`;
  if (dateError || timeError) return { value: "", dateError, timeError };
  return { value: date.value && time.value ? `${date.value}T${time.value}` : "" };
}

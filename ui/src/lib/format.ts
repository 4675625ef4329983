// Instants are stored in UTC and always shown in UK time.
const LONDON = "Europe/London";

const dateTime = new Intl.DateTimeFormat("en-GB", {
  timeZone: LONDON,
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const dateOnly = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });

const dayOfWeek = new Intl.DateTimeFormat("en-GB", {
  timeZone: "UTC",
  weekday: "short",
  day: "numeric",
  month: "short",
});

export function showInstant(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : "";
}

/** A calendar date ("2026-11-22") as "22 Nov 2026"; dates carry no time zone. */
export function showDate(date: string | null | undefined): string {
  return date ? dateOnly.format(new Date(`${date}T00:00:00Z`)) : "";
}

/** A calendar date in the coming days as "Mon 7 Dec": the year is this one's or the next's, and the weekday is what plans are made by. */
export function showDay(date: string | null | undefined): string {
  return date ? dayOfWeek.format(new Date(`${date}T00:00:00Z`)).replace(",", "") : "";
}

/** Whole days from one calendar date to another ("2026-12-01" to "2026-12-07" is 6). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** Now as a `datetime-local` value in UK time, for a form's default. */
export function londonLocalNow(now: Date = new Date()): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: LONDON,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

export function daysAgo(days: number | null | undefined): string {
  if (days === null || days === undefined) return "never";
  if (days === 0) return "today";
  return days === 1 ? "1 day" : `${days} days`;
}

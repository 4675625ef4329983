import { describe, expect, it } from "vitest";
import { formatUkDate, formatUkTime, parseUkDate, parseUkDateTime, parseUkTime } from "./ukdate";

describe("UK dates as typed", () => {
  it("reads day first: 11/12 is 11 December, never 12 November", () => {
    expect(parseUkDate("11/12/2026")).toEqual({ value: "2026-12-11" });
    expect(parseUkDate("1/2/2026")).toEqual({ value: "2026-02-01" });
    expect(parseUkDate("01.02.2026")).toEqual({ value: "2026-02-01" });
    expect(parseUkDate(" 31-12-2026 ")).toEqual({ value: "2026-12-31" });
    expect(parseUkDate("29/02/2028")).toEqual({ value: "2028-02-29" });
    expect(parseUkDate("")).toEqual({ value: "" });
  });

  it("refuses dates that do not exist, naming the format", () => {
    for (const text of ["31/02/2026", "29/02/2027", "31/04/2026", "0/1/2026", "1/13/2026", "12/0/2026", "29/02/1900"]) {
      const parsed = parseUkDate(text);
      expect(parsed.value, text).toBeUndefined();
      expect(parsed.error, text).toContain("Use day/month/year, for example 14/11/2026");
    }
    expect(parseUkDate("31/02/2026").error).toMatch(/^There is no 31\/02\/2026\./);
  });

  it("refuses two-digit years, other orders and words rather than guess", () => {
    expect(parseUkDate("11/12/26").error).toMatch(/year in full/);
    for (const text of ["2026-12-11", "11/12", "11 Dec 2026", "111226", "12/11/2026 14:30", "11//12/2026"]) {
      expect(parseUkDate(text).error, text).toContain("day/month/year");
    }
  });

  it("reads times on the 24-hour clock", () => {
    expect(parseUkTime("9:05")).toEqual({ value: "09:05" });
    expect(parseUkTime("09:05")).toEqual({ value: "09:05" });
    expect(parseUkTime("0905")).toEqual({ value: "09:05" });
    expect(parseUkTime("905")).toEqual({ value: "09:05" });
    expect(parseUkTime("21.30")).toEqual({ value: "21:30" });
    expect(parseUkTime("00:00")).toEqual({ value: "00:00" });
    expect(parseUkTime("23:59")).toEqual({ value: "23:59" });
    for (const text of ["24:00", "12:60", "9pm", "9", "14", "9:5", "9:05 am", "25:00"]) {
      expect(parseUkTime(text).error, text).toContain("24-hour");
    }
  });

  it("joins a date and a time into the form's London wall-clock value", () => {
    expect(parseUkDateTime("11/12/2026", "14:30")).toEqual({ value: "2026-12-11T14:30" });
    expect(parseUkDateTime("", "")).toEqual({ value: "" });
    expect(parseUkDateTime("11/12/2026", "").timeError).toMatch(/Add the time/);
    expect(parseUkDateTime("", "14:30").dateError).toMatch(/Add the date/);
    expect(parseUkDateTime("", "9pm")).toMatchObject({
      value: "",
      dateError: expect.stringMatching(/Add the date/),
      timeError: expect.stringContaining("24-hour"),
    });
    expect(parseUkDateTime("31/02/2026", "14:30")).toMatchObject({
      value: "",
      dateError: expect.stringContaining("day/month/year"),
    });
  });

  it("shows stored values back as day/month/year and 24-hour", () => {
    expect(formatUkDate("2026-12-11")).toBe("11/12/2026");
    expect(formatUkDate("2026-12-11T09:05")).toBe("11/12/2026");
    expect(formatUkTime("2026-12-11T09:05")).toBe("09:05");
    expect(formatUkTime("2026-12-11")).toBe("");
    expect(formatUkDate(null)).toBe("");
    expect(formatUkDate("not a date")).toBe("");
  });

  it("round-trips every day of a leap year", () => {
    for (let d = new Date(Date.UTC(2028, 0, 1)); d.getUTCFullYear() === 2028; d.setUTCDate(d.getUTCDate() + 1)) {
      const iso = d.toISOString().slice(0, 10);
      expect(parseUkDate(formatUkDate(iso))).toEqual({ value: iso });
    }
  });
});

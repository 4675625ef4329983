import { describe, expect, it } from "vitest";
import { daysBetween, londonLocalNow, showDate, showDay, showInstant } from "./format";

describe("UK time", () => {
  it("shows instants in London time across the clock change", () => {
    // 23:30 UTC in July is 00:30 the next day in BST; in January UTC and GMT agree.
    expect(showInstant("2026-07-05T23:30:00Z")).toContain("6 Jul 2026");
    expect(showInstant("2026-07-05T23:30:00Z")).toContain("00:30");
    expect(showInstant("2026-01-05T23:30:00Z")).toContain("23:30");
  });

  it("gives the form's default time as London wall-clock time", () => {
    expect(londonLocalNow(new Date("2026-07-01T08:15:00Z"))).toBe("2026-07-01T09:15");
    expect(londonLocalNow(new Date("2026-12-01T08:15:00Z"))).toBe("2026-12-01T08:15");
  });

  it("shows calendar dates without shifting the day", () => {
    expect(showDate("2026-03-29")).toBe("29 Mar 2026");
    expect(showDate(null)).toBe("");
  });

  it("shows a day in the coming week by its weekday, day and month, without shifting it", () => {
    expect(showDay("2026-12-07")).toBe("Mon 7 Dec");
    expect(showDay("2026-03-29")).toBe("Sun 29 Mar");
    expect(showDay(undefined)).toBe("");
  });

  it("counts whole days between calendar dates across the clock change", () => {
    expect(daysBetween("2026-03-28", "2026-03-30")).toBe(2);
    expect(daysBetween("2026-12-07", "2026-12-01")).toBe(-6);
  });
});

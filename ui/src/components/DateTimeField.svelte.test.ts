// A .svelte.test.ts file, so $state can stand in for the parent's bound value.
import { describe, expect, it } from "vitest";
import { flushSync } from "svelte";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import DateTimeField from "./DateTimeField.svelte";
import DateField from "./DateField.svelte";

const byId = (id: string) => document.getElementById(id) as HTMLInputElement;

describe("DateTimeField", () => {
  it("reads 11/12/2026 at 14:30 as 11 December, in the form's datetime-local format", async () => {
    const props = $state({
      id: "when",
      label: "When it happened",
      value: "",
      problem: undefined as string | undefined,
    });
    render(DateTimeField, props);
    const user = userEvent.setup();
    await user.type(byId("when"), "11/12/2026");
    await user.type(screen.getByLabelText("When it happened, Time"), "14:30");
    await user.tab();
    expect(props.value).toBe("2026-12-11T14:30");
    expect(props.problem).toBeUndefined();
    expect(byId("when").getAttribute("aria-invalid")).toBeNull();
    expect(byId("when").getAttribute("inputmode")).toBe("numeric");
  });

  it("shows the format to type: day/month/year and the 24-hour clock", () => {
    render(DateTimeField, { id: "when", value: "" });
    const hint = document.getElementById("when-format")!;
    expect(hint.textContent).toContain("day/month/year");
    expect(hint.textContent).toContain("24-hour");
    expect(byId("when").getAttribute("aria-describedby")).toContain("when-format");
    expect(byId("when-time").getAttribute("aria-describedby")).toContain("when-format");
  });

  it("turns a date that does not exist into no value and an error naming the format", async () => {
    const props = $state({ id: "when", value: "2026-12-11T09:05", problem: undefined as string | undefined });
    render(DateTimeField, props);
    const user = userEvent.setup();
    await user.clear(byId("when"));
    await user.type(byId("when"), "31/02/2026");
    expect(props.value).toBe("");
    // No shouting mid-typing: the message comes when the advocate moves on.
    expect(byId("when").getAttribute("aria-invalid")).toBeNull();
    await user.tab();
    const input = byId("when");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const error = document.getElementById(input.getAttribute("aria-describedby")!.split(" ")[0])!;
    expect(error.textContent).toContain("Use day/month/year, for example 14/11/2026");
    expect(props.problem).toContain("day/month/year");
    // What was typed stays, so it can be corrected.
    expect(input.value).toBe("31/02/2026");
  });

  it("does not complain about the missing time on the way to the time input", async () => {
    const props = $state({ id: "when", value: "" });
    render(DateTimeField, props);
    const user = userEvent.setup();
    await user.type(byId("when"), "11/12/2026");
    await user.tab();
    expect(document.activeElement).toBe(byId("when-time"));
    expect(byId("when-time").getAttribute("aria-invalid")).toBeNull();
    expect(document.querySelector(".field-error")).toBeNull();
    expect(props.value).toBe("");
  });

  it("refuses 12-hour times", async () => {
    const props = $state({ id: "when", value: "2026-12-11T09:05" });
    render(DateTimeField, props);
    const user = userEvent.setup();
    await user.clear(byId("when-time"));
    await user.type(byId("when-time"), "9pm");
    await user.tab();
    expect(props.value).toBe("");
    expect(byId("when-time").getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById("when-time-error")!.textContent).toContain("24-hour");
  });

  it("shows the parent's value as day/month/year and follows the parent's changes", () => {
    const props = $state({ id: "when", value: "2026-12-11T09:05" });
    render(DateTimeField, props);
    expect(byId("when").value).toBe("11/12/2026");
    expect(byId("when-time").value).toBe("09:05");
    props.value = "2027-01-05T18:00";
    flushSync();
    expect(byId("when").value).toBe("05/01/2027");
    expect(byId("when-time").value).toBe("18:00");
  });
});

describe("DateField", () => {
  it("binds a date alone as YYYY-MM-DD and tidies what was typed", async () => {
    const props = $state({ id: "review", value: null as string | null });
    render(DateField, props);
    expect(byId("review-time")).toBeNull();
    expect(document.getElementById("review-format")!.textContent).toContain("day/month/year");
    const user = userEvent.setup();
    await user.type(byId("review"), "1.2.2027");
    await user.tab();
    expect(props.value).toBe("2027-02-01");
    expect(byId("review").value).toBe("01/02/2027");
  });
});

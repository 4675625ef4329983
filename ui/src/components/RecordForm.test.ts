import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import RecordForm from "./RecordForm.svelte";
import { DeskFailure } from "../lib/api";
import type { FieldSpec } from "../lib/forms";
import { deskError } from "../test-kit";

const fields: FieldSpec[] = [
  { name: "account", label: "What happened", type: "textarea", required: true },
  { name: "behaviours", label: "Behaviours", type: "chips", options: [{ value: "following", label: "Following" }] },
  { name: "reported_to_police", label: "Reported to police", type: "checkbox" },
];

describe("RecordForm", () => {
  it("keeps what was typed when a save fails and shows the core's message by the field", async () => {
    const failure = deskError({
      message: "Account must not be blank.",
      fields: [{ field: "account", rule: "must not be blank" }],
    });
    const save = vi.fn().mockRejectedValue(new DeskFailure(failure));
    render(RecordForm, { id: "t", title: "Log an incident", fields, save });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/What happened/), "   x");
    await user.click(screen.getByRole("button", { name: "Following" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", "Account must not be blank.");
    expect(screen.getByText("account must not be blank")).toBeTruthy();
    expect((screen.getByLabelText(/What happened/) as HTMLTextAreaElement).value).toBe("   x");
    expect(screen.getByLabelText(/What happened/).getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("button", { name: "Following" }).getAttribute("aria-pressed")).toBe("true");
  });

  it("saves with Ctrl+Enter, sends typed fields, and clears after success", async () => {
    const save = vi.fn().mockResolvedValue(undefined);
    const onsaved = vi.fn();
    render(RecordForm, { id: "t", title: "Log an incident", fields, save, onsaved });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/What happened/), "Waited outside");
    await user.click(screen.getByRole("button", { name: "Following" }));
    await user.keyboard("{Control>}{Enter}{/Control}");
    expect(save).toHaveBeenCalledWith({
      account: "Waited outside",
      behaviours: ["following"],
      reported_to_police: false,
    });
    expect(onsaved).toHaveBeenCalledOnce();
    expect((screen.getByLabelText(/What happened/) as HTMLTextAreaElement).value).toBe("");
  });

  it("in an edit, starts from the record, sends a cleared field as null and keeps the values", async () => {
    // Clearing a field in an edit must clear it in the vault, not be silently skipped.
    const save = vi.fn().mockResolvedValue(undefined);
    const editFields: FieldSpec[] = [
      { name: "outcome", label: "Outcome", type: "textarea", initial: "Adjourned" },
      { name: "court_reference", label: "Court reference", type: "text", initial: "X1" },
    ];
    render(RecordForm, { id: "e", title: "Edit", fields: editFields, editing: true, save });
    const user = userEvent.setup();
    await user.clear(screen.getByLabelText("Court reference"));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(save).toHaveBeenCalledWith({ outcome: "Adjourned", court_reference: null });
    expect((screen.getByLabelText("Outcome") as HTMLTextAreaElement).value).toBe("Adjourned");
  });

  it("offers Other on a list a service extends and sends the service's own words", async () => {
    const save = vi.fn().mockResolvedValue(undefined);
    const sourceFields: FieldSpec[] = [
      {
        name: "source",
        label: "Referred by",
        type: "select",
        open: true,
        options: [{ value: "police", label: "Police" }],
      },
    ];
    render(RecordForm, { id: "o", title: "Referral", fields: sourceFields, save });
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Referred by"), "Other…");
    await user.type(screen.getByLabelText("Referred by: in your service's words"), "Faith leader");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(save).toHaveBeenCalledWith({ source: { other: "Faith leader" } });
  });

  it("takes dates as day/month/year and 24-hour time, whatever the locale, and sends the form's formats", async () => {
    const save = vi.fn().mockResolvedValue(undefined);
    const dateFields: FieldSpec[] = [
      { name: "occurred_at", label: "When it happened", type: "datetime", required: true },
      { name: "next_date", label: "Next date", type: "date" },
    ];
    const { container } = render(RecordForm, { id: "d", title: "Dates", fields: dateFields, save });
    // The label names the first input, whose id is the one the form gives.
    const when = screen.getByLabelText(/^When it happened/, { selector: "input#d-occurred_at" });
    expect(
      container.querySelectorAll("input[type='date'], input[type='datetime-local'], input[type='time']"),
    ).toHaveLength(0);
    const user = userEvent.setup();
    await user.type(when, "11/12/2026");
    await user.type(screen.getByLabelText("When it happened, Time"), "14:30");
    await user.type(screen.getByLabelText("Next date"), "5/1/2027");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(save).toHaveBeenCalledWith({ occurred_at: "2026-12-11T14:30", next_date: "2027-01-05" });
  });

  it("refuses to save a date that is not a date, and says what to type", async () => {
    const save = vi.fn().mockResolvedValue(undefined);
    const dateFields: FieldSpec[] = [{ name: "next_date", label: "Next date", type: "date" }];
    render(RecordForm, { id: "d", title: "Dates", fields: dateFields, save });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Next date"), "12/31/2026");
    await user.keyboard("{Control>}{Enter}{/Control}");
    expect(save).not.toHaveBeenCalled();
    expect((await screen.findByRole("alert")).textContent).toContain("Next date");
    const field = screen.getByLabelText("Next date");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(field);
    expect(document.getElementById("d-next_date-date-error")!.textContent).toContain(
      "Use day/month/year, for example 14/11/2026",
    );
  });

  it("asks a list as rows added and removed, a date that is not a date staying with its row", async () => {
    // Why: removing a row moves the later ones up; a refusal left behind, or lost, would block a good form or pass a bad date.
    const save = vi.fn().mockResolvedValue(undefined);
    const rows: FieldSpec[] = [
      {
        name: "dependants",
        label: "Dependants",
        type: "rows",
        row: {
          noun: "dependant",
          fields: [
            { name: "name", label: "Name", type: "text", required: true },
            { name: "date_of_birth", label: "Date of birth", type: "date" },
          ],
        },
      },
    ];
    render(RecordForm, { id: "r", title: "Dependants", fields: rows, save });
    const user = userEvent.setup();
    const row = (n: number) => within(screen.getByRole("group", { name: `Dependant ${n}` }));
    for (const [name, born] of [
      ["Kit", "1/2/2020"],
      ["Sam", "31/31/2020"],
      ["Alex", "3/4/2021"],
    ]) {
      await user.click(screen.getByRole("button", { name: "Add a dependant" }));
      const n = screen.getAllByRole("group", { name: /^Dependant \d$/ }).length;
      expect(document.activeElement).toBe(row(n).getByLabelText(/^Name/));
      await user.type(row(n).getByLabelText(/^Name/), name);
      await user.type(row(n).getByLabelText("Date of birth"), born);
    }
    await user.click(screen.getByRole("button", { name: "Remove dependant 1" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(save).not.toHaveBeenCalled();
    expect((await screen.findByRole("alert")).textContent).toContain("Date of birth");
    expect(row(1).getByLabelText("Date of birth").getAttribute("aria-invalid")).toBe("true");
    await user.click(screen.getByRole("button", { name: "Remove dependant 1" }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(save).toHaveBeenCalledWith({ dependants: [{ name: "Alex", date_of_birth: "2021-04-03" }] });
  });
});

import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Records from "./Records.svelte";
import { askedFields, caseView, mockCommands, referral, shownFields, task, vocabularies, withField } from "../test-kit";

const vocab = vocabularies();

describe("Records", () => {
  it("marks an open task done through completeTask with that task's id, then reports the save", async () => {
    // Why: completing a task is its own command (the core stamps done_on), so the button must name the task it sits by and not send a field edit.
    const view = caseView({
      file: {
        tasks: [
          task({ id: "t1", what: "Chase the police for the crime reference", due_on: "2026-12-01" }),
          task({ id: "t2", what: "Ring the victim about the hearing", due_on: "2026-12-03" }),
          task({ id: "t3", what: "Send the referral", status: "done", done_on: "2026-11-20" }),
        ],
      },
    });
    const ipc = mockCommands({
      completeTask: (taskId) => task({ id: taskId, status: "done", done_on: "2026-11-22" }),
    });
    const onsaved = vi.fn();
    render(Records, { view, vocab, which: "tasks", onsaved });
    const item = screen.getByText("Ring the victim about the hearing").closest("li")!;
    expect(screen.getAllByRole("button", { name: "Mark done" })).toHaveLength(2);
    await userEvent.setup().click(within(item).getByRole("button", { name: "Mark done" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    expect(ipc.calls("completeTask")).toEqual([["t2"]]);
    expect(ipc.calls("editRecord")).toEqual([]);
  });

  it("asks for every contact field the core presents, in its order and words", () => {
    // Why: the contact form is built from the core's presented list, so a field added to contacts reaches the form.
    render(Records, { view: caseView(), vocab, which: "contacts", onsaved: () => {} });
    const contacts = vocab.presented.find((p) => p.kind === "contact");
    expect(contacts).toBeDefined();
    const expected = contacts!.fields.filter((p) => !contacts!.set_by_core.includes(p.field)).map((p) => p.label);
    const form = screen.getByRole("form", { name: "Record a contact" });
    const shown = [...form.querySelectorAll(".field")].map((f) =>
      (f.querySelector("legend, label")?.textContent ?? "").replace(/\s*\*$/, "").trim(),
    );
    expect(shown).toEqual(expected);
  });

  it("updates a referral with exactly the fields the core asks later, in its order and words, from the referral", async () => {
    // Why: the update form is the core's "later" list; it starts from the referral because an edit sends a blank as cleared.
    const view = caseView({
      file: { referrals: [referral({ id: "r1", status: "sent", outcome: "Seen by the panel" })] },
    });
    const ipc = mockCommands({ editRecord: () => referral() });
    const onsaved = vi.fn();
    render(Records, { view, vocab, which: "referrals", onsaved });
    const u = userEvent.setup();
    await u.click(screen.getByRole("button", { name: "Update" }));
    const form = screen.getByRole("form", { name: "Update the referral" });
    expect(shownFields(form)).toEqual(askedFields(vocab, "referral", "later").map((p) => p.label));
    expect(shownFields(form)).toEqual(["Status", "Outcome", "Outcome on"]);
    const f = within(form);
    expect((f.getByRole("combobox", { name: "Status" }) as HTMLSelectElement).value).toBe("sent");
    expect((f.getByRole("textbox", { name: "Outcome" }) as HTMLTextAreaElement).value).toBe("Seen by the panel");
    await u.type(f.getByLabelText("Outcome on"), "20/11/2026");
    await u.click(f.getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledTimes(1));
    expect(ipc.last("editRecord")).toStrictEqual([
      "referral",
      "r1",
      { status: "sent", outcome: "Seen by the panel", outcome_on: "2026-11-20" },
      false,
    ]);
  });

  it("makes referrals and tasks with the core's fields for a new record", () => {
    // Why: those forms derive from the core's lists; a referral's outcome is asked when it comes back, and a task's status by marking it done.
    const { unmount } = render(Records, { view: caseView(), vocab, which: "referrals", onsaved: () => {} });
    expect(shownFields(screen.getByRole("form", { name: "Make a referral" }))).toEqual([
      "Referred to",
      "Made on",
      "Status",
    ]);
    unmount();
    render(Records, { view: caseView(), vocab, which: "tasks", onsaved: () => {} });
    expect(shownFields(screen.getByRole("form", { name: "Add a task" }))).toEqual(
      askedFields(vocab, "task", "when_made").map((p) => p.label),
    );
  });

  it("shows a field the core adds to referrals in the form of its stage, as a text input", async () => {
    // Why: a field new in Rust appears in the form that asks it, starting from what the referral holds, before the UI knows how to ask.
    const added = withField("referral", { field: "panel_notes", label: "Panel notes", asked: "later" }, "status");
    const stored = { ...referral({ id: "r1" }), panel_notes: "Discussed in December" };
    render(Records, {
      view: caseView({ file: { referrals: [stored] } }),
      vocab: added,
      which: "referrals",
      onsaved: () => {},
    });
    expect(
      within(screen.getByRole("form", { name: "Make a referral" })).queryByRole("textbox", { name: "Panel notes" }),
    ).toBeNull();
    await userEvent.setup().click(screen.getByRole("button", { name: "Update" }));
    const form = screen.getByRole("form", { name: "Update the referral" });
    expect(shownFields(form)).toEqual(["Status", "Panel notes", "Outcome", "Outcome on"]);
    const notes = within(form).getByRole("textbox", { name: "Panel notes" }) as HTMLInputElement;
    expect(notes.id).toBe("referral-update-panel_notes");
    expect(notes.value).toBe("Discussed in December");
  });
});

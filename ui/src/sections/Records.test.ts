import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Records from "./Records.svelte";
import { caseView, mockCommands, task, vocabularies } from "../test-kit";

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
});

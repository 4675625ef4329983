import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import RecordForm from "../components/RecordForm.svelte";
import { commands, DeskFailure, type Outcome } from "./api";
import { attachAddressWarning, guarded } from "./guarded";
import type { FieldSpec } from "./forms";
import { ADDRESS_RULE, addressRefusal, contact, deskError, mockCommands } from "../test-kit";

const fields: FieldSpec[] = [
  { name: "account", label: "What happened", type: "textarea", required: true },
  { name: "evidence", label: "Evidence held", type: "lines" },
];

/** A save the core refuses until the advocate confirms. */
function refusingSave(...flagged: string[]) {
  return vi.fn(async (confirmed: boolean): Promise<Outcome<string>> =>
    confirmed ? { status: "ok", data: "saved" } : { status: "error", error: addressRefusal(...flagged) },
  );
}

let detach: (() => void) | null = null;
function advocateAnswers(answer: boolean) {
  const ask = vi.fn(async (_fields: string[]) => answer);
  detach = attachAddressWarning(ask);
  return ask;
}
afterEach(() => {
  detach?.();
  detach = null;
});

describe("guarded", () => {
  it("saves with addressConfirmed false first, and asks nothing when the core accepts", async () => {
    const ask = advocateAnswers(true);
    const run = vi.fn(async (_confirmed: boolean): Promise<Outcome<string>> => ({ status: "ok", data: "saved" }));
    expect(await guarded(run)).toBe("saved");
    expect(run.mock.calls).toEqual([[false]]);
    expect(ask).not.toHaveBeenCalled();
  });

  it("on an address refusal asks by the form's labels, and on confirm saves again with true", async () => {
    const ask = advocateAnswers(true);
    const run = refusingSave("account", "evidence.0.description", "evidence.1.description", "sections.2.notes");
    expect(await guarded(run, { labels: fields })).toBe("saved");
    expect(run.mock.calls).toEqual([[false], [true]]);
    // A known field by its label (once), an unknown one by its path.
    expect(ask).toHaveBeenCalledWith(["What happened", "Evidence held", "sections.2.notes"]);
  });

  it("on cancel does not save again, and the form keeps its values and marks the field with the rule", async () => {
    advocateAnswers(false);
    const run = refusingSave("account");
    render(RecordForm, { id: "t", title: "Log an incident", fields, save: () => guarded(run, { labels: fields }) });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/What happened/), "Waited outside the house");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText(`account ${ADDRESS_RULE}`)).toBeTruthy();
    expect(run.mock.calls).toEqual([[false]]);
    const account = screen.getByLabelText(/What happened/) as HTMLTextAreaElement;
    expect(account.value).toBe("Waited outside the house");
    expect(account.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toBe(addressRefusal().message);
  });

  it("passes other errors straight to the form without asking", async () => {
    const ask = advocateAnswers(true);
    const invalid = deskError({
      message: "Account must not be blank.",
      fields: [{ field: "account", rule: "must not be blank" }],
    });
    const run = vi.fn(async (_confirmed: boolean): Promise<Outcome<string>> => ({ status: "error", error: invalid }));
    const failure = await guarded(run).catch((e) => e);
    expect(failure).toBeInstanceOf(DeskFailure);
    expect((failure as DeskFailure).error.code).toBe("invalid");
    expect(run).toHaveBeenCalledOnce();
    expect(ask).not.toHaveBeenCalled();
  });

  it("does not save when no dialog is on screen to ask", async () => {
    const run = refusingSave("account");
    await expect(guarded(run)).rejects.toBeInstanceOf(DeskFailure);
    expect(run.mock.calls).toEqual([[false]]);
  });

  it("turns the core's paths into the form's names, keeping the core's words in the message", async () => {
    advocateAnswers(false);
    const run = refusingSave("changes.account");
    const failure: DeskFailure = await guarded(run, { rename: (p) => p.replace(/^changes\./, "") }).catch((e) => e);
    expect(failure.fieldError("account")).toBe(`changes.account ${ADDRESS_RULE}`);
    expect(failure.ruleOf("account")).toBe(ADDRESS_RULE);
  });

  it("sends addressConfirmed to the backend command", async () => {
    advocateAnswers(true);
    const ipc = mockCommands({
      addRecord: (_kind, _caseId, _fields, addressConfirmed) => {
        if (!addressConfirmed) throw addressRefusal("summary");
        return contact();
      },
    });
    await guarded((confirmed) => commands.addRecord("contact", "c1", { summary: "Met at home" }, confirmed));
    expect(ipc.calls("addRecord").map(([, , , addressConfirmed]) => addressConfirmed)).toEqual([false, true]);
  });
});

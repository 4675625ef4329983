import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import AddressWarning from "./AddressWarning.svelte";
import RecordForm from "./RecordForm.svelte";
import { commands } from "../lib/api";
import { guarded } from "../lib/guarded";
import type { FieldSpec } from "../lib/forms";
import { ADDRESS_RULE, addressRefusal, incident, mockCommands } from "../test-kit";

const ADDRESS = "14 Larkspur Close";
const fields: FieldSpec[] = [
  { name: "account", label: "What happened", type: "textarea", required: true },
  { name: "impact", label: "Impact, in the victim's words", type: "textarea" },
];

/** An incident form behind the one dialog, and a backend that refuses the address until confirmed. */
function setUp() {
  const ipc = mockCommands({
    addRecord: (_kind, _caseId, _fields, addressConfirmed) => {
      if (!addressConfirmed) throw addressRefusal("account");
      return incident();
    },
  });
  // Whether each save sent the advocate's confirmation.
  const sent = () => ipc.calls("addRecord").map(([, , , addressConfirmed]) => addressConfirmed);
  const onsaved = vi.fn();
  const warning = render(AddressWarning);
  render(RecordForm, {
    id: "incident",
    title: "Log an incident",
    fields,
    save: (f) => guarded((confirmed) => commands.addRecord("incident", "c1", f, confirmed), { labels: fields }),
    onsaved,
  });
  return { sent, onsaved, warning };
}

async function refuse() {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText(/What happened/), `Waited outside ${ADDRESS} all evening`);
  await user.click(screen.getByRole("button", { name: "Save" }));
  return { user, dialog: await screen.findByRole("alertdialog", { name: "The victim's address may be in this text" }) };
}

describe("AddressWarning", () => {
  it("is a labelled alert dialog that names the field, never its text, with the focus on going back", async () => {
    setUp();
    const { dialog } = await refuse();
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    const description = document.getElementById(dialog.getAttribute("aria-describedby")!)!.textContent ?? "";
    expect(description).toContain("What happened");
    expect(description).toContain("printed, exported or sent to the clinic");
    expect(dialog.textContent).not.toContain("Larkspur");
    expect(dialog.textContent).not.toContain("Waited outside");
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Go back and edit" }));
  });

  it("cancels on Escape: nothing more is sent, the field is marked and keeps its text, and the focus returns to it", async () => {
    const { sent, onsaved } = setUp();
    const { user } = await refuse();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(await screen.findByText(`account ${ADDRESS_RULE}`)).toBeTruthy();
    expect(sent()).toEqual([false]);
    expect(onsaved).not.toHaveBeenCalled();
    const account = screen.getByLabelText(/What happened/) as HTMLTextAreaElement;
    expect(account.value).toContain(ADDRESS);
    await vi.waitFor(() => expect(document.activeElement).toBe(account));
  });

  it("cancels with Go back and edit, and keeps the focus inside while open", async () => {
    const { sent } = setUp();
    const { user } = await refuse();
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Save anyway (recorded)" }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Go back and edit" }));
    await user.keyboard("{Enter}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(sent()).toEqual([false]);
  });

  it("saves again with the confirmation on Save anyway", async () => {
    const { sent, onsaved } = setUp();
    const { user } = await refuse();
    await user.click(screen.getByRole("button", { name: "Save anyway (recorded)" }));
    await vi.waitFor(() => expect(onsaved).toHaveBeenCalledOnce());
    expect(sent()).toEqual([false, true]);
    expect(screen.queryByRole("alertdialog")).toBeNull();
  });

  it("answers no when it goes away unanswered (the vault locked)", async () => {
    const { sent, warning } = setUp();
    await refuse();
    warning.unmount();
    expect(await screen.findByText(`account ${ADDRESS_RULE}`)).toBeTruthy();
    expect(sent()).toEqual([false]);
  });
});

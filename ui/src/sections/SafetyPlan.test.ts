import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import SafetyPlan from "./SafetyPlan.svelte";
import { attachAddressWarning } from "../lib/guarded";
import { ADDRESS_RULE, addressRefusal, caseView, choices, mockCommands, vocabularies } from "../test-kit";

// A label unlike the core's, so the test shows the name comes from the vocabulary.
const vocab = vocabularies({ plan_sections: choices("plan_sections", { home: "At home" }) });
const view = caseView();

describe("SafetyPlan", () => {
  it("names and marks the action the core flags, counting the editor's rows, not the rows sent", async () => {
    const ipc = mockCommands({
      addRecord: () => {
        // The blank first action is not sent, so the core sees the typed one as action 0.
        throw addressRefusal("sections.0.actions.0.action");
      },
    });
    const ask = vi.fn(async (_fields: string[]) => false);
    const detach = attachAddressWarning(ask);
    try {
      render(SafetyPlan, { view, vocab, onsaved: () => {} });
      const user = userEvent.setup();
      await user.click(screen.getByRole("button", { name: "Start a safety plan" }));
      await user.selectOptions(screen.getByLabelText("Add a section"), "home");
      await user.click(screen.getByRole("button", { name: "Add section" }));
      await user.click(screen.getByRole("button", { name: "Add an action" }));
      await user.type(document.getElementById("a-0-1")!, "Lock the door at 14 Larkspur Close");
      await user.click(screen.getByRole("button", { name: "Save version" }));
      expect(await screen.findByText(`This action ${ADDRESS_RULE}`)).toBeTruthy();
      expect(ask).toHaveBeenCalledWith(["Action 2 in “At home”"]);
      expect(document.getElementById("a-0-1")!.getAttribute("aria-invalid")).toBe("true");
      expect(document.getElementById("a-0-0")!.getAttribute("aria-invalid")).toBeNull();
      const [kind, caseId, , addressConfirmed] = ipc.last("addRecord");
      expect(ipc.calls("addRecord")).toHaveLength(1);
      expect([kind, caseId, addressConfirmed]).toEqual(["safety_plan", "c1", false]);
    } finally {
      detach();
    }
  });
});

import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import SafetyPlan from "./SafetyPlan.svelte";
import { attachAddressWarning } from "../lib/guarded";
import type { CaseView, Vocabularies } from "../lib/types";

const RULE = "holds the victim's address: text here can be printed or sent to the clinic";
const vocab = { plan_sections: [{ value: "home", label: "At home" }] } as unknown as Vocabularies;
const view = { file: { case: { id: "c1" }, safety_plans: [] } } as unknown as CaseView;

describe("SafetyPlan", () => {
  it("names and marks the action the core flags, counting the editor's rows, not the rows sent", async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd !== "add_record") return null;
      sent.push(args);
      // The blank first action is not sent, so the core sees the typed one as action 0.
      throw { code: "address_in_text", message: "The victim's address appears in the plan.", fields: [{ field: "sections.0.actions.0.action", rule: RULE }], wait_secs: null };
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
      expect(await screen.findByText(`This action ${RULE}`)).toBeTruthy();
      expect(ask).toHaveBeenCalledWith(["Action 2 in “At home”"]);
      expect(document.getElementById("a-0-1")!.getAttribute("aria-invalid")).toBe("true");
      expect(document.getElementById("a-0-0")!.getAttribute("aria-invalid")).toBeNull();
      expect(sent).toHaveLength(1);
      expect((sent[0] as { addressConfirmed: boolean }).addressConfirmed).toBe(false);
    } finally {
      detach();
    }
  });
});

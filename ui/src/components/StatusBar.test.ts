import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import StatusBar from "./StatusBar.svelte";
import { mockCommands, vaultState } from "../test-kit";

describe("the status bar's notification setting", () => {
  it("turns the counts-only notification at unlock on, and shows what the core answers", async () => {
    // Off until the advocate asks: a notification can show on a screen someone else sees.
    const ipc = mockCommands({ setUnlockNotice: (on) => vaultState({ unlocked: true, unlock_notice: on }) });
    const onchange = vi.fn();
    render(StatusBar, {
      vault: vaultState({ unlocked: true, advocate: "ADV1" }),
      saved: "",
      onchange,
      onsync: () => {},
    });
    const box = screen.getByRole("checkbox", { name: /Notify at unlock \(counts only\)/ });
    expect((box as HTMLInputElement).checked).toBe(false);
    await userEvent.setup().click(box);
    expect(ipc.calls("setUnlockNotice")).toEqual([[true]]);
    expect(onchange).toHaveBeenCalledWith(expect.objectContaining({ unlock_notice: true }));
  });
});

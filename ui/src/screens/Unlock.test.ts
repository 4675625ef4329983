import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Unlock from "./Unlock.svelte";
import type { VaultState } from "../lib/types";
import { deskError, mockCommands, vaultState } from "../test-kit";

const locked = vaultState();

describe("Unlock", () => {
  it("shows the wait after a wrong passphrase and blocks another try until it passes", async () => {
    mockCommands({
      unlock: () => {
        throw deskError({
          code: "wrong_passphrase",
          message: "The passphrase is wrong; wait 4 s before trying again.",
          wait_secs: 4,
        });
      },
    });
    render(Unlock, { initial: locked, onunlocked: () => {} });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Passphrase"), "wrong words");
    await user.click(screen.getByRole("button", { name: "Unlock" }));
    expect(await screen.findByRole("alert")).toHaveProperty(
      "textContent",
      "The passphrase is wrong; wait 4 s before trying again.",
    );
    expect(screen.getByText("You can try again in 4 s.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Unlock" })).toHaveProperty("disabled", true);
    expect((screen.getByLabelText("Passphrase") as HTMLInputElement).value).toBe("");
  });

  it("starts with the wait that survived a restart", () => {
    render(Unlock, { initial: vaultState({ wait_secs: 30, failed_attempts: 6 }), onunlocked: () => {} });
    expect(screen.getByText("You can try again in 30 s.")).toBeTruthy();
  });

  it("hands the unlocked state on", async () => {
    const unlocked = vaultState({ unlocked: true, advocate: "ADV1" });
    const ipc = mockCommands({ unlock: () => unlocked });
    let got: VaultState | null = null;
    render(Unlock, { initial: locked, onunlocked: (s: VaultState) => (got = s) });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Passphrase"), "lantern orbit marmalade");
    await user.click(screen.getByRole("button", { name: "Unlock" }));
    await vi.waitFor(() => expect(got).toEqual(unlocked));
    expect(ipc.last("unlock")).toEqual(["lantern orbit marmalade"]);
  });
});

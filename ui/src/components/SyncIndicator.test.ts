import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import SyncIndicator from "./SyncIndicator.svelte";
import { deskError, mockCommands, syncStatus, syncView } from "../test-kit";

const synced = syncView({ status: syncStatus({ last_sync_at: "2026-12-07T09:30:00.000000Z" }) });

describe("an app update from the clinic", () => {
  it("is asked about after a sync and installed only when the advocate says so", async () => {
    const ipc = mockCommands({
      syncView: () => synced,
      updateCheck: () => ({ version: "0.2.0", notes: "Safer printouts." }),
      updateInstall: () => null,
    });
    render(SyncIndicator, { pending: 0, onopen: () => {} });
    const offer = await screen.findByRole("region", { name: "App update" });
    expect(offer.textContent).toContain("Waymark 0.2.0 is ready from your clinic.");
    expect(offer.textContent).toContain("Safer printouts.");
    // Nothing is fetched or installed by the check itself.
    expect(ipc.calls("updateInstall")).toEqual([]);
    await userEvent.setup().click(screen.getByRole("button", { name: "Install and restart" }));
    // The version the advocate was shown, so a different one found since is not installed.
    expect(ipc.calls("updateInstall")).toEqual([["0.2.0"]]);
  });

  it("says why nothing was installed, and can be put off", async () => {
    mockCommands({
      syncView: () => synced,
      updateCheck: () => ({ version: "0.2.0", notes: null }),
      updateInstall: () => {
        throw deskError({ code: "update_unverified", message: "The update your clinic offered is not signed." });
      },
    });
    render(SyncIndicator, { pending: 0, onopen: () => {} });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Install and restart" }));
    expect((await screen.findByRole("alert")).textContent).toContain("not signed");
    await user.click(screen.getByRole("button", { name: "Not now" }));
    expect(screen.queryByRole("region", { name: "App update" })).toBeNull();
  });

  it("is not asked about before the laptop has synced", async () => {
    const never = syncView({ status: syncStatus({ last_sync_at: null }) });
    const ipc = mockCommands({ syncView: () => never, updateCheck: () => null });
    render(SyncIndicator, { pending: 0, onopen: () => {} });
    await screen.findByText(/not yet synced/);
    expect(ipc.calls("updateCheck")).toEqual([]);
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Devices from "./Devices.svelte";
import { deviceEntry, mockServer, refusal, type Route } from "./server-mock";
import { CSRF_HEADER } from "./api";

afterEach(() => vi.unstubAllGlobals());

const LAPTOP = "0f8fad5b-d9cb-469f-a165-70867728950e";
const REVOKE = `POST /w/api/devices/${LAPTOP}/revoke`;

function show(routes: Record<string, Route> = {}) {
  const api = mockServer({
    "GET /w/api/devices": {
      body: [
        deviceEntry(),
        deviceEntry({ id: "aaaaaaaa-0000", status: "revoked", revoked_at: "2026-11-01T10:00:00Z", advocate: "ADV2" }),
      ],
    },
    [REVOKE]: { status: 204 },
    ...routes,
  });
  render(Devices, { csrf: "csrf-from-sign-in" });
  return { api, user: userEvent.setup() };
}

describe("revoking a laptop", () => {
  it("is offered for an active laptop only", async () => {
    show();
    const table = await screen.findByRole("table", { name: /Enrolled laptops/ });
    expect(
      within(table)
        .getAllByRole("button", { name: /Revoke/ })
        .map((b) => b.textContent),
    ).toEqual(["Revoke laptop 0f8fad5b… of ADV1"]);
  });

  it("asks first, in words that say the laptop erases its vault, and sends nothing when kept", async () => {
    const { api, user } = show();
    const revoke = await screen.findByRole("button", { name: /Revoke laptop 0f8fad5b/ });
    await user.click(revoke);
    const dialog = screen.getByRole("alertdialog", { name: "Revoke this laptop?" });
    expect(dialog.textContent?.replace(/\s+/g, " ")).toContain(
      "Laptop 0f8fad5b…, enrolled for ADV1, will erase its vault the next time it contacts the clinic.",
    );
    // The safe answer has the focus.
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Keep it" }));
    await user.click(within(dialog).getByRole("button", { name: "Keep it" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(document.activeElement).toBe(revoke);
    await user.click(revoke);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(api.sent(REVOKE)).toEqual([]);
  });

  it("revokes when confirmed, with the CSRF token, then says so and lists the laptops again", async () => {
    const { api, user } = show();
    await user.click(await screen.findByRole("button", { name: /Revoke laptop 0f8fad5b/ }));
    api.answer("GET /w/api/devices", {
      body: [deviceEntry({ status: "revoked", revoked_at: "2026-11-22T15:00:00Z" })],
    });
    await user.click(screen.getByRole("button", { name: "Revoke the laptop" }));
    const status = await screen.findByRole("status");
    await within(status).findByText(/revoked/);
    expect(status.textContent).toBe(
      "Laptop 0f8fad5b… (ADV1) is revoked: it will erase its vault at its next contact with the clinic.",
    );
    expect(document.activeElement).toBe(status);
    const [sent] = api.sent(REVOKE);
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(api.sent("GET /w/api/devices").length).toBe(2);
    const table = screen.getByRole("table", { name: /Enrolled laptops/ });
    expect(within(table).getByTitle(LAPTOP).closest("tr")?.textContent).toContain("Revoked on 22 Nov 2026");
    expect(within(table).queryByRole("button", { name: /Revoke/ })).toBeNull();
  });

  it("says the server's message when it refuses", async () => {
    const { user } = show({
      [REVOKE]: refusal(
        404,
        "not_found",
        "there is no such record, or it is not one you may see; go back to your list",
      ),
    });
    await user.click(await screen.findByRole("button", { name: /Revoke laptop 0f8fad5b/ }));
    await user.click(screen.getByRole("button", { name: "Revoke the laptop" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "There is no such record, or it is not one you may see; go back to your list.",
    );
  });
});

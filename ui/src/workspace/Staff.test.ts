import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Staff from "./Staff.svelte";
import { mockServer, newSecondFactor, QR_SVG, refusal, staffEntry, type Route } from "./server-mock";
import * as api from "./api";

afterEach(() => vi.unstubAllGlobals());

const PASSWORD = "POST /w/api/staff/MGR1/password";
const SECOND_FACTOR = "POST /w/api/staff/MGR1/second-factor";
const REFUSED =
  "the staff code, password or authenticator code is not right; check them and try again, or ask an administrator to reset your sign-in";
/** The server's words for a refused confirmation (`ClinicError::ConfirmRefused`). */
const CONFIRM_REFUSED =
  "your own password or authenticator code is not right, so nothing was changed; type them again (wait for the next code)";
const SECRET = newSecondFactor().secret;

function show(routes: Record<string, Route> = {}) {
  const server = mockServer({
    "GET /w/api/staff": {
      body: [staffEntry(), staffEntry({ code: "MGR1", name: "Morgan Manager", role: "manager" })],
    },
    [PASSWORD]: { status: 204 },
    [SECOND_FACTOR]: { body: newSecondFactor() },
    ...routes,
  });
  render(Staff, { me: "ADMIN1", csrf: "csrf-from-sign-in" });
  return { server, user: userEvent.setup() };
}

const input = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const INPUTS = ["New password", "The new password again", "Your password", "Your authenticator code"];

async function fillPassword(user: ReturnType<typeof userEvent.setup>, again = "long enough passphrase words") {
  await user.click(await screen.findByRole("button", { name: "Set password for Morgan Manager (MGR1)" }));
  await user.type(input("New password"), "long enough passphrase words");
  await user.type(input("The new password again"), again);
  await user.type(input("Your password"), "my own password");
  await user.type(input("Your authenticator code"), "123 456");
}

describe("a member's sign-in", () => {
  it("can be reset for anyone but the administrator themself", async () => {
    show();
    const table = await screen.findByRole("table", { name: /Staff/ });
    const own = within(table).getByText("ADMIN1").closest("tr") as HTMLElement;
    expect(within(own).queryAllByRole("button")).toEqual([]);
    expect(own.textContent).toContain("Yours: another administrator resets it");
    const other = within(table).getByText("MGR1").closest("tr") as HTMLElement;
    expect(
      within(other)
        .getAllByRole("button")
        .map((b) => b.textContent),
    ).toEqual(["Set password for Morgan Manager (MGR1)", "New authenticator for Morgan Manager (MGR1)"]);
  });

  it("asks the new password with the administrator's own password and code, and the right autocomplete", async () => {
    show();
    await screen.findByRole("table", { name: /Staff/ });
    await userEvent.setup().click(screen.getByRole("button", { name: "Set password for Morgan Manager (MGR1)" }));
    const form = screen.getByRole("form", { name: "Set a password for Morgan Manager (MGR1)" });
    expect(document.activeElement).toBe(input("New password"));
    expect([input("New password").type, input("New password").autocomplete]).toEqual(["password", "new-password"]);
    expect([input("The new password again").type, input("The new password again").autocomplete]).toEqual([
      "password",
      "new-password",
    ]);
    expect([input("Your password").type, input("Your password").autocomplete]).toEqual([
      "password",
      "current-password",
    ]);
    expect(input("Your authenticator code").autocomplete).toBe("one-time-code");
    expect(within(form).getByRole("group", { name: "Confirm it is you" })).toBeTruthy();
  });

  it("sets a password with the confirmation and the CSRF token, then says so and clears every input", async () => {
    const { server, user } = show();
    await fillPassword(user);
    await user.click(screen.getByRole("button", { name: "Set the password" }));
    const status = await screen.findByRole("status");
    await within(status).findByText(/new password/);
    expect(status.textContent).toBe(
      "Morgan Manager (MGR1) has a new password, and any session of theirs has ended. Give it to them in person.",
    );
    const [sent] = server.sent(PASSWORD);
    expect(sent.body).toEqual({
      password: "long enough passphrase words",
      confirm: { password: "my own password", code: "123456" },
    });
    expect(sent.headers.get(api.CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(screen.queryByRole("form")).toBeNull();
    // Opened again, nothing typed is left.
    await user.click(screen.getByRole("button", { name: "Set password for Morgan Manager (MGR1)" }));
    expect(INPUTS.map((label) => input(label).value)).toEqual(["", "", "", ""]);
  });

  it("says a weak password's message and clears every input", async () => {
    const { user } = show({
      [PASSWORD]: refusal(
        400,
        "weak_passphrase",
        "that passphrase is not strong enough: add another word or two; a longer passphrase is harder to guess",
      ),
    });
    await fillPassword(user);
    await user.click(screen.getByRole("button", { name: "Set the password" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "That passphrase is not strong enough: add another word or two; a longer passphrase is harder to guess.",
    );
    expect(INPUTS.map((label) => input(label).value)).toEqual(["", "", "", ""]);
    expect(document.activeElement).toBe(input("New password"));
  });

  it("says a refused confirmation's message, clears every input, and does not sign the administrator out", async () => {
    const { user } = show({ [PASSWORD]: refusal(403, "confirm_refused", CONFIRM_REFUSED) });
    const signedOut = vi.fn();
    const stop = api.onSignedOut(signedOut);
    await fillPassword(user);
    await user.click(screen.getByRole("button", { name: "Set the password" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your own password or authenticator code is not right, so nothing was changed; type them again (wait for the next code).",
    );
    stop();
    expect(signedOut).not.toHaveBeenCalled();
    expect(INPUTS.map((label) => input(label).value)).toEqual(["", "", "", ""]);
    expect(screen.getByRole("form", { name: "Set a password for Morgan Manager (MGR1)" })).toBeTruthy();
  });

  it("sends nothing when the two new passwords differ, and asks for both again", async () => {
    const { server, user } = show();
    await fillPassword(user, "long enough passphrase wordz");
    await user.click(screen.getByRole("button", { name: "Set the password" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The two new passwords are not the same. Type the new password again, twice.",
    );
    expect([input("New password").value, input("The new password again").value]).toEqual(["", ""]);
    expect(document.activeElement).toBe(input("New password"));
    expect(server.sent(PASSWORD)).toEqual([]);
  });

  it("gives a new authenticator with the confirmation, shows its secret and QR code once, and clears them on Done", async () => {
    const { server, user } = show();
    await user.click(await screen.findByRole("button", { name: "New authenticator for Morgan Manager (MGR1)" }));
    screen.getByRole("form", { name: "A new authenticator for Morgan Manager (MGR1)" });
    expect(screen.queryByLabelText("New password")).toBeNull();
    expect(document.activeElement).toBe(input("Your password"));
    await user.type(input("Your password"), "my own password");
    await user.type(input("Your authenticator code"), "654321");
    await user.click(screen.getByRole("button", { name: "Make a new authenticator" }));
    const heading = await screen.findByRole("heading", { name: "New authenticator for Morgan Manager (MGR1)" });
    expect(document.activeElement).toBe(heading);
    const [sent] = server.sent(SECOND_FACTOR);
    expect(sent.body).toEqual({ confirm: { password: "my own password", code: "654321" } });
    expect(sent.headers.get(api.CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(screen.queryByRole("form")).toBeNull();
    const shown = screen.getByRole("region", { name: "New authenticator for Morgan Manager (MGR1)" });
    expect(within(shown).getByText(SECRET).tagName).toBe("CODE");
    const qr = within(shown).getByRole("img", {
      name: "QR code of the new authenticator secret for Morgan Manager (MGR1)",
    });
    const src = qr.getAttribute("src") ?? "";
    expect(src.startsWith("data:image/svg+xml;base64,")).toBe(true);
    expect(atob(src.slice(src.indexOf(",") + 1))).toBe(QR_SVG);
    expect(document.querySelector("svg")).toBeNull();

    await user.click(within(shown).getByRole("button", { name: "Done" }));
    expect(document.body.textContent).not.toContain(SECRET);
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByRole("status").textContent).toBe(
      "The new authenticator's secret for Morgan Manager (MGR1) is no longer shown.",
    );
    // Opened again, nothing typed is left.
    await user.click(screen.getByRole("button", { name: "New authenticator for Morgan Manager (MGR1)" }));
    expect([input("Your password").value, input("Your authenticator code").value]).toEqual(["", ""]);
  });

  it("clears the confirmation after a refused new authenticator, and shows no secret", async () => {
    const { user } = show({ [SECOND_FACTOR]: refusal(403, "confirm_refused", CONFIRM_REFUSED) });
    await user.click(await screen.findByRole("button", { name: "New authenticator for Morgan Manager (MGR1)" }));
    await user.type(input("Your password"), "wrong");
    await user.type(input("Your authenticator code"), "000000");
    await user.click(screen.getByRole("button", { name: "Make a new authenticator" }));
    await screen.findByRole("alert");
    expect([input("Your password").value, input("Your authenticator code").value]).toEqual(["", ""]);
    expect(screen.queryByRole("img")).toBeNull();
  });

  it("asks for the administrator's 6-digit code before sending anything", async () => {
    const { server, user } = show();
    await user.click(await screen.findByRole("button", { name: "New authenticator for Morgan Manager (MGR1)" }));
    await user.type(input("Your password"), "my own password");
    await user.type(input("Your authenticator code"), "12a");
    await user.click(screen.getByRole("button", { name: "Make a new authenticator" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Enter the 6-digit code your own authenticator app shows now.",
    );
    expect(document.activeElement).toBe(input("Your authenticator code"));
    expect(server.sent(SECOND_FACTOR)).toEqual([]);
  });

  it("goes back to the button that opened the form when cancelled, with nothing typed kept", async () => {
    const { user } = show();
    const opener = await screen.findByRole("button", { name: "Set password for Morgan Manager (MGR1)" });
    await user.click(opener);
    await user.type(input("New password"), "half typed");
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("form")).toBeNull();
    expect(document.activeElement).toBe(opener);
    await user.click(opener);
    expect(input("New password").value).toBe("");
  });
});

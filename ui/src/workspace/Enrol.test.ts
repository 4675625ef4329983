import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Enrol from "./Enrol.svelte";
import { issuedCode, mockServer, QR_SVG, refusal, staffEntry, type Route } from "./server-mock";
import { CSRF_HEADER } from "./api";
import { svgImageSource } from "./qr";

afterEach(() => vi.unstubAllGlobals());

const CODE = issuedCode().code;

function show(routes: Record<string, Route> = {}) {
  const api = mockServer({
    "GET /w/api/staff": {
      body: [
        staffEntry(),
        staffEntry({ code: "ADV1", name: "Ash Advocate", role: "advocate" }),
        staffEntry({ code: "ADV2", name: "Gone Advocate", role: "advocate", active: false }),
        staffEntry({ code: "CRD1", name: "Casey Coordinator", role: "coordinator" }),
      ],
    },
    "POST /w/api/enrolments": { body: issuedCode() },
    ...routes,
  });
  render(Enrol, { csrf: "csrf-from-sign-in" });
  return { api, user: userEvent.setup() };
}

describe("enrolling a laptop", () => {
  it("offers the active advocates only, and the address this page came from", async () => {
    show();
    const advocate = (await screen.findByLabelText("Advocate")) as HTMLSelectElement;
    expect([...advocate.options].map((o) => o.textContent)).toEqual(["Choose…", "Ash Advocate (ADV1)"]);
    expect((screen.getByLabelText("Clinic address the laptops use") as HTMLInputElement).value).toBe(location.origin);
  });

  it("issues a code for the chosen advocate and address, with the CSRF token", async () => {
    const { api, user } = show();
    await user.selectOptions(await screen.findByLabelText("Advocate"), "ADV1");
    const url = screen.getByLabelText("Clinic address the laptops use");
    await user.clear(url);
    await user.type(url, "https://clinic.example:8443 ");
    await user.click(screen.getByRole("button", { name: "Issue the code" }));
    await screen.findByRole("heading", { name: "Enrolment code for Ash Advocate (ADV1)" });
    const [sent] = api.sent("POST /w/api/enrolments");
    expect(sent.body).toEqual({ advocate: "ADV1", url: "https://clinic.example:8443" });
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
  });

  it("shows the code and its QR code once, as an image, and nothing of it after Done", async () => {
    const { user } = show();
    await user.selectOptions(await screen.findByLabelText("Advocate"), "ADV1");
    await user.click(screen.getByRole("button", { name: "Issue the code" }));
    const heading = await screen.findByRole("heading", { name: "Enrolment code for Ash Advocate (ADV1)" });
    expect(document.activeElement).toBe(heading);
    const shown = screen.getByRole("region", { name: "Enrolment code for Ash Advocate (ADV1)" });
    expect(within(shown).getByText(CODE).tagName).toBe("CODE");
    expect(shown.textContent?.replace(/\s+/g, " ")).toContain("until Mon, 23 Nov 2026, 10:00 (UK time)");
    const qr = within(shown).getByRole("img", { name: "QR code of the enrolment code for Ash Advocate (ADV1)" });
    expect(qr.tagName).toBe("IMG");
    const src = qr.getAttribute("src") ?? "";
    expect(src.startsWith("data:image/svg+xml;base64,")).toBe(true);
    expect(atob(src.slice(src.indexOf(",") + 1))).toBe(QR_SVG);
    // The SVG is never markup in the page.
    expect(document.querySelector("svg")).toBeNull();
    expect(location.href).not.toContain(CODE);

    await user.click(within(shown).getByRole("button", { name: "Done" }));
    expect(document.body.textContent).not.toContain(CODE);
    expect(document.querySelector("img")).toBeNull();
    expect(document.body.innerHTML).not.toContain(src.slice(30, 60));
    const status = screen.getByRole("status");
    expect(status.textContent).toBe(
      "The code for Ash Advocate (ADV1) is no longer shown. Until it is used, or until Mon, 23 Nov 2026, 10:00, it still works once.",
    );
    expect(document.activeElement).toBe(status);
    // The form is ready for the next laptop.
    expect((screen.getByLabelText("Advocate") as HTMLSelectElement).value).toBe("");
  });

  it("asks for an advocate before sending anything", async () => {
    const { api, user } = show();
    await user.click(await screen.findByRole("button", { name: "Issue the code" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Choose the advocate whose laptop it is.");
    expect(document.activeElement).toBe(screen.getByLabelText("Advocate"));
    expect(api.sent("POST /w/api/enrolments")).toEqual([]);
  });

  it("says the server's message when it refuses the address", async () => {
    const { user } = show({
      "POST /w/api/enrolments": refusal(400, "bad_request", "the request is not valid (url must be https://host:port)"),
    });
    await user.selectOptions(await screen.findByLabelText("Advocate"), "ADV1");
    await user.click(screen.getByRole("button", { name: "Issue the code" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The request is not valid (url must be https://host:port).",
    );
    expect(screen.queryByRole("img")).toBeNull();
  });
});

describe("an SVG as an image's address", () => {
  it("keeps text outside Latin-1 and a long drawing whole", () => {
    const svg = `<svg><title>é ✓</title>${"<rect/>".repeat(20_000)}</svg>`;
    const src = svgImageSource(svg);
    const bytes = Uint8Array.from(atob(src.slice("data:image/svg+xml;base64,".length)), (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe(svg);
  });
});

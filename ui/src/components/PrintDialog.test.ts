import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import PrintDialog from "./PrintDialog.svelte";
import { deskError, mockCommands, printDone, printPreview } from "../test-kit";

/** A print service that previews, saves and prints whatever it is asked. */
const backend = () =>
  mockCommands({
    printPreview: () => printPreview(),
    printSave: () => printDone(),
    printToPrinter: () => printDone({ destination: "printer" }),
    printClose: () => {},
  });

describe("PrintDialog", () => {
  it("asks for a discreet plan by default and shows every page", async () => {
    // The victim's copy may be found, so the safe form must be the one a hurried click gives.
    const ipc = backend();
    render(PrintDialog, { caseId: "c1", documents: ["safety_plan", "chronology"], onclose: () => {} });
    expect((screen.getByLabelText(/Discreet/) as HTMLInputElement).checked).toBe(true);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    expect(await screen.findByAltText("Page 2 of 2")).toBeTruthy();
    const [form] = ipc.last("printPreview");
    expect(form).toMatchObject({
      document: "safety_plan",
      case_id: "c1",
      discreet: true,
      large_print: false,
      limit: null,
    });
  });

  it("never sends discreet for the chronology and passes large print", async () => {
    const ipc = backend();
    render(PrintDialog, { caseId: "c1", documents: ["safety_plan", "chronology"], onclose: () => {} });
    const user = userEvent.setup();
    await user.click(screen.getByLabelText("Chronology of incidents"));
    expect(screen.queryByLabelText(/Discreet/)).toBeNull();
    await user.click(screen.getByLabelText(/Large print/));
    await user.click(screen.getByRole("button", { name: "Preview" }));
    await screen.findByAltText("Page 1 of 2");
    const [form] = ipc.last("printPreview");
    expect(form).toMatchObject({ document: "chronology", discreet: false, large_print: true });
  });

  it("records the print before opening the system print dialog, and saves through the save dialog", async () => {
    const ipc = backend();
    const print = vi.spyOn(window, "print").mockImplementation(() => {
      expect(ipc.log.map((c) => c.name)).toContain("printToPrinter");
    });
    render(PrintDialog, { caseId: "c1", documents: ["safety_plan"], onclose: () => {} });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    await user.click(await screen.findByRole("button", { name: "Print…" }));
    expect(print).toHaveBeenCalledOnce();
    await user.click(screen.getByRole("button", { name: "Save as PDF…" }));
    expect(await screen.findByText(/Saved 2 pages\. A saved PDF is not encrypted/)).toBeTruthy();
    expect(ipc.last("printSave")).toEqual(["my-plan.pdf"]);
  });

  it("shows a refusal as an alert and drops the preview on close", async () => {
    const ipc = mockCommands({
      printPreview: () => {
        throw deskError({
          code: "discreet_unsafe",
          message: 'The discreet plan would show part of the victim\'s address in the section "Home".',
        });
      },
      printClose: () => {},
    });
    let closed = false;
    render(PrintDialog, { caseId: "c1", documents: ["safety_plan"], onclose: () => (closed = true) });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    expect((await screen.findByRole("alert")).textContent).toContain('section "Home"');
    await user.click(screen.getByRole("button", { name: "Close" }));
    await vi.waitFor(() => expect(closed).toBe(true));
    expect(ipc.calls("printClose")).toHaveLength(1);
  });

  it("on an address warning, prints with the address only after the advocate asks, and a changed option asks again", async () => {
    const ipc = mockCommands({
      printPreview: (form) => {
        if (!form.address_confirmed) {
          throw deskError({
            code: "address_in_text",
            message:
              "The victim's address appears in the text on page 2, typed into a field other than the address; nothing was printed.",
          });
        }
        return printPreview({ document: "chronology", discreet: false, file_name: "chronology.pdf" });
      },
    });
    const forms = () => ipc.calls("printPreview").map(([form]) => form);
    render(PrintDialog, { caseId: "c1", documents: ["chronology", "hearings"], onclose: () => {} });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    expect((await screen.findByRole("alert")).textContent).toContain("page 2");
    expect(screen.queryByAltText("Page 1 of 2")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Print with the address (recorded)" }));
    expect(await screen.findByAltText("Page 2 of 2")).toBeTruthy();
    expect(forms().map((f) => f.address_confirmed)).toEqual([false, true]);
    expect(forms()[1]).toMatchObject({ document: "chronology", case_id: "c1" });
    expect(screen.queryByRole("button", { name: "Print with the address (recorded)" })).toBeNull();

    // A new refusal, then a change of options: the offer was for the old options only.
    await user.click(screen.getByRole("button", { name: "Preview" }));
    await screen.findByRole("button", { name: "Print with the address (recorded)" });
    await user.click(screen.getByLabelText(/Large print/));
    expect(screen.queryByRole("button", { name: "Print with the address (recorded)" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    await vi.waitFor(() => expect(forms().map((f) => f.address_confirmed)).toEqual([false, true, false, false]));
    expect(forms()[3]).toMatchObject({ large_print: true });
  });

  it("offers no way past other refusals", async () => {
    mockCommands({
      printPreview: () => {
        throw deskError({
          code: "discreet_unsafe",
          message: "The discreet plan would show part of the victim's address.",
        });
      },
    });
    render(PrintDialog, { caseId: "c1", documents: ["safety_plan"], onclose: () => {} });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    await screen.findByRole("alert");
    expect(screen.queryByRole("button", { name: /Print with the address/ })).toBeNull();
  });
  it("prints a subject access answer by its request, naming no case, and sends the request for nothing else", async () => {
    const ipc = backend();
    render(PrintDialog, { caseId: null, documents: ["subject_access"], request: "r-0001", onclose: () => {} });
    // One document: named, not offered as a choice; it has no discreet form.
    expect(screen.getByText("Subject access answer")).toBeTruthy();
    expect(screen.queryByRole("radio")).toBeNull();
    expect(screen.queryByLabelText(/Discreet/)).toBeNull();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    await screen.findByAltText("Page 1 of 2");
    expect(ipc.last("printPreview")[0]).toStrictEqual({
      document: "subject_access",
      case_id: null,
      version: null,
      discreet: false,
      large_print: false,
      limit: null,
      address_confirmed: false,
      quarter: null,
      request: "r-0001",
    });
  });

  it("sends no request with a case's documents", async () => {
    const ipc = backend();
    render(PrintDialog, { caseId: "c1", documents: ["chronology"], request: "r-0001", onclose: () => {} });
    await userEvent.setup().click(screen.getByRole("button", { name: "Preview" }));
    await screen.findByAltText("Page 1 of 2");
    expect(ipc.last("printPreview")[0]).toMatchObject({ document: "chronology", case_id: "c1", request: null });
  });

  it("offers no way to print a subject access answer with the address, and says what to change instead", async () => {
    // Why: a perpetrator's answer never shows where the victim lives; the core refuses a confirmation for it.
    const ipc = mockCommands({
      printPreview: () => {
        throw deskError({
          code: "address_in_text",
          message:
            "The victim's address appears in the text on page 3, typed into a field other than the address; nothing was printed.",
        });
      },
      printClose: () => {},
    });
    render(PrintDialog, { caseId: null, documents: ["subject_access"], request: "r-0001", onclose: () => {} });
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Preview" }));
    const alert = (await screen.findByRole("alert")).textContent?.replace(/\s+/g, " ") ?? "";
    expect(alert).toContain("page 3");
    expect(alert).toContain("nothing was printed. A subject access answer is never printed with the victim's address");
    expect(alert).toMatch(/withhold the item that shows where she lives under an exemption, or release fewer items/);
    expect(screen.queryByRole("button", { name: /Print with the address/ })).toBeNull();
    expect(screen.queryByAltText(/^Page/)).toBeNull();
    expect(ipc.calls("printPreview").map(([form]) => form.address_confirmed)).toEqual([false]);
  });
});

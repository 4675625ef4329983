import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Actions from "./Actions.svelte";
import { vocabularies } from "../test-kit";
import { actionView, invalidForm, mockServer, refusal, type Route } from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { ActionView, StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

// The server's order: overdue first, then open by due date, then the closed.
const OVERDUE = actionView({
  id: "a0",
  action: "Check bail conditions",
  due_on: "2026-11-30",
  overdue: true,
  named_owner: "DC Smith",
});
const OPEN = actionView({ id: "a1", reference: "T-2", case_id: "c2", agency: "victims_charity", task_done: false });
const DONE = actionView({
  id: "a2",
  action: "Share the bail address",
  status: "done",
  overdue_closure: "not_done_by_agency",
  note: "Done a week late",
});
const ALL: ActionView[] = [OVERDUE, OPEN, DONE];

function show(role: StaffRole = "coordinator", routes: Record<string, Route> = {}) {
  const api = mockServer({ "GET /w/api/actions": { body: { actions: ALL } }, ...routes });
  const onopencase = vi.fn();
  render(Actions, { role, csrf: "csrf-from-sign-in", vocabularies: async () => vocabularies(), onopencase });
  return { api, onopencase, user: userEvent.setup() };
}

const headings = () => screen.getAllByRole("heading").map((h) => h.textContent?.trim());

describe("the panel's actions", () => {
  it("lists them overdue first, then open, then done or cancelled, each with its owner, due date and status", async () => {
    show();
    await screen.findByRole("heading", { name: "Overdue (1)" });
    expect(headings()).toEqual([
      "Panel actions",
      "Overdue (1)",
      "T-1: Check bail conditions",
      "Open (1)",
      "T-2: Apply for a Stalking Protection Order",
      "Done or cancelled (1)",
      "T-1: Share the bail address",
    ]);
    const overdue = screen.getByRole("article", { name: "T-1: Check bail conditions" });
    expect(overdue.textContent?.replace(/\s+/g, " ")).toContain("Police, DC Smith");
    expect(overdue.textContent?.replace(/\s+/g, " ")).toContain("30 Nov 2026 Overdue");
    expect(overdue.textContent).toContain("At the panel of 10 Dec 2026");
    const charity = screen.getByRole("article", { name: "T-2: Apply for a Stalking Protection Order" });
    expect(charity.textContent?.replace(/\s+/g, " ")).toContain("Task on the advocate's laptop Not done yet");
    const done = screen.getByRole("article", { name: "T-1: Share the bail address" });
    expect(done.textContent?.replace(/\s+/g, " ")).toContain("Done, after its due date: not done by the agency");
    expect(done.textContent).toContain("Done a week late");
    // A closed action has no form.
    expect(within(done).queryByRole("form")).toBeNull();
  });

  it("closes an action not yet due without asking why, and sends no reason", async () => {
    const { api, user } = show("coordinator", {
      "POST /w/api/actions/a1": { body: { actions: [OVERDUE, { ...OPEN, status: "cancelled" }, DONE] } },
    });
    const form = within(await screen.findByRole("form", { name: "Update T-2: Apply for a Stalking Protection Order" }));
    await user.selectOptions(form.getByLabelText("Status"), "Cancelled");
    expect(form.queryByLabelText(/Why it closed after its due date/)).toBeNull();
    await user.type(form.getByLabelText("Note"), "Order already made");
    await user.click(form.getByRole("button", { name: "Save T-2: Apply for a Stalking Protection Order" }));
    await screen.findByText('The action "Apply for a Stalking Protection Order" on T-2 is saved: cancelled.');
    const [sent] = api.sent("POST /w/api/actions/a1");
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(sent.body).toStrictEqual({
      status: "cancelled",
      overdue: null,
      note: "Order already made",
      named_owner: null,
    });
    expect(document.activeElement).toBe(screen.getByRole("status"));
    expect(screen.getByRole("heading", { name: "Done or cancelled (2)" })).toBeTruthy();
  });

  it("asks why an overdue action closed, and sends the reason only while closing it", async () => {
    const { api, user } = show("coordinator", { "POST /w/api/actions/a0": { body: { actions: ALL } } });
    const form = within(await screen.findByRole("form", { name: "Update T-1: Check bail conditions" }));
    expect(form.queryByLabelText(/Why it closed after its due date/)).toBeNull();
    await user.selectOptions(form.getByLabelText("Status"), "Done");
    await user.selectOptions(form.getByLabelText(/Why it closed after its due date/), "Not done by the agency");
    // Left open after all, it is not asked, and not sent.
    await user.selectOptions(form.getByLabelText("Status"), "Open");
    expect(form.queryByLabelText(/Why it closed after its due date/)).toBeNull();
    await user.click(form.getByRole("button", { name: "Save T-1: Check bail conditions" }));
    await screen.findByText(/is saved: open/);
    expect(api.sent("POST /w/api/actions/a0")[0].body).toStrictEqual({
      status: "open",
      overdue: null,
      note: null,
      named_owner: "DC Smith",
    });
  });

  it("marks the reason when the server asks for it", async () => {
    const { user } = show("coordinator", {
      "POST /w/api/actions/a0": invalidForm("the action has fields to put right", [
        { field: "overdue", rule: "say why it closed after its due date" },
      ]),
    });
    const form = within(await screen.findByRole("form", { name: "Update T-1: Check bail conditions" }));
    await user.selectOptions(form.getByLabelText("Status"), "Done");
    await user.selectOptions(form.getByLabelText(/Why it closed after its due date/), "Circumstances changed");
    await user.click(form.getByRole("button", { name: "Save T-1: Check bail conditions" }));
    expect((await form.findByRole("alert")).textContent).toBe("The action has fields to put right.");
    const why = form.getByLabelText(/Why it closed after its due date/);
    expect(why.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(why.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "Say why it closed after its due date.",
    );
    expect(document.activeElement).toBe(why);
  });

  it("opens a case from an action for the coordinator", async () => {
    const { onopencase, user } = show();
    await user.click(await screen.findByRole("button", { name: "Open case T-2" }));
    expect(onopencase).toHaveBeenCalledWith("c2");
  });

  it("gives a panel member their agency's actions to update, under Our actions", async () => {
    const { user } = show("panel_member", { "GET /w/api/actions": { body: { actions: [OVERDUE] } } });
    expect(await screen.findByRole("heading", { level: 1, name: "Our actions" })).toBeTruthy();
    expect(await screen.findByRole("form", { name: "Update T-1: Check bail conditions" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Open case T-1" })).toBeNull();
    await user.selectOptions(screen.getByLabelText("Status"), "Done");
    expect(screen.getByLabelText(/Why it closed after its due date/)).toBeTruthy();
  });

  it("gives the manager the actions to read, and nothing to change", async () => {
    show("manager");
    await screen.findByRole("heading", { name: "Overdue (1)" });
    expect(screen.queryByRole("form")).toBeNull();
  });

  it("says so when there is none, and the server's message when it refuses", async () => {
    show("panel_member", { "GET /w/api/actions": { body: { actions: [] } } });
    expect(await screen.findByText("The panel has agreed no action for your agency.")).toBeTruthy();
    vi.unstubAllGlobals();
    document.body.innerHTML = "";
    show("manager", {
      "GET /w/api/actions": refusal(403, "forbidden", "your role cannot see this; ask the clinic administrator"),
    });
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your role cannot see this; ask the clinic administrator.",
    );
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Agenda from "./Agenda.svelte";
import {
  agendaItemView,
  invalidForm,
  meetingCase,
  meetingDetail,
  meetingView,
  mockServer,
  refusal,
  researchView,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { MeetingDetail } from "./types";

afterEach(() => vi.unstubAllGlobals());

const PUBLISHED = meetingView({
  published_at: "2026-12-01T10:00:00Z",
  research_due_on: "2026-12-05",
  agenda: [agendaItemView(), agendaItemView({ case_id: "c2", reference: "T-2", minutes: 20 })],
});

/** As a panel member receives it: no attendance, no criteria, no record, their own agency's research only. */
function detail(returned = false): MeetingDetail {
  return meetingDetail(PUBLISHED, {
    attendance: [],
    cases: [
      meetingCase({
        research: [researchView({ late: true, at: "2026-12-06T10:00:00Z", summary: "Two call-outs this year." })],
      }),
      meetingCase({
        case_id: "c2",
        reference: "T-2",
        minutes: 20,
        research: returned ? [researchView({ summary: "No record of either." })] : [],
        awaiting: returned ? [] : ["police"],
      }),
    ],
  });
}

function show(routes: Record<string, Route> = {}) {
  const api = mockServer({
    "GET /w/api/meetings": { body: [PUBLISHED] },
    "GET /w/api/meetings/m1": { body: detail() },
    "POST /w/api/meetings/m1/research": { body: detail(true) },
    ...routes,
  });
  const onopencase = vi.fn();
  render(Agenda, { csrf: "csrf-from-sign-in", onopencase });
  return { api, onopencase, user: userEvent.setup() };
}

describe("a panel member's agenda", () => {
  it("shows what their agency returned on each case, late marked, with the date it was due", async () => {
    show();
    const meeting = within(await screen.findByRole("region", { name: "Panel of 10 Dec 2026" }));
    const t1 = within(await meeting.findByRole("form", { name: "Research on T-1" }));
    expect((t1.getByLabelText("Your agency's research on T-1") as HTMLTextAreaElement).value).toBe(
      "Two call-outs this year.",
    );
    expect(t1.getByRole("button", { name: "Send it again on T-1" })).toBeTruthy();
    const text = document.body.textContent?.replace(/\s+/g, " ") ?? "";
    expect(text).toContain("Due by 5 Dec 2026; research sent after that is marked late.");
    expect(text).toContain("Returned on 6 Dec 2026 by PNL1 Late");
    expect(text).toContain("Not returned yet.");
    expect(screen.queryByRole("heading", { name: "The record in brief" })).toBeNull();
  });

  it("offers their agency's extract of each published meeting, naming no agency, and not the whole minutes", async () => {
    show();
    const meeting = within(await screen.findByRole("region", { name: "Panel of 10 Dec 2026" }));
    const link = meeting.getByRole("link", { name: "Our extract (PDF)" });
    expect(link.getAttribute("href")).toBe("/w/api/meetings/m1/extract");
    expect(link.getAttribute("href")).not.toContain("agency");
    expect(link.hasAttribute("download")).toBe(true);
    expect(screen.queryByRole("link", { name: /minutes/i })).toBeNull();
    expect(screen.getAllByRole("link").map((a) => a.getAttribute("href"))).toEqual(["/w/api/meetings/m1/extract"]);
  });

  it("returns research without naming the agency: the server knows it", async () => {
    const { api, user } = show();
    const form = within(await screen.findByRole("form", { name: "Research on T-2" }));
    expect(form.queryByLabelText(/Agency/)).toBeNull();
    await user.click(form.getByRole("button", { name: "Return the research on T-2" }));
    expect((await form.findByRole("alert")).textContent).toBe("Write the research before sending it.");
    expect(api.sent("POST /w/api/meetings/m1/research")).toEqual([]);
    await user.type(form.getByLabelText("Your agency's research on T-2"), "No record of either.");
    await user.click(form.getByRole("button", { name: "Return the research on T-2" }));
    await screen.findByText("Your research on T-2 is sent.");
    const [sent] = api.sent("POST /w/api/meetings/m1/research");
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(sent.body).toStrictEqual({ case_id: "c2", summary: "No record of either." });
    expect(await screen.findByRole("button", { name: "Send it again on T-2" })).toBeTruthy();
  });

  it("marks the summary the server refuses", async () => {
    const { user } = show({
      "POST /w/api/meetings/m1/research": invalidForm("the research has fields to put right", [
        { field: "summary", rule: "must be at most 4000 characters" },
      ]),
    });
    const form = within(await screen.findByRole("form", { name: "Research on T-2" }));
    await user.type(form.getByLabelText("Your agency's research on T-2"), "Long");
    await user.click(form.getByRole("button", { name: "Return the research on T-2" }));
    await form.findByRole("alert");
    const summary = form.getByLabelText("Your agency's research on T-2");
    expect(summary.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(summary);
    expect(form.getByText("The research must be at most 4000 characters.")).toBeTruthy();
  });

  it("still lists the cases when their research cannot be loaded, and opens one", async () => {
    const { onopencase, user } = show({
      "GET /w/api/meetings/m1": refusal(404, "not_found", "there is no such record, or it is not one you may see"),
    });
    expect(
      await screen.findByText(
        "The cases' research could not be loaded: There is no such record, or it is not one you may see.",
      ),
    ).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "T-2" }));
    expect(onopencase).toHaveBeenCalledWith("c2");
  });
});

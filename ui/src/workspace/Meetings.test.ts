import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Meetings from "./Meetings.svelte";
import { agendaItemView, meetingView, mockServer, refusal, type Route } from "./server-mock";
import type { StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

function show(role: StaffRole = "coordinator", routes: Record<string, Route> = {}) {
  const api = mockServer({
    "GET /w/api/meetings": {
      body: [
        meetingView({ id: "m3", meets_on: "2027-01-14", agenda: [] }),
        meetingView({
          id: "m2",
          meets_on: "2026-12-10",
          chair: "MGR1",
          agenda: [agendaItemView(), agendaItemView({ case_id: "c2", reference: "T-2" })],
          published_at: "2026-12-01T10:00:00Z",
        }),
        meetingView({
          published_at: "2026-11-01T10:00:00Z",
          closed_at: "2026-11-20T10:00:00Z",
          meets_on: "2026-11-12",
        }),
      ],
    },
    ...routes,
  });
  const onopen = vi.fn();
  const onnew = vi.fn();
  render(Meetings, { role, onopen, onnew });
  return { api, onopen, onnew, user: userEvent.setup() };
}

describe("the panel's meetings", () => {
  it("lists each meeting by its date in words, chair, number of cases and where it stands", async () => {
    show();
    const table = await screen.findByRole("table", { name: /Panel meetings, 3 in all/ });
    const rows = within(table)
      .getAllByRole("row")
      .slice(1)
      .map((r) => [...r.querySelectorAll("th, td")].map((c) => c.textContent?.trim()));
    expect(rows).toEqual([
      ["14 Jan 2027", "COORD1", "0 cases", "Draft"],
      ["10 Dec 2026", "MGR1", "2 cases", "Published"],
      ["12 Nov 2026", "COORD1", "1 case", "Follow-up closed"],
    ]);
  });

  it("opens a meeting from its date, and lets the coordinator make a new one", async () => {
    const { onopen, onnew, user } = show();
    await user.click(await screen.findByRole("button", { name: "10 Dec 2026" }));
    expect(onopen).toHaveBeenCalledWith("m2");
    await user.click(screen.getByRole("button", { name: "New meeting" }));
    expect(onnew).toHaveBeenCalled();
  });

  it("offers the manager no new meeting", async () => {
    show("manager");
    await screen.findByRole("table", { name: /Panel meetings/ });
    expect(screen.queryByRole("button", { name: "New meeting" })).toBeNull();
  });

  it("says the server's message when it refuses", async () => {
    show("coordinator", {
      "GET /w/api/meetings": refusal(403, "forbidden", "your role cannot see this; ask the clinic administrator"),
    });
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your role cannot see this; ask the clinic administrator.",
    );
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Pathways from "./Pathways.svelte";
import { caseFile, caseloadRow, perpetrator, vocabularies } from "../test-kit";
import {
  PERPETRATOR_ID,
  caseAnswer,
  caseload,
  invalidForm,
  mockServer,
  pathwayFigures,
  pathwayStep,
  pathwaysView,
  pathwayView,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { PathwaysView, StaffRole } from "./types";
import { londonToday } from "./words";

afterEach(() => vi.unstubAllGlobals());

const OTHER_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const VIEW: PathwaysView = pathwaysView({
  pathways: [
    pathwayView(),
    pathwayView({
      case_id: "c2",
      reference: "T-2",
      perpetrator_id: OTHER_ID,
      kind: "mappa",
      steps: [
        pathwayStep(),
        pathwayStep({ stage: "accepted", on: "2026-11-09", at: "2026-11-09T10:00:00Z" }),
        pathwayStep({ stage: "started", on: "2026-11-20", by: "COORD2", at: "2026-11-20T10:00:00Z" }),
      ],
    }),
  ],
  figures: [
    pathwayFigures({ referred: 1 }),
    pathwayFigures({ kind: "mappa", referred: 1, accepted: 1, started: 1 }),
    pathwayFigures({ kind: null, referred: 2, accepted: 1, started: 1 }),
  ],
});

function show(role: StaffRole = "coordinator", routes: Record<string, Route> = {}) {
  const api = mockServer({
    "GET /w/api/pathways": { body: VIEW },
    "GET /w/api/caseload": caseload([
      caseloadRow(),
      caseloadRow({ case_id: "c2", reference: "T-2", advocate: "ADV2" }),
    ]),
    "GET /w/api/cases/c1": caseAnswer(
      caseFile({
        perpetrators: [
          perpetrator({ id: PERPETRATOR_ID, names: ["Test Suspect"] }),
          perpetrator({ id: "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a", names: ["Second Suspect", "S. Suspect"] }),
        ],
      }),
    ),
    "GET /w/api/cases/c2": caseAnswer(
      caseFile({ perpetrators: [perpetrator({ id: OTHER_ID, case_id: "c2", names: ["Other Suspect"] })] }),
    ),
    "POST /w/api/pathways": { body: VIEW },
    ...routes,
  });
  const onopencase = vi.fn();
  render(Pathways, { role, csrf: "csrf-from-sign-in", vocabularies: async () => vocabularies(), onopencase });
  return { api, onopencase, user: userEvent.setup() };
}

const words = (el: Element) => el.textContent?.replace(/\s+/g, " ").trim();
const rowsOf = (table: HTMLElement) =>
  within(table)
    .getAllByRole("row")
    .map((r) => [...r.querySelectorAll("th, td")].map(words));

function sentBody(api: ReturnType<typeof mockServer>) {
  const sent = api.sent("POST /w/api/pathways");
  expect(sent.length).toBe(1);
  expect(sent[0].headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
  return sent[0].body;
}

describe("the perpetrators' pathways", () => {
  it("gives the commissioner's figures, each kind's count at each stage", async () => {
    show();
    const table = await screen.findByRole("table", { name: /commissioner's pathway figures/ });
    expect(rowsOf(table)).toEqual([
      ["Pathway", "Referred", "Accepted", "Declined", "Started", "Completed", "Reoffended"],
      ["Mental-health pathway", "1", "0", "0", "0", "0", "0"],
      ["MAPPA referral", "1", "1", "0", "1", "0", "0"],
      ["All pathways", "2", "1", "0", "1", "0", "0"],
    ]);
  });

  it("lists the pathways by case, each perpetrator by their record and never by name, with the steps' dates", async () => {
    const { onopencase, user } = show();
    const list = within((await screen.findByRole("heading", { name: "Pathways by case" })).closest("section")!);
    const t2 = within(list.getByRole("region", { name: "T-2" }));
    expect(t2.getByText("Perpetrator 9a8b7c6d")).toBeTruthy();
    expect(
      t2
        .getAllByRole("listitem")
        .slice(1)
        .map((li) => words(li)),
    ).toEqual([
      "Referred: 2 Nov 2026 (recorded by COORD1)",
      "Accepted: 9 Nov 2026 (recorded by COORD1)",
      "Started: 20 Nov 2026 (recorded by COORD2)",
    ]);
    expect(words(list.getByRole("region", { name: "T-1" }).querySelector("li")!)).toMatch(
      /^Perpetrator 5f0c2d1e, Mental-health pathway Referred: 2 Nov 2026/,
    );
    expect(document.body.textContent).not.toContain("Suspect");
    await user.click(list.getByRole("button", { name: "T-2" }));
    expect(onopencase).toHaveBeenCalledWith("c2");
  });

  it("records a step: the case from the caseload, its perpetrator from the case, ids only sent", async () => {
    const { api, user } = show();
    await user.click(await screen.findByRole("button", { name: "Record a step" }));
    const form = within(screen.getByRole("form", { name: "Record a step on a pathway" }));
    const picker = form.getByLabelText(/^Case/) as HTMLSelectElement;
    expect(document.activeElement).toBe(picker);
    await user.selectOptions(picker, await form.findByRole("option", { name: "T-1, advocate ADV1" }));
    const who = form.getByLabelText(/^Perpetrator/) as HTMLSelectElement;
    await form.findByRole("option", { name: "Test Suspect (Perpetrator 5f0c2d1e)" });
    expect([...who.options].map((o) => o.textContent)).toEqual([
      "Choose the perpetrator",
      "Test Suspect (Perpetrator 5f0c2d1e)",
      "Second Suspect / S. Suspect (Perpetrator 0d1e2f3a)",
    ]);
    await user.selectOptions(who, "Test Suspect (Perpetrator 5f0c2d1e)");
    const stage = form.getByLabelText(/^Stage/) as HTMLSelectElement;
    // The next step is chosen for the coordinator: referred already, so accepted; a new MAPPA referral, referred.
    await user.selectOptions(form.getByLabelText(/^Pathway/), "Mental-health pathway");
    expect(stage.value).toBe("accepted");
    await user.selectOptions(form.getByLabelText(/^Pathway/), "MAPPA referral");
    expect(stage.value).toBe("referred");
    // The date is today's in London unless changed.
    expect((form.getByLabelText(/^Date of the step/) as HTMLInputElement).value).not.toBe("");
    await user.click(form.getByRole("button", { name: "Record the step" }));
    await screen.findByText(/^Referred on .* is recorded on the MAPPA referral of Perpetrator 5f0c2d1e on T-1\.$/);
    expect(sentBody(api)).toStrictEqual({
      case_id: "c1",
      perpetrator_id: PERPETRATOR_ID,
      kind: "mappa",
      stage: "referred",
      on: londonToday(),
    });
    expect(screen.queryByRole("form")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("status"));
  });

  it("says what is missing before sending anything", async () => {
    const { api, user } = show();
    await user.click(await screen.findByRole("button", { name: "Record a step" }));
    const form = within(screen.getByRole("form", { name: "Record a step on a pathway" }));
    await form.findByRole("option", { name: "T-1, advocate ADV1" });
    await user.click(form.getByRole("button", { name: "Record the step" }));
    expect((await form.findByRole("alert")).textContent).toBe("Choose the case.");
    for (const label of [/^Case/, /^Perpetrator/, /^Pathway/, /^Stage/])
      expect(form.getByLabelText(label).getAttribute("aria-invalid")).toBe("true");
    expect(api.sent("POST /w/api/pathways")).toEqual([]);
  });

  it("records the next step of a pathway listed, and marks the stage the server refuses by the stage", async () => {
    const { api, user } = show("coordinator", {
      "POST /w/api/pathways": invalidForm("the step has fields to put right", [
        { field: "stage", rule: "the referral was already accepted or declined" },
      ]),
    });
    await user.click(
      await screen.findByRole("button", {
        name: "Record the next step for Perpetrator 9a8b7c6d, MAPPA referral, on T-2",
      }),
    );
    const form = within(screen.getByRole("form", { name: "Record a step on a pathway" }));
    const stage = form.getByLabelText(/^Stage/) as HTMLSelectElement;
    expect(stage.value).toBe("completed");
    expect(document.activeElement).toBe(stage);
    await form.findByRole("option", { name: "Other Suspect (Perpetrator 9a8b7c6d)" });
    expect((form.getByLabelText(/^Perpetrator/) as HTMLSelectElement).value).toBe(OTHER_ID);
    await user.selectOptions(stage, "Declined");
    await user.click(form.getByRole("button", { name: "Record the step" }));
    expect((await form.findByRole("alert")).textContent).toBe("The step has fields to put right.");
    expect(stage.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(stage.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "The referral was already accepted or declined.",
    );
    expect(document.activeElement).toBe(stage);
    expect(sentBody(api)).toStrictEqual({
      case_id: "c2",
      perpetrator_id: OTHER_ID,
      kind: "mappa",
      stage: "declined",
      on: londonToday(),
    });
  });

  it("gives the focus back to the button that opened the form when it is cancelled", async () => {
    const { api, user } = show();
    const record = await screen.findByRole("button", { name: "Record a step" });
    await user.click(record);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("form")).toBeNull();
    expect(document.activeElement).toBe(record);
    expect(api.sent("POST /w/api/pathways")).toEqual([]);
  });

  it("gives the manager the pathways and figures to read, and nothing to record", async () => {
    const { api } = show("manager");
    await screen.findByRole("table", { name: /commissioner's pathway figures/ });
    await screen.findByRole("region", { name: "T-2" });
    expect(screen.queryByRole("button", { name: "Record a step" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Record the next step/ })).toBeNull();
    expect(screen.queryByRole("form")).toBeNull();
    expect(api.sent("GET /w/api/caseload")).toEqual([]);
  });
});

import { describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import CaseScreen from "./CaseScreen.svelte";
import {
  accessRequest,
  askedFields,
  caseRecord,
  choices,
  deskError,
  caseView,
  escalating,
  escalation,
  escalationReview,
  mockCommands,
  perpetrator,
  PRESENTED,
  riskAssessment,
  seriousA11yProblems,
  safeContact,
  safePhone,
  shownFields,
  victim,
  vocabularies,
  withField,
} from "../test-kit";
import type { CaseView, Vocabularies } from "../lib/types";
import type * as B from "../lib/bindings";
import { londonLocalNow } from "../lib/format";
import { formatUkDate } from "../lib/ukdate";

// The app fetches the vocabularies once; here each test serves its own, so the fetch is not kept.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, vocabularies: () => real.commands.vocabularies() };
});

const view = caseView({
  file: {
    victim: victim({
      safe_contact: safeContact({
        phones: [safePhone({ label: "work", text_ok: true, voicemail_ok: false, safe_times: "after 6pm" })],
      }),
    }),
  },
  warnings: [
    { kind: "address_not_disclosed", severity: "danger", text: "Address: do not disclose" },
    { kind: "order_in_force", severity: "caution", text: "Stalking Protection Order in force until 12 March 2028" },
  ],
});

const backend = (shown = view) =>
  mockCommands({ vocabularies: () => vocabularies(), caseView: () => shown, instruments: () => [] });

describe("CaseScreen", () => {
  it("shows risk, warnings in order and the safe-contact rules by the phone number", async () => {
    const ipc = backend();
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const warnings = await screen.findByRole("list", { name: "Warnings" });
    const items = within(warnings)
      .getAllByRole("listitem")
      .map((li) => li.textContent);
    expect(items).toEqual(["Address: do not disclose", "Stalking Protection Order in force until 12 March 2028"]);
    expect(screen.getByText(/Risk: High/).textContent).toContain("review 5 Dec 2026");
    const safe = screen.getByRole("list", { name: "Safe contact" }).textContent ?? "";
    expect(safe).toContain("07700900123");
    expect(safe).toContain("texts OK, no voicemail, after 6pm");
    expect(ipc.last("caseView")).toEqual(["c1"]);
  });

  it("says a case with no risk level is not assessed", async () => {
    backend(caseView({ file: { case: caseRecord({ risk_level: null, risk_review_on: null }) } }));
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    expect((await screen.findByText(/^\s*Risk:/)).textContent?.trim()).toBe("Risk: Not assessed");
  });

  it("closes the case through closeCase with the closure's own field names, never through editRecord", async () => {
    // Why: close_case takes the closure's own fields and sets the status itself; the "closure." prefix only labels errors.
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      caseView: () => view,
      instruments: () => [],
      closeCase: (_caseId, closure) =>
        caseRecord({
          status: "closed",
          closure: {
            closed_on: String(closure.closed_on),
            reason: "victim_declined",
            feels_safer: null,
            behaviour_stopped: null,
            quality_of_life_improved: null,
            better_able_to_cope: null,
          },
        }),
    });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = screen.getByRole("form", { name: "Close the case" });
    const shown = (within(form).getByLabelText(/^Closed on/) as HTMLInputElement).value;
    expect(shown).toMatch(/^\d{2}\/\d{2}\/\d{4}$/);
    const [day, month, year] = shown.split("/");
    await user.selectOptions(within(form).getByLabelText(/^Why the case is closing/), "Victim declined support");
    await user.click(within(form).getByRole("button", { name: "Close the case" }));
    await vi.waitFor(() => expect(ipc.calls("closeCase")).toHaveLength(1));
    expect(ipc.last("closeCase")).toStrictEqual([
      "c1",
      // Outcomes at exit left unanswered are sent as not asked.
      {
        closed_on: `${year}-${month}-${day}`,
        reason: "victim_declined",
        feels_safer: null,
        behaviour_stopped: null,
        quality_of_life_improved: null,
        better_able_to_cope: null,
      },
      false,
    ]);
    expect(ipc.calls("editRecord")).toEqual([]);
  });

  it("asks exactly the closure's fields the core presents, in its order and words", async () => {
    // Why: closing a case is the closure's own screen; its fields and words are the core's, the case's other fields are not asked here.
    const vocab = vocabularies();
    mockCommands({ vocabularies: () => vocab, caseView: () => view, instruments: () => [] });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    await userEvent.setup().click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = screen.getByRole("form", { name: "Close the case" });
    const expected = askedFields(vocab, "case", "own_screen", "closure").map((p) => p.label);
    expect(shownFields(form)).toEqual(expected);
    expect(expected).toEqual([
      "Closed on",
      "Why the case is closing",
      "The victim feels safer",
      "The stalking behaviour stopped",
      "Quality of life improved",
      "Better able to cope and recover",
    ]);
    const feelsSafer = within(form).getByRole("combobox", { name: "The victim feels safer" });
    expect(
      within(feelsSafer)
        .getAllByRole("option")
        .map((o) => o.textContent),
    ).toEqual(["Not answered", "Yes", "No"]);
  });

  it("sends the outcomes at exit as true, false or null", async () => {
    // Why: the core reads each as `boolean | null`; the words "yes" or "true" would be refused, and "no" must not be read as not asked.
    const ipc = mockCommands({
      vocabularies: () => vocabularies(),
      caseView: () => view,
      instruments: () => [],
      closeCase: () => caseRecord({ status: "closed" }),
    });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = within(screen.getByRole("form", { name: "Close the case" }));
    await user.selectOptions(form.getByRole("combobox", { name: /^Why the case is closing/ }), "support_complete");
    await user.selectOptions(form.getByRole("combobox", { name: "The victim feels safer" }), "Yes");
    await user.selectOptions(form.getByRole("combobox", { name: "The stalking behaviour stopped" }), "No");
    await user.click(form.getByRole("button", { name: "Close the case" }));
    await vi.waitFor(() => expect(ipc.calls("closeCase")).toHaveLength(1));
    const [, closure] = ipc.last("closeCase");
    expect(closure.feels_safer).toBe(true);
    expect(closure.behaviour_stopped).toBe(false);
    expect(closure.quality_of_life_improved).toBeNull();
  });

  it("shows a closure field the core adds, as a text input, and none of the case's other fields", async () => {
    // Why: the close form derives from the presented list, so a field new in Rust appears; the `closure.` scope keeps the case's own fields out.
    const added: Vocabularies = withField(
      "case",
      { field: "closure.closing_letter_sent_on", label: "Closing letter sent on", asked: "own_screen" },
      "closure.reason",
    );
    mockCommands({ vocabularies: () => added, caseView: () => view, instruments: () => [] });
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    await userEvent.setup().click(await screen.findByRole("button", { name: "Close the case…" }));
    const form = screen.getByRole("form", { name: "Close the case" });
    const letter = within(form).getByRole("textbox", { name: "Closing letter sent on" }) as HTMLInputElement;
    expect(letter.id).toBe("case-close-closure-closing_letter_sent_on");
    expect(shownFields(form).slice(1, 3)).toEqual(["Why the case is closing", "Closing letter sent on"]);
    expect(shownFields(form)).not.toContain("Risk level");
  });

  it("moves between sections with the arrow keys", async () => {
    backend();
    render(CaseScreen, { caseId: "c1", onsaved: () => {} });
    const incidents = await screen.findByRole("tab", { name: "Incidents" });
    expect(incidents.getAttribute("aria-selected")).toBe("true");
    incidents.focus();
    await userEvent.setup().keyboard("{ArrowRight}");
    expect(screen.getByRole("tab", { name: "Risk" }).getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement?.textContent).toBe("Risk");
  });

  describe("when the case is escalating", () => {
    const assessments = [
      riskAssessment({ id: "a1", instrument: "s-dash", assessed_on: "2026-10-01" }),
      riskAssessment({ id: "a2", instrument: "dash", assessed_on: "2026-11-21" }),
    ];
    const flagged = caseView({
      file: { escalation: escalating(), risk_assessments: assessments },
      warnings: view.warnings,
    });
    const reviewedView = caseView({
      file: {
        escalation: escalation({ last_review: "2026-11-22T10:15:00.000000Z" }),
        risk_assessments: assessments,
        escalation_reviews: [escalationReview({ signs: ["more_frequent", "risk_review_due"] })],
      },
      warnings: view.warnings,
    });

    it("shows Escalating before every other warning, each finding by its sign", async () => {
      backend(flagged);
      render(CaseScreen, { caseId: "c1", onsaved: () => {} });
      const title = await screen.findByRole("heading", { name: "Escalating" });
      const warning = title.closest("section") as HTMLElement;
      const others = screen.getByRole("list", { name: "Warnings" });
      expect(warning.compareDocumentPosition(others) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
      expect(warning.closest("header")).toBe(others.closest("header"));
      const findings = within(within(warning).getByRole("list", { name: "What changed" }))
        .getAllByRole("listitem")
        .map((li) => li.textContent);
      expect(findings).toEqual([
        "More frequent incidents: 3 incidents in the last 7 days, against about 1 a week before",
        "Risk review due: re-assess risk: the last assessment was on 1 October, before this",
      ]);
    });

    it("shows no escalation warning when nothing is flagged", async () => {
      backend(reviewedView);
      render(CaseScreen, { caseId: "c1", onsaved: () => {} });
      await screen.findByRole("list", { name: "Warnings" });
      expect(screen.queryByRole("heading", { name: "Escalating" })).toBeNull();
      expect(screen.queryByRole("button", { name: "Mark reviewed" })).toBeNull();
    });

    it("opens the Risk section's new assessment from the warning", async () => {
      backend(flagged);
      render(CaseScreen, { caseId: "c1", onsaved: () => {} });
      await userEvent.setup().click(await screen.findByRole("button", { name: "Start a risk assessment" }));
      expect(screen.getByRole("tab", { name: "Risk" }).getAttribute("aria-selected")).toBe("true");
      expect(screen.getByRole("form", { name: "New assessment" })).toBeTruthy();
      expect(document.activeElement?.id).toBe("risk-instrument");
    });

    it("refuses a review without a note, and saves one with the findings' signs and the chosen assessment", async () => {
      // Why: the review covers what was on screen, so its signs come from the findings, never from a choice; and a review that says nothing was decided is no review.
      let current = flagged;
      const onsaved = vi.fn();
      const ipc = mockCommands({
        vocabularies: () => vocabularies(),
        caseView: () => current,
        instruments: () => [],
        addRecord: (_kind, caseId, fields) => {
          current = reviewedView;
          return escalationReview({ case_id: caseId ?? "c1", note: String(fields.note) });
        },
      });
      render(CaseScreen, { caseId: "c1", onsaved });
      const user = userEvent.setup();
      await user.click(await screen.findByRole("button", { name: "Mark reviewed" }));
      const form = screen.getByRole("form", { name: "Mark the escalation reviewed" });
      const note = within(form).getByRole("textbox", { name: /^What was decided/ });
      expect(document.activeElement).toBe(note);
      expect(
        within(within(form).getByRole("list", { name: "Reviewed" }))
          .getAllByRole("listitem")
          .map((li) => li.textContent),
      ).toEqual(["More frequent incidents", "Risk review due"]);
      expect(await seriousA11yProblems()).toEqual([]);

      // A blank note (spaces only) is refused here, by the field, and nothing is sent.
      await user.type(note, "   ");
      await user.click(within(form).getByRole("button", { name: "Save the review" }));
      expect(await within(form).findByRole("alert")).toBeTruthy();
      expect(note.getAttribute("aria-invalid")).toBe("true");
      expect(within(form).getByText("note must not be empty")).toBeTruthy();
      expect(ipc.calls("addRecord")).toEqual([]);

      // The case's assessments, newest first, by instrument and date.
      const linked = within(form).getByRole("combobox", { name: "New risk assessment" }) as HTMLSelectElement;
      expect([...linked.options].map((o) => o.textContent)).toEqual([
        "None",
        "dash (assessed 21 Nov 2026)",
        "s-dash (assessed 1 Oct 2026)",
      ]);
      await user.selectOptions(linked, "a2");
      await user.clear(note);
      await user.type(note, "Police told; risk to be re-assessed at Tuesday's visit.");
      await user.click(within(form).getByRole("button", { name: "Save the review" }));
      await vi.waitFor(() => expect(ipc.calls("addRecord")).toHaveLength(1));
      expect(ipc.last("addRecord")).toEqual([
        "escalation_review",
        "c1",
        {
          note: "Police told; risk to be re-assessed at Tuesday's visit.",
          risk_assessment_id: "a2",
          signs: ["more_frequent", "risk_review_due"],
        },
        false,
      ]);
      // The case view comes afresh and the finding is gone.
      await vi.waitFor(() => expect(screen.queryByRole("heading", { name: "Escalating" })).toBeNull());
      expect(onsaved).toHaveBeenCalledTimes(1);
      expect(ipc.calls("caseView")).toHaveLength(2);
    });

    it("lists past escalation reviews in the Risk section, with their signs and the assessment each led to", async () => {
      const reviews = caseView({
        file: {
          risk_assessments: assessments,
          escalation_reviews: [
            escalationReview({ id: "e1", reviewed_at: "2026-10-02T09:00:00Z", note: "First look", signs: ["breach"] }),
            escalationReview({
              id: "e2",
              reviewed_at: "2026-11-21T16:00:00Z",
              note: "Re-assessed",
              signs: ["more_frequent", "risk_review_due"],
              risk_assessment_id: "a2",
            }),
          ],
        },
      });
      backend(reviews);
      render(CaseScreen, { caseId: "c1", onsaved: () => {} });
      await userEvent.setup().click(await screen.findByRole("tab", { name: "Risk" }));
      const items = [...document.querySelectorAll(".escalation-reviews > li")].map((li) => li.textContent ?? "");
      expect(items).toHaveLength(2);
      expect(items[0]).toContain("21 Nov 2026");
      expect(items[0]).toContain("More frequent incidents, Risk review due");
      expect(items[0]).toContain("led to the dash assessment of 21 Nov 2026");
      expect(items[1]).toContain("Breach of an order or condition");
      expect(items[1]).toContain("“First look”");
      expect(items[1]).not.toContain("led to");
    });
  });

  describe("legal hold", () => {
    // The hold's fields as the core presents them (waymark-domain's records/case.rs), and its reasons' words (vocab.rs).
    const holdVocab = vocabularies({
      hold_reasons: choices("hold_reasons", {
        ongoing_proceedings: "Ongoing criminal or civil proceedings",
        review: "A domestic homicide or safeguarding review",
      }),
      presented: PRESENTED.map((k): B.KindFields =>
        k.kind === "case"
          ? {
              ...k,
              fields: [
                ...k.fields.filter((f) => !f.field.startsWith("legal_hold.")),
                { field: "legal_hold.reason", label: "Kept under a legal hold because", asked: "own_screen" },
                { field: "legal_hold.since", label: "Legal hold since", asked: "own_screen" },
              ],
            }
          : k,
      ),
    });
    const closure: B.Closure_Serialize = {
      closed_on: "2026-10-01",
      reason: "victim_declined",
      feels_safer: null,
      behaviour_stopped: null,
      quality_of_life_improved: null,
      better_able_to_cope: null,
    };
    const closedView = (legal_hold: B.LegalHold | null) =>
      caseView({ file: { case: caseRecord({ status: "closed", closure, legal_hold }) } });
    const heldView = closedView({ reason: "ongoing_proceedings", since: "2026-12-07" });

    /** The core: the case as the last edit left it; an edit refused when the test says. */
    function holdBackend(start: CaseView, refuse?: B.DeskError_Serialize) {
      let current = start;
      return mockCommands({
        vocabularies: () => holdVocab,
        caseView: () => current,
        instruments: () => [],
        editRecord: (_kind, _id, fields) => {
          if (refuse) throw refuse;
          const hold = fields.legal_hold as B.LegalHold | null;
          current = closedView(hold);
          return current.file.case;
        },
      });
    }

    it("places a hold on a closed case through the case edit, as one legal_hold with its reason and since", async () => {
      // Why: the hold is one field of the case; the core reads it whole, and a null would lift it.
      const ipc = holdBackend(closedView(null));
      const onsaved = vi.fn();
      render(CaseScreen, { caseId: "c1", onsaved });
      const section = (await screen.findByRole("heading", { name: "Legal hold" })).closest("section") as HTMLElement;
      expect(within(section).getByText("No legal hold: the retention schedule applies.")).toBeTruthy();
      const form = within(section).getByRole("form", { name: "Place a legal hold" });
      expect(shownFields(form)).toEqual(["Kept under a legal hold because", "Legal hold since"]);
      const reason = within(form).getByRole("combobox", { name: /^Kept under a legal hold because/ });
      expect(
        within(reason)
          .getAllByRole("option")
          .map((o) => o.textContent),
      ).toEqual(["Choose…", "Ongoing criminal or civil proceedings", "A domestic homicide or safeguarding review"]);
      // Since defaults to today, day/month/year.
      const since = within(form).getByLabelText(/^Legal hold since/) as HTMLInputElement;
      expect(since.value).toBe(formatUkDate(londonLocalNow().slice(0, 10)));
      expect(await seriousA11yProblems()).toEqual([]);

      const user = userEvent.setup();
      await user.selectOptions(reason, "Ongoing criminal or civil proceedings");
      await user.clear(since);
      await user.type(since, "07/12/2026");
      await user.click(within(form).getByRole("button", { name: "Place hold" }));
      await vi.waitFor(() => expect(ipc.calls("editRecord")).toHaveLength(1));
      expect(ipc.last("editRecord")).toStrictEqual([
        "case",
        "c1",
        { legal_hold: { reason: "ongoing_proceedings", since: "2026-12-07" } },
        false,
      ]);
      expect(ipc.calls("closeCase")).toEqual([]);
      // The case comes afresh, held.
      expect(
        await within(section).findByText("Held: Ongoing criminal or civil proceedings since 07/12/2026."),
      ).toBeTruthy();
      expect(within(section).queryByRole("form")).toBeNull();
      expect(onsaved).toHaveBeenCalledTimes(1);
    });

    it("shows the core's refusal by the field it names, and keeps what was typed", async () => {
      const ipc = holdBackend(
        closedView(null),
        deskError({ message: "The form has problems.", fields: [{ field: "legal_hold.reason", rule: "is required" }] }),
      );
      render(CaseScreen, { caseId: "c1", onsaved: () => {} });
      const user = userEvent.setup();
      const form = await screen.findByRole("form", { name: "Place a legal hold" });
      await user.click(within(form).getByRole("button", { name: "Place hold" }));
      // A reason left unchosen is not sent, so the core names it.
      await vi.waitFor(() => expect(ipc.calls("editRecord")).toHaveLength(1));
      expect(ipc.last("editRecord")[2]).toStrictEqual({
        legal_hold: { since: londonLocalNow().slice(0, 10) },
      });
      expect((await within(form).findByRole("alert")).textContent).toBe("The form has problems.");
      const reason = within(form).getByRole("combobox", { name: /^Kept under a legal hold because/ });
      expect(reason.getAttribute("aria-invalid")).toBe("true");
      expect(document.getElementById(reason.getAttribute("aria-describedby") ?? "")?.textContent).toMatch(
        /is required$/,
      );
      expect(
        within(form)
          .getByLabelText(/^Legal hold since/)
          .getAttribute("aria-invalid"),
      ).toBeNull();
    });

    it("shows a hold by its reason and date, and lifts it with null only once asked again", async () => {
      const ipc = holdBackend(heldView);
      const onsaved = vi.fn();
      render(CaseScreen, { caseId: "c1", onsaved });
      const section = (await screen.findByRole("heading", { name: "Legal hold" })).closest("section") as HTMLElement;
      expect(within(section).getByText("Held: Ongoing criminal or civil proceedings since 07/12/2026.")).toBeTruthy();
      expect(within(section).queryByRole("form")).toBeNull();

      // Asked first; the safe answer has the focus and keeps the hold.
      const user = userEvent.setup();
      await user.click(within(section).getByRole("button", { name: "Lift hold" }));
      const question = within(section).getByRole("group", { name: /^Lift the legal hold\?/ });
      expect(document.activeElement).toBe(within(question).getByRole("button", { name: "Keep the hold" }));
      expect(await seriousA11yProblems()).toEqual([]);
      await user.click(within(question).getByRole("button", { name: "Keep the hold" }));
      expect(within(section).queryByRole("group")).toBeNull();
      expect(document.activeElement).toBe(within(section).getByRole("button", { name: "Lift hold" }));
      expect(ipc.calls("editRecord")).toEqual([]);

      await user.click(within(section).getByRole("button", { name: "Lift hold" }));
      await user.click(within(section).getByRole("button", { name: "Lift the hold" }));
      await vi.waitFor(() => expect(ipc.calls("editRecord")).toHaveLength(1));
      expect(ipc.last("editRecord")).toStrictEqual(["case", "c1", { legal_hold: null }, false]);
      // The case comes afresh, not held: the form to place one is back.
      expect(await within(section).findByRole("form", { name: "Place a legal hold" })).toBeTruthy();
      expect(within(section).queryByText(/^Held:/)).toBeNull();
      expect(onsaved).toHaveBeenCalledTimes(1);
    });

    it("keeps the hold on screen and says why when lifting is refused", async () => {
      holdBackend(heldView, deskError({ code: "clash", message: "The hold was changed on another laptop." }));
      render(CaseScreen, { caseId: "c1", onsaved: () => {} });
      const user = userEvent.setup();
      await user.click(await screen.findByRole("button", { name: "Lift hold" }));
      await user.click(screen.getByRole("button", { name: "Lift the hold" }));
      expect((await screen.findByRole("alert")).textContent).toBe("The hold was changed on another laptop.");
      expect(screen.getByText("Held: Ongoing criminal or civil proceedings since 07/12/2026.")).toBeTruthy();
    });

    it("offers a hold on an open case too, behind a button, with a way back", async () => {
      holdBackend(caseView());
      render(CaseScreen, { caseId: "c1", onsaved: () => {} });
      const user = userEvent.setup();
      expect(screen.queryByRole("heading", { name: "Legal hold" })).toBeNull();
      await user.click(await screen.findByRole("button", { name: "Place a legal hold…" }));
      const form = screen.getByRole("form", { name: "Place a legal hold" });
      expect(document.activeElement).toBe(
        within(form).getByRole("combobox", { name: /^Kept under a legal hold because/ }),
      );
      expect(screen.queryByText("No legal hold: the retention schedule applies.")).toBeNull();
      await user.click(within(form).getByRole("button", { name: "Cancel" }));
      expect(screen.queryByRole("form", { name: "Place a legal hold" })).toBeNull();
      expect(document.activeElement).toBe(screen.getByRole("button", { name: "Place a legal hold…" }));
    });
  });
  describe("subject access", () => {
    const twoPerpetrators = caseView({
      file: {
        perpetrators: [
          perpetrator({ id: "p1", names: ["Test Suspect", "T. Suspect"] }),
          perpetrator({ id: "p2", names: ["Second Suspect"] }),
        ],
      },
    });
    const existing = accessRequest({ id: "r-0001", subject: "perpetrator", perpetrator_id: "p2" });

    /** The core: the case's requests, and a new one recorded (or refused, when the test says). */
    function accessBackend(refuse?: B.DeskError_Serialize) {
      return mockCommands({
        vocabularies: () => vocabularies(),
        caseView: () => twoPerpetrators,
        instruments: () => [],
        accessRequests: () => [existing],
        accessRequest: (caseId, subject, perpetratorId, receivedOn) => {
          if (refuse) throw refuse;
          return accessRequest({
            id: "r-new",
            case_id: caseId,
            subject,
            perpetrator_id: perpetratorId,
            received_on: receivedOn,
          });
        },
      });
    }

    async function openSection() {
      const user = userEvent.setup();
      await user.click(await screen.findByRole("tab", { name: "Subject access" }));
      return user;
    }

    it("lists the case's requests, naming the perpetrator who asked, and opens one", async () => {
      const ipc = accessBackend();
      const onaccess = vi.fn();
      render(CaseScreen, { caseId: "c1", onsaved: () => {}, onaccess });
      // Fetched only when the section is opened.
      await screen.findByRole("tab", { name: "Subject access" });
      expect(ipc.calls("accessRequests")).toEqual([]);
      const user = await openSection();
      const table = await screen.findByRole("table", { name: "This case's requests" });
      expect(ipc.calls("accessRequests")).toEqual([["c1"]]);
      const cells = [...within(table).getAllByRole("row")[1].querySelectorAll("td")].map((td) => td.textContent);
      expect(cells.slice(0, 3)).toEqual(["The perpetrator (Second Suspect)", "01/11/2026", "01/12/2026"]);
      await user.click(
        within(table).getByRole("button", {
          name: "Open the request of the perpetrator (Second Suspect), received 01/11/2026",
        }),
      );
      expect(onaccess).toHaveBeenCalledWith("r-0001");
      expect(await seriousA11yProblems()).toEqual([]);
    });

    it("records a victim's request with no perpetrator, and opens its review", async () => {
      const ipc = accessBackend();
      const onaccess = vi.fn();
      const onsaved = vi.fn();
      render(CaseScreen, { caseId: "c1", onsaved, onaccess });
      const user = await openSection();
      await user.click(await screen.findByRole("button", { name: "Record a subject access request…" }));
      const form = screen.getByRole("form", { name: "Subject access request" });
      const whose = within(form).getByRole("combobox", { name: /^Whose request/ });
      expect(document.activeElement).toBe(whose);
      expect(
        within(whose)
          .getAllByRole("option")
          .map((o) => o.textContent),
      ).toEqual(["Choose…", "The victim", "The perpetrator"]);
      // Received on: today by default, day/month/year, never the web view's date input.
      const received = within(form).getByLabelText(/^Received on/) as HTMLInputElement;
      expect(received.value).toBe(formatUkDate(londonLocalNow().slice(0, 10)));
      expect(received.type).toBe("text");
      expect(await seriousA11yProblems()).toEqual([]);

      await user.selectOptions(whose, "The victim");
      expect(within(form).queryByRole("combobox", { name: /^Which perpetrator/ })).toBeNull();
      await user.clear(received);
      await user.type(received, "03/11/2026");
      await user.click(within(form).getByRole("button", { name: "Record the request" }));
      await vi.waitFor(() => expect(ipc.calls("accessRequest")).toHaveLength(1));
      expect(ipc.last("accessRequest")).toStrictEqual(["c1", "victim", null, "2026-11-03"]);
      await vi.waitFor(() => expect(onaccess).toHaveBeenCalledWith("r-new"));
      expect(onsaved).toHaveBeenCalledTimes(1);
    });

    it("sends the perpetrator's record only for his request, and not once the victim is chosen instead", async () => {
      const ipc = accessBackend();
      render(CaseScreen, { caseId: "c1", onsaved: () => {}, onaccess: () => {} });
      const user = await openSection();
      await user.click(await screen.findByRole("button", { name: "Record a subject access request…" }));
      const form = screen.getByRole("form", { name: "Subject access request" });
      const whose = within(form).getByRole("combobox", { name: /^Whose request/ });
      await user.selectOptions(whose, "The perpetrator");
      const which = within(form).getByRole("combobox", { name: /^Which perpetrator asked/ });
      expect(
        within(which)
          .getAllByRole("option")
          .map((o) => o.textContent),
      ).toEqual(["Choose…", "Test Suspect / T. Suspect", "Second Suspect"]);
      await user.selectOptions(which, "Second Suspect");
      const received = within(form).getByLabelText(/^Received on/);
      await user.clear(received);
      await user.type(received, "03/11/2026");
      await user.click(within(form).getByRole("button", { name: "Record the request" }));
      await vi.waitFor(() => expect(ipc.calls("accessRequest")).toHaveLength(1));
      expect(ipc.last("accessRequest")).toStrictEqual(["c1", "perpetrator", "p2", "2026-11-03"]);
    });

    it("never sends a perpetrator chosen before the victim's request was chosen", async () => {
      const ipc = accessBackend();
      render(CaseScreen, { caseId: "c1", onsaved: () => {}, onaccess: () => {} });
      const user = await openSection();
      await user.click(await screen.findByRole("button", { name: "Record a subject access request…" }));
      const form = screen.getByRole("form", { name: "Subject access request" });
      const whose = within(form).getByRole("combobox", { name: /^Whose request/ });
      await user.selectOptions(whose, "The perpetrator");
      await user.selectOptions(within(form).getByRole("combobox", { name: /^Which perpetrator asked/ }), "p1");
      await user.selectOptions(whose, "The victim");
      await user.click(within(form).getByRole("button", { name: "Record the request" }));
      await vi.waitFor(() => expect(ipc.calls("accessRequest")).toHaveLength(1));
      expect(ipc.last("accessRequest")).toStrictEqual(["c1", "victim", null, londonLocalNow().slice(0, 10)]);
    });

    it("shows the core's refusal by the field it names, and opens nothing", async () => {
      const ipc = accessBackend(
        deskError({
          message: "The form has problems.",
          fields: [{ field: "received_on", rule: "cannot be in the future" }],
        }),
      );
      const onaccess = vi.fn();
      render(CaseScreen, { caseId: "c1", onsaved: () => {}, onaccess });
      const user = await openSection();
      await user.click(await screen.findByRole("button", { name: "Record a subject access request…" }));
      const form = screen.getByRole("form", { name: "Subject access request" });
      await user.selectOptions(within(form).getByRole("combobox", { name: /^Whose request/ }), "The victim");
      const received = within(form).getByLabelText(/^Received on/);
      await user.clear(received);
      await user.type(received, "03/11/2099");
      await user.click(within(form).getByRole("button", { name: "Record the request" }));
      expect((await within(form).findByRole("alert")).textContent).toBe("The form has problems.");
      expect(ipc.last("accessRequest")).toStrictEqual(["c1", "victim", null, "2099-11-03"]);
      expect(received.getAttribute("aria-invalid")).toBe("true");
      const described = (received.getAttribute("aria-describedby") ?? "")
        .split(" ")
        .map((id) => document.getElementById(id)?.textContent);
      expect(described).toContain("received on cannot be in the future");
      expect(onaccess).not.toHaveBeenCalled();
    });

    it("asks whose request it is before sending anything", async () => {
      const ipc = accessBackend();
      render(CaseScreen, { caseId: "c1", onsaved: () => {}, onaccess: () => {} });
      const user = await openSection();
      await user.click(await screen.findByRole("button", { name: "Record a subject access request…" }));
      const form = screen.getByRole("form", { name: "Subject access request" });
      await user.click(within(form).getByRole("button", { name: "Record the request" }));
      expect((await within(form).findByRole("alert")).textContent).toBe("The form has problems.");
      const whose = within(form).getByRole("combobox", { name: /^Whose request/ });
      expect(whose.getAttribute("aria-invalid")).toBe("true");
      expect(ipc.calls("accessRequest")).toEqual([]);
    });
  });
});

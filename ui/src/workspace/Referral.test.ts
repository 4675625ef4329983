import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import Referral from "./Referral.svelte";
import { vocabularies } from "../test-kit";
import {
  advocateView,
  duplicateView,
  mockServer,
  pendingDuplicateView,
  referralRecords,
  referralView,
  refusal,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { ReferralView, StaffRole } from "./types";

afterEach(() => vi.unstubAllGlobals());

const ADVOCATES = [advocateView(), advocateView({ code: "ADV2", name: "Sam Support", open_cases: 1 })];

function show(
  role: StaffRole = "coordinator",
  view: ReferralView = referralView(),
  routes: Record<string, Route> = {},
) {
  const api = mockServer({
    "GET /w/api/referrals/r1": { body: view },
    "GET /w/api/advocates": { body: ADVOCATES },
    ...routes,
  });
  const onopencase = vi.fn();
  const onopenreferral = vi.fn();
  const onback = vi.fn();
  render(Referral, {
    referralId: "r1",
    role,
    csrf: "csrf-from-sign-in",
    vocabularies: async () => vocabularies(),
    onback,
    onopencase,
    onopenreferral,
  });
  return { api, onopencase, onopenreferral, onback, user: userEvent.setup() };
}

const section = (name: string) => within(screen.getByRole("region", { name }));
/** A section's answers, as "label: text". */
const answers = (name: string) =>
  section(name)
    .getAllByRole("term")
    .map((dt) => `${dt.textContent}: ${dt.nextElementSibling?.textContent}`);

describe("a referral's page", () => {
  it("shows the form read-only in the form's words, by record, without what stays for the laptop", async () => {
    const records = referralRecords();
    records.victim.sharing_without_consent = [
      {
        id: null,
        agency: null,
        with: "The stalking clinic",
        shared_on: "2026-11-20",
        lawful_basis: "vital_interests",
        rationale: "Threats to kill",
        decided_by: "DC Example",
      },
    ];
    show("coordinator", referralView({ form: records }));
    expect(await screen.findByRole("heading", { level: 1, name: "Referral 7" })).toBeTruthy();
    expect(screen.getByText(/Sent by REF1 on 20 Nov 2026. Waiting for screening./)).toBeTruthy();
    expect(answers("Referral")).toEqual([
      "Referred by: Police",
      "Referrer: DC Example",
      "Reason for referral: Repeated unwanted contact and following",
      "Consent to the referral is recorded: Yes",
      "Referrer's phone or e-mail: 0113 496 0000",
      "Referrer's own reference: CRIME-77",
      "Criteria met: The referrer's professional judgement, Escalation (3 or more incidents in 12 months)",
      "The victim knows of the referral: Yes",
      "Who the victim is afraid of: Her former partner",
      "Previous referrals: Not given",
    ]);
    expect(answers("Victim")).toEqual([
      "Name: Avery Sample",
      "Preferred name: Not given",
      "Date of birth: 4 Mar 1991",
      "Gender: Not given",
      "Language: Not given",
      "Interpreter needed: No",
      "Disabilities or support needs: Not given",
      "Lawful basis for referring without consent: Vital interests",
      "Why you are referring without consent: Threats to kill",
    ]);
    expect(section("Victim").getByRole("heading", { level: 3, name: "Shared without consent" })).toBeTruthy();
    expect(answers("Perpetrator")).toEqual([
      "Names (one a line): Jordan Sample",
      "Aliases (one a line): Not given",
      "Relationship to the victim: Ex-intimate partner",
      "Date of birth: 6 May 1980",
      "Known addresses (one a line): Not given",
      "Phone numbers (one a line): Not given",
      "Has access to weapons: Not answered",
      "About the weapons: Not given",
    ]);
    const text = document.body.textContent ?? "";
    expect(text).toContain(
      "Left out here, as on every clinic screen, and kept for the advocate's laptop: the victim's address, how to reach the victim safely and the victim's dependants.",
    );
    expect(text).toContain("Where the victim lives: postcode district ZZ99.");
    for (const absent of [
      "Address (one line each)",
      "Postcode",
      "Safe phones",
      "Texts are safe",
      "Dependants",
      "Safe contact notes",
    ])
      expect(text).not.toContain(absent);
  });

  it("lists the cases that may hold the same people, and what each is there, each a link to its case", async () => {
    const { onopencase } = show(
      "coordinator",
      referralView({
        duplicates: [
          duplicateView({
            case_id: "c5",
            reference: "DEMO-5",
            advocate: "ADV2",
            who: "perpetrator",
            there: "perpetrator",
            matched_on: ["name", "date_of_birth"],
          }),
          duplicateView({ case_id: "c3", reference: "DEMO-3", who: "victim", there: "victim", matched_on: ["phone"] }),
          // A counter-allegation: the perpetrator here is a victim at the clinic.
          duplicateView({
            case_id: "c4",
            reference: "CLN-2026-0004",
            advocate: "ADV2",
            who: "perpetrator",
            there: "victim",
            matched_on: ["name", "date_of_birth"],
          }),
        ],
      }),
    );
    const list = await screen.findByRole("region", { name: "Possible existing cases" });
    expect(
      within(list)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual([
      "The perpetrator here may be the perpetrator in DEMO-5, advocate ADV2 (matched on name and date of birth).",
      "The victim here may be the victim in DEMO-3, advocate ADV1 (matched on phone number).",
      "The perpetrator here may be the victim in CLN-2026-0004, advocate ADV2 (matched on name and date of birth).",
    ]);
    await userEvent.setup().click(within(list).getByRole("button", { name: "DEMO-5" }));
    expect(onopencase).toHaveBeenCalledWith("c5");
  });

  it("lists the other referrals waiting that may be about the same people, each opening its own screening", async () => {
    const { onopenreferral } = show(
      "coordinator",
      referralView({
        pending_duplicates: [
          pendingDuplicateView({ referral_id: "r9", number: 9, who: "victim", there: "perpetrator" }),
          pendingDuplicateView({
            referral_id: "r4",
            number: 4,
            who: "perpetrator",
            there: "perpetrator",
            matched_on: ["name", "date_of_birth", "phone"],
          }),
        ],
      }),
    );
    const list = await screen.findByRole("region", { name: "Other referrals waiting" });
    expect(
      within(list)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual([
      "The victim here may be the perpetrator in referral 9 (matched on phone number).",
      "The perpetrator here may be the perpetrator in referral 4 (matched on name, date of birth and phone number).",
    ]);
    await userEvent.setup().click(within(list).getByRole("button", { name: "referral 9" }));
    expect(onopenreferral).toHaveBeenCalledWith("r9");
  });

  it("says a free-text field that showed the victim's address was withheld, not that it was not given", async () => {
    const records = referralRecords();
    // As the server sends them: present, and null.
    records.case.referral.reason = null as unknown as string;
    records.case.referral.afraid_of = null;
    records.perpetrator.aliases = ["Jay", null as unknown as string];
    show(
      "coordinator",
      referralView({
        form: records,
        withheld: [
          "victim.address",
          "victim.safe_contact",
          "victim.dependants",
          "case.referral.reason",
          "case.referral.afraid_of",
          "perpetrator.aliases.1",
        ],
      }),
    );
    await screen.findByRole("heading", { level: 1, name: "Referral 7" });
    const referral = answers("Referral");
    expect(referral).toContain("Reason for referral: Withheld: it shows where the victim lives");
    expect(referral).toContain("Who the victim is afraid of: Withheld: it shows where the victim lives");
    expect(answers("Perpetrator")).toContain(
      "Aliases (one a line): Jay\n1 line withheld: it shows where the victim lives",
    );
    const text = (document.body.textContent ?? "").replace(/\s+/g, " ");
    expect(text).toContain(
      "Left out here, as on every clinic screen, and kept for the advocate's laptop: the victim's address, how to reach the victim safely and the victim's dependants.",
    );
    expect(text).toContain(
      "Withheld here because they show where the victim lives, and kept for the advocate's laptop: the referral's “Reason for referral”, the referral's “Who the victim is afraid of” and the perpetrator's “Aliases”.",
    );
  });

  it("says when no existing case looks the same", async () => {
    show();
    const list = await screen.findByRole("region", { name: "Possible existing cases" });
    expect(list.textContent).toContain("No existing case has a victim or a perpetrator like this referral's.");
  });
});

describe("screening", () => {
  it("gives the coordinator Accept and Decline, the advocates named with their open cases", async () => {
    show("coordinator");
    const screening = await screen.findByRole("region", { name: "Screening" });
    expect(within(screening).getByRole("form", { name: "Accept" })).toBeTruthy();
    expect(within(screening).getByRole("form", { name: "Decline" })).toBeTruthy();
    const advocate = within(screening).getByLabelText("Advocate to assign") as HTMLSelectElement;
    expect([...advocate.options].map((o) => o.textContent)).toEqual([
      "Choose…",
      "Ash Advocate (ADV1), 12 open cases",
      "Sam Support (ADV2), 1 open case",
    ]);
    const reason = within(screening).getByLabelText("Why it is declined") as HTMLSelectElement;
    expect([...reason.options].map((o) => o.textContent)).toContain("Outside the clinic's area");
  });

  it("gives the manager Accept and no Decline", async () => {
    show("manager");
    const screening = await screen.findByRole("region", { name: "Screening" });
    expect(within(screening).getByRole("button", { name: "Accept and assign" })).toBeTruthy();
    expect(within(screening).queryByRole("form", { name: "Decline" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Decline" })).toBeNull();
  });

  it("accepts with the chosen advocate and the CSRF token, then says the case's reference and links to it", async () => {
    const { api, user, onopencase } = show("coordinator", referralView(), {
      "POST /w/api/referrals/r1/accept": { body: { case_id: "c-new", reference: "CLN-2026-0007" } },
    });
    await user.selectOptions(await screen.findByLabelText("Advocate to assign"), "ADV2");
    // Screened now: the page shows where it stands when it loads again.
    api.answer("GET /w/api/referrals/r1", {
      body: referralView({
        status: "accepted",
        advocate: "ADV2",
        case_id: "c-new",
        decided_by: "COORD1",
        decided_at: "2026-11-21T09:00:00Z",
      }),
    });
    await user.click(screen.getByRole("button", { name: "Accept and assign" }));
    const said = await screen.findByText(/Referral 7 accepted/);
    expect(said.textContent).toBe(
      "Referral 7 accepted: case CLN-2026-0007, assigned to Sam Support (ADV2). Their laptop receives it at its next sync.",
    );
    const [sent] = api.sent("POST /w/api/referrals/r1/accept");
    expect(sent.body).toEqual({ advocate: "ADV2" });
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    const status = screen.getByRole("status");
    expect(document.activeElement).toBe(status);
    expect(screen.queryByRole("form", { name: "Accept" })).toBeNull();
    expect(
      screen.getByText(/Accepted by COORD1 on 21 Nov 2026; the case is assigned to Sam Support \(ADV2\)./),
    ).toBeTruthy();
    await user.click(within(status).getByRole("button", { name: "Open case CLN-2026-0007" }));
    expect(onopencase).toHaveBeenCalledWith("c-new");
  });

  it("asks for an advocate before sending anything", async () => {
    const { api, user } = show("coordinator");
    await user.click(await screen.findByRole("button", { name: "Accept and assign" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Choose the advocate to assign the case to.");
    const advocate = screen.getByLabelText("Advocate to assign");
    expect(document.activeElement).toBe(advocate);
    expect(advocate.getAttribute("aria-invalid")).toBe("true");
    expect(api.sent("POST /w/api/referrals/r1/accept")).toEqual([]);
  });

  it("declines with the chosen reason", async () => {
    const { api, user } = show("coordinator", referralView(), {
      "POST /w/api/referrals/r1/decline": { status: 204 },
    });
    await user.selectOptions(await screen.findByLabelText("Why it is declined"), "Outside the clinic's area");
    await user.click(screen.getByRole("button", { name: "Decline" }));
    expect((await screen.findByText(/Referral 7 declined/)).textContent).toBe(
      "Referral 7 declined: Outside the clinic's area.",
    );
    const [sent] = api.sent("POST /w/api/referrals/r1/decline");
    expect(sent.body).toEqual({ reason: "outside_area" });
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
  });

  it("says the server's message when someone screened it meanwhile, and shows where it stands", async () => {
    const { api, user } = show("coordinator", referralView(), {
      "POST /w/api/referrals/r1/accept": refusal(
        409,
        "referral_decided",
        "that referral has already been screened; reload the list of referrals",
      ),
    });
    await user.selectOptions(await screen.findByLabelText("Advocate to assign"), "ADV1");
    api.answer("GET /w/api/referrals/r1", {
      body: referralView({ status: "declined", decline_reason: "existing_case", decided_by: "MGR1" }),
    });
    await user.click(screen.getByRole("button", { name: "Accept and assign" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "That referral has already been screened; reload the list of referrals.",
    );
    expect(await screen.findByText("Declined by MGR1: Already a case at the clinic.")).toBeTruthy();
    expect(screen.queryByRole("form", { name: "Accept" })).toBeNull();
  });

  it("shows an accepted referral's decision and its case by reference, with nothing left to screen", async () => {
    const { api, onopencase, user } = show(
      "manager",
      referralView({
        status: "accepted",
        advocate: "ADV1",
        case_id: "c9",
        reference: "CLN-2026-0007",
        decided_by: "COORD1",
      }),
    );
    await user.click(await screen.findByRole("button", { name: "Open case CLN-2026-0007" }));
    expect(onopencase).toHaveBeenCalledWith("c9");
    expect(screen.getByText("Accepted by COORD1 as case CLN-2026-0007; the case is assigned to ADV1.")).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Possible existing cases" })).toBeNull();
    expect(screen.queryByRole("region", { name: "Other referrals waiting" })).toBeNull();
    expect(api.sent("GET /w/api/advocates")).toEqual([]);
  });

  it("says the server's message for a role that may not screen", async () => {
    show("coordinator", referralView(), {
      "GET /w/api/referrals/r1": refusal(
        403,
        "forbidden",
        "your role does not let you do this; ask the clinic coordinator",
      ),
    });
    expect((await screen.findByRole("alert")).textContent).toBe(
      "Your role does not let you do this; ask the clinic coordinator.",
    );
  });
});

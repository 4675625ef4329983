import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import ReferralForm from "./ReferralForm.svelte";
import { shownFields, vocabularies } from "../test-kit";
import { invalidForm, mockServer, type Route } from "./server-mock";
import { CSRF_HEADER } from "./api";
import { londonToday } from "./words";
import type { ReferralFields } from "./types";

afterEach(() => vi.unstubAllGlobals());

type User = ReturnType<typeof userEvent.setup>;

function show(answer: Route = { body: { id: "r12", number: 12 } }) {
  const api = mockServer({ "POST /w/api/referrals": answer });
  render(ReferralForm, { vocab: vocabularies(), csrf: "csrf-from-sign-in" });
  return { api, user: userEvent.setup() };
}

const group = (name: string) => within(screen.getByRole("group", { name }));
const sentBody = (api: ReturnType<typeof mockServer>) => api.sent("POST /w/api/referrals")[0]?.body as ReferralFields;

/** What every referral needs, consent recorded. */
async function fillTheReferral(user: User) {
  const referral = group("Referral");
  await user.selectOptions(referral.getByLabelText(/^Referred by/), "Police");
  await user.type(referral.getByLabelText(/^Referrer\b(?!')/), "DC Example");
  await user.type(referral.getByLabelText(/^Reason for referral/), "Repeated unwanted contact");
  await user.type(referral.getByLabelText(/^Referrer's phone or e-mail/), "0113 496 0000");
  await user.click(referral.getByRole("button", { name: "The referrer's professional judgement" }));
  await user.selectOptions(referral.getByLabelText(/^The victim knows of the referral/), "Yes");
  await user.type(group("Victim").getByLabelText(/^Name/), "Avery Sample");
  const perpetrator = group("Perpetrator");
  await user.type(perpetrator.getByLabelText(/^Names/), "Jordan Sample");
  await user.selectOptions(perpetrator.getByLabelText(/^Relationship to the victim/), "Ex-intimate partner");
}

describe("the referral form", () => {
  it("asks the core's fields of each record, in the core's order and words, under the record's legend", () => {
    show();
    const form = screen.getByRole("form", { name: "New referral" });
    expect(shownFields(form, { partsAsOne: false })).toEqual([
      "Referred by",
      "Referrer",
      "Reason for referral",
      "Consent to the referral is recorded",
      "Referrer's phone or e-mail",
      "Referrer's own reference",
      "Criteria met",
      "The victim knows of the referral",
      "Who the victim is afraid of",
      "Previous referrals",
      "Lawful basis for referring without consent",
      "Why you are referring without consent",
      "Name",
      "Preferred name",
      "Date of birth",
      "Gender",
      "Language",
      "Interpreter needed",
      "Disabilities or support needs",
      "Address (one line each)",
      "Postcode",
      "Safe contact notes",
      "Phone number",
      "Voicemail is safe",
      "Texts are safe",
      "Dependants",
      "Names (one a line)",
      "Aliases (one a line)",
      "Relationship to the victim",
      "Date of birth",
      "Known addresses (one a line)",
      "Phone numbers (one a line)",
      "Has access to weapons",
      "About the weapons",
    ]);
    // The clinic sets these, never the form.
    for (const label of [/Referral received on/, /Case reference/, /Opened on/, /^Advocate/])
      expect(screen.queryByLabelText(label)).toBeNull();
  });

  it("sends each record's fields by name, the safe phone and the dependants as the core's lists, with the CSRF token", async () => {
    const { api, user } = show();
    await fillTheReferral(user);
    const referral = group("Referral");
    await user.click(referral.getByLabelText("Consent to the referral is recorded"));
    await user.type(referral.getByLabelText(/^Referrer's own reference/), "CRIME-77");
    await user.click(referral.getByRole("button", { name: /^Escalation/ }));
    await user.type(referral.getByLabelText(/^Who the victim is afraid of/), "Her former partner");
    const victim = group("Victim");
    await user.type(victim.getByLabelText(/^Date of birth/), "4/3/1991");
    await user.type(victim.getByLabelText(/^Address/), "12 Larkspur Close");
    await user.type(victim.getByLabelText(/^Postcode/), "ZZ99 3LC");
    await user.type(victim.getByLabelText(/^Safe contact notes/), "Her sister, by text");
    const phone = group("Safe phones");
    await user.type(phone.getByLabelText(/^Phone number/), "07700 900456");
    await user.click(phone.getByLabelText("Texts are safe"));
    await user.click(screen.getByRole("button", { name: "Add a dependant" }));
    const first = group("Dependant 1");
    expect(document.activeElement).toBe(first.getByLabelText(/^Dependant's name/));
    await user.type(first.getByLabelText(/^Dependant's name/), "Kit Child");
    await user.type(first.getByLabelText(/^Date of birth/), "6/5/2019");
    await user.type(first.getByLabelText(/^Relationship to the victim and to the perpetrator/), "Son of both");
    await user.type(first.getByLabelText(/^School/), "Brambleford Primary");
    await user.click(screen.getByRole("button", { name: "Add a dependant" }));
    await user.type(group("Dependant 2").getByLabelText(/^Dependant's name/), "Sam Child");
    await user.selectOptions(group("Perpetrator").getByLabelText(/^Has access to weapons/), "No");
    await user.click(screen.getByRole("button", { name: "Send the referral" }));

    await screen.findByText(/Referral 12 received/);
    const [sent] = api.sent("POST /w/api/referrals");
    expect(sent.headers.get(CSRF_HEADER)).toBe("csrf-from-sign-in");
    expect(sent.body).toStrictEqual({
      case: {
        "referral.source": "police",
        "referral.referrer": "DC Example",
        "referral.reason": "Repeated unwanted contact",
        "referral.consent_recorded": true,
        "referral.referrer_contact": "0113 496 0000",
        "referral.their_reference": "CRIME-77",
        "referral.criteria": ["professional_judgement", "escalation"],
        "referral.victim_aware": true,
        "referral.afraid_of": "Her former partner",
      },
      victim: {
        name: "Avery Sample",
        date_of_birth: "1991-03-04",
        interpreter_needed: false,
        "address.lines": ["12 Larkspur Close"],
        "address.postcode": "ZZ99 3LC",
        "safe_contact.notes": "Her sister, by text",
        "safe_contact.phones": [{ number: "07700 900456", voicemail_ok: false, text_ok: true }],
        dependants: [
          {
            name: "Kit Child",
            date_of_birth: "2019-05-06",
            relationship: "Son of both",
            school: "Brambleford Primary",
          },
          { name: "Sam Child" },
        ],
      },
      perpetrator: {
        names: ["Jordan Sample"],
        relationship: "ex_intimate_partner",
        weapons_access: false,
      },
    });
  });

  it("without consent, sends the lawful basis as the referrer's decision, today, to share with the clinic", async () => {
    const { api, user } = show();
    await fillTheReferral(user);
    const sharing = group("Shared without consent");
    await user.selectOptions(sharing.getByLabelText(/^Lawful basis/), "Vital interests");
    await user.type(sharing.getByLabelText(/^Why you are referring without consent/), "Threats to kill");
    await user.click(screen.getByRole("button", { name: "Send the referral" }));
    await screen.findByText(/Referral 12 received/);
    const body = sentBody(api);
    expect(body.case["referral.consent_recorded"]).toBe(false);
    expect(body.victim.sharing_without_consent).toStrictEqual([
      {
        with: "The stalking clinic",
        shared_on: londonToday(),
        lawful_basis: "vital_interests",
        rationale: "Threats to kill",
        decided_by: "DC Example",
      },
    ]);
    expect(Object.keys(body.victim).filter((k) => k.includes("["))).toEqual([]);
    // Consent itself is no basis for referring without it.
    expect(screen.queryByRole("option", { name: "Consent" })).toBeNull();
  });

  it("asks no lawful basis once consent is recorded, and sends none", async () => {
    const { api, user } = show();
    await fillTheReferral(user);
    await user.selectOptions(screen.getByLabelText(/^Lawful basis/), "Vital interests");
    await user.click(screen.getByLabelText("Consent to the referral is recorded"));
    expect(screen.queryByRole("group", { name: "Shared without consent" })).toBeNull();
    expect(screen.queryByLabelText(/^Lawful basis/)).toBeNull();
    await user.click(screen.getByRole("button", { name: "Send the referral" }));
    await screen.findByText(/Referral 12 received/);
    expect(sentBody(api).victim).not.toHaveProperty("sharing_without_consent");
  });

  it("marks each field the server names, with its rule, and keeps what was typed", async () => {
    const { user } = show(
      invalidForm(
        "the form has fields to put right (case.referral.criteria needs at least one criterion met); correct them and send it again",
        [
          { field: "case.referral.criteria", rule: "needs at least one criterion met" },
          {
            field: "case.referral.consent_recorded",
            rule: "needs the victim's consent, or the lawful basis for referring without it",
          },
          { field: "victim.safe_contact.phones[0].number", rule: "must be a phone number (digits, spaces, + ( ) -)" },
          { field: "victim.dependants[0].name", rule: "must not be empty" },
        ],
      ),
    );
    await user.type(group("Victim").getByLabelText(/^Name/), "Avery Sample");
    await user.type(group("Safe phones").getByLabelText(/^Phone number/), "call me");
    await user.click(screen.getByRole("button", { name: "Add a dependant" }));
    await user.click(screen.getByRole("button", { name: "Send the referral" }));

    expect((await screen.findByRole("alert")).textContent).toBe(
      "The form has fields to put right (case.referral.criteria needs at least one criterion met); correct them and send it again.",
    );
    const criteria = screen.getByRole("group", { name: /^Criteria met/ });
    expect(document.getElementById(criteria.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "referral.criteria needs at least one criterion met",
    );
    const consent = screen.getByLabelText("Consent to the referral is recorded");
    expect(consent.getAttribute("aria-invalid")).toBe("true");
    const number = group("Safe phones").getByLabelText(/^Phone number/) as HTMLInputElement;
    expect(number.getAttribute("aria-invalid")).toBe("true");
    expect(number.value).toBe("call me");
    expect(document.getElementById(number.getAttribute("aria-describedby") ?? "")?.textContent).toBe(
      "safe contact.phones[0].number must be a phone number (digits, spaces, + ( ) -)",
    );
    expect(
      group("Dependant 1")
        .getByLabelText(/^Dependant's name/)
        .getAttribute("aria-invalid"),
    ).toBe("true");
    expect((group("Victim").getByLabelText(/^Name/) as HTMLInputElement).value).toBe("Avery Sample");
    expect(group("Victim").getByLabelText(/^Name/).getAttribute("aria-invalid")).toBeNull();
    expect(screen.getByRole("status").textContent?.trim()).toBe("");
  });

  it("says the referral's number once received, and clears the form, dependants too", async () => {
    const { user } = show();
    await fillTheReferral(user);
    await user.click(screen.getByRole("button", { name: "Add a dependant" }));
    await user.type(group("Dependant 1").getByLabelText(/^Dependant's name/), "Kit Child");
    await user.click(screen.getByRole("button", { name: "Send the referral" }));
    expect((await screen.findByRole("status")).textContent?.trim()).toBe(
      "Referral 12 received. The clinic's coordinator will screen it.",
    );
    expect((group("Victim").getByLabelText(/^Name/) as HTMLInputElement).value).toBe("");
    expect((group("Perpetrator").getByLabelText(/^Names/) as HTMLTextAreaElement).value).toBe("");
    expect(screen.queryByRole("group", { name: "Dependant 1" })).toBeNull();
    expect(
      screen.getByRole("button", { name: "The referrer's professional judgement" }).getAttribute("aria-pressed"),
    ).toBe("false");
    expect(document.body.textContent).not.toContain("Kit Child");
  });

  it("removes a dependant, the later ones moving up with what was typed in them", async () => {
    const { api, user } = show();
    await fillTheReferral(user);
    for (const name of ["Kit Child", "Sam Child"]) {
      await user.click(screen.getByRole("button", { name: "Add a dependant" }));
      const rows = screen.getAllByRole("group", { name: /^Dependant \d$/ });
      await user.type(within(rows[rows.length - 1]).getByLabelText(/^Dependant's name/), name);
    }
    await user.type(group("Dependant 2").getByLabelText(/^Date of birth/), "1/2/2020");
    await user.click(screen.getByRole("button", { name: "Remove dependant 1" }));
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Add a dependant" }));
    expect((group("Dependant 1").getByLabelText(/^Dependant's name/) as HTMLInputElement).value).toBe("Sam Child");
    await user.click(screen.getByRole("button", { name: "Send the referral" }));
    await screen.findByText(/Referral 12 received/);
    expect(sentBody(api).victim.dependants).toStrictEqual([{ name: "Sam Child", date_of_birth: "2020-02-01" }]);
  });
});

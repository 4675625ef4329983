import { describe, expect, it } from "vitest";
import { asFormFailure, referralBody, SHARED_WITH, splitWithheld } from "./referral-form";
import { referralRecords } from "./server-mock";
import { FieldFailure } from "../lib/failure";

describe("the referral's body", () => {
  it("leaves out a safe phone with no number, and keeps no name the server cannot read", () => {
    // Why: a phone entry without a number is refused whole; `phones[0].number` is no field the core has.
    const body = referralBody(
      {
        "victim.name": "Avery Sample",
        "victim.safe_contact.phones[0].voicemail_ok": true,
        "victim.safe_contact.phones[0].text_ok": false,
        "case.referral.consent_recorded": true,
      },
      "2026-11-22",
    );
    expect(body).toStrictEqual({
      case: { "referral.consent_recorded": true },
      victim: { name: "Avery Sample" },
      perpetrator: {},
    });
  });

  it("sends a postcode without address lines as an address missing its lines, for the core to say so", () => {
    // Why: dropping the postcode unsaid would lose what was typed; the core names the missing lines.
    const body = referralBody({ "victim.address.postcode": "ZZ99 3LC" }, "2026-11-22");
    expect(body.victim).toStrictEqual({ "address.postcode": "ZZ99 3LC", "address.lines": [] });
  });

  it("makes a sharing decision only without consent and with a lawful basis", () => {
    // Why: without a basis the core refuses the referral by its consent field; with consent there is nothing to decide.
    const typed = {
      "case.referral.referrer": "DC Example",
      "victim.sharing_without_consent[0].lawful_basis": "vital_interests",
      "victim.sharing_without_consent[0].rationale": "Threats to kill",
    };
    expect(referralBody(typed, "2026-11-22").victim).toStrictEqual({
      sharing_without_consent: [
        {
          with: SHARED_WITH,
          shared_on: "2026-11-22",
          lawful_basis: "vital_interests",
          rationale: "Threats to kill",
          decided_by: "DC Example",
        },
      ],
    });
    expect(referralBody({ ...typed, "case.referral.consent_recorded": true }, "2026-11-22").victim).toStrictEqual({});
    const { ["victim.sharing_without_consent[0].lawful_basis"]: _basis, ...noBasis } = typed;
    expect(referralBody(noBasis, "2026-11-22").victim).toStrictEqual({});
  });
});

describe("the server's refusal of a referral", () => {
  it("reads as a sentence, each field's rule named within its record as the desktop names the core's", () => {
    const failure = asFormFailure(
      new FieldFailure("the form has fields to put right", [
        { field: "case.referral.reason", rule: "must not be empty" },
        { field: "perpetrator.names", rule: "needs at least one name" },
      ]),
    );
    expect(failure.message).toBe("The form has fields to put right.");
    expect(failure.fieldError("case.referral.reason")).toBe("referral.reason must not be empty");
    expect(failure.fieldError("perpetrator.names")).toBe("names needs at least one name");
    expect(failure.fieldError("victim.name")).toBeUndefined();
  });
});

describe("what the server withheld from a referral", () => {
  it("is told apart by the form alone: taken out for the laptop, or free text sent as null", () => {
    // Why: `withheld` names both without saying why; the first is left out, the second is said to be withheld.
    const form = referralRecords();
    form.case.referral.reason = null as unknown as string;
    form.perpetrator.aliases = ["Jay", null as unknown as string];
    expect(
      splitWithheld(form, ["victim.address", "victim.safe_contact", "case.referral.reason", "perpetrator.aliases.1"]),
    ).toEqual({
      leftOut: ["victim.address", "victim.safe_contact"],
      showedAddress: ["case.referral.reason", "perpetrator.aliases.1"],
    });
  });
});

import { describe, expect, it } from "vitest";
import bindings from "./bindings.ts?raw";
import {
  AGENCIES,
  agencyLabel,
  asChoices,
  BAIL_AUTHORITIES,
  DOCUMENT_NAMES,
  EXPIRY_LABELS,
  expiryText,
  labelIn,
  NOT_ASSESSED,
  RECORD_KINDS,
  recordKindLabel,
  riskLabel,
  SORT_LABELS,
  spaced,
  wireLabel,
} from "./labels";
import { choices, vocabularies } from "../test-kit";

/** The string values of a generated union, read from bindings.ts; `pattern` picks them out of the declaration. */
function membersOf(type: string, pattern = /"(\w+)"/g): string[] {
  const code = bindings.replace(/\/\*[\s\S]*?\*\//g, "");
  const start = code.indexOf(`export type ${type} =`);
  if (start === -1) throw new Error(`bindings.ts declares no type ${type}`);
  const end = code.indexOf("\nexport ", start + 1);
  const declaration = code.slice(start, end === -1 ? undefined : end);
  return [...declaration.matchAll(pattern)].map((m) => m[1]);
}

// The labels the core does not send, each beside the generated union it words.
const MAPS: [string, Record<string, string>, string[]][] = [
  ["DocumentKind", DOCUMENT_NAMES, membersOf("DocumentKind")],
  ["SortBy", SORT_LABELS, membersOf("SortBy")],
  ["Expiry", EXPIRY_LABELS, membersOf("Expiry", /kind: "(\w+)"/g)],
  ["RecordKind", RECORD_KINDS, membersOf("RecordKind")],
  ["Agency", AGENCIES, membersOf("Agency")],
  ["BailAuthority", BAIL_AUTHORITIES, membersOf("BailAuthority")],
];

describe("labels the UI words itself", () => {
  it.each(MAPS)("name every %s the core stores, and nothing else", (_type, labels, members) => {
    expect(members.length).toBeGreaterThan(1);
    expect(Object.keys(labels).sort()).toEqual([...members].sort());
  });

  it.each(MAPS)("give each %s its own words", (_type, labels) => {
    const words = Object.values(labels);
    expect(words.every((w) => w.trim() !== "" && w === w.trim())).toBe(true);
    expect(new Set(words.map((w) => w.toLowerCase())).size).toBe(words.length);
  });

  it("name record kinds as the audit trail always has: the wire name with spaces", () => {
    for (const [kind, words] of Object.entries(RECORD_KINDS)) expect(words).toBe(spaced(kind));
    expect(recordKindLabel("risk_assessment")).toBe("risk assessment");
    expect(recordKindLabel("a_future_kind")).toBe("a future kind");
    expect(recordKindLabel(null)).toBe("");
  });

  it("offer a map as a select's options, in order", () => {
    expect(asChoices(SORT_LABELS)[0]).toEqual({ value: "reference", label: "Reference" });
    expect(asChoices(EXPIRY_LABELS).map((c) => c.value)).toEqual([
      "on",
      "until_further_order",
      "until_application_decided",
      "not_set",
    ]);
  });

  it("put an order's end inside a sentence", () => {
    expect(expiryText({ kind: "on", date: "2028-03-12" })).toBe("until 12 Mar 2028");
    expect(expiryText({ kind: "until_further_order" })).toBe("until further order");
    expect(expiryText({ kind: "not_set" })).toBe("not set");
  });

  it("word an agency, or keep the service's own words", () => {
    expect(agencyLabel("mental_health")).toBe("mental health");
    expect(agencyLabel({ other: "Housing officer" })).toBe("Housing officer");
  });
});

describe("labels from the core's vocabularies", () => {
  const vocab = vocabularies({ plan_sections: choices("plan_sections", { home: "At home" }) });

  it("show the core's label, and a service's own words for a value it added", () => {
    expect(labelIn(vocab, "plan_sections", "home")).toBe("At home");
    expect(labelIn(vocab, "behaviours", "following")).toBe("Following");
    expect(labelIn(vocab, "referral_targets", { other: "School nurse" })).toBe("School nurse");
    expect(labelIn(vocab, "behaviours", { other: "Drones over the garden" })).toBe("Drones over the garden");
  });

  it("show nothing for no value, and the stored name until the vocabularies arrive", () => {
    expect(labelIn(vocab, "risk_levels", null)).toBe("");
    expect(labelIn(null, "risk_levels", "high")).toBe("high");
    expect(labelIn(vocab, "hearing_types", "appeal")).toBe("appeal");
    expect(wireLabel(vocab, "behaviours", "other")).toBe("other");
    expect(wireLabel(vocab, "behaviours", "following")).toBe("Following");
  });

  it("say a case with no risk level is not assessed", () => {
    expect(riskLabel(vocab, "medium")).toBe("Medium");
    expect(riskLabel(vocab, null)).toBe(NOT_ASSESSED);
    expect(NOT_ASSESSED).toBe("Not assessed");
  });
});

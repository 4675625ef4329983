// What the component tests share: fixtures for the data the core sends, and a
// typed stand-in for the core itself. Each fixture is checked against its
// generated type with `satisfies`, and each mocked command against the
// generated `commands`, so a change on the Rust side (a field renamed, a
// command gone, a reply of another shape) fails svelte-check here and in the
// tests, instead of leaving them to test a shape the app no longer receives.
import { mockIPC } from "@tauri-apps/api/mocks";
import axe from "axe-core";
import { commands } from "./lib/bindings";
import type * as B from "./lib/bindings";
import type {
  CaseloadRow,
  CaseView,
  Choice,
  Conflict,
  DeskError,
  DueItem,
  Escalation,
  Finding,
  Patterns,
  PrintDone,
  PrintPreview,
  Problem,
  SyncView,
  ThisWeek,
  VaultState,
  Vocabularies,
} from "./lib/types";
import type { Known, Vocabulary, VocabularyValues } from "./lib/labels";

// ---------------------------------------------------------------------------
// The typed command mock

type Commands = typeof commands;
/** A command by its name in the generated `commands` object (`caseView`, not `case_view`). */
export type CommandName = keyof Commands;
export type Args<K extends CommandName> = Parameters<Commands[K]>;
type Unwrapped<R> = R extends { status: "ok"; data: infer D } ? D : R extends { status: "error" } ? never : R;
/**
 * What the Rust side of a command returns: for a command that can fail, the
 * data of its success (a mock refuses by throwing a DeskError, as the core
 * does); for the others, the value itself.
 */
export type Reply<K extends CommandName> = Unwrapped<Awaited<ReturnType<Commands[K]>>>;
export type CommandMock<K extends CommandName> = (...args: Args<K>) => Reply<K> | Promise<Reply<K>>;
/** The commands a test stands in for; naming a command that does not exist, or replying with the wrong shape, fails type-checking. */
export type CommandMocks = { [K in CommandName]?: CommandMock<K> };
/** One command the component sent, with its arguments as the generated function takes them. */
export type CommandCall = { [K in CommandName]: { name: K; args: Args<K> } }[CommandName];

/** The name the generated wrapper invokes over IPC: `caseView` is sent as `case_view`. */
export const ipcName = (name: CommandName): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export interface MockedCommands {
  /** Every command sent, in order, mocked or not. */
  readonly log: CommandCall[];
  /** The arguments of each call of one command. */
  calls<K extends CommandName>(name: K): Args<K>[];
  /** The arguments of the latest call of one command; throws when it was not called. */
  last<K extends CommandName>(name: K): Args<K>;
}

/**
 * Stands in for the Rust side. The app's real `commands` and `invoke` run;
 * only the IPC underneath is replaced, and each command is answered by its
 * mock with the arguments the generated function was given. A command the
 * test does not mock fails with an error naming it, rather than answering
 * `undefined`. `test-setup.ts` clears the mock after each test.
 */
export function mockCommands(mocks: CommandMocks): MockedCommands {
  const names = new Map((Object.keys(commands) as CommandName[]).map((name) => [ipcName(name), name]));
  const log: CommandCall[] = [];
  mockIPC((cmd, payload) => {
    const name = names.get(cmd);
    if (!name) throw new Error(`No generated command is invoked as "${cmd}".`);
    // The generated functions send their arguments as one object, in parameter order.
    const args = Object.values((payload ?? {}) as Record<string, unknown>);
    log.push({ name, args } as CommandCall);
    const mock = mocks[name] as ((...args: unknown[]) => unknown) | undefined;
    if (!mock) throw new Error(`The test does not mock the command ${name}.`);
    return mock(...args);
  });
  const calls = <K extends CommandName>(name: K): Args<K>[] =>
    log.filter((call) => call.name === name).map((call) => call.args as Args<K>);
  return {
    log,
    calls,
    last(name) {
      const all = calls(name);
      if (all.length === 0) throw new Error(`The command ${name} was not called.`);
      return all[all.length - 1];
    },
  };
}

// ---------------------------------------------------------------------------
// Accessibility

/**
 * axe-core's serious and critical findings on the page as rendered, each as
 * "rule: targets". Colour contrast is left out: jsdom lays nothing out, so
 * axe cannot measure it (the end-to-end test audits the real app for it).
 */
export async function seriousA11yProblems(): Promise<string[]> {
  document.documentElement.lang ||= "en-GB";
  const results = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

// ---------------------------------------------------------------------------
// Errors

export function deskError(overrides: Partial<DeskError> = {}): DeskError {
  const base = { code: "invalid", message: "The form has problems.", fields: [], wait_secs: null } satisfies DeskError;
  return { ...base, ...overrides };
}

/** The rule the core's address guard gives a field that shows the victim's address. */
export const ADDRESS_RULE = "holds the victim's address: text here can be printed or sent to the clinic";

/** The address guard's refusal, naming the fields it flagged. */
export function addressRefusal(...fields: string[]): DeskError {
  return deskError({
    code: "address_in_text",
    message: "The victim's address appears in text that can be printed or sent to the clinic.",
    fields: fields.map((field) => ({ field, rule: ADDRESS_RULE })),
  });
}

// ---------------------------------------------------------------------------
// The vault and the vocabularies

/** A vault that exists and is locked, as the app finds it on start. */
export function vaultState(overrides: Partial<VaultState> = {}): VaultState {
  const base = {
    exists: true,
    unlocked: false,
    advocate: null,
    wait_secs: 0,
    failed_attempts: 0,
    idle_lock_minutes: 5,
    unlock_notice: false,
    pending_changes: null,
    wiped_by_clinic: null,
  } satisfies VaultState;
  return { ...base, ...overrides };
}

/** A vocabulary's choices, keyed by the values of its generated type, in order. */
export function choices<K extends Vocabulary>(
  _list: K,
  labels: Partial<Record<Known<VocabularyValues[K]>, string>>,
): Choice[] {
  return Object.entries(labels as Record<string, string>).map(([value, label]) => ({ value, label }));
}

/**
 * A few of each vocabulary's values, with the core's labels. The app fetches
 * the vocabularies once (`vocabularies()` in lib/api.ts), so within one test
 * file the first ones served are the ones every later test sees.
 */
export function vocabularies(overrides: Partial<Vocabularies> = {}): Vocabularies {
  const base = {
    behaviours: choices("behaviours", {
      following: "Following",
      loitering: "Loitering or watching near home, work or school",
      unwanted_contact: "Unwanted contact by phone, text, email or letter",
    }),
    channels: choices("channels", { in_person: "In person", text: "Text" }),
    case_statuses: choices("case_statuses", { open: "Open", closed: "Closed" }),
    risk_levels: choices("risk_levels", { standard: "Standard", medium: "Medium", high: "High" }),
    referral_sources: choices("referral_sources", { police: "Police", self: "Self-referral" }),
    relationships: choices("relationships", { ex_intimate_partner: "Ex-intimate partner", stranger: "Stranger" }),
    hearing_types: choices("hearing_types", { trial: "Trial", sentencing: "Sentencing" }),
    order_types: choices("order_types", { spo: "Stalking Protection Order", court_bail: "Court bail" }),
    condition_kinds: choices("condition_kinds", {
      exclusion_zone: "Exclusion zone",
      no_contact: "No contact by any means",
    }),
    contact_methods: choices("contact_methods", { in_person: "In person", phone: "Phone" }),
    plan_sections: choices("plan_sections", { emergency: "Emergency", home: "Home" }),
    answers: choices("answers", {
      yes: "Yes",
      no: "No",
      not_known: "Not known",
      low: "Low",
      moderate: "Moderate",
      high: "High",
    }),
    task_statuses: choices("task_statuses", { open: "Open", done: "Done" }),
    closure_reasons: choices("closure_reasons", {
      support_complete: "Support complete",
      victim_declined: "Victim declined support",
    }),
    ethnicities: choices("ethnicities", {
      asian: "Asian or Asian British",
      white: "White",
      prefer_not_to_say: "Prefers not to say",
    }),
    sexual_orientations: choices("sexual_orientations", {
      heterosexual: "Straight or heterosexual",
      bisexual: "Bisexual",
      prefer_not_to_say: "Prefers not to say",
    }),
    referral_targets: choices("referral_targets", { clinic_panel: "Stalking clinic panel", marac: "MARAC" }),
    referral_statuses: choices("referral_statuses", { draft: "Draft", sent: "Sent" }),
    referral_criteria: choices("referral_criteria", {
      professional_judgement: "The referrer's professional judgement",
      visible_high_risk: 'Visible high risk (14 or more "yes" on DASH)',
      escalation: "Escalation (3 or more incidents in 12 months)",
    }),
    lawful_bases: choices("lawful_bases", {
      consent: "Consent",
      vital_interests: "Vital interests",
      safeguarding: "Safeguarding of children and individuals at risk (DPA 2018 Sch. 1 para 18)",
    }),
    agencies: choices("agencies", {
      police: "Police",
      cps: "CPS",
      probation: "Probation",
      mental_health: "NHS forensic mental health",
      victims_charity: "Victims' charity",
    }),
    decline_reasons: choices("decline_reasons", {
      outside_criteria: "Does not meet the clinic's criteria",
      outside_area: "Outside the clinic's area",
      existing_case: "Already a case at the clinic",
    }),
    panel_decisions: choices("panel_decisions", {
      spo_application: "Stalking Protection Order application",
      mappa_referral: "MAPPA referral",
      mental_health_assessment: "Mental-health assessment",
      intervention: "Intervention",
      safety_measures: "Extra safety measures",
    }),
    attendance: choices("attendance", { present: "Present", apologies: "Apologies" }),
    overdue_closures: choices("overdue_closures", {
      circumstances_changed: "Circumstances changed",
      not_done_by_agency: "Not done by the agency",
    }),
    action_statuses: choices("action_statuses", { open: "Open", done: "Done", cancelled: "Cancelled" }),
    typologies: choices("typologies", {
      rejected: "Rejected",
      intimacy_seeking: "Intimacy seeking",
      incompetent_suitor: "Incompetent suitor",
      resentful: "Resentful",
      predatory: "Predatory",
    }),
    srp_ratings: choices("srp_ratings", { low: "Low", moderate: "Moderate", high: "High" }),
    selection_bases: choices("selection_bases", {
      referral: "Ticked on the referral",
      records: "Found in the case's records",
      coordinator: "Added by the coordinator",
    }),
    pathway_kinds: choices("pathway_kinds", { mental_health: "Mental-health pathway", mappa: "MAPPA referral" }),
    pathway_stages: choices("pathway_stages", {
      referred: "Referred",
      accepted: "Accepted",
      declined: "Declined",
      started: "Started",
      completed: "Completed",
      reoffended: "Reoffended",
    }),
    escalation_signs: choices("escalation_signs", {
      breach: "Breach of an order or condition",
      contact_after_order: "Contact after a new order was served",
      more_serious: "A more serious behaviour",
      approach_after_remote: "Approach after remote-only contact",
      more_frequent: "More frequent incidents",
      four_markers: "FOUR markers newly present",
      risk_review_due: "Risk review due",
    }),
    hold_reasons: choices("hold_reasons", {
      ongoing_proceedings: "Ongoing criminal or civil proceedings",
      police_or_court_request: "The police or a court asked for it to be kept",
      review: "A domestic homicide or safeguarding review",
      complaint_or_claim: "A complaint or legal claim",
      information_request: "An open subject access or other information request",
    }),
    retention_bases: choices("retention_bases", {
      no_service_taken_up: "No service taken up",
      not_contactable: "Could not be contacted",
      after_last_contact: "After last contact",
    }),
    erasure_reasons: choices("erasure_reasons", {
      retention_due: "Due for deletion under the retention schedule",
      erasure_request: "The person asked for their data to be erased",
    }),
    access_subjects: choices("access_subjects", { victim: "The victim", perpetrator: "The perpetrator" }),
    withheld_reasons: choices("withheld_reasons", {
      about_the_perpetrator: "It is the perpetrator's information",
      about_the_victim: "It is also the victim's information",
      about_someone_else: "It is someone else's information (a witness, an officer, a referrer, an agency, a child)",
      shows_where_the_victim_lives:
        "It could show where the victim is or how to reach her, which is never released to the perpetrator",
      came_from_others: "It is about the perpetrator but came from someone else, who could be identified",
      exempt: "An exemption in the Data Protection Act 2018 applies",
      from_an_agency: "Another agency shared it with the clinic's panel, and answers for it from its own files",
      in_the_advocates_answer:
        "The clinic's staff never see it; the advocate's own answer gives it from the case records",
    }),
    exemption_reasons: choices("exemption_reasons", {
      crime: "Giving it would be likely to prejudice the prevention or detection of crime",
      serious_harm: "Giving it would be likely to cause serious harm to someone's physical or mental health",
      identifies_someone: "It would identify someone else, who has not agreed",
      legal_privilege: "It is covered by legal professional privilege",
    }),
    panel_parts: choices("panel_parts", {
      selection: "Why the clinic put the case to its panel",
      research: "An agency's research before a panel meeting",
      shared_at_meeting: "What an agency shared at a panel meeting",
      action: "An action the panel agreed",
      decision: "What the panel noted of its decision",
      pathway: "A pathway the panel referred the perpetrator to",
    }),
    // The fields each kind presents, as the core lists them (`KindRules::presented` in
    // waymark-domain's records/*.rs, in RecordKind order); the forms derive from these.
    presented: PRESENTED,
  } satisfies Vocabularies;
  return { ...base, ...overrides };
}

/** A presented field as `Presented::new(field, label)` makes it, asked when the record is made unless said otherwise. */
const field = (name: string, label: string, asked: B.Asked = "when_made"): B.Presented => ({
  field: name,
  label,
  asked,
});
const later = (name: string, label: string) => field(name, label, "later");
const both = (name: string, label: string) => field(name, label, "when_made_and_later");
const ownScreen = (name: string, label: string) => field(name, label, "own_screen");

/** `KindRules::PLAIN`'s `protected`: what the core sets on most kinds. */
const IDS = ["id", "case_id"];

/**
 * Every kind's presented fields as the core declares them: fields, labels and
 * when each is asked copied from `KindRules::presented`, and `set_by_core`
 * from each kind's `protected`. Copy a change on the Rust side here.
 */
export const PRESENTED = [
  {
    kind: "case",
    fields: [
      field("reference", "Case reference"),
      ownScreen("status", "Status"),
      field("referral.received_on", "Referral received on"),
      field("referral.source", "Referred by"),
      field("referral.referrer", "Referrer"),
      field("referral.reason", "Reason for referral"),
      field("referral.consent_recorded", "Consent to the referral is recorded"),
      later("referral.referrer_contact", "Referrer's phone or e-mail"),
      later("referral.their_reference", "Referrer's own reference"),
      later("referral.criteria", "Criteria met"),
      later("referral.victim_aware", "The victim knows of the referral"),
      later("referral.afraid_of", "Who the victim is afraid of"),
      later("referral.previous_referral", "Previous referrals"),
      field("opened_on", "Opened on"),
      field("advocate", "Advocate"),
      ownScreen("risk_level", "Risk level"),
      ownScreen("risk_review_on", "Risk review due"),
      ownScreen("police_references", "Police references"),
      later("court_cases", "Court case numbers"),
      later("persistently_targeted", "Persistently targeted"),
      ownScreen("closure.closed_on", "Closed on"),
      ownScreen("closure.reason", "Why the case is closing"),
      ownScreen("closure.feels_safer", "The victim feels safer"),
      ownScreen("closure.behaviour_stopped", "The stalking behaviour stopped"),
      ownScreen("closure.quality_of_life_improved", "Quality of life improved"),
      ownScreen("closure.better_able_to_cope", "Better able to cope and recover"),
      ownScreen("legal_hold.reason", "Kept under a legal hold because"),
      ownScreen("legal_hold.since", "Legal hold since"),
    ],
    set_by_core: ["id", "advocate"],
  },
  {
    kind: "victim",
    fields: [
      both("name", "Name"),
      both("preferred_name", "Preferred name"),
      later("date_of_birth", "Date of birth"),
      later("gender", "Gender"),
      later("language", "Language"),
      both("interpreter_needed", "Interpreter needed"),
      later("disabilities", "Disabilities or support needs"),
      later("ethnicity", "Ethnic group"),
      later("sexual_orientation", "Sexual orientation"),
      both("address.lines", "Address (one line each)"),
      both("address.postcode", "Postcode"),
      later("address.do_not_disclose", "Address: do not disclose"),
      ownScreen("safe_contact.phones", "Safe phones"),
      later("safe_contact.email", "Email"),
      later("safe_contact.email_safe", "Email is safe to use"),
      later("safe_contact.safe_times", "Safe times to contact"),
      later("safe_contact.notes", "Safe contact notes"),
      ownScreen("dependants", "Dependants"),
      ownScreen("consents", "Consents to share"),
      ownScreen("sharing_without_consent", "Shared without consent"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "perpetrator",
    fields: [
      both("names", "Names (one a line)"),
      both("aliases", "Aliases (one a line)"),
      both("relationship", "Relationship to the victim"),
      both("date_of_birth", "Date of birth"),
      later("addresses", "Known addresses (one a line)"),
      later("phones", "Phone numbers (one a line)"),
      later("online_accounts", "Online accounts (one a line)"),
      ownScreen("vehicles", "Vehicles"),
      both("weapons_access", "Has access to weapons"),
      both("weapons_notes", "About the weapons"),
      later("probation_status", "Probation"),
      later("mappa_status", "MAPPA"),
      later("mental_health", "Mental health"),
      ownScreen("typology", "Typology"),
    ],
    set_by_core: ["id", "case_id", "typology"],
  },
  {
    kind: "incident",
    fields: [
      field("occurred_at", "When it happened"),
      field("behaviours", "Behaviours"),
      field("channel", "How"),
      field("location", "Where"),
      field("account", "What happened"),
      field("impact", "Impact"),
      field("witnesses", "Witnesses"),
      field("evidence", "Evidence held"),
      field("reported_to_police", "Reported to police"),
      field("crime_reference", "Crime reference"),
      field("police_force", "Police force"),
      field("officer", "Officer"),
      field("breaches_order", "Breach of"),
      field("recorded_at", "Recorded"),
      field("recorded_by", "Recorded by"),
    ],
    set_by_core: ["id", "case_id", "recorded_at", "recorded_by"],
  },
  {
    kind: "incident_amendment",
    fields: [
      field("reason", "Why it is corrected"),
      ownScreen("changes", "Corrected"),
      field("made_at", "Corrected at"),
      field("made_by", "Corrected by"),
    ],
    set_by_core: ["id", "case_id", "made_at", "made_by"],
  },
  {
    kind: "risk_assessment",
    fields: [
      field("instrument", "Instrument"),
      field("instrument_version", "Version"),
      field("assessed_on", "Assessed on"),
      field("assessor", "Assessor"),
      ownScreen("answers", "Answers"),
      field("judged_level", "Risk level (professional judgement)"),
      field("rationale", "Why this level"),
      field("next_review_on", "Review by"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "safety_plan",
    fields: [
      field("version", "Version"),
      field("made_on", "Made on"),
      field("made_by", "Made by"),
      ownScreen("review_on", "Review on"),
      ownScreen("code_word", "Code word"),
      ownScreen("safe_places", "Safe places"),
      ownScreen("sections", "Sections"),
      ownScreen("support_network", "Support network"),
    ],
    set_by_core: ["id", "case_id", "version"],
  },
  {
    kind: "hearing",
    fields: [
      field("court", "Court"),
      field("hearing_type", "Hearing type"),
      field("starts_at", "Date and time"),
      field("court_reference", "Court reference"),
      field("special_measures", "Special measures (one a line)"),
      both("witness_care_contact", "Witness Care contact"),
      later("outcome", "Outcome"),
      later("next_date", "Next date"),
      later("victim_attends", "The victim attended"),
      later("vps_read", "The Victim Personal Statement was read"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "order",
    fields: [
      field("order_type", "Order type"),
      field("issued_by", "Issued by (court or force)"),
      both("applied_on", "Applied for on"),
      both("made_on", "Made on"),
      both("served_on", "Served on"),
      both("expiry", "Ends"),
      both("protected_persons", "People it protects (one a line)"),
      both("conditions", "Conditions"),
      both("bail_authority", "Bail authorised by"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "breach",
    fields: [
      field("order_id", "Order breached"),
      field("occurred_on", "Date of the breach"),
      field("incident_id", "The incident it was"),
      both("reported_to_police", "Reported to police"),
      both("crime_reference", "Crime reference"),
      later("outcome", "Outcome"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "referral",
    fields: [
      field("target", "Referred to"),
      field("made_on", "Made on"),
      both("status", "Status"),
      later("outcome", "Outcome"),
      later("outcome_on", "Outcome on"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "clinic_review",
    fields: [
      ownScreen("meeting_on", "Panel met on"),
      ownScreen("agencies_present", "Agencies present"),
      ownScreen("typology", "Typology"),
      ownScreen("srp", "Stalking Risk Profile"),
      ownScreen("actions", "Actions agreed"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "contact",
    fields: [
      field("at", "When"),
      field("method", "How"),
      field("with_victim", "With the victim"),
      field("party", "Agency or person (when not the victim)"),
      field("summary", "Summary"),
      field("victims_code_update", "A Victims' Code update was given"),
    ],
    set_by_core: IDS,
  },
  {
    kind: "escalation_review",
    fields: [
      field("reviewed_at", "Reviewed"),
      ownScreen("signs", "What was reviewed"),
      field("note", "What was decided"),
      field("risk_assessment_id", "New risk assessment"),
      field("reviewed_by", "Reviewed by"),
    ],
    set_by_core: ["id", "case_id", "reviewed_at", "reviewed_by"],
  },
  {
    kind: "task",
    fields: [
      field("what", "Task"),
      field("due_on", "Due on"),
      ownScreen("status", "Status"),
      ownScreen("done_on", "Done on"),
    ],
    set_by_core: ["id"],
  },
] satisfies B.KindFields[];

/** The fields a form of `kind` asks at `stage`, as the fixture presents them: asked then, not set by the core, and under `within`. */
export function askedFields(
  vocab: Vocabularies,
  kind: B.RecordKind,
  stage: "when_made" | "later" | "own_screen",
  within?: string,
): B.Presented[] {
  const kindFields = vocab.presented.find((p) => p.kind === kind);
  if (!kindFields) throw new Error(`The fixture presents no ${kind} fields.`);
  const asked: Record<typeof stage, B.Asked[]> = {
    when_made: ["when_made", "when_made_and_later"],
    later: ["later", "when_made_and_later"],
    own_screen: ["own_screen"],
  };
  return kindFields.fields.filter(
    (p) =>
      asked[stage].includes(p.asked) &&
      !kindFields.set_by_core.includes(p.field.split(".")[0]) &&
      (within === undefined || p.field.startsWith(`${within}.`)),
  );
}

/**
 * The vocabularies with one more field in a kind's list, just after `after`
 * (or last): a field new on the Rust side, that a form must show without
 * knowing it.
 */
export function withField(kind: B.RecordKind, added: B.Presented, after?: string): Vocabularies {
  const presented = PRESENTED.map((k) => {
    if (k.kind !== kind) return k;
    const fields: B.Presented[] = [...k.fields];
    const at = after === undefined ? fields.length : fields.findIndex((p) => p.field === after) + 1;
    if (at === 0) throw new Error(`The ${kind} fixture has no field ${after}.`);
    fields.splice(at, 0, added);
    return { ...k, fields };
  });
  return vocabularies({ presented });
}

/** A label's words without the mark a required field adds. */
export const words = (text: string | null | undefined) => (text ?? "").replace(/\s*\*$/, "").trim();

/**
 * The fields a form shows, in order, by their labels: each field's label or
 * legend, and for the parts of one field (a group inside the form) the group's
 * legend once, so a field asked in parts counts as the one field it is.
 */
export function shownFields(form: HTMLElement, { partsAsOne = true } = {}): string[] {
  const shown: string[] = [];
  let lastGroup: Element | null = null;
  for (const f of form.querySelectorAll(".field")) {
    const group = partsAsOne ? f.parentElement?.closest("fieldset.group") : null;
    if (group) {
      if (group !== lastGroup) shown.push(words(group.querySelector(":scope > legend")?.textContent));
      lastGroup = group;
      continue;
    }
    lastGroup = null;
    shown.push(words(f.querySelector("legend, label")?.textContent));
  }
  return shown;
}

// ---------------------------------------------------------------------------
// Cases

export function caseloadRow(overrides: Partial<CaseloadRow> = {}): CaseloadRow {
  const base = {
    case_id: "c1",
    reference: "T-1",
    status: "open",
    risk_level: "high",
    risk_review_on: null,
    victim: "Test Person",
    advocate: "ADV1",
    incidents: 12,
    next_hearing: "2027-01-14T10:00:00.000000Z",
    last_contact: null,
    days_since_contact: 9,
    escalation: escalation(),
  } satisfies CaseloadRow;
  return { ...base, ...overrides };
}

export function caseRecord(overrides: Partial<B.Case_Serialize> = {}): B.Case_Serialize {
  const base = {
    id: "c1",
    reference: "T-1",
    status: "open",
    closure: null,
    referral: {
      received_on: "2026-10-01",
      source: "police",
      referrer: null,
      reason: "Referred by the police after a report of stalking.",
      consent_recorded: true,
      referrer_contact: null,
      their_reference: null,
      criteria: [],
      victim_aware: null,
      afraid_of: null,
      previous_referral: null,
    },
    advocate: "ADV1",
    opened_on: "2026-10-01",
    risk_level: "high",
    risk_review_on: "2026-12-05",
    police_references: [],
    court_cases: [],
    persistently_targeted: false,
    legal_hold: null,
  } satisfies B.Case_Serialize;
  return { ...base, ...overrides };
}

export function safePhone(overrides: Partial<B.SafePhone_Serialize> = {}): B.SafePhone_Serialize {
  const base = {
    number: "07700900123",
    label: null,
    voicemail_ok: false,
    text_ok: false,
    safe_times: null,
  } satisfies B.SafePhone_Serialize;
  return { ...base, ...overrides };
}

export function safeContact(overrides: Partial<B.SafeContact_Serialize> = {}): B.SafeContact_Serialize {
  const base = {
    phones: [],
    email: null,
    email_safe: false,
    safe_times: null,
    notes: null,
  } satisfies B.SafeContact_Serialize;
  return { ...base, ...overrides };
}

export function victim(overrides: Partial<B.Victim_Serialize> = {}): B.Victim_Serialize {
  const base = {
    id: "v1",
    case_id: "c1",
    name: "Test Person",
    preferred_name: null,
    date_of_birth: null,
    gender: null,
    language: null,
    interpreter_needed: false,
    disabilities: null,
    ethnicity: null,
    sexual_orientation: null,
    dependants: [],
    address: { lines: ["1 Test Street"], postcode: null, do_not_disclose: true },
    safe_contact: safeContact(),
    consents: [],
    sharing_without_consent: [],
  } satisfies B.Victim_Serialize;
  return { ...base, ...overrides };
}

export function incident(overrides: Partial<B.Incident_Serialize> = {}): B.Incident_Serialize {
  const base = {
    id: "i1",
    case_id: "c1",
    occurred_at: "2026-11-20T19:30:00Z",
    location: null,
    account: "Waited outside the house all evening.",
    channel: "in_person",
    behaviours: ["loitering"],
    witnesses: [],
    evidence: [],
    reported_to_police: false,
    crime_reference: null,
    officer: null,
    police_force: null,
    impact: null,
    breaches_order: null,
    recorded_at: "2026-11-21T09:00:00Z",
    recorded_by: "ADV1",
  } satisfies B.Incident_Serialize;
  return { ...base, ...overrides };
}

export function order(overrides: Partial<B.ProtectiveOrder_Serialize> = {}): B.ProtectiveOrder_Serialize {
  const base = {
    id: "o1",
    case_id: "c1",
    order_type: "spo",
    issued_by: "Example Magistrates' Court",
    applied_on: null,
    made_on: "2026-10-15",
    served_on: null,
    expiry: { kind: "on", date: "2028-10-15" },
    protected_persons: [],
    conditions: [],
    bail_authority: null,
  } satisfies B.ProtectiveOrder_Serialize;
  return { ...base, ...overrides };
}

/** An order as the case file lists it, with its breaches; `order` is merged into a whole order. */
export function orderEntry(
  overrides: Partial<Omit<B.OrderEntry_Serialize, "order">> & { order?: Partial<B.ProtectiveOrder_Serialize> } = {},
): B.OrderEntry_Serialize {
  const { order: o, ...rest } = overrides;
  const base = {
    order: order(o),
    breaches: [],
    notification_deadline: null,
    in_force_today: true,
  } satisfies B.OrderEntry_Serialize;
  return { ...base, ...rest };
}

export function hearing(overrides: Partial<B.Hearing_Serialize> = {}): B.Hearing_Serialize {
  const base = {
    id: "h1",
    case_id: "c1",
    court: "Example Magistrates' Court",
    hearing_type: "trial",
    starts_at: "2027-01-14T10:00:00Z",
    court_reference: null,
    outcome: null,
    next_date: null,
    special_measures: [],
    victim_attends: null,
    vps_read: null,
    witness_care_contact: null,
  } satisfies B.Hearing_Serialize;
  return { ...base, ...overrides };
}

export function referral(overrides: Partial<B.Referral_Serialize> = {}): B.Referral_Serialize {
  const base = {
    id: "r1",
    case_id: "c1",
    target: "clinic_panel",
    made_on: "2026-11-01",
    status: "sent",
    outcome: null,
    outcome_on: null,
  } satisfies B.Referral_Serialize;
  return { ...base, ...overrides };
}

export function perpetrator(overrides: Partial<B.Perpetrator_Serialize> = {}): B.Perpetrator_Serialize {
  const base = {
    id: "p1",
    case_id: "c1",
    names: ["Test Suspect"],
    aliases: [],
    date_of_birth: null,
    addresses: [],
    vehicles: [],
    phones: [],
    online_accounts: [],
    relationship: "ex_intimate_partner",
    typology: null,
    weapons_access: null,
    weapons_notes: null,
    probation_status: null,
    mappa_status: null,
    mental_health: null,
  } satisfies B.Perpetrator_Serialize;
  return { ...base, ...overrides };
}

export function contact(overrides: Partial<B.Contact_Serialize> = {}): B.Contact_Serialize {
  const base = {
    id: "k1",
    case_id: "c1",
    at: "2026-11-21T10:00:00Z",
    method: "phone",
    with_victim: true,
    party: null,
    summary: "Met at home",
    victims_code_update: false,
  } satisfies B.Contact_Serialize;
  return { ...base, ...overrides };
}

export function caseFile(overrides: Partial<B.CaseFile_Serialize> = {}): B.CaseFile_Serialize {
  const base = {
    case: caseRecord(),
    victim: victim(),
    perpetrators: [],
    incidents: [],
    risk_assessments: [],
    safety_plans: [],
    hearings: [],
    orders: [],
    referrals: [],
    clinic_reviews: [],
    contacts: [],
    tasks: [],
    escalation_reviews: [],
    reminders: [],
    escalation: escalation(),
    patterns: patterns(),
  } satisfies B.CaseFile_Serialize;
  return { ...base, ...overrides };
}

export function task(overrides: Partial<B.Task_Serialize> = {}): B.Task_Serialize {
  const base = {
    id: "t1",
    case_id: "c1",
    due_on: "2026-12-01",
    what: "Chase the police for the crime reference",
    linked: null,
    status: "open",
    done_on: null,
  } satisfies B.Task_Serialize;
  return { ...base, ...overrides };
}

/** One case as the case screen receives it; `file` is merged into a whole case file. */
export function caseView(
  overrides: Partial<Omit<CaseView, "file">> & { file?: Partial<B.CaseFile_Serialize> } = {},
): CaseView {
  const { file, ...rest } = overrides;
  const base = {
    file: caseFile(file),
    warnings: [],
    timeline: { weeks: [], behaviours: [] },
    audit: [],
  } satisfies CaseView;
  return { ...base, ...rest };
}

// ---------------------------------------------------------------------------
// Escalation, patterns and the week

/** One thing the escalation analysis saw change; by default a first more serious behaviour. */
export function finding(overrides: Partial<Finding> = {}): Finding {
  const base = {
    sign: "more_serious",
    text: "first threats on 14 November (the most serious before: contact)",
    since: "2026-11-14",
    evidence_at: "2026-11-14T21:30:00Z",
  } satisfies Finding;
  return { ...base, ...overrides };
}

/** A case's unreviewed findings: none by default, so a case is not escalating unless a test says so. */
export function escalation(overrides: Partial<Escalation> = {}): Escalation {
  const base = { findings: [], last_review: null, rank: 0 } satisfies Escalation;
  return { ...base, ...overrides };
}

/** A case escalating on two signs: more frequent incidents and, because of them, a risk review due. */
export function escalating(overrides: Partial<Escalation> = {}): Escalation {
  return escalation({
    findings: [
      finding({
        sign: "more_frequent",
        text: "3 incidents in the last 7 days, against about 1 a week before",
        since: "2026-11-16",
        evidence_at: "2026-11-21T19:00:00Z",
      }),
      finding({
        sign: "risk_review_due",
        text: "re-assess risk: the last assessment was on 1 October, before this",
        since: "2026-11-16",
        evidence_at: "2026-11-21T19:00:00Z",
      }),
    ],
    // More frequent (fifth most telling of seven) and no other sign but the review.
    rank: 301,
    ...overrides,
  });
}

/** Seven rows, Monday first, of 24 hourly counts, with `counts` set as [day, hour, count]. */
export function dayByHour(...counts: [day: number, hour: number, count: number][]): number[][] {
  const grid = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  for (const [day, hour, count] of counts) grid[day][hour] = count;
  return grid;
}

/** A case's patterns: no incidents by default. */
export function patterns(overrides: Partial<Patterns> = {}): Patterns {
  const base = {
    incidents: 0,
    day_by_hour: dayByHour(),
    channels: [],
    behaviours: [],
    locations: [],
  } satisfies Patterns;
  return { ...base, ...overrides };
}

/** Five incidents, most on Monday evenings, as the core counts them. */
export function somePatterns(): Patterns {
  return patterns({
    incidents: 5,
    day_by_hour: dayByHour([0, 22, 3], [2, 8, 1], [6, 13, 1]),
    channels: [
      { label: "In person", count: 3 },
      { label: "Text", count: 2 },
    ],
    behaviours: [
      { label: "Loitering or watching near home, work or school", count: 4 },
      { label: "Following", count: 2 },
      { label: "Unwanted contact by phone, text, email or letter", count: 1 },
    ],
    locations: [
      { label: "Outside work", count: 2 },
      { label: "Station car park", count: 1 },
    ],
  });
}

export function escalationReview(overrides: Partial<B.EscalationReview_Serialize> = {}): B.EscalationReview_Serialize {
  const base = {
    id: "e1",
    case_id: "c1",
    reviewed_at: "2026-11-22T10:15:00.000000Z",
    reviewed_by: "ADV1",
    signs: ["more_frequent"],
    note: "Talked it through with the victim; police told of the pattern.",
    risk_assessment_id: null,
  } satisfies B.EscalationReview_Serialize;
  return { ...base, ...overrides };
}

export function riskAssessment(overrides: Partial<B.RiskAssessment_Serialize> = {}): B.RiskAssessment_Serialize {
  const base = {
    id: "a1",
    case_id: "c1",
    instrument: "s-dash",
    instrument_version: "1",
    assessed_on: "2026-10-01",
    assessor: "ADV1",
    answers: {},
    judged_level: "high",
    rationale: null,
    next_review_on: "2026-12-05",
  } satisfies B.RiskAssessment_Serialize;
  return { ...base, ...overrides };
}

/** A reminder on the home screen; `reminder` is merged into a whole reminder, an open task's by default. */
export function dueItem(
  overrides: Partial<Omit<DueItem, "reminder">> & { reminder?: Partial<B.Reminder> } = {},
): DueItem {
  const { reminder, ...rest } = overrides;
  const whole = {
    kind: "task",
    due_on: "2026-11-22",
    case_id: "c1",
    what: "Chase the police for the crime reference",
    linked: { kind: "task", id: "t1" },
    ...reminder,
  } satisfies B.Reminder;
  const base = {
    reminder: whole,
    reference: "T-1",
    key: `${whole.kind}:${whole.linked.id}:${whole.due_on}`,
    snoozable: whole.kind !== "hearing",
    // As the core allows: 28 days on for what stays overdue, an order's expiry or deadline to its day.
    snooze_latest:
      whole.kind === "hearing"
        ? null
        : ["order_expires", "notification_deadline"].includes(whole.kind)
          ? whole.due_on
          : "2026-12-20",
  } satisfies DueItem;
  return { ...base, ...rest };
}

/** A case on the home screen's "Escalating" list; escalating on two signs by default. */
export function escalatingCase(overrides: Partial<B.EscalatingCase_Serialize> = {}): B.EscalatingCase_Serialize {
  const base = {
    case_id: "c1",
    reference: "T-1",
    risk_level: "high",
    escalation: escalating(),
  } satisfies B.EscalatingCase_Serialize;
  return { ...base, ...overrides };
}

/** The home screen's answer: nothing escalating or due unless a test says so. */
export function thisWeek(overrides: Partial<ThisWeek> = {}): ThisWeek {
  const base = {
    today: "2026-11-22",
    escalating: [],
    overdue: [],
    due_today: [],
    next_seven_days: [],
    snoozed: 0,
  } satisfies ThisWeek;
  return { ...base, ...overrides };
}

// ---------------------------------------------------------------------------
// Sync

export function syncStatus(overrides: Partial<B.SyncStatus_Serialize> = {}): B.SyncStatus_Serialize {
  const base = {
    enrolled: true,
    last_sync_at: "2026-11-22T14:05:00.000000Z",
    last_attempt_at: "2026-11-22T14:05:00.000000Z",
    last_error: null,
    pending: 0,
    open_conflicts: 0,
    problems: 0,
    held: 0,
    drift_warning_ms: null,
    acked_through: 10,
    pull_cursor: 4,
  } satisfies B.SyncStatus_Serialize;
  return { ...base, ...overrides };
}

export function conflict(overrides: Partial<Conflict> = {}): Conflict {
  const base = {
    id: "c0ffee",
    kind: "case",
    record_id: "r1",
    case_id: "k1",
    case_reference: "SC-0001",
    field: "risk_level",
    local_value: "high",
    remote_value: "medium",
    remote_actor: "ISA07",
    detected_at: "2026-11-22T14:05:00Z",
  } satisfies Conflict;
  return { ...base, ...overrides };
}

export function problem(overrides: Partial<Problem> = {}): Problem {
  const base = {
    id: 1,
    at: "2026-11-22T14:00:00Z",
    code: "quarantined_by_clinic",
    direction: "up",
    op_id: "o1",
    seq: 9,
    advice: "The clinic already holds a different change with this number. It kept both; ask the clinic to check.",
    retryable: false,
    needs_rejoin: false,
  } satisfies Problem;
  return { ...base, ...overrides };
}

export function pendingOp(overrides: Partial<B.PendingOp> = {}): B.PendingOp {
  const base = {
    seq: 11,
    kind: "incident",
    action: "create",
    made_at: "2026-11-22T13:00:00Z",
    fields: ["account", "channel"],
  } satisfies B.PendingOp;
  return { ...base, ...overrides };
}

/** A laptop enrolled with the clinic and nothing waiting. */
export function syncView(overrides: Partial<SyncView> = {}): SyncView {
  const base = {
    status: syncStatus(),
    clinic_url: "https://clinic.example:8443",
    pending: [],
    conflicts: [],
    problems: [],
    running: false,
  } satisfies SyncView;
  return { ...base, ...overrides };
}

// ---------------------------------------------------------------------------
// Printing

/** A one-pixel PNG, for a page of a preview. */
export const PAGE = "data:image/png;base64,iVBORw0KGgo=";

export function printPreview(overrides: Partial<PrintPreview> = {}): PrintPreview {
  const base = {
    document: "safety_plan",
    discreet: true,
    large_print: false,
    pages: [PAGE, PAGE],
    file_name: "my-plan.pdf",
  } satisfies PrintPreview;
  return { ...base, ...overrides };
}

export function printDone(overrides: Partial<PrintDone> = {}): PrintDone {
  const base = { pages: 2, destination: "file" } satisfies PrintDone;
  return { ...base, ...overrides };
}

// ---------------------------------------------------------------------------
// The quarterly return

/** A line of a figure's breakdown: by default a count of 3. */
export function returnRow(overrides: Partial<B.Row> = {}): B.Row {
  const base = { key: "police", label: "Police", value: { kind: "count", n: 3 }, shown: "3" } satisfies B.Row;
  return { ...base, ...overrides };
}

/** One figure of the return: by default the referrals received, 12, with no breakdown. */
export function returnFigure(overrides: Partial<B.Figure> = {}): B.Figure {
  const base = {
    key: "referrals_received",
    section: "referrals",
    label: "Referrals received, by source",
    value: { kind: "count", n: 12 },
    shown: "12",
    breakdown: [],
  } satisfies B.Figure;
  return { ...base, ...overrides };
}

/**
 * This laptop's return for the last full quarter on 22 November 2026 (Q2):
 * a few figures in three sections, as the core words them, with a
 * suppressed count, a figure held at the clinic and one not applicable.
 */
export function quarterlyReturn(overrides: Partial<B.QuarterlyReturn> = {}): B.QuarterlyReturn {
  const base = {
    quarter: "2026-27-Q2",
    period: "Q2 2026/27 (1 July to 30 September 2026)",
    scope: "caseload",
    made_on: "2026-11-22",
    first_contact_target_days: 2,
    suppress_below: 5,
    figures: [
      returnFigure({
        breakdown: [
          returnRow({ key: "police", label: "Police", value: { kind: "count", n: 9 }, shown: "9" }),
          returnRow({ key: "self", label: "Self-referral", value: { kind: "suppressed" }, shown: "[c]" }),
          returnRow({ key: "other", label: "Another source", value: { kind: "suppressed" }, shown: "[c]" }),
        ],
      }),
      returnFigure({
        key: "referrals_declined",
        label: "Referrals declined at screening",
        value: { kind: "held_at_clinic" },
        shown: "[x]",
      }),
      returnFigure({
        key: "victims_new",
        section: "victims",
        label: "New this quarter",
        value: { kind: "count", n: 7 },
        shown: "7",
      }),
      returnFigure({
        key: "first_contact_median_days",
        section: "first_contact",
        label: "Median days from referral to first contact",
        value: { kind: "days", days: 1.5, over: 7 },
        shown: "1.5 days",
      }),
      returnFigure({
        key: "first_contact_within_target",
        section: "first_contact",
        label: "First contact within the service's target",
        value: { kind: "share", n: 6, of: 7 },
        shown: "6 of 7 (86%)",
      }),
      returnFigure({
        key: "first_contact_awaited",
        section: "first_contact",
        label: "Referrals still awaiting first contact",
        value: { kind: "not_applicable" },
        shown: "[z]",
      }),
    ],
  } satisfies B.QuarterlyReturn;
  return { ...base, ...overrides };
}

export function returnSaved(overrides: Partial<B.ReturnSaved> = {}): B.ReturnSaved {
  const base = { format: "csv" } satisfies B.ReturnSaved;
  return { ...base, ...overrides };
}

// ---------------------------------------------------------------------------
// Subject access

/**
 * A request from the case's victim, received on 1 November 2026 and due a
 * month later; the requester's identity not checked yet.
 */
export function accessRequest(overrides: Partial<B.AccessRequest_Serialize> = {}): B.AccessRequest_Serialize {
  const base = {
    id: "r-0001",
    case_id: "c1",
    subject: "victim",
    perpetrator_id: null,
    received_on: "2026-11-01",
    due_on: "2026-12-01",
    made_at: "2026-11-02T09:00:00Z",
    made_by: "ADV1",
    identity_checked: null,
  } satisfies B.AccessRequest_Serialize;
  return { ...base, ...overrides };
}

/** One item of an answer: by default the requester's own account of an incident. */
export function accessItem(overrides: Partial<B.AccessItem_Serialize> = {}): B.AccessItem_Serialize {
  const record_id = overrides.record_id ?? "i1";
  const field = overrides.field ?? "account";
  const base = {
    key: `${record_id}/${field}`,
    kind: "incident",
    record_id,
    field,
    label: "What happened",
    text: "Waited outside the house all evening.",
    withheld: null,
    releasable: true,
    panel: null,
  } satisfies B.AccessItem_Serialize;
  return { ...base, ...overrides };
}

/** A request's review: nothing released or exempt unless a test says so. */
export function accessReview(overrides: Partial<B.AccessReview_Serialize> = {}): B.AccessReview_Serialize {
  const base = {
    request: accessRequest(),
    reference: "T-1",
    items: [accessItem()],
    released: [],
    changed_since_release: [],
    exempt: [],
  } satisfies B.AccessReview_Serialize;
  return { ...base, ...overrides };
}

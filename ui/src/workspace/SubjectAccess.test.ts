import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import SubjectAccess from "./SubjectAccess.svelte";
import AccessReviewPanel from "./AccessReviewPanel.svelte";
import { caseFile, caseloadRow, perpetrator, vocabularies } from "../test-kit";
import {
  PERPETRATOR_ID,
  accessItem,
  accessRequest,
  accessRequestRow,
  accessReview,
  caseAnswer,
  caseload,
  identityCheck,
  invalidForm,
  mockServer,
  refusal,
  type Route,
} from "./server-mock";
import { CSRF_HEADER } from "./api";
import type { AccessReview } from "./types";
import { londonToday } from "./words";

// jsdom has no object URLs: the download tests give it their own, and each is taken away after.
const { createObjectURL, revokeObjectURL } = URL;
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  URL.createObjectURL = createObjectURL;
  URL.revokeObjectURL = revokeObjectURL;
});

const CSRF = "csrf-from-sign-in";

/** The vocabularies, with subject access's lists in the core's words. */
const VOCAB = vocabularies({
  access_subjects: [
    { value: "victim", label: "The victim" },
    { value: "perpetrator", label: "The perpetrator" },
  ],
  withheld_reasons: [
    { value: "about_the_perpetrator", label: "It is the perpetrator's information" },
    { value: "about_the_victim", label: "It is also the victim's information" },
    {
      value: "about_someone_else",
      label: "It is someone else's information (a witness, an officer, a referrer, an agency, a child)",
    },
    {
      value: "shows_where_the_victim_lives",
      label: "It could show where the victim is or how to reach her, which is never released to the perpetrator",
    },
    {
      value: "came_from_others",
      label: "It is about the perpetrator but came from someone else, who could be identified",
    },
    { value: "exempt", label: "An exemption in the Data Protection Act 2018 applies" },
    {
      value: "from_an_agency",
      label: "Another agency shared it with the clinic's panel, and answers for it from its own files",
    },
  ],
  exemption_reasons: [
    { value: "crime", label: "Giving it would be likely to prejudice the prevention or detection of crime" },
    {
      value: "serious_harm",
      label: "Giving it would be likely to cause serious harm to someone's physical or mental health",
    },
    { value: "identifies_someone", label: "It would identify someone else, who has not agreed" },
    { value: "legal_privilege", label: "It is covered by legal professional privilege" },
  ],
  panel_parts: [
    { value: "selection", label: "Why the clinic put the case to its panel" },
    { value: "research", label: "An agency's research before a panel meeting" },
    { value: "shared_at_meeting", label: "What an agency shared at a panel meeting" },
    { value: "action", label: "An action the panel agreed" },
    { value: "decision", label: "What the panel noted of its decision" },
    { value: "pathway", label: "A pathway the panel referred the perpetrator to" },
  ],
});

/** A London calendar day `offset` days from today, "YYYY-MM-DD". */
function dayFromToday(offset: number): string {
  const at = new Date(`${londonToday()}T12:00:00Z`);
  at.setUTCDate(at.getUTCDate() + offset);
  return at.toISOString().slice(0, 10);
}
const uk = (day: string) => day.split("-").reverse().join("/");
const words = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, " ").trim();

// ---- The list and the form ----

const OVERDUE = accessRequest({ id: "sar1", received_on: dayFromToday(-34), due_on: dayFromToday(-3) });
const SOON = accessRequest({
  id: "sar2",
  case_id: "c2",
  subject: "perpetrator",
  perpetrator_id: PERPETRATOR_ID,
  received_on: dayFromToday(-20),
  due_on: dayFromToday(10),
  identity_checked: identityCheck({ on: dayFromToday(-18) }),
});
const LIST = "GET /w/api/access-requests";
const MAKE = "POST /w/api/access-requests";
const SECOND_ID = "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a";

function showList(routes: Record<string, Route> = {}) {
  const api = mockServer({
    [LIST]: { body: { requests: [accessRequestRow(OVERDUE, "T-1"), accessRequestRow(SOON, "T-2")] } },
    "GET /w/api/caseload": caseload([
      caseloadRow({ case_id: "c2", reference: "T-2", advocate: "ADV2" }),
      caseloadRow(),
    ]),
    "GET /w/api/cases/c1": caseAnswer(
      caseFile({
        perpetrators: [
          perpetrator({ id: PERPETRATOR_ID, names: ["Test Suspect"] }),
          perpetrator({ id: SECOND_ID, names: ["Second Suspect", "S. Suspect"] }),
        ],
      }),
    ),
    [MAKE]: (sent) => ({
      body: accessRequest({
        id: "sar3",
        ...(sent.body as object),
        due_on: "2026-12-01",
      }),
    }),
    ...routes,
  });
  const onopen = vi.fn();
  render(SubjectAccess, { csrf: CSRF, vocabularies: async () => VOCAB, onopen });
  return { api, onopen, user: userEvent.setup() };
}

async function openForm(user: ReturnType<typeof userEvent.setup>) {
  await user.click(await screen.findByRole("button", { name: "Record a request" }));
  const form = within(screen.getByRole("form", { name: "Record a subject access request" }));
  await form.findByRole("option", { name: "T-1, advocate ADV1" });
  return form;
}

function sentBody(api: ReturnType<typeof mockServer>) {
  const sent = api.sent(MAKE);
  expect(sent.length).toBe(1);
  expect(sent[0].headers.get(CSRF_HEADER)).toBe(CSRF);
  return sent[0].body;
}

describe("the subject access requests", () => {
  it("lists the requests in the server's order, dates as day/month/year, an overdue one and the identity checks in words", async () => {
    const { api, onopen, user } = showList();
    const table = within(await screen.findByRole("table", { name: "Subject access requests, 2 in all, 1 overdue" }));
    expect(table.getAllByRole("columnheader").map(words)).toEqual([
      "Case",
      "Whose request",
      "Received",
      "Answer due",
      "When due",
      "Identity",
      "Actions",
    ]);
    const rows = table
      .getAllByRole("row")
      .slice(1)
      .map((r) => [...r.querySelectorAll("th, td")].map(words));
    expect(rows).toEqual([
      [
        "T-1",
        "The victim",
        uk(OVERDUE.received_on),
        uk(OVERDUE.due_on),
        "Overdue by 3 days",
        "Identity not checked yet",
        "Open the request from the victim on T-1",
      ],
      [
        "T-2",
        "The perpetrator (Perpetrator 5f0c2d1e)",
        uk(SOON.received_on),
        uk(SOON.due_on),
        "Due in 10 days",
        "Identity checked",
        "Open the request from the perpetrator on T-2",
      ],
    ]);
    // A perpetrator is never named on the list.
    expect(document.body.textContent).not.toContain("Suspect");
    await user.click(table.getByRole("button", { name: "Open the request from the perpetrator on T-2" }));
    expect(onopen).toHaveBeenCalledWith("sar2");
    expect(api.sent(LIST)[0].headers.has(CSRF_HEADER)).toBe(false);
  });

  it("keeps a request whose case was erased, says it is still owed an answer, and offers nothing to open", async () => {
    // Why: erasing a case must not lose the person's request; the answer now is that nothing is held.
    showList({ [LIST]: { body: { requests: [accessRequestRow(OVERDUE, "")] } } });
    const row = (await screen.findByText("Case erased")).closest("tr") as HTMLElement;
    expect(row.textContent).toContain("answer that nothing is held now");
    expect(row.querySelector("button")).toBeNull();
  });

  it("says when no request is recorded, and the server's refusal of the list", async () => {
    showList({ [LIST]: { body: { requests: [] } } });
    expect(await screen.findByText("No subject access request is recorded.")).toBeTruthy();
    vi.unstubAllGlobals();
    document.body.innerHTML = "";
    showList({ [LIST]: refusal(403, "forbidden", "that is not something your role can do") });
    expect((await screen.findByRole("alert")).textContent).toBe("That is not something your role can do.");
    expect(screen.queryByRole("table")).toBeNull();
  });

  it("records a victim's request with no perpetrator_id sent, and lists it", async () => {
    const { api, user } = showList();
    const form = await openForm(user);
    expect(document.activeElement).toBe(form.getByLabelText(/^Case/));
    await user.selectOptions(form.getByLabelText(/^Case/), "T-1, advocate ADV1");
    await user.click(form.getByRole("radio", { name: "The victim" }));
    // A victim's request names no perpetrator, so the form asks for none.
    expect(form.queryByLabelText(/^Which perpetrator asked/)).toBeNull();
    await user.type(form.getByLabelText(/^Date received/), "1/11/2026");
    await user.click(form.getByRole("button", { name: "Record the request" }));
    expect(
      await screen.findByText("The request from the victim on T-1 is recorded: its answer is due on 01/12/2026."),
    ).toBeTruthy();
    expect(sentBody(api)).toStrictEqual({ case_id: "c1", subject: "victim", received_on: "2026-11-01" });
    expect(api.sent("GET /w/api/cases/c1")).toEqual([]);
    expect(screen.queryByRole("form")).toBeNull();
    expect(api.sent(LIST)).toHaveLength(2);
    expect(document.activeElement).toBe(screen.getByRole("status"));
  });

  it("records a perpetrator's request naming which of the case's perpetrators asked", async () => {
    const { api, user } = showList();
    const form = await openForm(user);
    await user.click(form.getByRole("radio", { name: "The perpetrator" }));
    const who = form.getByLabelText(/^Which perpetrator asked/) as HTMLSelectElement;
    expect([...who.options].map((o) => o.textContent)).toEqual(["Choose the case first"]);
    await user.selectOptions(form.getByLabelText(/^Case/), "T-1, advocate ADV1");
    await form.findByRole("option", { name: "Test Suspect (Perpetrator 5f0c2d1e)" });
    expect([...who.options].map((o) => o.textContent)).toEqual([
      "Choose the perpetrator",
      "Test Suspect (Perpetrator 5f0c2d1e)",
      "Second Suspect / S. Suspect (Perpetrator 0d1e2f3a)",
    ]);
    await user.selectOptions(who, "Second Suspect / S. Suspect (Perpetrator 0d1e2f3a)");
    await user.type(form.getByLabelText(/^Date received/), "02/11/2026");
    await user.click(form.getByRole("button", { name: "Record the request" }));
    await screen.findByText(/^The request from the perpetrator on T-1 is recorded/);
    expect(sentBody(api)).toStrictEqual({
      case_id: "c1",
      subject: "perpetrator",
      perpetrator_id: SECOND_ID,
      received_on: "2026-11-02",
    });
  });

  it("says what is missing before sending anything", async () => {
    const { api, user } = showList();
    const form = await openForm(user);
    await user.click(form.getByRole("radio", { name: "The perpetrator" }));
    await user.click(form.getByRole("button", { name: "Record the request" }));
    expect((await form.findByRole("alert")).textContent).toBe("Choose the case.");
    expect(form.getByLabelText(/^Case/).getAttribute("aria-invalid")).toBe("true");
    expect(form.getByLabelText(/^Which perpetrator asked/).getAttribute("aria-invalid")).toBe("true");
    expect(form.getByText("Enter the date the request was received.")).toBeTruthy();
    expect(api.sent(MAKE)).toEqual([]);
  });

  it("shows a field the server refuses beside that field, and focuses it", async () => {
    const { api, user } = showList({
      [MAKE]: invalidForm("the request has fields to put right", [
        { field: "received_on", rule: "must not be in the future" },
      ]),
    });
    const form = await openForm(user);
    await user.selectOptions(form.getByLabelText(/^Case/), "T-1, advocate ADV1");
    await user.click(form.getByRole("radio", { name: "The victim" }));
    const date = form.getByLabelText(/^Date received/) as HTMLInputElement;
    await user.type(date, "01/01/2099");
    await user.click(form.getByRole("button", { name: "Record the request" }));
    expect((await form.findByRole("alert")).textContent).toBe("The request has fields to put right.");
    expect(date.getAttribute("aria-invalid")).toBe("true");
    const described = (date.getAttribute("aria-describedby") ?? "").split(" ");
    const error = described.map((id) => document.getElementById(id)).find((el) => el?.className === "field-error");
    expect(error?.textContent).toBe("The date received must not be in the future.");
    // Beside the field: in the same field's box.
    expect(error?.closest(".field")).toBe(date.closest(".field"));
    expect(document.activeElement).toBe(date);
    expect(sentBody(api)).toStrictEqual({ case_id: "c1", subject: "victim", received_on: "2099-01-01" });
    // The form stays, with what was typed.
    expect(screen.getByRole("form", { name: "Record a subject access request" })).toBeTruthy();
  });

  it("marks the perpetrator the server refuses by the perpetrator's field", async () => {
    const { user } = showList({
      [MAKE]: invalidForm("the request has fields to put right", [
        { field: "perpetrator_id", rule: "is not a perpetrator of this case" },
      ]),
    });
    const form = await openForm(user);
    await user.selectOptions(form.getByLabelText(/^Case/), "T-1, advocate ADV1");
    await user.click(form.getByRole("radio", { name: "The perpetrator" }));
    const who = form.getByLabelText(/^Which perpetrator asked/) as HTMLSelectElement;
    await user.selectOptions(who, await form.findByRole("option", { name: /^Test Suspect/ }));
    await user.type(form.getByLabelText(/^Date received/), "01/11/2026");
    await user.click(form.getByRole("button", { name: "Record the request" }));
    await form.findByRole("alert");
    expect(who.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(who.getAttribute("aria-describedby") ?? "")?.textContent?.trim()).toBe(
      "The perpetrator is not a perpetrator of this case.",
    );
    expect(document.activeElement).toBe(who);
  });

  it("gives the focus back to the button that opened the form when it is cancelled", async () => {
    const { api, user } = showList();
    await openForm(user);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("form")).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Record a request" }));
    expect(api.sent(MAKE)).toEqual([]);
  });
});

// ---- The review ----

const OWN_NAME = accessItem({
  kind: "victim",
  record_id: "v1",
  field: "name",
  label: "Name",
  text: "Avery Sample",
});
const OWN_ACCOUNT = accessItem();
const WITNESS = accessItem({
  field: "witnesses",
  label: "Witnesses",
  text: "A neighbour, Jo Bloggs",
  withheld: "about_someone_else",
});
const SECOND_INCIDENT = accessItem({
  record_id: "i2",
  label: "What happened",
  text: "Sent forty messages in a night.",
});
const HIS_NAME = accessItem({
  kind: "perpetrator",
  record_id: "p1",
  field: "names",
  label: "Names",
  text: "Jordan Sample",
  withheld: "about_the_perpetrator",
});
const PANEL_NOTE = accessItem({
  kind: "clinic_review",
  record_id: "pd1",
  field: "decision_note",
  label: "The panel's note of its decision",
  text: "Apply for a Stalking Protection Order.",
  withheld: "from_an_agency",
  panel: "decision",
});
const REVIEW: AccessReview = accessReview({
  request: accessRequest({ id: "sar1", received_on: dayFromToday(-34), due_on: dayFromToday(-3) }),
  items: [OWN_NAME, OWN_ACCOUNT, WITNESS, SECOND_INCIDENT, HIS_NAME, PANEL_NOTE],
});
/** The same review once the requester's identity is checked: only then can the answer be downloaded. */
const CHECKED: AccessReview = {
  ...REVIEW,
  request: { ...REVIEW.request, identity_checked: identityCheck({ on: dayFromToday(-30) }) },
};
const RELEASE = "POST /w/api/access-requests/sar1/release";
const WITHHOLD = "POST /w/api/access-requests/sar1/withhold";
const ANSWER = "GET /w/api/access-requests/sar1/answer";
const IDENTITY = "POST /w/api/access-requests/sar1/identity";

function showReview(review: AccessReview = REVIEW, routes: Record<string, Route> = {}) {
  const api = mockServer({ [`GET /w/api/access-requests/${review.request.id}`]: { body: review }, ...routes });
  const onback = vi.fn();
  render(AccessReviewPanel, { requestId: review.request.id, csrf: CSRF, vocabularies: async () => VOCAB, onback });
  return { api, onback, user: userEvent.setup() };
}

/** The item whose words are `text`: its list item. */
const itemOf = (text: string) => within(screen.getByText(text).closest("li") as HTMLElement);
const stateOf = (text: string) => words(screen.getByText(text).closest("li")?.querySelector(".ws-access-state"));
const countsOf = () =>
  within(screen.getByRole("region", { name: "The answer as it stands" }))
    .getAllByRole("listitem")
    .slice(0, 3)
    .map(words);

describe("a request's review", () => {
  it("heads the review with the case, whose request and the dates, counts the answer, and groups the items by record", async () => {
    const { onback, user } = showReview();
    expect(
      await screen.findByRole("heading", { level: 1, name: "Subject access request from the victim on T-1" }),
    ).toBeTruthy();
    const facts = [...document.querySelectorAll(".ws-access-facts dt, .ws-access-facts dd")].map(words);
    expect(facts).toEqual([
      "Whose request",
      "The victim",
      "Received",
      uk(REVIEW.request.received_on),
      "Answer due",
      `${uk(REVIEW.request.due_on)}: Overdue by 3 days`,
      "Recorded by",
      "COORD1",
    ]);
    expect(countsOf()).toEqual(["3 items in the answer", "0 of them released", "3 items withheld"]);
    const items = within(screen.getByRole("region", { name: "Items, record by record" }));
    expect(items.getAllByRole("heading", { level: 3 }).map(words)).toEqual([
      "The victim's details",
      "An incident (1 of 2)",
      "An incident (2 of 2)",
      "A perpetrator's details",
      "What the panel noted of its decision",
    ]);
    // Consecutive items of one record are one record.
    const first = within(items.getByRole("region", { name: "An incident (1 of 2)" }));
    expect(first.getAllByRole("listitem").map((li) => li.querySelector("strong")?.textContent)).toEqual([
      "What happened",
      "Witnesses",
    ]);
    expect(stateOf(OWN_ACCOUNT.text)).toBe("In the answer.");
    expect(stateOf(WITNESS.text)).toBe(
      "Withheld: It is someone else's information (a witness, an officer, a referrer, an agency, a child).",
    );
    expect(stateOf(PANEL_NOTE.text)).toBe(
      "Withheld: Another agency shared it with the clinic's panel, and answers for it from its own files.",
    );
    expect(itemOf(WITNESS.text).getByRole("button", { name: "Release Witnesses, An incident (1 of 2)" })).toBeTruthy();
    expect(
      itemOf(OWN_ACCOUNT.text).getByRole("button", {
        name: "Withhold under an exemption… What happened, An incident (1 of 2)",
      }),
    ).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Back to subject access" }));
    expect(onback).toHaveBeenCalled();
  });

  it("releases a withheld item only after a confirmation, posting its key, and shows the review the server returns", async () => {
    const { api, user } = showReview(REVIEW, {
      [RELEASE]: { body: { ...REVIEW, released: [WITNESS.key] } },
    });
    const release = await screen.findByRole("button", { name: "Release Witnesses, An incident (1 of 2)" });
    // Asked first: "no" sends nothing and gives the focus back.
    await user.click(release);
    let dialog = within(screen.getByRole("alertdialog", { name: "Release this item?" }));
    expect(dialog.getByText(WITNESS.text)).toBeTruthy();
    await user.click(dialog.getByRole("button", { name: "Keep it withheld" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(document.activeElement).toBe(release);
    expect(api.sent(RELEASE)).toEqual([]);
    await user.click(release);
    dialog = within(screen.getByRole("alertdialog", { name: "Release this item?" }));
    await user.click(dialog.getByRole("button", { name: "Release it" }));
    await screen.findByText(/^“Witnesses” \(An incident \(1 of 2\)\) is released/);
    const sent = api.sent(RELEASE);
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toStrictEqual({ item: "i1/witnesses" });
    expect(sent[0].headers.get(CSRF_HEADER)).toBe(CSRF);
    expect(stateOf(WITNESS.text)).toBe("Released: in the answer.");
    expect(itemOf(WITNESS.text).queryByRole("button")).toBeNull();
    expect(countsOf()).toEqual(["4 items in the answer", "1 of them released", "2 items withheld"]);
    expect(document.activeElement).toBe(screen.getByRole("status"));
  });

  it("says the server's refusal of a release, with the rule it names", async () => {
    const { user } = showReview(REVIEW, {
      [RELEASE]: invalidForm("the decision has fields to put right", [
        {
          field: "item",
          rule: "is not an item of this request that may be released (where the victim lives never is)",
        },
      ]),
    });
    await user.click(await screen.findByRole("button", { name: "Release Names, A perpetrator's details" }));
    await user.click(screen.getByRole("button", { name: "Release it" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "The decision has fields to put right. The item is not an item of this request that may be released (where the victim lives never is).",
    );
    expect(stateOf(HIS_NAME.text)).toBe("Withheld: It is the perpetrator's information.");
  });

  it("offers no Release button for an item that can never be released", async () => {
    const address = accessItem({
      kind: "victim",
      record_id: "v1",
      field: "address",
      label: "Address",
      text: "1 Test Street, TE1 1ST",
      withheld: "shows_where_the_victim_lives",
      releasable: false,
    });
    const his = accessItem({ kind: "perpetrator", record_id: "p1", field: "names", label: "Names", text: "Jordan" });
    showReview(
      accessReview({
        request: accessRequest({ subject: "perpetrator", perpetrator_id: PERPETRATOR_ID }),
        items: [his, address],
      }),
    );
    await screen.findByRole("heading", { level: 1, name: "Subject access request from the perpetrator on T-1" });
    expect(stateOf(address.text)).toBe(
      "Withheld: It could show where the victim is or how to reach her, which is never released to the perpetrator. It can never be released.",
    );
    expect(itemOf(address.text).queryByRole("button")).toBeNull();
    expect(screen.queryByRole("button", { name: /^Release/ })).toBeNull();
    expect(words(document.querySelector(".ws-access-facts dd"))).toBe("The perpetrator (Perpetrator 5f0c2d1e)");
  });

  it("withholds one of the requester's own items under the exemption chosen, posting the reason", async () => {
    const { api, user } = showReview(REVIEW, {
      [WITHHOLD]: { body: { ...REVIEW, exempt: [[OWN_ACCOUNT.key, "serious_harm"]] } },
    });
    await user.click(
      await screen.findByRole("button", { name: "Withhold under an exemption… What happened, An incident (1 of 2)" }),
    );
    const form = within(screen.getByRole("form", { name: "Withhold What happened, An incident (1 of 2)" }));
    expect(document.activeElement).toBe(form.getAllByRole("radio")[0]);
    // No reason, no request.
    await user.click(form.getByRole("button", { name: "Withhold it" }));
    expect((await form.findByRole("alert")).textContent).toBe("Choose the exemption that applies.");
    expect(api.sent(WITHHOLD)).toEqual([]);
    await user.click(form.getByRole("radio", { name: /cause serious harm/ }));
    await user.click(form.getByRole("button", { name: "Withhold it" }));
    await screen.findByText(/^“What happened” \(An incident \(1 of 2\)\) is withheld under an exemption/);
    const sent = api.sent(WITHHOLD);
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toStrictEqual({ item: "i1/account", reason: "serious_harm" });
    expect(sent[0].headers.get(CSRF_HEADER)).toBe(CSRF);
    expect(screen.queryByRole("form", { name: /^Withhold/ })).toBeNull();
    expect(stateOf(OWN_ACCOUNT.text)).toBe(
      "Withheld under an exemption: Giving it would be likely to cause serious harm to someone's physical or mental health.",
    );
    expect(itemOf(OWN_ACCOUNT.text).queryByRole("button")).toBeNull();
    expect(countsOf()).toEqual(["2 items in the answer", "0 of them released", "4 items withheld"]);
  });

  it("says an item changed since its release is withheld again, and releases it again after asking", async () => {
    const changed: AccessReview = { ...REVIEW, released: [PANEL_NOTE.key], changed_since_release: [WITNESS.key] };
    const { api, user } = showReview(changed, {
      [RELEASE]: { body: { ...changed, released: [PANEL_NOTE.key, WITNESS.key], changed_since_release: [] } },
    });
    await screen.findByRole("heading", { level: 1, name: "Subject access request from the victim on T-1" });
    expect(stateOf(WITNESS.text)).toBe(
      "Changed since it was released, so withheld again until you release it again. Withheld because: It is someone else's information (a witness, an officer, a referrer, an agency, a child).",
    );
    expect(stateOf(PANEL_NOTE.text)).toBe("Released: in the answer.");
    expect(countsOf()).toEqual(["4 items in the answer", "1 of them released", "2 items withheld"]);
    await user.click(screen.getByRole("button", { name: "Release again Witnesses, An incident (1 of 2)" }));
    const dialog = within(screen.getByRole("alertdialog", { name: "Release this item again?" }));
    expect(dialog.getByText(/Its words changed after it was released/)).toBeTruthy();
    await user.click(dialog.getByRole("button", { name: "Release it again" }));
    await screen.findByText(/is released: it is in the answer now/);
    expect(api.sent(RELEASE)[0].body).toStrictEqual({ item: "i1/witnesses" });
    expect(stateOf(WITNESS.text)).toBe("Released: in the answer.");
  });

  it("downloads the answer as JSON: fetched, and handed to the browser's downloads by its file name", async () => {
    const made = vi.fn((_: Blob) => "blob:answer");
    const revoke = vi.fn();
    URL.createObjectURL = made;
    URL.revokeObjectURL = revoke;
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    const { api, user } = showReview(CHECKED, {
      [ANSWER]: {
        body: { format: "waymark-subject-access", records: [] },
        headers: { "content-disposition": 'attachment; filename="subject-access-0a1b2c3d-2026-11-22.json"' },
      },
    });
    const link = await screen.findByRole("link", { name: "Download the answer as JSON" });
    expect(link.getAttribute("href")).toBe("/w/api/access-requests/sar1/answer?format=json");
    await user.click(link);
    await screen.findByText("The answer is downloaded as subject-access-0a1b2c3d-2026-11-22.json.");
    const sent = api.sent(ANSWER);
    expect(sent).toHaveLength(1);
    expect(sent[0].query.get("format")).toBe("json");
    expect(made).toHaveBeenCalledTimes(1);
    expect(await made.mock.calls[0][0].text()).toBe('{"format":"waymark-subject-access","records":[]}');
    expect(clicked).toHaveLength(1);
    expect(clicked[0].getAttribute("href")).toBe("blob:answer");
    expect(clicked[0].download).toBe("subject-access-0a1b2c3d-2026-11-22.json");
    expect(clicked[0].isConnected).toBe(false);
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("says, in an alert with what to do next, that a perpetrator's PDF would show where the victim is", async () => {
    const made = vi.fn(() => "blob:never");
    URL.createObjectURL = made;
    const message =
      "the perpetrator's answer would show where the victim is or how to reach her, so it was not made; withhold the item that shows it (or release fewer) and make it again";
    const review = accessReview({
      request: accessRequest({
        subject: "perpetrator",
        perpetrator_id: PERPETRATOR_ID,
        identity_checked: identityCheck(),
      }),
    });
    const { api, user } = showReview(review, { [ANSWER]: refusal(409, "address_in_text", message) });
    await user.click(await screen.findByRole("link", { name: "Download the answer as PDF" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The PDF was not made.");
    expect(alert.textContent).toContain("The perpetrator's answer would show where the victim is");
    expect(words(alert)).toMatch(/What to do next: .*Withhold each of the perpetrator's own items that shows one/);
    expect(document.activeElement).toBe(alert);
    expect(api.sent(ANSWER)[0].query.get("format")).toBe("pdf");
    expect(made).not.toHaveBeenCalled();
  });
});

describe("the requester's identity check", () => {
  const identityForm = () => within(screen.getByRole("form", { name: "Record the identity check" }));
  const identityPart = () => screen.getByRole("region", { name: "Identity" });

  it("offers no download until the requester's identity is checked, and says why in words", async () => {
    // Why: a perpetrator may pose as the victim; nothing is sent to anyone whose identity is not checked.
    const { api } = showReview();
    await screen.findByRole("heading", { level: 1, name: "Subject access request from the victim on T-1" });
    expect(words(identityPart())).toContain(
      "The requester's identity is not checked yet, so no answer can be downloaded. A perpetrator may pose as the victim",
    );
    expect(words(identityPart())).toContain("What was seen stays on paper");
    const date = identityForm().getByLabelText(/^Identity checked on/) as HTMLInputElement;
    // Typed as day/month/year, never a native date picker.
    expect(date.type).toBe("text");
    expect(identityForm().getByRole("button", { name: "Record the identity check" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: /^Download the answer/ })).toBeNull();
    const answer = within(screen.getByRole("region", { name: "The answer as it stands" }));
    expect(answer.getByText(/No answer can be downloaded until the requester's identity is checked/)).toBeTruthy();
    expect(api.sent(ANSWER)).toEqual([]);
  });

  it("says who checked the identity and when, and then offers both downloads", async () => {
    showReview(CHECKED);
    await screen.findByRole("heading", { level: 1, name: "Subject access request from the victim on T-1" });
    expect(words(identityPart())).toBe(`Identity Identity checked on ${uk(dayFromToday(-30))} by COORD1.`);
    expect(screen.queryByRole("form", { name: "Record the identity check" })).toBeNull();
    expect(screen.getByRole("link", { name: "Download the answer as PDF" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Download the answer as JSON" })).toBeTruthy();
    expect(screen.queryByText(/No answer can be downloaded/)).toBeNull();
  });

  it("records the check, posting the day with the CSRF token, shows it, and offers the downloads", async () => {
    const { api, user } = showReview(REVIEW, {
      [IDENTITY]: (sent) => ({
        body: { ...REVIEW.request, identity_checked: { on: (sent.body as { on: string }).on, by: "COORD1" } },
      }),
    });
    const form = await waitForIdentityForm();
    await user.type(form.getByLabelText(/^Identity checked on/), uk(dayFromToday(-2)));
    await user.click(form.getByRole("button", { name: "Record the identity check" }));
    await screen.findByText(
      `The identity check on ${uk(dayFromToday(-2))} is recorded: the answer can be downloaded now.`,
    );
    const sent = api.sent(IDENTITY);
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toStrictEqual({ on: dayFromToday(-2) });
    expect(sent[0].headers.get(CSRF_HEADER)).toBe(CSRF);
    expect(words(identityPart())).toBe(`Identity Identity checked on ${uk(dayFromToday(-2))} by COORD1.`);
    expect(screen.getByRole("link", { name: "Download the answer as JSON" })).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole("status"));
    // The rest of the review stays as it was.
    expect(countsOf()).toEqual(["3 items in the answer", "0 of them released", "3 items withheld"]);
  });

  it("asks for the day before sending anything, and shows the server's refusal of it beside the field", async () => {
    const { api, user } = showReview(REVIEW, {
      [IDENTITY]: invalidForm("the identity check has fields to put right", [
        { field: "on", rule: "cannot be before the request was received" },
      ]),
    });
    const form = await waitForIdentityForm();
    const date = form.getByLabelText(/^Identity checked on/) as HTMLInputElement;
    await user.click(form.getByRole("button", { name: "Record the identity check" }));
    expect((await form.findByRole("alert")).textContent).toBe("Enter the day the requester's identity was checked.");
    expect(api.sent(IDENTITY)).toEqual([]);
    await user.type(date, uk(dayFromToday(-40)));
    await user.click(form.getByRole("button", { name: "Record the identity check" }));
    await form.findByText("The day of the identity check cannot be before the request was received.");
    expect(api.sent(IDENTITY)[0].body).toStrictEqual({ on: dayFromToday(-40) });
    expect(date.getAttribute("aria-invalid")).toBe("true");
    const described = (date.getAttribute("aria-describedby") ?? "").split(" ");
    const error = described.map((id) => document.getElementById(id)).find((el) => el?.className === "field-error");
    expect(error?.textContent).toBe("The day of the identity check cannot be before the request was received.");
    // Beside the field: in the same field's box.
    expect(error?.closest(".field")).toBe(date.closest(".field"));
    expect(document.activeElement).toBe(date);
    // Still unchecked: no download offered, and the day typed is kept.
    expect(screen.queryByRole("link", { name: /^Download the answer/ })).toBeNull();
    expect(date.value).toBe(uk(dayFromToday(-40)));
  });

  it("says the server's refusal of a download while the identity is unchecked, with its rule", async () => {
    // The page was opened before the check was undone elsewhere: the server's word is final.
    const { user } = showReview(CHECKED, {
      [ANSWER]: invalidForm("the answer cannot be made yet", [
        {
          field: "identity_checked",
          rule: "must be recorded before the answer is made: check that whoever asked is who they say (a perpetrator may pose as the victim)",
        },
      ]),
    });
    await user.click(await screen.findByRole("link", { name: "Download the answer as JSON" }));
    const alert = await screen.findByRole("alert");
    expect(words(alert)).toContain(
      "The JSON file was not made. The answer cannot be made yet. The requester's identity check must be recorded before the answer is made",
    );
  });
});

async function waitForIdentityForm() {
  await screen.findByRole("heading", { level: 1, name: "Subject access request from the victim on T-1" });
  return within(screen.getByRole("form", { name: "Record the identity check" }));
}

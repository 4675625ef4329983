import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import AccessReview from "./AccessReview.svelte";
import type * as B from "../lib/bindings";
import {
  accessItem,
  accessRequest,
  accessReview,
  type CommandMocks,
  deskError,
  mockCommands,
  printPreview,
  seriousA11yProblems,
  vocabularies,
} from "../test-kit";

// The app fetches the vocabularies once; here each test serves its own, so the fetch is not kept.
vi.mock("../lib/api", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/api")>();
  return { ...real, vocabularies: () => real.commands.vocabularies() };
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-22T12:00:00Z"));
});
afterEach(() => vi.useRealTimers());

// His identity checked two days after he asked, so the answer may be given.
const REQUEST = accessRequest({
  id: "r-0001",
  subject: "perpetrator",
  perpetrator_id: "p1",
  received_on: "2026-10-19",
  due_on: "2026-11-19",
  identity_checked: { on: "2026-10-21", by: "ADV1" },
});

// A perpetrator's request, as the core lists its items: record by record, in record order.
const ITEMS: B.AccessItem_Serialize[] = [
  accessItem({ kind: "perpetrator", record_id: "p1", field: "names", label: "Names", text: "Test Suspect" }),
  accessItem({ kind: "perpetrator", record_id: "p1", field: "phones", label: "Phones", text: "07700900999" }),
  accessItem({ record_id: "i1", withheld: "came_from_others", text: "He waited outside the office." }),
  accessItem({
    record_id: "i1",
    field: "location",
    label: "Where",
    text: "Outside 1 Test Street",
    withheld: "shows_where_the_victim_lives",
    releasable: false,
  }),
  accessItem({ record_id: "i2", withheld: "about_someone_else", text: "A neighbour saw him." }),
  accessItem({ record_id: "i3", withheld: "about_someone_else", text: "He phoned twice, then once more." }),
  accessItem({ kind: "contact", record_id: "k1", field: "summary", label: "Summary", text: "Spoke to his officer." }),
  accessItem({
    kind: "clinic_review",
    record_id: "cr1",
    field: "research",
    label: "Police research",
    text: "Known to the police for a previous order.",
    withheld: "from_an_agency",
    panel: "research",
  }),
];

const REVIEW = accessReview({
  request: REQUEST,
  reference: "T-1",
  items: ITEMS,
  released: ["i2/account"],
  changed_since_release: ["i3/account"],
  exempt: [["k1/summary", "crime"]],
});

// The same request before anyone checked who asked.
const UNCHECKED = { ...REVIEW, request: { ...REQUEST, identity_checked: null } };

function backend(overrides: CommandMocks = {}) {
  return mockCommands({ vocabularies: () => vocabularies(), accessReview: () => REVIEW, ...overrides });
}

/** An item of the review, by its group's heading and its own label. */
function itemOf(group: string, label: string): HTMLElement {
  const heading = screen.getByRole("heading", { level: 3, name: group });
  const list = heading.parentElement as HTMLElement;
  const item = within(list)
    .getAllByRole("listitem")
    .find((li) => li.querySelector(".item-label")?.textContent === label);
  if (!item) throw new Error(`No item "${label}" under "${group}".`);
  return item;
}

/** The review as shown once the core's answer and the labels are in. */
const opened = () => screen.findByRole("heading", { level: 1, name: "Subject access request, case T-1" });
const stateOf = (item: HTMLElement) => item.querySelector(".item-state")?.textContent?.trim();
const counts = () => document.querySelector(".answer-counts")?.textContent?.trim();

describe("a subject access request's review", () => {
  it("names the case, whose request and its dates, and counts what the answer gives", async () => {
    const ipc = backend();
    render(AccessReview, { request: "r-0001" });
    await opened();
    expect(ipc.calls("accessReview")).toEqual([["r-0001"]]);
    const facts = [...document.querySelectorAll(".request-facts dt")].map((dt) => [
      dt.textContent,
      (dt.nextElementSibling?.textContent ?? "").replace(/\s+/g, " ").trim(),
    ]);
    expect(facts).toEqual([
      ["Whose request", "The perpetrator"],
      ["Received on", "19/10/2026"],
      ["Answer due on", "19/11/2026: Overdue by 3 days"],
    ]);
    expect(screen.getByText("Overdue by 3 days").tagName).toBe("STRONG");
    // His names and phones, and one released item; the rest withheld (an exemption among them).
    expect(counts()).toBe("3 items in the answer, 1 of them released; 5 items withheld.");
  });

  it("says whose check the identity was and when, and asks for none once it is recorded", async () => {
    backend();
    render(AccessReview, { request: "r-0001" });
    await opened();
    expect(document.getElementById("identity-status")?.textContent?.replace(/\s+/g, " ").trim()).toBe(
      "Identity checked on 21/10/2026 by ADV1.",
    );
    expect(screen.queryByRole("form", { name: "Record the identity check" })).toBeNull();
    expect(screen.queryByText(/^Not yet: record the identity check/)).toBeNull();
  });

  it("offers no printing or saving before the requester's identity is checked, saying why in words", async () => {
    const ipc = backend({ accessReview: () => UNCHECKED });
    render(AccessReview, { request: "r-0001" });
    await opened();
    const status = document.getElementById("identity-status") as HTMLElement;
    expect(status.textContent?.replace(/\s+/g, " ").trim()).toBe(
      "Identity not checked yet. No answer can be printed or saved until the requester's identity is checked: a perpetrator may pose as the victim. Check it as the service does, then record the day here; what was seen stays on paper, never in Waymark.",
    );
    const print = screen.getByRole("button", { name: "Print or save the answer as PDF…" }) as HTMLButtonElement;
    const save = screen.getByRole("button", { name: "Save the answer as JSON…" }) as HTMLButtonElement;
    expect([print.disabled, save.disabled]).toEqual([true, true]);
    // The reason is in words beside the buttons, and read out with each of them.
    const reason = document.getElementById("answer-blocked") as HTMLElement;
    expect(reason.textContent?.trim()).toBe(
      "Not yet: record the identity check, under Identity above, before printing or saving the answer.",
    );
    expect([print.getAttribute("aria-describedby"), save.getAttribute("aria-describedby")]).toEqual([
      "answer-blocked",
      "answer-blocked",
    ]);
    // The day of the check: today by default, day/month/year.
    const form = screen.getByRole("form", { name: "Record the identity check" });
    const on = within(form).getByLabelText(/^Identity checked on/) as HTMLInputElement;
    expect(on.value).toBe("22/11/2026");
    expect(on.type).toBe("text");
    expect(await seriousA11yProblems()).toEqual([]);
    expect(ipc.calls("printPreview")).toEqual([]);
    expect(ipc.calls("accessSaveJson")).toEqual([]);
  });

  it("records the identity check by the request's id and the day, then lets the answer be printed or saved", async () => {
    const ipc = backend({
      accessReview: () => UNCHECKED,
      accessIdentityChecked: (_request, on) => ({ ...UNCHECKED.request, identity_checked: { on, by: "ADV2" } }),
    });
    render(AccessReview, { request: "r-0001" });
    await opened();
    const user = userEvent.setup();
    const form = screen.getByRole("form", { name: "Record the identity check" });
    const on = within(form).getByLabelText(/^Identity checked on/);
    await user.clear(on);
    await user.type(on, "20/11/2026");
    await user.click(within(form).getByRole("button", { name: "Record the identity check" }));
    await vi.waitFor(() => expect(ipc.calls("accessIdentityChecked")).toEqual([["r-0001", "2026-11-20"]]));
    const status = await vi.waitFor(() => {
      const shown = document.getElementById("identity-status") as HTMLElement;
      expect(shown.textContent?.replace(/\s+/g, " ").trim()).toBe("Identity checked on 20/11/2026 by ADV2.");
      return shown;
    });
    // The words that replace the form are read out, and the answer may now be given.
    expect(document.activeElement).toBe(status);
    expect(screen.queryByRole("form", { name: "Record the identity check" })).toBeNull();
    expect(screen.queryByText(/^Not yet: record the identity check/)).toBeNull();
    const print = screen.getByRole("button", { name: "Print or save the answer as PDF…" }) as HTMLButtonElement;
    const save = screen.getByRole("button", { name: "Save the answer as JSON…" }) as HTMLButtonElement;
    expect([print.disabled, save.disabled]).toEqual([false, false]);
    expect(print.hasAttribute("aria-describedby")).toBe(false);
    // The items are as they were: only the request changed.
    expect(counts()).toBe("3 items in the answer, 1 of them released; 5 items withheld.");
  });

  it("shows the core's refusal of the day beside the field, and keeps the answer refused", async () => {
    backend({
      accessReview: () => UNCHECKED,
      accessIdentityChecked: () => {
        throw deskError({ fields: [{ field: "on", rule: "cannot be before the request was received" }] });
      },
    });
    render(AccessReview, { request: "r-0001" });
    await opened();
    const user = userEvent.setup();
    const form = screen.getByRole("form", { name: "Record the identity check" });
    const on = within(form).getByLabelText(/^Identity checked on/);
    await user.clear(on);
    await user.type(on, "01/10/2026");
    await user.click(within(form).getByRole("button", { name: "Record the identity check" }));
    const error = await vi.waitFor(() => document.getElementById("identity-on-error") as HTMLElement);
    expect(error.textContent?.trim()).toBe("The day of the check cannot be before the request was received.");
    expect(on.getAttribute("aria-invalid")).toBe("true");
    expect(on.getAttribute("aria-describedby")?.split(" ")).toContain("identity-on-error");
    expect(document.activeElement).toBe(on);
    expect(document.getElementById("identity-status")?.textContent).toMatch(/^Identity not checked yet\./);
    expect((screen.getByRole("button", { name: "Save the answer as JSON…" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows a refusal of the check that names no field as an alert", async () => {
    backend({
      accessReview: () => UNCHECKED,
      accessIdentityChecked: () => {
        throw deskError({ code: "locked", message: "Waymark is locked. Unlock it to carry on." });
      },
    });
    render(AccessReview, { request: "r-0001" });
    await opened();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Record the identity check" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Waymark is locked. Unlock it to carry on.");
    expect(document.getElementById("identity-on-error")).toBeNull();
  });

  it("groups the items by record, under each record's kind or the panel's part, headings in order", async () => {
    backend();
    render(AccessReview, { request: "r-0001" });
    await opened();
    expect(
      screen.getAllByRole("heading").map((h) => `${h.tagName} ${h.textContent?.replace(/\s+/g, " ").trim()}`),
    ).toEqual([
      "H1 Subject access request, case T-1",
      "H2 Identity",
      "H2 Every item, record by record",
      "H3 Perpetrator",
      "H3 Incident 1",
      "H3 Incident 2",
      "H3 Incident 3",
      "H3 Contact",
      "H3 An agency's research before a panel meeting",
      "H2 Give the answer",
    ]);
    const perpetrator = screen.getByRole("list", { name: "Perpetrator" });
    expect(
      within(perpetrator)
        .getAllByRole("listitem")
        .map((li) => li.querySelector(".item-text")?.textContent),
    ).toEqual(["Test Suspect", "07700900999"]);
    expect(await seriousA11yProblems()).toEqual([]);
  });

  it("says where each item stands in words, and offers a release only where one may be given", async () => {
    backend();
    render(AccessReview, { request: "r-0001" });
    await opened();
    const own = itemOf("Perpetrator", "Names");
    expect(stateOf(own)).toBe("In the answer");
    expect(within(own).getByRole("button", { name: "Withhold under an exemption… Names" })).toBeTruthy();
    expect(within(own).queryByRole("button", { name: /^Release/ })).toBeNull();

    const withheld = itemOf("Incident 1", "What happened");
    expect(stateOf(withheld)).toBe(
      "Withheld: It is about the perpetrator but came from someone else, who could be identified",
    );
    expect(within(withheld).getByRole("button", { name: "Release What happened" })).toBeTruthy();

    // Where the victim lives: withheld from him for good, with nothing to press.
    const never = itemOf("Incident 1", "Where");
    expect(stateOf(never)).toBe(
      "Withheld: It could show where the victim is or how to reach her, which is never released to the perpetrator. This can never be released.",
    );
    expect(within(never).queryAllByRole("button")).toEqual([]);

    const released = itemOf("Incident 2", "What happened");
    expect(stateOf(released)).toBe("Released to the requester");
    expect(within(released).queryAllByRole("button")).toEqual([]);

    const changed = itemOf("Incident 3", "What happened");
    expect(stateOf(changed)).toBe("Changed since it was released: withheld again until you release it again");
    expect(within(changed).getByRole("button", { name: "Release What happened" })).toBeTruthy();

    const exempt = itemOf("Contact", "Summary");
    expect(stateOf(exempt)).toBe(
      "Withheld: Giving it would be likely to prejudice the prevention or detection of crime",
    );
    expect(within(exempt).queryAllByRole("button")).toEqual([]);

    const agency = itemOf("An agency's research before a panel meeting", "Police research");
    expect(stateOf(agency)).toBe(
      "Withheld: Another agency shared it with the clinic's panel, and answers for it from its own files",
    );
  });

  it("releases an item only once asked again, by its key, and shows the review the core returns", async () => {
    const after = { ...REVIEW, released: ["i2/account", "i1/account"] };
    const ipc = backend({ accessRelease: () => after });
    render(AccessReview, { request: "r-0001" });
    await opened();
    const user = userEvent.setup();
    const item = itemOf("Incident 1", "What happened");

    // Asked first; the safe answer has the focus and keeps the item withheld.
    await user.click(within(item).getByRole("button", { name: "Release What happened" }));
    const question = within(item).getByRole("group", { name: /^Release this item to the requester\?/ });
    expect(document.activeElement).toBe(within(question).getByRole("button", { name: "Keep it withheld" }));
    expect(await seriousA11yProblems()).toEqual([]);
    await user.click(within(question).getByRole("button", { name: "Keep it withheld" }));
    expect(within(item).queryByRole("group")).toBeNull();
    expect(document.activeElement).toBe(within(item).getByRole("button", { name: "Release What happened" }));
    expect(ipc.calls("accessRelease")).toEqual([]);

    await user.click(within(item).getByRole("button", { name: "Release What happened" }));
    await user.click(within(item).getByRole("button", { name: "Release it" }));
    await vi.waitFor(() => expect(ipc.calls("accessRelease")).toEqual([["r-0001", "i1/account"]]));
    // The core's answer is what is shown: released, counted, and the item keeps the focus.
    await vi.waitFor(() => expect(stateOf(itemOf("Incident 1", "What happened"))).toBe("Released to the requester"));
    const released = itemOf("Incident 1", "What happened");
    expect(within(released).queryAllByRole("button")).toEqual([]);
    expect(document.activeElement).toBe(released);
    expect(counts()).toBe("4 items in the answer, 2 of them released; 4 items withheld.");
  });

  it("shows a refused release by its item, as an alert, and keeps the item withheld", async () => {
    backend({
      accessRelease: () => {
        throw deskError({
          code: "invalid",
          message: "This item may not be released. Reload the review and check it again.",
        });
      },
    });
    render(AccessReview, { request: "r-0001" });
    await opened();
    const user = userEvent.setup();
    const item = itemOf("Incident 3", "What happened");
    await user.click(within(item).getByRole("button", { name: "Release What happened" }));
    await user.click(within(item).getByRole("button", { name: "Release it" }));
    expect((await within(item).findByRole("alert")).textContent).toBe(
      "This item may not be released. Reload the review and check it again.",
    );
    expect(stateOf(item)).toBe("Changed since it was released: withheld again until you release it again");
  });

  it("withholds one of the requester's own items under the exemption chosen, and asks for one first", async () => {
    const after = {
      ...REVIEW,
      exempt: [...REVIEW.exempt, ["p1/names", "identifies_someone"]] as [string, B.ExemptionReason][],
    };
    const ipc = backend({ accessWithhold: () => after });
    render(AccessReview, { request: "r-0001" });
    await opened();
    const user = userEvent.setup();
    const item = itemOf("Perpetrator", "Names");
    await user.click(within(item).getByRole("button", { name: "Withhold under an exemption… Names" }));
    const form = within(item).getByRole("form", { name: "Withhold this item under an exemption" });
    const reason = within(form).getByRole("combobox", { name: "Exemption that applies" }) as HTMLSelectElement;
    expect(document.activeElement).toBe(reason);
    expect([...reason.options].map((o) => o.textContent)).toEqual([
      "Choose…",
      "Giving it would be likely to prejudice the prevention or detection of crime",
      "Giving it would be likely to cause serious harm to someone's physical or mental health",
      "It would identify someone else, who has not agreed",
      "It is covered by legal professional privilege",
    ]);
    expect(await seriousA11yProblems()).toEqual([]);

    // None chosen: asked for, nothing sent.
    await user.click(within(form).getByRole("button", { name: "Withhold" }));
    expect((await within(item).findByRole("alert")).textContent).toBe(
      "Choose the exemption that applies, then withhold the item.",
    );
    expect(reason.getAttribute("aria-invalid")).toBe("true");
    expect(ipc.calls("accessWithhold")).toEqual([]);

    await user.selectOptions(reason, "It would identify someone else, who has not agreed");
    await user.click(within(form).getByRole("button", { name: "Withhold" }));
    await vi.waitFor(() => expect(ipc.calls("accessWithhold")).toEqual([["r-0001", "p1/names", "identifies_someone"]]));
    await vi.waitFor(() =>
      expect(stateOf(itemOf("Perpetrator", "Names"))).toBe(
        "Withheld: It would identify someone else, who has not agreed",
      ),
    );
    expect(within(itemOf("Perpetrator", "Names")).queryAllByRole("button")).toEqual([]);
    expect(counts()).toBe("2 items in the answer, 1 of them released; 6 items withheld.");
  });

  it("offers no exemption for an item that is not the requester's own", async () => {
    backend();
    render(AccessReview, { request: "r-0001" });
    await opened();
    for (const [group, label] of [
      ["Incident 1", "What happened"],
      ["Incident 2", "What happened"],
      ["An agency's research before a panel meeting", "Police research"],
    ])
      expect(within(itemOf(group, label)).queryByRole("button", { name: /Withhold/ })).toBeNull();
  });

  it("saves the answer as JSON, saying a saved file is not encrypted, or that nothing was saved", async () => {
    let saved: B.AccessSaved | null = { items: 3 };
    const ipc = backend({ accessSaveJson: () => saved });
    render(AccessReview, { request: "r-0001" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Save the answer as JSON…" }));
    expect((await screen.findByRole("status")).textContent).toBe(
      "Saved 3 items. A saved file is not encrypted: keep it somewhere safe and delete it when it is no longer needed.",
    );
    expect(ipc.last("accessSaveJson")).toEqual(["r-0001"]);
    saved = null;
    await user.click(screen.getByRole("button", { name: "Save the answer as JSON…" }));
    await vi.waitFor(() => expect(screen.getByRole("status").textContent).toBe("Not saved."));
  });

  it("prints the answer through the print dialog, by its request and naming no case", async () => {
    const ipc = backend({ printPreview: () => printPreview({ document: "subject_access", discreet: false }) });
    render(AccessReview, { request: "r-0001" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Print or save the answer as PDF…" }));
    const dialog = screen.getByRole("dialog", { name: "Print" });
    expect(within(dialog).getByText("Subject access answer")).toBeTruthy();
    expect(within(dialog).queryByLabelText(/Discreet/)).toBeNull();
    await user.click(within(dialog).getByRole("button", { name: "Preview" }));
    expect(await within(dialog).findByAltText("Page 2 of 2")).toBeTruthy();
    expect(ipc.last("printPreview")[0]).toMatchObject({
      document: "subject_access",
      case_id: null,
      request: "r-0001",
      discreet: false,
      address_confirmed: false,
    });
  });

  it("opens the request's case", async () => {
    backend();
    const onopencase = vi.fn();
    render(AccessReview, { request: "r-0001", onopencase });
    await userEvent.setup().click(await screen.findByRole("button", { name: "Open case T-1" }));
    expect(onopencase).toHaveBeenCalledWith("c1");
  });

  it("shows the core's refusal to open the review as an alert", async () => {
    backend({
      accessReview: () => {
        throw deskError({ code: "not_found", message: "No such request on this laptop. Open it from the list again." });
      },
    });
    render(AccessReview, { request: "r-0001" });
    expect((await screen.findByRole("alert")).textContent).toBe(
      "No such request on this laptop. Open it from the list again.",
    );
    expect(screen.queryByRole("button", { name: /Print or save/ })).toBeNull();
  });
});

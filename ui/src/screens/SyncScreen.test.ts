import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import SyncScreen from "./SyncScreen.svelte";
import type { Problem, SyncView } from "../lib/types";
import { conflict, deskError, mockCommands, pendingOp, problem, syncStatus, syncView } from "../test-kit";

/** Enrolled, with a change waiting, a conflict to decide and a problem the clinic quarantined. */
function enrolled(overrides: Partial<SyncView> = {}): SyncView {
  return syncView({
    status: syncStatus({ pending: 2, open_conflicts: 1, problems: 1 }),
    pending: [pendingOp()],
    conflicts: [conflict()],
    problems: [problem()],
    ...overrides,
  });
}

describe("SyncScreen", () => {
  it("enrols with the pasted code and shows an inline error naming the field", async () => {
    // A mistyped code must say what to do, beside the box, without losing the text.
    const ipc = mockCommands({
      syncView: () => syncView({ status: syncStatus({ enrolled: false, last_sync_at: null }), clinic_url: null }),
      syncEnrol: () => {
        throw deskError({
          fields: [{ field: "code", rule: "is not valid (it was not copied whole); ask the clinic for a new one" }],
        });
      },
    });
    render(SyncScreen, {});
    const user = userEvent.setup();
    const box = await screen.findByLabelText("Enrolment code");
    await user.type(box, "  WAYMARK1-abc  ");
    await user.click(screen.getByRole("button", { name: "Enrol this laptop" }));
    expect((await screen.findByRole("alert")).textContent).toContain("code is not valid");
    expect(ipc.last("syncEnrol")).toEqual(["WAYMARK1-abc"]);
    expect((box as HTMLTextAreaElement).value).toContain("WAYMARK1-abc");
  });

  it("shows both values of a conflict side by side and sends the person's choice", async () => {
    const ipc = mockCommands({
      syncView: () => enrolled(),
      resolveConflict: () => enrolled({ conflicts: [] }),
    });
    render(SyncScreen, {});
    const article = await screen.findByRole("article", { name: /risk level on SC-0001/ });
    expect(within(article).getByRole("heading", { level: 3 }).textContent).toContain("(case, case SC-0001)");
    expect(within(article).getByText("high")).toBeTruthy();
    expect(within(article).getByText("medium")).toBeTruthy();
    const user = userEvent.setup();
    await user.click(within(article).getByRole("button", { name: "Keep ISA07's value" }));
    expect(ipc.last("resolveConflict")).toEqual(["c0ffee", "remote"]);
    expect(await screen.findByText("None.", { selector: "p" })).toBeTruthy();
  });

  it("says plainly when nothing is waiting, rather than showing an empty table", async () => {
    mockCommands({ syncView: () => enrolled({ pending: [] }) });
    render(SyncScreen, {});
    expect(await screen.findByText("Nothing is waiting.")).toBeTruthy();
    expect(screen.queryByRole("table", { name: "Changes waiting for the clinic" })).toBeNull();
  });

  it("explains problems in words and lists what is waiting by field name", async () => {
    mockCommands({ syncView: () => enrolled({ pending: [pendingOp({ kind: "risk_assessment" })] }) });
    render(SyncScreen, {});
    expect(await screen.findByText(/The clinic already holds a different change/)).toBeTruthy();
    expect(screen.getByText("account, channel")).toBeTruthy();
    expect(screen.getByText("risk assessment")).toBeTruthy();
    expect(screen.getByText("2 changes")).toBeTruthy();
  });

  it("sets a problem aside only with a reason, and retries a change that may now apply", async () => {
    // Why: a dismissal without a reason leaves the next person guessing; the reason is required by the vault and shown beside the box.
    const retryable: Problem = problem({
      id: 2,
      code: "unknown_record",
      direction: "down",
      retryable: true,
      advice: "A change from the clinic is for a record this laptop does not have.",
    });
    const ipc = mockCommands({
      syncView: () => enrolled({ problems: [problem(), retryable] }),
      dismissProblem: (_id, reason) => {
        if (!reason) {
          throw deskError({
            fields: [{ field: "reason", rule: "is required, up to 500 characters: say why it can be set aside" }],
          });
        }
        return enrolled({ problems: [retryable] });
      },
      retryProblem: () => enrolled({ problems: [] }),
    });
    render(SyncScreen, {});
    const user = userEvent.setup();
    const first = (await screen.findByText(/The clinic already holds a different change/)).closest("li")!;
    expect(within(first).queryByRole("button", { name: "Try again" })).toBeNull();
    await user.click(within(first).getByRole("button", { name: "Set aside…" }));
    await user.click(within(first).getByRole("button", { name: "Set aside" }));
    expect((await within(first).findByRole("alert")).textContent).toContain("reason is required");
    await user.type(within(first).getByLabelText("How was it dealt with?"), "Checked with the clinic");
    await user.click(within(first).getByRole("button", { name: "Set aside" }));
    expect(ipc.last("dismissProblem")).toEqual([1, "Checked with the clinic"]);
    const second = (await screen.findByText(/for a record this laptop does not have/)).closest("li")!;
    await user.click(within(second).getByRole("button", { name: "Try again" }));
    expect(ipc.last("retryProblem")).toEqual([2]);
    expect(await screen.findByText("The change applied.")).toBeTruthy();
  });

  it("offers to rejoin only when the clinic does not recognise this laptop", async () => {
    const diverged = problem({
      id: 3,
      code: "log_diverged",
      direction: "up",
      op_id: null,
      seq: null,
      needs_rejoin: true,
      advice: "Ask the clinic administrator for a new enrolment code and rejoin.",
    });
    let problems = [diverged];
    const ipc = mockCommands({
      syncView: () => enrolled({ problems }),
      syncRejoin: () => {
        problems = [];
        return enrolled({ problems });
      },
    });
    render(SyncScreen, {});
    const user = userEvent.setup();
    const box = await screen.findByLabelText("New enrolment code");
    await user.type(box, " WAYMARK1-new ");
    await user.click(screen.getByRole("button", { name: "Rejoin as a new device" }));
    expect(ipc.last("syncRejoin")).toEqual(["WAYMARK1-new"]);
    expect(await screen.findByText(/Enrolled again as a new device/)).toBeTruthy();
    expect(screen.queryByLabelText("New enrolment code")).toBeNull();
  });
});

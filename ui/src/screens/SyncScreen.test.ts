import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { mockIPC } from "@tauri-apps/api/mocks";
import SyncScreen from "./SyncScreen.svelte";

const STATUS = {
  enrolled: true,
  last_sync_at: "2026-11-22T14:05:00.000000Z",
  last_attempt_at: "2026-11-22T14:05:00.000000Z",
  last_error: null,
  pending: 2,
  open_conflicts: 1,
  problems: 1,
  held: 0,
  drift_warning_ms: null,
  acked_through: 10,
  pull_cursor: 4,
};

const CONFLICT = {
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
};

function enrolled() {
  return {
    status: STATUS,
    clinic_url: "https://clinic.example:8443",
    pending: [{ seq: 11, kind: "incident", action: "create", made_at: "2026-11-22T13:00:00Z", fields: ["account", "channel"] }],
    conflicts: [CONFLICT],
    problems: [
      {
        id: 1,
        at: "2026-11-22T14:00:00Z",
        code: "quarantined_by_clinic",
        direction: "up",
        op_id: "o1",
        seq: 9,
        advice: "The clinic already holds a different change with this number. It kept both; ask the clinic to check.",
        retryable: false,
        needs_rejoin: false,
      },
    ],
    running: false,
  };
}

describe("SyncScreen", () => {
  it("enrols with the pasted code and shows an inline error naming the field", async () => {
    // A mistyped code must say what to do, beside the box, without losing the text.
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "sync_view") return { ...enrolled(), status: { ...STATUS, enrolled: false }, clinic_url: null, conflicts: [], problems: [], pending: [] };
      if (cmd === "sync_enrol") {
        throw { code: "invalid", message: "The form has problems.", fields: [{ field: "code", rule: "is not valid (it was not copied whole); ask the clinic for a new one" }], wait_secs: null };
      }
      return null;
    });
    render(SyncScreen, {});
    const user = userEvent.setup();
    const box = await screen.findByLabelText("Enrolment code");
    await user.type(box, "  WAYMARK1-abc  ");
    await user.click(screen.getByRole("button", { name: "Enrol this laptop" }));
    expect((await screen.findByRole("alert")).textContent).toContain("code is not valid");
    expect((calls.find((c) => c.cmd === "sync_enrol")!.args as { code: string }).code).toBe("WAYMARK1-abc");
    expect((box as HTMLTextAreaElement).value).toContain("WAYMARK1-abc");
  });

  it("shows both values of a conflict side by side and sends the person's choice", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "sync_view") return enrolled();
      if (cmd === "resolve_conflict") return { ...enrolled(), conflicts: [] };
      return null;
    });
    render(SyncScreen, {});
    const conflict = await screen.findByRole("article", { name: /risk level on SC-0001/ });
    expect(within(conflict).getByText("high")).toBeTruthy();
    expect(within(conflict).getByText("medium")).toBeTruthy();
    const user = userEvent.setup();
    await user.click(within(conflict).getByRole("button", { name: "Keep ISA07's value" }));
    expect(calls.find((c) => c.cmd === "resolve_conflict")!.args).toMatchObject({ id: "c0ffee", keep: "remote" });
    expect(await screen.findByText("None.", { selector: "p" })).toBeTruthy();
  });

  it("says plainly when nothing is waiting, rather than showing an empty table", async () => {
    mockIPC((cmd) => (cmd === "sync_view" ? { ...enrolled(), pending: [] } : null));
    render(SyncScreen, {});
    expect(await screen.findByText("Nothing is waiting.")).toBeTruthy();
    expect(screen.queryByRole("table", { name: "Changes waiting for the clinic" })).toBeNull();
  });

  it("explains problems in words and lists what is waiting by field name", async () => {
    mockIPC((cmd) => (cmd === "sync_view" ? enrolled() : null));
    render(SyncScreen, {});
    expect(await screen.findByText(/The clinic already holds a different change/)).toBeTruthy();
    expect(screen.getByText("account, channel")).toBeTruthy();
    expect(screen.getByText("2 changes")).toBeTruthy();
  });

  it("sets a problem aside only with a reason, and retries a change that may now apply", async () => {
    // Why: a dismissal without a reason leaves the next person guessing; the reason is required by the vault and shown beside the box.
    const calls: { cmd: string; args: unknown }[] = [];
    const retryable = { ...enrolled().problems[0], id: 2, code: "unknown_record", direction: "down", retryable: true, advice: "A change from the clinic is for a record this laptop does not have." };
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "sync_view") return { ...enrolled(), problems: [...enrolled().problems, retryable] };
      if (cmd === "dismiss_problem") {
        if (!(args as { reason: string }).reason) {
          throw { code: "invalid", message: "The form has problems.", fields: [{ field: "reason", rule: "is required, up to 500 characters: say why it can be set aside" }], wait_secs: null };
        }
        return { ...enrolled(), problems: [retryable] };
      }
      if (cmd === "retry_problem") return { ...enrolled(), problems: [] };
      return null;
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
    expect(calls.filter((c) => c.cmd === "dismiss_problem").at(-1)!.args).toMatchObject({ id: 1, reason: "Checked with the clinic" });
    const second = (await screen.findByText(/for a record this laptop does not have/)).closest("li")!;
    await user.click(within(second).getByRole("button", { name: "Try again" }));
    expect(calls.find((c) => c.cmd === "retry_problem")!.args).toMatchObject({ id: 2 });
    expect(await screen.findByText("The change applied.")).toBeTruthy();
  });

  it("offers to rejoin only when the clinic does not recognise this laptop", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    const diverged = { ...enrolled().problems[0], id: 3, code: "log_diverged", direction: "up", op_id: null, seq: null, needs_rejoin: true, advice: "Ask the clinic administrator for a new enrolment code and rejoin." };
    let problems = [diverged];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "sync_view") return { ...enrolled(), problems };
      if (cmd === "sync_rejoin") {
        problems = [];
        return { ...enrolled(), problems };
      }
      return null;
    });
    render(SyncScreen, {});
    const user = userEvent.setup();
    const box = await screen.findByLabelText("New enrolment code");
    await user.type(box, " WAYMARK1-new ");
    await user.click(screen.getByRole("button", { name: "Rejoin as a new device" }));
    expect(calls.find((c) => c.cmd === "sync_rejoin")!.args).toMatchObject({ code: "WAYMARK1-new" });
    expect(await screen.findByText(/Enrolled again as a new device/)).toBeTruthy();
    expect(screen.queryByLabelText("New enrolment code")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { mockIPC } from "@tauri-apps/api/mocks";
import { commands } from "./lib/bindings";
import { call, DeskFailure } from "./lib/api";
import { type CommandName, caseloadRow, deskError, ipcName, mockCommands, vaultState } from "./test-kit";

describe("the typed command mock", () => {
  it("knows each generated command by the name it is invoked as, and its arguments in order", async () => {
    // Why: the mock answers by IPC name and hands the mock the arguments in the
    // generated function's order; if the bindings generator ever named or
    // ordered them differently, every mock would answer the wrong command.
    const names = Object.keys(commands) as CommandName[];
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) {
      const command = commands[name] as (...args: unknown[]) => Promise<unknown>;
      const sent = Array.from({ length: command.length }, (_, n) => `argument ${n}`);
      let seen: { cmd: string; args: unknown[] } | null = null;
      mockIPC((cmd, payload) => {
        seen = { cmd, args: Object.values((payload ?? {}) as Record<string, unknown>) };
        return null;
      });
      await command(...sent);
      expect(seen, name).toEqual({ cmd: ipcName(name), args: sent });
    }
  });

  it("answers through the real bindings: data as ok, a thrown DeskError as the command's error", async () => {
    const refusal = deskError({ code: "locked", message: "Waymark is locked." });
    const ipc = mockCommands({
      caseload: (query) => [caseloadRow({ reference: query.search ?? "none" })],
      unlock: () => {
        throw refusal;
      },
    });
    const rows = await call(commands.caseload({ status: null, risk: null, search: "T-9", sort: "reference" }));
    expect(rows.map((r) => r.reference)).toEqual(["T-9"]);
    expect(await commands.unlock("wrong words")).toEqual({ status: "error", error: refusal });
    await expect(call(commands.unlock("wrong words"))).rejects.toBeInstanceOf(DeskFailure);
    expect(ipc.last("caseload")[0]).toMatchObject({ search: "T-9" });
    expect(ipc.calls("unlock")).toEqual([["wrong words"], ["wrong words"]]);
    expect(ipc.log.map((c) => c.name)).toEqual(["caseload", "unlock", "unlock"]);
  });

  it("fails a command the test does not mock, naming it", async () => {
    mockCommands({ vaultState: () => vaultState() });
    await expect(commands.lock()).rejects.toThrow("does not mock the command lock");
  });
});

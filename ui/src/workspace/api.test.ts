import { afterEach, describe, expect, it, vi } from "vitest";
import * as api from "./api";
import { mockServer, signedOut } from "./server-mock";

afterEach(() => vi.unstubAllGlobals());

describe("the workspace's requests", () => {
  it("say in words when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api.caseload()).rejects.toMatchObject({ code: "unreachable", status: 0, message: api.UNREACHABLE });
  });

  it("say in words an error without the server's error shape", async () => {
    mockServer({ "GET /w/api/staff": { status: 502, body: "Bad gateway" } });
    const failure = await api.staff().catch((e: api.WorkspaceFailure) => e);
    expect(failure).toBeInstanceOf(api.WorkspaceFailure);
    expect(failure).toMatchObject({ status: 502, code: "unexpected" });
    expect((failure as Error).message).toContain("(502)");
  });

  it("tell every listener when a request is refused as signed out, and only then", async () => {
    const server = mockServer({ "GET /w/api/devices": signedOut(), "GET /w/api/staff": { body: [] } });
    const heard = vi.fn();
    const stop = api.onSignedOut(heard);
    await api.staff();
    await expect(api.devices()).rejects.toMatchObject({ code: "signed_out", status: 401 });
    stop();
    await expect(api.devices()).rejects.toMatchObject({ code: "signed_out" });
    expect(heard).toHaveBeenCalledTimes(1);
    // Same origin, no caching, the cookie sent by the browser: the page never handles it.
    expect(server.log.map((s) => s.path)).toEqual(["/w/api/staff", "/w/api/devices", "/w/api/devices"]);
    const init = vi.mocked(fetch).mock.calls[0][1];
    expect(init).toMatchObject({ credentials: "same-origin", cache: "no-store" });
  });

  it("escape a case id in the path", async () => {
    const server = mockServer({ "GET /w/api/cases/..%2Fstaff": { body: { file: null, warnings: [] } } });
    await api.caseFile("../staff");
    expect(server.log[0].path).toBe("/w/api/cases/..%2Fstaff");
  });
});

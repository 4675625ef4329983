import { afterEach, describe, expect, it, vi } from "vitest";
import * as api from "./api";
import { invalidForm, mockServer, signedOut } from "./server-mock";

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

  it("carry the fields a refused form names, and only those of the server's shape", async () => {
    mockServer({
      "POST /w/api/referrals": invalidForm("the form has fields to put right", [
        { field: "victim.name", rule: "must not be empty" },
        { field: 7, rule: null } as never,
      ]),
    });
    const failure = await api
      .submitReferral({ case: {}, victim: {}, perpetrator: {} }, "t")
      .catch((e: api.WorkspaceFailure) => e);
    expect(failure).toMatchObject({ status: 400, code: "invalid" });
    expect((failure as api.WorkspaceFailure).fields).toEqual([{ field: "victim.name", rule: "must not be empty" }]);
    expect((failure as api.WorkspaceFailure).fieldError("victim.name")).toBe("victim.name must not be empty");
  });

  it("escape a referral id in the paths that screen it", async () => {
    const server = mockServer({
      "POST /w/api/referrals/..%2Fstaff/accept": { body: { case_id: "c", reference: "R" } },
      "POST /w/api/referrals/..%2Fstaff/decline": { status: 204 },
    });
    await api.acceptReferral("../staff", "ADV1", "t");
    await api.declineReferral("../staff", "outside_area", "t");
    expect(server.log.map((s) => s.path)).toEqual([
      "/w/api/referrals/..%2Fstaff/accept",
      "/w/api/referrals/..%2Fstaff/decline",
    ]);
  });

  it("escape a case's, a laptop's and a member's id in the paths that change them", async () => {
    const server = mockServer({
      "POST /w/api/cases/..%2Fstaff/reassign": { status: 204 },
      "POST /w/api/devices/..%2Fstaff/revoke": { status: 204 },
      "POST /w/api/staff/..%2FADM1/password": { status: 204 },
      "POST /w/api/staff/..%2FADM1/second-factor": { body: { secret: "S", qr_svg: "<svg/>" } },
    });
    const confirm = { password: "p", code: "123456" };
    await api.reassignCase("../staff", "ADV1", "t");
    await api.revokeDevice("../staff", "t");
    await api.setStaffPassword("../ADM1", "new", confirm, "t");
    await api.newSecondFactor("../ADM1", confirm, "t");
    expect(server.log.map((s) => s.path)).toEqual([
      "/w/api/cases/..%2Fstaff/reassign",
      "/w/api/devices/..%2Fstaff/revoke",
      "/w/api/staff/..%2FADM1/password",
      "/w/api/staff/..%2FADM1/second-factor",
    ]);
  });

  it("escape a meeting's id in the paths that publish and close it, and send the CSRF token with each", async () => {
    const server = mockServer({
      "POST /w/api/meetings/..%2Fstaff/publish": { body: {} },
      "POST /w/api/meetings/..%2Fstaff/close": { body: {} },
    });
    await api.publishMeeting("../staff", "t");
    await api.closeMeeting("../staff", "t");
    expect(server.log.map((s) => s.path)).toEqual([
      "/w/api/meetings/..%2Fstaff/publish",
      "/w/api/meetings/..%2Fstaff/close",
    ]);
    expect(server.log.map((s) => s.headers.get(api.CSRF_HEADER))).toEqual(["t", "t"]);
  });

  it("escape a meeting's, a case's and an action's id in the panel's paths, and send the CSRF token with each change", async () => {
    const server = mockServer({
      "GET /w/api/meetings/..%2Fstaff": { body: {} },
      "POST /w/api/meetings/..%2Fstaff/research": { body: {} },
      "POST /w/api/meetings/..%2Fstaff/attendance": { body: {} },
      "POST /w/api/meetings/..%2Fstaff/cases/..%2Fc1": { body: {} },
      "POST /w/api/actions/..%2Fa1": { body: { actions: [] } },
      "POST /w/api/selection": { body: { rows: [], criteria: [] } },
    });
    await api.meetingDetail("../staff");
    await api.returnResearch("../staff", { case_id: "c1", summary: "S" }, "t");
    await api.recordAttendance("../staff", [{ code: "PNL1", mark: "present" }], "t");
    const record = { information: [], typology: null, srp: {}, decisions: [], decision_note: null, actions: [] };
    await api.recordCase("../staff", "../c1", record, "t");
    await api.updateAction("../a1", { status: "done", overdue: null, note: null, named_owner: null }, "t");
    await api.changeSelection({ case_id: "c1", include: false, criterion: null, reason: "R" }, "t");
    expect(server.log.map((s) => s.path)).toEqual([
      "/w/api/meetings/..%2Fstaff",
      "/w/api/meetings/..%2Fstaff/research",
      "/w/api/meetings/..%2Fstaff/attendance",
      "/w/api/meetings/..%2Fstaff/cases/..%2Fc1",
      "/w/api/actions/..%2Fa1",
      "/w/api/selection",
    ]);
    expect(server.log.map((s) => s.headers.get(api.CSRF_HEADER))).toEqual([null, "t", "t", "t", "t", "t"]);
    expect(server.log[2].body).toEqual({ marks: [{ code: "PNL1", mark: "present" }] });
  });

  it("read the pathways without the CSRF token, and record a step with it, the body as given", async () => {
    const view = { pathways: [], figures: [] };
    const server = mockServer({ "GET /w/api/pathways": { body: view }, "POST /w/api/pathways": { body: view } });
    expect(await api.pathways()).toEqual(view);
    const step = { case_id: "c1", perpetrator_id: "p1", kind: "mappa", stage: "referred", on: "2026-11-02" } as const;
    expect(await api.recordPathwayStep(step, "t")).toEqual(view);
    expect(server.log.map((s) => [s.method, s.path, s.headers.get(api.CSRF_HEADER)])).toEqual([
      ["GET", "/w/api/pathways", null],
      ["POST", "/w/api/pathways", "t"],
    ]);
    expect(server.log[1].body).toStrictEqual(step);
  });
});

describe("subject access", () => {
  it("reads requests and reviews without the CSRF token, and sends each change with it, ids escaped", async () => {
    const review = { request: {}, reference: "T-1", items: [], released: [], changed_since_release: [], exempt: [] };
    const checked = { id: "sar1", identity_checked: { on: "2026-11-03", by: "COORD1" } };
    const server = mockServer({
      "GET /w/api/access-requests": { body: { requests: [] } },
      "POST /w/api/access-requests": { body: { id: "sar1" } },
      "GET /w/api/access-requests/..%2Fstaff": { body: review },
      "POST /w/api/access-requests/..%2Fstaff/release": { body: review },
      "POST /w/api/access-requests/..%2Fstaff/withhold": { body: review },
      "POST /w/api/access-requests/..%2Fstaff/identity": { body: checked },
    });
    expect(await api.accessRequests()).toEqual({ requests: [] });
    await api.makeAccessRequest({ case_id: "c1", subject: "victim", received_on: "2026-11-01" }, "t");
    expect(await api.accessReview("../staff")).toEqual(review);
    await api.releaseAccessItem("../staff", "i1/witnesses", "t");
    await api.withholdAccessItem("../staff", "i1/account", "crime", "t");
    expect(await api.accessIdentityChecked("../staff", "2026-11-03", "t")).toEqual(checked);
    expect(server.log.map((s) => [s.method, s.path, s.headers.get(api.CSRF_HEADER)])).toEqual([
      ["GET", "/w/api/access-requests", null],
      ["POST", "/w/api/access-requests", "t"],
      ["GET", "/w/api/access-requests/..%2Fstaff", null],
      ["POST", "/w/api/access-requests/..%2Fstaff/release", "t"],
      ["POST", "/w/api/access-requests/..%2Fstaff/withhold", "t"],
      ["POST", "/w/api/access-requests/..%2Fstaff/identity", "t"],
    ]);
    expect(server.log.map((s) => s.body)).toStrictEqual([
      undefined,
      { case_id: "c1", subject: "victim", received_on: "2026-11-01" },
      undefined,
      { item: "i1/witnesses" },
      { item: "i1/account", reason: "crime" },
      { on: "2026-11-03" },
    ]);
  });

  it("say a refused identity check and an answer refused until the check, naming their fields", async () => {
    mockServer({
      "POST /w/api/access-requests/sar1/identity": invalidForm("the identity check has fields to put right", [
        { field: "on", rule: "cannot be in the future" },
      ]),
      "GET /w/api/access-requests/sar1/answer": invalidForm("the answer cannot be made yet", [
        { field: "identity_checked", rule: "must be recorded before the answer is made" },
      ]),
    });
    const check = await api.accessIdentityChecked("sar1", "2099-01-01", "t").catch((e: api.WorkspaceFailure) => e);
    expect(check).toMatchObject({ status: 400, code: "invalid" });
    expect((check as api.WorkspaceFailure).fields).toEqual([{ field: "on", rule: "cannot be in the future" }]);
    const answer = await api.accessAnswer("sar1", "json").catch((e: api.WorkspaceFailure) => e);
    expect(answer).toMatchObject({ status: 400, code: "invalid" });
    expect((answer as api.WorkspaceFailure).fields.map((f) => f.field)).toEqual(["identity_checked"]);
  });

  it("fetch the answer as a file named as the server names it, and say a refusal as any other", async () => {
    const server = mockServer({
      "GET /w/api/access-requests/sar1/answer": (sent) =>
        sent.query.get("format") === "json"
          ? { body: { records: [] }, headers: { "content-disposition": 'attachment; filename="answer.json"' } }
          : { status: 409, body: { code: "address_in_text", message: "the PDF would show where she is" } },
    });
    const file = await api.accessAnswer("sar1", "json");
    expect(file.fileName).toBe("answer.json");
    expect(await file.blob.text()).toBe('{"records":[]}');
    await expect(api.accessAnswer("sar1", "pdf")).rejects.toMatchObject({
      status: 409,
      code: "address_in_text",
      message: "the PDF would show where she is",
    });
    expect(server.log.map((s) => s.query.get("format"))).toEqual(["json", "pdf"]);
    expect(server.log[1].headers.get("accept")).toBe("application/pdf, application/json");
    expect(api.accessAnswerUrl("a/b", "pdf")).toBe("/w/api/access-requests/a%2Fb/answer?format=pdf");
  });

  it("take a download's name from its Content-Disposition, never a path", () => {
    expect(api.attachmentName('attachment; filename="subject-access-0a1b2c3d-2026-11-22.pdf"')).toBe(
      "subject-access-0a1b2c3d-2026-11-22.pdf",
    );
    expect(api.attachmentName("attachment; filename=answer.json")).toBe("answer.json");
    expect(api.attachmentName('attachment; filename="../../etc/answer.json"')).toBe("answer.json");
    expect(api.attachmentName("attachment")).toBeNull();
    expect(api.attachmentName(null)).toBeNull();
  });
});

describe("the minutes' links", () => {
  it("name the meeting and the agency encoded, a service's own agency trimmed and in lower case", () => {
    expect(api.minutesUrl("m1")).toBe("/w/api/meetings/m1/minutes");
    expect(api.minutesUrl("a/b")).toBe("/w/api/meetings/a%2Fb/minutes");
    expect(api.extractUrl("m1", "victims_charity")).toBe("/w/api/meetings/m1/extract?agency=victims_charity");
    expect(api.extractUrl("m1", { other: "Housing" })).toBe("/w/api/meetings/m1/extract?agency=other%3Ahousing");
    expect(api.extractUrl("m1", { other: " Local Housing & Co " })).toBe(
      "/w/api/meetings/m1/extract?agency=other%3Alocal%20housing%20%26%20co",
    );
  });

  it("name no agency for a panel member's own extract", () => {
    expect(api.extractUrl("m1")).toBe("/w/api/meetings/m1/extract");
  });
});

//! The `waymark` binary driven as a user or script would drive it.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CANARY_NAME: &str = "Zebulon Canaryfield";
const CANARY_ADDRESS: &str = "77 Canarywharf Mews";

struct Env {
    _root: tempfile::TempDir,
    vault: PathBuf,
    tmp: PathBuf,
    pass_file: PathBuf,
}

fn env() -> Env {
    let root = tempfile::tempdir().unwrap();
    let vault = root.path().join("vault");
    let tmp = root.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let pass_file = root.path().join("pass");
    std::fs::write(&pass_file, "three random words here\n").unwrap();
    Env { vault, tmp, pass_file, _root: root }
}

fn waymark(env: &Env, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(args)
        .env("WAYMARK_VAULT", &env.vault)
        .env("WAYMARK_PASSPHRASE_FILE", &env.pass_file)
        // Every temp file the process might make lands here, so the canary scan sees it.
        .env("TMPDIR", &env.tmp)
        .env("SQLITE_TMPDIR", &env.tmp)
        .env_remove("WAYMARK_NEW_PASSPHRASE_FILE")
        .output()
        .unwrap()
}

fn ok(env: &Env, args: &[&str]) -> String {
    let out = waymark(env, args);
    assert!(out.status.success(), "waymark {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn ok_json(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(env, &all)).unwrap()
}

fn init(env: &Env) {
    ok(env, &["init", "--advocate", "ADV-9", "--work-factor", "4"]);
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn canary_name_and_address_are_nowhere_on_disk_in_plaintext() {
    // A stolen laptop must reveal nothing: not the database, WAL, key file,
    // backups, or anything left in the temp folder.
    let env = env();
    init(&env);
    ok(&env, &["case", "add", "reference=CAN-1", "referral.source=police", "referral.reason=Canary test"]);
    ok(
        &env,
        &["victim", "add", "CAN-1", &format!("name={CANARY_NAME}"), &format!("address.lines:=[\"{CANARY_ADDRESS}\"]")],
    );
    for n in 0..30 {
        ok(
            &env,
            &[
                // The address in an account is what the canary looks for on disk; the guard is told yes.
                "--address-confirmed",
                "incident",
                "add",
                "CAN-1",
                "behaviours+=loitering",
                "channel=in_person",
                &format!("account={CANARY_NAME} saw him at {CANARY_ADDRESS} ({n})"),
            ],
        );
    }
    ok(&env, &["case", "show", "CAN-1"]);
    let identity = age::x25519::Identity::generate();
    let backup = env.vault.join("backup.age");
    ok(&env, &["backup", "--out", backup.to_str().unwrap(), "--recipient", &identity.to_public().to_string()]);
    // A failing command must not echo the value either.
    let out = waymark(&env, &["victim", "add", "CAN-1", &format!("date_of_birth={CANARY_NAME}")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!contains(&out.stderr, CANARY_NAME), "{}", String::from_utf8_lossy(&out.stderr));

    let mut scanned = 0;
    for file in files_under(&env.vault).into_iter().chain(files_under(&env.tmp)) {
        let bytes = std::fs::read(&file).unwrap();
        scanned += bytes.len();
        for canary in [CANARY_NAME, CANARY_ADDRESS, "Canarywharf", "Zebulon"] {
            assert!(!contains(&bytes, canary), "{canary} found in plaintext in {}", file.display());
        }
    }
    assert!(scanned > 10_000, "the scan must have read the vault (read {scanned} bytes)");
    // And the canary really is in there, encrypted: the vault still reads it back.
    assert!(ok(&env, &["case", "show", "CAN-1"]).contains(CANARY_NAME));
}

#[test]
fn a_backup_opens_with_the_standard_age_tool_as_documented_json() {
    let env = env();
    init(&env);
    ok(&env, &["case", "add", "reference=AGE-1", "referral.source=self", "referral.reason=Backup test"]);
    ok(&env, &["victim", "add", "AGE-1", &format!("name={CANARY_NAME}")]);
    let identity = age::x25519::Identity::generate();
    let id_file = env.tmp.join("identity.txt");
    use age::secrecy::ExposeSecret;
    std::fs::write(&id_file, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    let backup = env.tmp.join("b.age");
    ok(&env, &["backup", "--out", backup.to_str().unwrap(), "--recipient", &identity.to_public().to_string()]);
    let out = Command::new("age")
        .args(["--decrypt", "--identity", id_file.to_str().unwrap(), backup.to_str().unwrap()])
        .output()
        .expect("the Debian `age` package is needed for this test: run `cargo xtask setup`");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "waymark-backup");
    assert_eq!(doc["format_version"], 2);
    assert!(doc["sync"]["received_ops"].is_array(), "the sync state travels with the records");
    assert_eq!(doc["records"]["case"][0]["doc"]["reference"], "AGE-1");
    assert_eq!(doc["records"]["victim"][0]["doc"]["name"], CANARY_NAME);
    assert_eq!(doc["ops"].as_array().unwrap().len(), 2);
    std::fs::remove_file(&id_file).unwrap();
}

#[test]
fn restore_into_a_new_vault_from_a_passphrase_backup() {
    let env = env();
    init(&env);
    ok(&env, &["case", "add", "reference=RS-1", "referral.source=police", "referral.reason=Restore"]);
    let backup_pass = env.tmp.join("backup-pass");
    std::fs::write(&backup_pass, "backup pass words\n").unwrap();
    let backup = env.tmp.join("b.age");
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["backup", "--passphrase", "--work-factor", "4", "--out", backup.to_str().unwrap()])
        .env("WAYMARK_VAULT", &env.vault)
        .env("WAYMARK_PASSPHRASE_FILE", &env.pass_file)
        .env("WAYMARK_BACKUP_PASSPHRASE_FILE", &backup_pass)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let other = env.tmp.join("new-vault");
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--json", "restore", backup.to_str().unwrap()])
        .env("WAYMARK_VAULT", &other)
        .env("WAYMARK_PASSPHRASE_FILE", &env.pass_file)
        .env("WAYMARK_BACKUP_PASSPHRASE_FILE", &backup_pass)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_waymark"))
        .args(["--json", "case", "list"])
        .env("WAYMARK_VAULT", &other)
        .env("WAYMARK_PASSPHRASE_FILE", &env.pass_file)
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["reference"], "RS-1");
}

#[test]
fn exit_codes_are_zero_one_and_two() {
    let env = env();
    init(&env);
    assert_eq!(waymark(&env, &["case", "list"]).status.code(), Some(0));
    let failure = waymark(&env, &["case", "show", "NO-SUCH-CASE"]);
    assert_eq!(failure.status.code(), Some(1));
    let stderr = String::from_utf8(failure.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "errors are one line: {stderr}");
    assert!(stderr.starts_with("error[not_found]:"), "{stderr}");
    assert_eq!(waymark(&env, &["case", "frobnicate"]).status.code(), Some(2));
    assert_eq!(waymark(&env, &["backup", "--out", "x.age"]).status.code(), Some(2));
}

#[test]
fn a_wrong_passphrase_fails_clearly_and_then_asks_to_wait() {
    let env = env();
    init(&env);
    std::fs::write(&env.pass_file, "not the right words\n").unwrap();
    let first = waymark(&env, &["case", "list"]);
    assert_eq!(first.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&first.stderr).starts_with("error[wrong_passphrase]"));
    let second = waymark(&env, &["case", "list"]);
    let text = String::from_utf8_lossy(&second.stderr);
    // Either refused outright for coming too soon, or (on a slow machine) counted as the second
    // failure: both show the count survived the first process exiting.
    assert!(text.starts_with("error[too_soon]") || text.contains("failed attempts: 2"), "{text}");
}

#[test]
fn json_output_is_stable_and_complete_for_a_case() {
    // docs/cli-json.md promises these shapes to scripts.
    let env = env();
    init(&env);
    let saved = ok_json(&env, &["case", "add", "reference=J-1", "referral.source=police", "referral.reason=JSON"]);
    assert_eq!(saved["kind"], "case");
    assert_eq!(saved["record"]["reference"], "J-1");
    let incident = ok_json(
        &env,
        &[
            "incident",
            "add",
            "J-1",
            "behaviours+=following",
            "channel=in_person",
            "account=Followed to the bus stop",
            "occurred_at=2026-07-01 08:15",
        ],
    );
    assert_eq!(incident["record"]["occurred_at"], "2026-07-01T07:15:00.000000Z", "UK summer time stored as UTC");
    let id = incident["id"].as_str().unwrap().to_owned();
    ok(&env, &["incident", "amend", &id, "--reason", "Wrong bus stop", "location=Stop B"]);
    let file = ok_json(&env, &["case", "show", "J-1"]);
    for key in [
        "case",
        "victim",
        "perpetrators",
        "incidents",
        "risk_assessments",
        "safety_plans",
        "hearings",
        "orders",
        "referrals",
        "clinic_reviews",
        "contacts",
        "tasks",
        "escalation_reviews",
        "reminders",
        "escalation",
        "patterns",
    ] {
        assert!(file.get(key).is_some(), "case show --json lacks {key}");
    }
    assert_eq!(file["incidents"][0]["original"]["location"], Value::Null);
    assert_eq!(file["incidents"][0]["current"]["location"], "Stop B");
    let rows = ok_json(&env, &["case", "list", "--search", "j-1"]);
    assert_eq!(rows[0]["incidents"], 1);
    let audit = ok_json(&env, &["audit", "verify"]);
    assert!(audit["events"].as_i64().unwrap() >= 5);
}

#[test]
fn an_escalating_case_is_shown_reviewed_and_sorted_from_the_command_line() {
    // The CLI reads the same analysis as the app: a first threat after
    // remote contact shows in `case show`, leads `case list --sort
    // escalation`, and an escalation review naming its signs covers it.
    let env = env();
    init(&env);
    for reference in ["A-QUIET", "Z-RISING"] {
        ok(&env, &["case", "add", &format!("reference={reference}"), "referral.source=police", "referral.reason=x"]);
    }
    // The CLI reads the system clock, so the diary is dated back from today.
    let today = waymark_domain::time::london_date(waymark_domain::time::Clock::now(&waymark_vault::SystemClock));
    let day = |back: u64| today.checked_sub_days(chrono::Days::new(back)).unwrap();
    let diary = [
        ("Z-RISING", "unwanted_contact", "text", format!("{} 10:00", day(10))),
        ("Z-RISING", "threat_to_kill", "phone", format!("{} 09:00", day(2))),
        ("A-QUIET", "unwanted_contact", "text", format!("{} 10:00", day(5))),
    ];
    for (case, behaviour, channel, at) in diary {
        let fields = [
            format!("behaviours+={behaviour}"),
            format!("channel={channel}"),
            "account=Something happened".to_owned(),
            format!("occurred_at={at}"),
        ];
        let mut args = vec!["incident", "add", case];
        args.extend(fields.iter().map(String::as_str));
        ok(&env, &args);
    }
    let file = ok_json(&env, &["case", "show", "Z-RISING"]);
    let signs: Vec<&str> =
        file["escalation"]["findings"].as_array().unwrap().iter().map(|f| f["sign"].as_str().unwrap()).collect();
    assert!(signs.contains(&"more_serious"), "{signs:?}");
    let rows = ok_json(&env, &["case", "list", "--sort", "escalation"]);
    assert_eq!(rows[0]["reference"], "Z-RISING");
    let listed = serde_json::to_string(&signs).unwrap();
    ok(&env, &["escalation", "add", "Z-RISING", &format!("signs:={listed}"), "note=Reviewed with her"]);
    let file = ok_json(&env, &["case", "show", "Z-RISING"]);
    assert_eq!(file["escalation"]["findings"], serde_json::json!([]), "the review covers what it saw");
    assert_eq!(file["escalation_reviews"].as_array().unwrap().len(), 1);
}

#[test]
fn demo_fills_a_separate_vault_and_refuses_a_real_one() {
    let env = env();
    init(&env);
    ok(&env, &["demo", "--cases", "3", "--seed", "5"]);
    let rows = ok_json(&env, &["case", "list"]);
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert!(rows[0]["reference"].as_str().unwrap().starts_with("DEMO-"));
    ok(&env, &["case", "add", "reference=REAL-1", "referral.source=police", "referral.reason=Real"]);
    let refused = waymark(&env, &["demo", "--cases", "1", "--seed", "6"]);
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn sync_status_reads_as_sentences_and_json_keeps_its_shape() {
    // An advocate reads the text; scripts read the JSON. Neither may be a raw dump of the other.
    let env = env();
    init(&env);
    ok(&env, &["case", "add", "reference=SY-1", "referral.source=police", "referral.reason=Repeated contact"]);
    let text = ok(&env, &["sync", "status"]);
    assert!(text.contains("Not enrolled with a clinic"), "{text}");
    assert!(text.contains("Waiting for the clinic: 1 change(s)."), "{text}");
    assert!(text.contains("Last sync: never"), "{text}");
    assert!(!text.contains('{'), "no JSON in the text output: {text}");
    assert_eq!(ok(&env, &["sync", "conflicts"]).trim(), "No conflicts to decide.");
    let json = ok_json(&env, &["sync", "status"]);
    assert_eq!(json["status"]["pending"], 1);
    assert_eq!(json["status"]["enrolled"], false);
    assert_eq!(json["problems"], serde_json::json!([]));
    // The problems list has its own command; dismissing needs a reason and an open problem, named by field.
    assert_eq!(ok_json(&env, &["sync", "problems"]), serde_json::json!({ "problems": [] }));
    assert!(ok(&env, &["sync", "problems"]).contains("No problems."));
    let refused = waymark(&env, &["sync", "dismiss", "7", "--reason", " "]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("reason"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let missing = waymark(&env, &["sync", "dismiss", "7", "--reason", "dealt with"]);
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("problem"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

#[test]
fn an_enrolment_code_is_never_taken_from_the_command_line() {
    // Why: an argument lands in shell history and the process list, where anyone at the laptop can copy the code.
    let env = env();
    init(&env);
    for command in ["enrol", "rejoin"] {
        let out = waymark(&env, &["sync", command, "WAYMARK1-abcdef"]);
        assert_eq!(out.status.code(), Some(2), "`sync {command} CODE` is a usage error");
    }
    // From a file, the code is read and checked (this one is not a real code).
    let code = env.tmp.join("code.txt");
    std::fs::write(&code, "WAYMARK1-not-a-real-code\n").unwrap();
    let out = waymark(&env, &["sync", "enrol", "--code-file", code.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error["), "a clear error about the code");
}

#[test]
fn init_refuses_a_guessable_passphrase_and_rekey_makes_the_old_key_file_useless() {
    // "password1234" passed the old 12-character rule at `waymark init`.
    let env = env();
    std::fs::write(&env.pass_file, "password1234\n").unwrap();
    let out = waymark(&env, &["init", "--advocate", "ADV-9", "--work-factor", "4"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error[weak_passphrase]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!env.vault.join("vault.key").exists(), "nothing was created");
    std::fs::write(&env.pass_file, "three random words here\n").unwrap();
    init(&env);
    ok(&env, &["case", "add", "reference=RK-1", "referral.source=police", "referral.reason=Rekey"]);
    let old_key_file = std::fs::read(env.vault.join("vault.key")).unwrap();
    let done = ok_json(&env, &["rekey", "--work-factor", "4"]);
    assert_eq!(done["rekeyed"], true);
    assert_eq!(ok_json(&env, &["case", "list"])[0]["reference"], "RK-1", "the data survives");
    std::fs::write(env.vault.join("vault.key"), old_key_file).unwrap();
    let refused = waymark(&env, &["case", "list"]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).starts_with("error[key_mismatch]"),
        "{:?}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn the_address_guard_refuses_an_address_in_notes_unless_the_command_confirms_it() {
    let env = env();
    init(&env);
    ok(&env, &["case", "add", "reference=AG-1", "referral.source=police", "referral.reason=Guard"]);
    ok(
        &env,
        &[
            "victim",
            "add",
            "AG-1",
            "name=Test Person",
            "address.lines:=[\"77 Canarywharf Mews\"]",
            "address.postcode=ZZ99 4CW",
        ],
    );
    let incident =
        ["incident", "add", "AG-1", "behaviours+=loitering", "channel=in_person", "account=Waited on Canarywharf Mews"];
    let refused = waymark(&env, &incident);
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(
        stderr.starts_with("error[address_in_text]") && stderr.contains("account") && !stderr.contains("Canarywharf"),
        "{stderr}"
    );
    let mut confirmed = vec!["--address-confirmed"];
    confirmed.extend_from_slice(&incident);
    ok(&env, &confirmed);
    let audit = ok(&env, &["--json", "audit", "list", "--case", "AG-1"]);
    assert!(audit.contains("address_in_text_confirmed"), "{audit}");
}

#[test]
fn show_prints_every_field_a_record_presents_except_what_only_its_own_screen_shows() {
    // Why: `show` takes its fields from each kind's presented list, so a new
    // field appears without a change here; a plan's code word and an order's
    // conditions (which may name the street it keeps someone from) stay on
    // their own screens and printouts, not on a terminal's scrollback.
    let env = env();
    init(&env);
    ok(&env, &["case", "add", "reference=SHOW-1", "referral.source=police", "referral.reason=Show test"]);
    ok(&env, &["plan", "add", "SHOW-1", "review_on=2027-01-10", "code_word=Bluebell", "safe_places+=Library"]);
    ok(
        &env,
        &[
            "--address-confirmed",
            "order",
            "add",
            "SHOW-1",
            "order_type=restraining_order_conviction",
            "issued_by=Demo Crown Court",
            "conditions:=[{\"kind\": \"exclusion_zone\", \"text\": \"Not to enter Zebra Crescent\"}]",
        ],
    );
    ok(
        &env,
        &[
            "hearing",
            "add",
            "SHOW-1",
            "court=Demo Magistrates",
            "hearing_type=trial",
            "starts_at=2027-01-05T10:00:00Z",
            "court_reference=CR-77",
        ],
    );
    let shown = ok(&env, &["case", "show", "SHOW-1"]);
    // Presented fields, labelled by the core.
    assert!(shown.contains("Court reference: CR-77"), "{shown}");
    assert!(shown.contains("Issued by (court or force): Demo Crown Court"), "{shown}");
    assert!(shown.contains("Review on: 10 Jan 2027"), "{shown}");
    for kept_off in ["Bluebell", "Library", "Zebra Crescent"] {
        assert!(!shown.contains(kept_off), "{kept_off} is shown:\n{shown}");
    }
}

#[test]
fn retention_lists_closed_cases_by_the_schedule_with_the_due_ones_first_and_a_hold_stops_it() {
    // Why: the advocate and the manager must see what the schedule says is
    // due, and a legal hold must keep a case off that list whatever the date.
    let env = env();
    init(&env);
    let open = |reference: &str, on: &str| {
        let received = format!("referral.received_on={on}");
        let opened = format!("opened_on={on}");
        let reference = format!("reference={reference}");
        ok(
            &env,
            &["case", "add", &reference, "referral.source=police", "referral.reason=Retention", &received, &opened],
        );
    };
    open("OLD-1", "2020-01-06");
    open("NEW-1", "2026-11-02");
    open("OPEN-1", "2026-11-02");
    ok(&env, &["case", "close", "OLD-1", "--reason", "victim-declined", "--on", "2020-02-03"]);
    ok(&env, &["case", "close", "NEW-1", "--reason", "support-complete", "--on", "2026-11-30"]);
    let rows = ok_json(&env, &["retention"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "an open case has no retention date");
    assert_eq!((rows[0]["reference"].as_str(), rows[0]["due"].as_bool()), (Some("OLD-1"), Some(true)));
    assert_eq!(rows[0]["retention"]["basis"], "no_service_taken_up");
    assert_eq!(rows[0]["retention"]["due_on"], "2020-03-16", "six weeks after closing");
    assert_eq!((rows[1]["reference"].as_str(), rows[1]["due"].as_bool()), (Some("NEW-1"), Some(false)));
    assert_eq!(rows[1]["retention"]["due_on"], "2032-11-30", "six years after the last contact");
    ok(&env, &["case", "edit", "OLD-1", r#"legal_hold:={"reason": "ongoing_proceedings", "since": "2026-12-01"}"#]);
    let held = ok_json(&env, &["retention"]);
    let old = held.as_array().unwrap().iter().find(|r| r["reference"] == "OLD-1").unwrap().clone();
    assert_eq!(
        (old["due"].as_bool(), old["retention"]["held"]["reason"].as_str()),
        (Some(false), Some("ongoing_proceedings"))
    );
    assert!(ok(&env, &["retention"]).contains("held since 1 Dec 2026"), "shown as people read a date");
}

#[test]
fn a_subject_access_request_is_answered_from_the_cli_with_others_withheld_until_released() {
    // Why: an advocate answers a request in an afternoon: review the items,
    // release what may go, and hand over a PDF read back here by pdftotext.
    let env = env();
    init(&env);
    ok(&env, &["case", "add", "reference=SAR-9", "referral.source=police", "referral.reason=Calls"]);
    ok(&env, &["victim", "add", "SAR-9", "name=Vera Sample (TEST)"]);
    ok(&env, &["perpetrator", "add", "SAR-9", "names+=Percy Sample (TEST)", "relationship=ex_intimate_partner"]);
    let request = ok_json(&env, &["access", "request", "SAR-9", "--subject", "victim"]);
    let id = request["record"]["id"].as_str().or(request["id"].as_str()).unwrap().to_owned();
    let review = ok_json(&env, &["access", "review", &id]);
    let his = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["text"].as_str().is_some_and(|t| t.contains("Percy Sample")))
        .unwrap();
    assert_eq!(his["withheld"], "about_the_perpetrator");
    let key = his["key"].as_str().unwrap().to_owned();
    let pdf = env.tmp.join("before.pdf");
    // No answer before the requester's identity is checked: a perpetrator may pose as the victim.
    let refused = waymark(&env, &["access", "export", &id, "--out", pdf.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&refused.stderr).to_lowercase();
    assert!(!refused.status.success() && !pdf.exists() && said.contains("identity"), "{said}");
    let checked = ok_json(&env, &["access", "identity", &id]);
    assert_eq!(checked["identity_checked"]["by"], "ADV-9", "{checked}");
    ok(&env, &["access", "export", &id, "--out", pdf.to_str().unwrap()]);
    let text = waymark_typeset::kit::pages_of(&pdf).join(" ");
    assert!(text.contains("Vera Sample (TEST)") && !text.contains("Percy Sample"), "{text}");
    ok(&env, &["access", "release", &id, &key]);
    let after = env.tmp.join("after.pdf");
    ok(&env, &["access", "export", &id, "--out", after.to_str().unwrap()]);
    assert!(waymark_typeset::kit::pages_of(&after).join(" ").contains("Percy Sample (TEST)"), "released");
    let file = env.tmp.join("export.json");
    ok(&env, &["access", "export", &id, "--out", file.to_str().unwrap()]);
    let json: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["format"], "waymark-subject-access");
    let listed = ok_json(&env, &["access", "list", "SAR-9"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

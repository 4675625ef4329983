//! Prints the three documents from a vault holding a fictional case and reads
//! them back with tools nobody here wrote: `pdftotext` for the words, `qpdf`
//! for the file's structure, `pdftoppm` for the first page as a picture (kept
//! in `docs/printouts/` and shown in the README). Debian: poppler-utils, qpdf.
#![allow(clippy::unwrap_used)] // A test stops at its first failure, where it failed.

use chrono::{TimeZone, Utc};
use rand::SeedableRng;
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use waymark_domain::time::ManualClock;
use waymark_domain::{CaseId, PlanAction, Record, SafetyPlan, SafetyPlanId};
use waymark_print::{DocumentKind, Exposure, Options, PrintError, Printer, Request, Templates};
use waymark_typeset::kit::{assert_structurally_valid, pages_of, run_tool};
use waymark_vault::queries::CaseFile;
use waymark_vault::{Env, Mutation, Vault};

struct Fixture {
    dir: tempfile::TempDir,
    vault: Vault,
    printer: Printer,
    case: CaseId,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
    let env = Env { clock: Arc::new(ManualClock::new(now)), rng: Box::new(rand_chacha::ChaCha8Rng::seed_from_u64(3)) };
    let options = waymark_vault::kit::fast_options();
    let mut vault =
        Vault::init(&dir.path().join("vault"), &SecretString::from("a test passphrase here".to_owned()), &options, env)
            .unwrap();
    let demo = waymark_demo::DemoOptions {
        cases: 1,
        seed: 11,
        now,
        advocate: "ADV-7".into(),
        incidents_per_case: Some(40),
        clinic_reviews: true,
    };
    let records = waymark_demo::generate(&demo).remove(0);
    let case = records.iter().find_map(|r| if let Record::Case(c) = r { Some(c.id) } else { None }).unwrap();
    vault.commit(records.into_iter().map(Mutation::Create).collect()).unwrap();
    let printer = Printer::for_vault_dir(&dir.path().join("vault")).unwrap();
    Fixture { dir, vault, printer, case }
}

impl Fixture {
    fn file(&mut self) -> CaseFile {
        self.vault.case_file(self.case).unwrap()
    }

    /// Prints to a file as the CLI does and returns the path.
    fn print(&mut self, request: &Request, options: Options, name: &str) -> PathBuf {
        let prepared = self.printer.prepare(&mut self.vault, request, options).unwrap();
        let path = self.dir.path().join(name);
        waymark_print::save(&mut self.vault, &prepared, &path).unwrap();
        path
    }
}

/// Tagged PDF: the catalogue has a structure tree and says it is marked.
fn assert_tagged(pdf: &Path) {
    let catalog = run_tool("qpdf", &["--show-object=trailer", "--filtered-stream-data", pdf.to_str().unwrap()]);
    let root = catalog
        .split("/Root ")
        .nth(1)
        .and_then(|r| r.split(" R").next())
        .expect("a /Root in the trailer")
        .trim()
        .to_owned();
    let object = run_tool("qpdf", &[&format!("--show-object={}", root.replace(' ', ",")), pdf.to_str().unwrap()]);
    assert!(object.contains("/StructTreeRoot"), "no structure tree: {object}");
    assert!(object.contains("/Marked true"), "not marked: {object}");
}

/// Renders page 1 to `docs/printouts/NAME.png` for the README.
fn keep_first_page(pdf: &Path, name: &str) {
    let stem = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/printouts").join(name);
    waymark_typeset::kit::keep_first_page(pdf, &stem);
}

#[test]
fn the_full_safety_plan_holds_every_section_value_and_the_version_on_every_page() {
    let mut f = fixture();
    let file = f.file();
    let plan = file.safety_plans.iter().max_by_key(|p| p.version).unwrap().clone();
    let pdf = f.print(&Request::SafetyPlan { case: f.case, version: None }, Options::default(), "plan.pdf");
    assert_structurally_valid(&pdf);
    assert_tagged(&pdf);
    let pages = pages_of(&pdf);
    let all = pages.join(" ");
    // The emergency box first: 999, the Silent Solution, the code word, safe places.
    let emergency = all.find("Call 999").expect("the emergency box");
    for section in &plan.sections {
        let title = section.section.label();
        if section.section != waymark_domain::PlanSection::Emergency {
            let at = all.find(title).unwrap_or_else(|| panic!("section {title} missing"));
            assert!(at > emergency, "{title} comes before the emergency box");
        }
        for action in &section.actions {
            assert!(all.contains(&action.action), "an action of {title} is missing");
        }
    }
    assert!(all.contains("press 55"), "the Silent Solution");
    assert!(all.contains(plan.code_word.as_deref().unwrap()));
    for place in &plan.safe_places {
        assert!(all.contains(place.as_str()), "a safe place is missing");
    }
    for person in &plan.support_network {
        assert!(all.contains(&person.name) && all.contains(person.phone.as_deref().unwrap()));
    }
    assert!(all.contains(&file.case.reference));
    assert!(all.contains("Example Stalking Advocacy Service"), "the service's name on the full plan");
    let stamp = format!("Version {} · made", plan.version);
    for (n, page) in pages.iter().enumerate() {
        assert!(page.contains(&stamp) && page.contains("review by"), "page {} lacks the version and dates", n + 1);
    }
    keep_first_page(&pdf, "safety-plan");
}

#[test]
fn the_discreet_plan_has_no_avoided_word_no_address_and_nothing_on_the_perpetrator() {
    let mut f = fixture();
    let file = f.file();
    let pdf = f.print(
        &Request::SafetyPlan { case: f.case, version: None },
        Options { discreet: true, large_print: false, address_confirmed: false },
        "my-plan.pdf",
    );
    assert_structurally_valid(&pdf);
    // The file's own metadata, as pdfinfo shows anyone who opens its properties: no program, no service.
    let info = run_tool("pdfinfo", &["-meta", pdf.to_str().unwrap()]).to_lowercase();
    for giveaway in ["waymark", "typst", "safety", "example stalking"] {
        assert!(!info.contains(giveaway), "the discreet PDF's metadata says {giveaway}: {info}");
    }
    let text = pages_of(&pdf).join(" ").to_lowercase();
    assert!(text.contains("my plan"), "the neutral title");
    assert!(text.contains("call 999") && text.contains("press 55"), "the emergency box stays");
    // The service's configured avoid list, read back from the templates, checked in a reader's text.
    let rules = Templates::shipped().unwrap().discreet().clone();
    for word in &rules.forbidden {
        assert!(!text.contains(&word.to_lowercase()), "the discreet plan contains an avoided word: {word}");
    }
    assert!(!text.contains("example stalking advocacy service"), "the service's name");
    assert!(!text.contains(&file.case.reference.to_lowercase()), "the case reference");
    let address = file.victim.as_ref().unwrap().address.as_ref().unwrap();
    for line in address.lines.iter().chain(&address.postcode) {
        assert!(!text.contains(&line.to_lowercase()), "a line of the victim's address");
    }
    for person in &file.perpetrators {
        for name in person.names.iter().chain(&person.aliases) {
            assert!(!text.contains(&name.to_lowercase()), "the perpetrator's name");
        }
        for phone in &person.phones {
            assert!(!text.contains(&phone.to_lowercase()), "the perpetrator's phone");
        }
    }
    // Supporters appear under the neutral label the advocate chose, with their number.
    for person in &file.safety_plans.last().unwrap().support_network {
        assert!(text.contains(&person.neutral_label.to_lowercase()));
        assert!(!text.contains(&person.name.to_lowercase()), "a supporter's real name");
        assert!(text.contains(person.phone.as_deref().unwrap()));
    }
    // pdfimages lists a two-line header, then one line per picture.
    assert_eq!(
        run_tool("pdfimages", &["-list", pdf.to_str().unwrap()]).lines().count(),
        2,
        "a picture on the discreet plan"
    );
    keep_first_page(&pdf, "safety-plan-discreet");
}

#[test]
fn a_discreet_plan_naming_the_perpetrator_is_refused_with_the_section_and_nothing_is_written() {
    let mut f = fixture();
    let file = f.file();
    let first_name = file.perpetrators[0].names[0].split_whitespace().next().unwrap().to_owned();
    let mut plan: SafetyPlan = file.safety_plans.last().unwrap().clone();
    plan.id = SafetyPlanId::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap(),
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(9),
    );
    plan.version += 1;
    let home = plan.sections.iter_mut().find(|s| s.section == waymark_domain::PlanSection::Home).unwrap();
    home.actions.push(PlanAction {
        action: format!("If {first_name} comes to the door, do not open it"),
        who: "me".into(),
        review_on: None,
    });
    f.vault.create(plan).unwrap();

    let err = f
        .printer
        .prepare(
            &mut f.vault,
            &Request::SafetyPlan { case: f.case, version: None },
            Options { discreet: true, large_print: false, address_confirmed: false },
        )
        .unwrap_err();
    match &err {
        PrintError::DiscreetUnsafe { exposure, section, .. } => {
            assert_eq!(*exposure, Exposure::PerpetratorDetail);
            assert!(section.contains("Home"), "{section}");
        }
        other => panic!("expected a discreet refusal, got {other:?}"),
    }
    assert!(!err.to_string().contains(&first_name), "the error must not repeat the name");
    let prints = f
        .vault
        .audit_events(Some(f.case), 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == waymark_vault::audit::AuditAction::Print)
        .count();
    assert_eq!(prints, 0, "a refused print is not recorded as printed");
    // The full plan for the case file still prints, name included.
    let full = f
        .printer
        .prepare(&mut f.vault, &Request::SafetyPlan { case: f.case, version: None }, Options::default())
        .unwrap();
    assert!(full.page_texts().join(" ").contains(&first_name));
}

#[test]
fn large_print_sets_body_text_at_sixteen_points_or_more() {
    let mut f = fixture();
    let normal = f
        .printer
        .prepare(
            &mut f.vault,
            &Request::SafetyPlan { case: f.case, version: None },
            Options { discreet: true, large_print: false, address_confirmed: false },
        )
        .unwrap();
    let large = f
        .printer
        .prepare(
            &mut f.vault,
            &Request::SafetyPlan { case: f.case, version: None },
            Options { discreet: true, large_print: true, address_confirmed: false },
        )
        .unwrap();
    assert!(large.body_text_pt() >= 16.0, "large print body is {} pt", large.body_text_pt());
    assert!(normal.body_text_pt() < 16.0);
    assert!(large.pages() >= normal.pages());
    let path = f.dir.path().join("large.pdf");
    waymark_print::save(&mut f.vault, &large, &path).unwrap();
    keep_first_page(&path, "safety-plan-large-print");
}

#[test]
fn the_chronology_shows_the_whole_course_of_conduct_with_a_restricted_marking_on_every_page() {
    let mut f = fixture();
    // One correction, so the chronology must show an amendment beside the original.
    let file = f.file();
    let amended = &file.incidents[3].current;
    let patch = waymark_domain::patch::Patch::parse(&[
        format!("incident_id={}", amended.id),
        "reason=Victim recalled the place".to_owned(),
        "changes.location=Outside the demo leisure centre".to_owned(),
    ])
    .unwrap();
    f.vault.add(waymark_domain::RecordKind::IncidentAmendment, Some(f.case), &patch).unwrap();
    let file = f.file();

    let pdf = f.print(&Request::Chronology { case: f.case }, Options::default(), "chronology.pdf");
    assert_structurally_valid(&pdf);
    assert_tagged(&pdf);
    let pages = pages_of(&pdf);
    assert!(pages.len() > 3, "40 incidents take several pages");
    for (n, page) in pages.iter().enumerate() {
        assert!(page.contains("OFFICIAL-SENSITIVE"), "page {} lacks the marking", n + 1);
        assert!(page.contains("by ADV-7"), "page {} lacks who produced it", n + 1);
    }
    let all = pages.join(" ");
    for heading in [
        "Case summary",
        "FOUR markers",
        "Pattern of behaviour",
        "Incidents per week",
        "Weeks with incidents",
        "Escalation",
        "When incidents happen",
        "Incidents in order",
    ] {
        assert!(all.contains(heading), "{heading} missing");
    }
    // Each unreviewed escalation finding, in its own words (no personal data in them).
    let facts: Vec<_> =
        file.escalation.findings.iter().filter(|f| f.sign != waymark_domain::EscalationSign::RiskReviewDue).collect();
    for finding in &facts {
        assert!(all.contains(&finding.text), "finding {:?} missing", finding.sign);
    }
    assert!(!all.contains("re-assess risk"), "the advocate's own reminder is not printed");
    if facts.is_empty() {
        assert!(all.contains("No change in the course of conduct awaits review"));
    }
    // The day-by-hour table: each weekday row with its total as the patterns count it.
    for (day, hours) in waymark_domain::patterns::WEEKDAYS.iter().zip(&file.patterns.day_by_hour) {
        // A blank cell reads as nothing, so a row reads as its day, its
        // non-zero hours in order, then its total.
        let mut cells: Vec<String> = vec![day[..3].to_owned()];
        cells.extend(hours.iter().filter(|c| **c > 0).map(u32::to_string));
        cells.push(hours.iter().sum::<u32>().to_string());
        let row = cells.join(" ");
        assert!(all.contains(&row), "the row {row:?} is not in the printout");
    }
    for marker in ["Fixated", "Obsessive", "Unwanted", "Repeated"] {
        assert!(all.contains(marker), "FOUR marker {marker}");
    }
    assert!(all.contains(&file.case.reference));
    assert!(all.contains(&file.perpetrators[0].names[0]));
    // Every incident in time order, with its crime reference and force when reported.
    let mut incidents: Vec<_> = file.incidents.iter().map(|e| &e.current).collect();
    incidents.sort_by_key(|i| (i.occurred_at, i.id));
    let mut last_at = 0;
    for (n, incident) in incidents.iter().enumerate() {
        let shown = waymark_domain::time::show_london(incident.occurred_at);
        let label = format!("{}. {shown}", n + 1);
        let at = all.find(&label).unwrap_or_else(|| panic!("incident {} missing", n + 1));
        assert!(at >= last_at, "incident {} out of order", n + 1);
        last_at = at;
        if let Some(crime) = &incident.crime_reference {
            assert!(all.contains(crime.as_str()), "crime reference of incident {}", n + 1);
        }
    }
    assert!(all.contains("Demo Constabulary"), "the police force");
    // Counts by behaviour: each behaviour's incident count as the record has it.
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for incident in &incidents {
        for b in &incident.behaviours {
            *counts.entry(b.label()).or_default() += 1;
        }
    }
    for (label, count) in counts {
        assert!(all.contains(&format!("{label} {count}")), "the count for {label}");
    }
    assert!(
        all.contains("Amended")
            && all.contains("Victim recalled the place")
            && all.contains("Outside the demo leisure centre")
    );
    let breaches: usize = file.orders.iter().map(|o| o.breaches.len()).sum();
    if breaches > 0 {
        assert!(all.contains("Breach of Order 1"), "breaches are marked against their order");
    }
    keep_first_page(&pdf, "chronology");
}

#[test]
fn the_hearing_list_shows_the_next_hearings_across_the_caseload_and_for_one_case() {
    let mut f = fixture();
    let file = f.file();
    let pdf = f.print(&Request::Hearings { case: None, limit: 10 }, Options::default(), "hearings.pdf");
    assert_structurally_valid(&pdf);
    let all = pages_of(&pdf).join(" ");
    for hearing in &file.hearings {
        assert!(all.contains(&hearing.court), "a hearing court: {all}");
        assert!(all.contains(&waymark_domain::time::show_london(hearing.starts_at)));
    }
    assert!(all.contains("OFFICIAL-SENSITIVE") && all.contains(&file.case.reference));
    let one = f.print(&Request::Hearings { case: Some(f.case), limit: 10 }, Options::default(), "hearings-one.pdf");
    assert!(pages_of(&one).join(" ").contains(&format!("Court hearings: {}", file.case.reference)));
    keep_first_page(&pdf, "hearings");
}

#[test]
fn the_quarterly_return_prints_the_caseloads_counts_and_names_no_one() {
    // Why: the return leaves the laptop for the commissioner; it must carry
    // every figure and nothing that names the victim or the case.
    let mut f = fixture();
    let file = f.file();
    let quarter = waymark_domain::report::Quarter::from_wire("2026-27-Q3").unwrap();
    let prepared = f.printer.prepare(&mut f.vault, &Request::QuarterlyReturn { quarter }, Options::default()).unwrap();
    assert_eq!(prepared.file_name, "quarterly-return-2026-27-Q3-caseload.pdf");
    let pdf = f.dir.path().join(&prepared.file_name);
    waymark_print::save(&mut f.vault, &prepared, &pdf).unwrap();
    assert_structurally_valid(&pdf);
    assert_tagged(&pdf);
    let text = pages_of(&pdf).join(" ");
    let report = waymark_print::quarterly_return(&f.vault, quarter).unwrap();
    for figure in &report.figures {
        assert!(text.contains(&figure.label), "{}: {text}", figure.label);
    }
    assert!(text.contains("Q3 2026/27 (1 October to 31 December 2026)") && text.contains("OFFICIAL"));
    assert!(text.contains("One advocate's caseload"));
    let victim = file.victim.as_ref().unwrap();
    assert!(!text.contains(&file.case.reference) && !text.contains(&victim.name), "counts only");
    let events = f.vault.audit_events(None, 20).unwrap();
    let printed = events.iter().find(|e| e.action == waymark_vault::audit::AuditAction::Print).unwrap();
    assert_eq!((printed.detail["document"].as_str(), printed.case_id.as_deref()), (Some("quarterly_return"), None));
    keep_first_page(&pdf, "quarterly-return");
}

#[test]
fn a_subject_access_export_holds_the_victims_information_and_others_only_once_released() {
    // Why: she is owed all of hers within a month; a witness's or the
    // perpetrator's details reach her only when the advocate releases them.
    let mut f = fixture();
    let file = f.file();
    let victim = file.victim.as_ref().unwrap().clone();
    let perpetrator = file.perpetrators[0].clone();
    let his_name = perpetrator.names[0].clone();
    let today = f.vault.today();
    let request = f.vault.access_request(f.case, waymark_domain::access::AccessSubject::Victim, None, today).unwrap();
    f.vault.access_identity_checked(request.id, today).unwrap();
    // Her own answer holds her address on purpose: no confirming needed to print it.
    let print = |f: &mut Fixture, name: &str| -> String {
        let pdf = f.print(&Request::SubjectAccess { request: request.id }, Options::default(), name);
        assert_structurally_valid(&pdf);
        pages_of(&pdf).join(" ")
    };
    let text = print(&mut f, "sar-1.pdf");
    assert!(text.contains("The information we hold about you") && text.contains("OFFICIAL-SENSITIVE"));
    assert!(text.contains(&victim.name), "her name is hers");
    let account = file.incidents[0].original.account.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    assert!(text.contains(&account), "her account of what happened: {account}");
    assert!(!text.contains(&his_name), "his details are withheld");
    assert!(text.contains("It is the perpetrator's information"), "and she is told something was");
    assert!(text.contains("Information Commissioner"), "with her rights and where to complain");
    let prepared =
        f.printer.prepare(&mut f.vault, &Request::SubjectAccess { request: request.id }, Options::default()).unwrap();
    let short = request.id.simple().to_string()[..8].to_owned();
    assert!(prepared.file_name.starts_with(&format!("subject-access-{short}-")), "{}", prepared.file_name);

    // His answer: never with her address confirmed, and without it, never her address.
    let his_record = file.perpetrators[0].id.as_uuid();
    let his = f
        .vault
        .access_request(f.case, waymark_domain::access::AccessSubject::Perpetrator, Some(his_record), today)
        .unwrap();
    f.vault.access_identity_checked(his.id, today).unwrap();
    let confirmed = Options { address_confirmed: true, ..Options::default() };
    let refused = f.printer.prepare(&mut f.vault, &Request::SubjectAccess { request: his.id }, confirmed);
    assert!(matches!(refused, Err(PrintError::AddressNeverConfirmed)));
    let his_pdf = f.print(&Request::SubjectAccess { request: his.id }, Options::default(), "his.pdf");
    let his_text = pages_of(&his_pdf).join(" ");
    assert!(his_text.contains(&his_name), "his own details are his");
    if let Some(address) = &victim.address {
        for line in &address.lines {
            assert!(!his_text.contains(line.as_str()), "her address is never in his answer");
        }
        if let Some(postcode) = &address.postcode {
            assert!(!his_text.contains(postcode.as_str()));
        }
    }
    assert!(!his_text.contains(&victim.name), "nothing of hers is in his answer unless released");

    let review = f.vault.access_review(request.id).unwrap();
    let names = review
        .items
        .iter()
        .find(|i| i.kind == waymark_domain::RecordKind::Perpetrator && i.text.contains(&his_name))
        .unwrap();
    f.vault.access_release(request.id, &names.key).unwrap();
    let released = print(&mut f, "sar-2.pdf");
    assert!(released.contains(&his_name), "released, item by item");

    // Her correction to an incident (the right to rectification) is an amendment, and the export shows it.
    let incident = file.incidents[0].original.id.as_uuid();
    let fix = waymark_domain::patch::Patch::parse(&["location=At the bus station, not the park".to_owned()]).unwrap();
    f.vault.amend_incident(incident, "She corrected where it happened", &fix).unwrap();
    let corrected = print(&mut f, "sar-3.pdf");
    assert!(corrected.contains("A correction to an incident"), "{corrected}");
    assert!(corrected.contains("She corrected where it happened") && corrected.contains("not the park"));
    // The same export as JSON, for a requester who asks for it electronically.
    let json_path = f.dir.path().join("sar.json");
    waymark_print::save_subject_access_json(&mut f.vault, request.id, &json_path).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(json["format"], "waymark-subject-access");
    let words = json["records"].to_string();
    assert!(words.contains(&victim.name) && words.contains(&his_name) && words.contains("not the park"));
    assert!(json["withheld"].as_array().is_some_and(|w| !w.is_empty()), "what is still withheld is counted");
    let events = f.vault.audit_events(Some(f.case), 80).unwrap();
    let printed = events.iter().filter(|e| e.action == waymark_vault::audit::AuditAction::Print).count();
    let exported = events.iter().filter(|e| e.action == waymark_vault::audit::AuditAction::Export).count();
    let released = events.iter().filter(|e| e.action == waymark_vault::audit::AuditAction::AccessReleased).count();
    assert_eq!((printed, exported, released), (4, 1, 1), "every print, export and release is audited");
    keep_first_page(&f.dir.path().join("sar-1.pdf"), "subject-access");
}

#[test]
fn the_same_data_and_clock_give_the_same_bytes() {
    let mut f = fixture();
    for request in [
        Request::SafetyPlan { case: f.case, version: None },
        Request::Chronology { case: f.case },
        Request::Hearings { case: None, limit: 20 },
    ] {
        let a = f.printer.prepare(&mut f.vault, &request, Options::default()).unwrap();
        let b = f.printer.prepare(&mut f.vault, &request, Options::default()).unwrap();
        assert_eq!(a.pdf, b.pdf, "{:?} differs between two renders", request.kind());
        assert_eq!(a.sha256, b.sha256);
    }
}

#[test]
fn every_print_is_in_the_audit_trail_and_the_file_name_holds_no_personal_data() {
    let mut f = fixture();
    let file = f.file();
    let prepared = f
        .printer
        .prepare(
            &mut f.vault,
            &Request::SafetyPlan { case: f.case, version: None },
            Options { discreet: true, large_print: true, address_confirmed: false },
        )
        .unwrap();
    assert_eq!(prepared.file_name, "my-plan.pdf");
    let chronology =
        f.printer.prepare(&mut f.vault, &Request::Chronology { case: f.case }, Options::default()).unwrap();
    assert!(chronology.file_name.starts_with(&format!("chronology-{}", file.case.reference)));
    assert!(!chronology.file_name.contains(&file.victim.as_ref().unwrap().name));
    assert_eq!(
        f.vault
            .audit_events(Some(f.case), 1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == waymark_vault::audit::AuditAction::Print)
            .count(),
        0,
        "preparing is not printing"
    );
    waymark_print::save(&mut f.vault, &prepared, &f.dir.path().join(&prepared.file_name)).unwrap();
    waymark_print::record_print(&mut f.vault, &chronology, waymark_print::Destination::Printer).unwrap();
    let prints: Vec<_> = f
        .vault
        .audit_events(Some(f.case), 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == waymark_vault::audit::AuditAction::Print)
        .collect();
    assert_eq!(prints.len(), 2);
    let details: Vec<String> = prints.iter().map(|e| e.detail.to_string()).collect();
    assert!(details.iter().any(|d| d.contains("\"safety_plan\"")
        && d.contains("\"discreet\":true")
        && d.contains("\"file\"")
        && d.contains(&prepared.sha256)));
    assert!(details.iter().any(|d| d.contains("\"chronology\"") && d.contains("\"printer\"")));
    assert!(prints.iter().all(|e| e.actor == "ADV-7"));
    f.vault.audit_verify().unwrap();
}

#[test]
fn a_service_changes_its_name_and_wording_by_editing_a_template_file() {
    let mut f = fixture();
    let templates = f.dir.path().join("vault/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("service.toml"), "name = \"Riverside Support Trust\"\nlogo = \"logo.svg\"\n")
        .unwrap();
    let shipped = String::from_utf8(Templates::shipped().unwrap().file("hearings.typ").unwrap().to_vec()).unwrap();
    std::fs::write(
        templates.join("hearings.typ"),
        shipped.replace("Upcoming hearings as recorded on", "Hearings we know of on"),
    )
    .unwrap();
    let printer = Printer::for_vault_dir(&f.dir.path().join("vault")).unwrap();
    let prepared =
        printer.prepare(&mut f.vault, &Request::Hearings { case: None, limit: 5 }, Options::default()).unwrap();
    let text = prepared.page_texts().join(" ");
    assert!(text.contains("Riverside Support Trust") && text.contains("Hearings we know of on"));
    assert!(!text.contains("Example Stalking Advocacy Service"));
    // The service's name joins the avoid list, so even a template edited to show it is refused on a discreet plan.
    std::fs::write(
        templates.join("safety-plan.typ"),
        "#import \"/common.typ\": *\n#let data = json(\"/data.json\")\n= #data.title\n#service.name\n",
    )
    .unwrap();
    let printer = Printer::for_vault_dir(&f.dir.path().join("vault")).unwrap();
    let err = printer
        .prepare(
            &mut f.vault,
            &Request::SafetyPlan { case: f.case, version: None },
            Options { discreet: true, large_print: false, address_confirmed: false },
        )
        .unwrap_err();
    assert!(matches!(err, PrintError::DiscreetUnsafe { exposure: Exposure::AvoidedWord, .. }), "{err:?}");
}

#[test]
fn a_broken_template_names_its_file_and_line() {
    let mut f = fixture();
    let templates = f.dir.path().join("vault/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("hearings.typ"), "#let data = json(\"/data.json\")\n\n#data.no_such_field\n")
        .unwrap();
    let printer = Printer::for_vault_dir(&f.dir.path().join("vault")).unwrap();
    let err =
        printer.prepare(&mut f.vault, &Request::Hearings { case: None, limit: 5 }, Options::default()).unwrap_err();
    match err {
        PrintError::Template { file, line } => {
            assert_eq!(file, "hearings.typ");
            assert_eq!(line, Some(3));
        }
        other => panic!("expected a template error, got {other:?}"),
    }
    assert_eq!(DocumentKind::Hearings.wire(), "hearings");
}

#[test]
fn discreet_applies_to_the_safety_plan_only() {
    let mut f = fixture();
    let err = f
        .printer
        .prepare(
            &mut f.vault,
            &Request::Chronology { case: f.case },
            Options { discreet: true, large_print: false, address_confirmed: false },
        )
        .unwrap_err();
    assert!(matches!(err, PrintError::DiscreetOnlyForPlan));
}

#[test]
fn a_printout_showing_the_victims_address_in_notes_is_refused_until_the_advocate_confirms() {
    // The regulator's case: an address typed into notes went out on paper.
    let mut f = fixture();
    let address = f.file().victim.unwrap().address.unwrap();
    let street = address.lines[0].trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ').to_owned();
    let account = waymark_domain::patch::Patch::parse(&[
        &format!("account=She has moved to {street}"),
        "channel=in_person",
        "behaviours+=loitering",
    ])
    .unwrap();
    let case = f.case;
    f.vault.with_address_confirmed(|v| v.add(waymark_domain::RecordKind::Incident, Some(case), &account)).unwrap();
    let request = Request::Chronology { case };
    let plain = Options { discreet: false, large_print: false, address_confirmed: false };
    match f.printer.prepare(&mut f.vault, &request, plain).unwrap_err() {
        PrintError::AddressInText { pages } => assert!(!pages.is_empty()),
        other => panic!("expected address_in_text, got {other:?}"),
    }
    let confirmed = Options { address_confirmed: true, ..plain };
    let pdf = f.print(&request, confirmed, "chronology.pdf");
    assert!(pages_of(&pdf).join(" ").contains(&street), "printed as confirmed");
    let events = f.vault.audit_events(Some(case), 50).unwrap();
    let print =
        events.iter().find(|e| e.action == waymark_vault::audit::AuditAction::Print).expect("the print is audited");
    assert!(
        print.detail["address_in_text_confirmed"]["pages"].as_array().is_some_and(|p| !p.is_empty()),
        "{}",
        print.detail
    );
}

#[test]
fn an_exclusion_zone_naming_the_street_prints_without_asking() {
    // An order's conditions are its legal text: the guard is for an address typed into notes.
    let mut f = fixture();
    let address = f.file().victim.unwrap().address.unwrap();
    let street = address.lines[0].trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ').to_owned();
    let condition =
        serde_json::json!([{ "kind": "exclusion_zone", "text": format!("Not to enter {street}") }]).to_string();
    let order = waymark_domain::patch::Patch::parse(&[
        "order_type=spo",
        "issued_by=Example Magistrates' Court",
        "made_on=2026-11-20",
        &format!("conditions:={condition}"),
    ])
    .unwrap();
    let case = f.case;
    f.vault.add(waymark_domain::RecordKind::ProtectiveOrder, Some(case), &order).unwrap();
    let plain = Options { discreet: false, large_print: false, address_confirmed: false };
    let pdf = f.print(&Request::Chronology { case }, plain, "chronology.pdf");
    assert!(pages_of(&pdf).join(" ").contains(&street), "the condition is printed");
}

#[test]
fn an_incident_with_every_field_filled_shows_each_presented_label_on_the_chronology() {
    // The chronology takes an incident's fields from the record kind's
    // presented list: a field given a label there reaches the court bundle
    // with no change to the printout. Read with pdftotext, as a reader would.
    let mut f = fixture();
    let patch = waymark_domain::patch::Patch::parse(&[
        "occurred_at=2026-11-20 18:30",
        "behaviours+=following",
        "channel=in_person",
        "location=Corner of Demo Street",
        "account=Waited by the gate",
        "impact=Could not sleep",
        "witnesses+=A neighbour (DEMO)",
        r#"evidence:=[{"description": "Doorbell video"}]"#,
        "reported_to_police:=true",
        "crime_reference=CR-DEMO-1",
        "police_force=Demo Police",
        "officer=PC Demo",
    ])
    .unwrap();
    f.vault.add(waymark_domain::RecordKind::Incident, Some(f.case), &patch).unwrap();
    let pdf = f.print(&Request::Chronology { case: f.case }, Options::default(), "chronology.pdf");
    let text = pages_of(&pdf).join("\n");
    for presented in waymark_domain::RecordKind::Incident.rules().presented {
        if matches!(presented.field, "occurred_at" | "breaches_order" | "recorded_by") {
            continue; // The entry's heading, its breach box, and "Recorded ... by ADV-7".
        }
        assert!(text.contains(presented.label), "the chronology has no {:?}", presented.label);
    }
    assert!(text.contains("by ADV-7"), "who recorded it");
    for value in
        ["Corner of Demo Street", "Could not sleep", "A neighbour (DEMO)", "Doorbell video", "CR-DEMO-1", "PC Demo"]
    {
        assert!(text.contains(value), "{value} is missing");
    }
}

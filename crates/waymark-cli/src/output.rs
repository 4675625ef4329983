//! Printing. `--json` gives the stable shapes documented in docs/cli-json.md;
//! text output puts warnings first and shows times in UK local time.

use serde::Serialize;
use std::io::Write;

/// Prints a line; when the reader has gone (`waymark ... | head`), stops quietly
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        if writeln!(std::io::stdout().lock(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    };
}
use serde_json::{json, Value};
use waymark_domain::instruments::Instruments;
use waymark_domain::reminders::Reminder;
use waymark_domain::time::{show_date, show_london};
use waymark_domain::{Expiry, Record};
use waymark_vault::audit::AuditEvent;
use waymark_vault::queries::{CaseFile, CaseloadRow, IncidentEntry};
use waymark_vault::sync::{Conflict, Problem, SyncStatus};
use waymark_vault::Vault;

fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => say!("{text}"),
        Err(_) => eprintln!("error[output]: the result could not be written as JSON"),
    }
}

pub fn done(json: bool, text: &str, value: Value) {
    if json {
        print_json(&value);
    } else {
        say!("{text}");
    }
}

pub fn value(json: bool, value: &Value) {
    if json {
        print_json(value);
    } else if let Some(map) = value.as_object() {
        for (k, v) in map {
            say!("{k:>15}: {}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
        }
    }
}

pub fn saved(json: bool, record: &Record) {
    if json {
        print_json(&json!({"kind": record.kind(), "id": record.id(), "record": record}));
    } else {
        say!("Saved {} {}", record.kind().wire(), record.id());
    }
}

pub fn record(json: bool, record: &Record) {
    if json {
        print_json(&json!({"kind": record.kind(), "id": record.id(), "record": record}));
    } else {
        print_json(record);
    }
}

pub fn records(json: bool, records: &[Record]) {
    if json {
        let list: Vec<Value> = records.iter().map(|r| json!({"kind": r.kind(), "id": r.id(), "record": r})).collect();
        print_json(&list);
        return;
    }
    if records.is_empty() {
        say!("None.");
    }
    for r in records {
        say!("{}  {}", r.id(), summary(r));
    }
}

/// One line about a record, for lists.
fn summary(record: &Record) -> String {
    match record {
        Record::Case(c) => format!("{} ({})", c.reference, c.status.label()),
        Record::Victim(v) => v.preferred_name.clone().unwrap_or_else(|| v.name.clone()),
        Record::Perpetrator(p) => format!("{} ({})", p.names.join(" / "), p.relationship.label()),
        Record::Incident(i) => format!("{}  {}", show_london(i.occurred_at), behaviours(&i.behaviours)),
        Record::IncidentAmendment(a) => format!("amends {} at {}: {}", a.incident_id, show_london(a.made_at), a.reason),
        Record::RiskAssessment(r) => {
            format!(
                "{} {}: {} yes, judged {}, review {}",
                r.assessed_on,
                r.instrument,
                r.yes_count(),
                r.judged_level.label(),
                r.next_review_on
            )
        }
        Record::SafetyPlan(p) => format!("version {} made {} review {}", p.version, p.made_on, p.review_on),
        Record::Hearing(h) => format!("{}  {} at {}", show_london(h.starts_at), h.hearing_type.label(), h.court),
        Record::ProtectiveOrder(o) => format!("{} by {}, {}", o.order_type.label(), o.issued_by, expiry(&o.expiry)),
        Record::Breach(b) => format!("breach on {} of order {}", b.occurred_on, b.order_id),
        Record::Referral(r) => format!("{} to {} ({})", r.made_on, r.target.label(), r.status.label()),
        Record::ClinicReview(r) => {
            format!(
                "clinic review {} ({} agencies, {} actions)",
                r.meeting_on,
                r.agencies_present.len(),
                r.actions.len()
            )
        }
        Record::Contact(c) => {
            format!(
                "{}  {} {}",
                show_london(c.at),
                c.method.label(),
                if c.with_victim { "with victim" } else { "with agency" }
            )
        }
        Record::Task(t) => format!("due {}  {} ({})", t.due_on, t.what, t.status.label()),
        Record::EscalationReview(r) => {
            let signs: Vec<&str> = r.signs.iter().map(|s| s.wire()).collect();
            format!("escalation reviewed {} ({})", show_london(r.reviewed_at), signs.join(", "))
        }
    }
}

fn behaviours(list: &[waymark_domain::Behaviour]) -> String {
    list.iter().map(|b| b.label().to_owned()).collect::<Vec<_>>().join(", ")
}

fn expiry(e: &Expiry) -> String {
    match e {
        Expiry::On(d) => format!("expires {d}"),
        Expiry::UntilFurtherOrder => "until further order".into(),
        Expiry::UntilApplicationDecided => "until the application is decided".into(),
        Expiry::NotSet => "no expiry recorded".into(),
    }
}

pub fn caseload(json: bool, rows: &[CaseloadRow]) {
    if json {
        print_json(rows);
        return;
    }
    say!(
        "{:<18} {:<9} {:<22} {:>9} {:<26} {:>12}",
        "REFERENCE",
        "RISK",
        "VICTIM",
        "INCIDENTS",
        "NEXT HEARING",
        "LAST CONTACT"
    );
    for r in rows {
        let risk = r.risk_level.map(|l| l.label()).unwrap_or("-");
        let hearing = r.next_hearing.map(show_london).unwrap_or_else(|| "-".into());
        let contact = r.days_since_contact.map(|d| format!("{d} days ago")).unwrap_or_else(|| "never".into());
        let victim: String = r.victim.clone().unwrap_or_else(|| "-".into()).chars().take(22).collect();
        say!("{:<18} {:<9} {:<22} {:>9} {:<26} {:>12}", r.reference, risk, victim, r.incidents, hearing, contact);
    }
    say!("{} cases", rows.len());
}

pub fn case_file(json: bool, file: &CaseFile) {
    if json {
        print_json(file);
        return;
    }
    let c = &file.case;
    say!("== {} ({}) ==", c.reference, c.status.label());
    // Warnings first: what an advocate must see before anything else.
    let risk = c.risk_level.map(|l| l.label().to_uppercase()).unwrap_or_else(|| "NOT ASSESSED".into());
    let review = c.risk_review_on.map(|d| format!(", review due {d}")).unwrap_or_default();
    say!("RISK: {risk}{review}");
    if let Some(v) = &file.victim {
        if v.address.as_ref().is_some_and(|a| a.do_not_disclose) {
            say!("WARNING: address - DO NOT DISCLOSE");
        }
        for p in &v.safe_contact.phones {
            say!("PHONE {} [{}]", p.number, p.rules_text());
        }
    }
    for p in &file.perpetrators {
        if p.weapons_access == Some(true) {
            say!("WARNING: perpetrator has access to weapons");
        }
    }
    for f in &file.escalation.findings {
        say!("ESCALATING ({}): {}", f.sign.wire(), f.text);
    }
    for o in file.orders.iter().filter(|o| o.in_force_today) {
        say!("ORDER IN FORCE: {} ({})", o.order.order_type.label(), expiry(&o.order.expiry));
        if let Some(deadline) = o.notification_deadline {
            say!("  notification deadline {deadline}");
        }
    }
    if let Some(v) = &file.victim {
        say!(
            "\nVictim: {}{}",
            v.name,
            v.preferred_name.as_ref().map(|p| format!(" (prefers {p})")).unwrap_or_default()
        );
    }
    for p in &file.perpetrators {
        say!("Perpetrator: {} ({})", p.names.join(" / "), p.relationship.label());
    }
    say!("\nIncidents: {}", file.incidents.len());
    print_incidents(&file.incidents);
    section("Risk assessments", file.risk_assessments.iter().cloned().map(Record::RiskAssessment));
    section("Safety plans", file.safety_plans.iter().cloned().map(Record::SafetyPlan));
    section("Hearings", file.hearings.iter().cloned().map(Record::Hearing));
    section(
        "Orders and breaches",
        file.orders.iter().flat_map(|o| {
            std::iter::once(Record::ProtectiveOrder(o.order.clone()))
                .chain(o.breaches.iter().cloned().map(Record::Breach))
        }),
    );
    section("Referrals", file.referrals.iter().cloned().map(Record::Referral));
    section("Clinic reviews", file.clinic_reviews.iter().cloned().map(Record::ClinicReview));
    section("Contacts", file.contacts.iter().cloned().map(Record::Contact));
    section("Tasks", file.tasks.iter().cloned().map(Record::Task));
    section("Escalation reviews", file.escalation_reviews.iter().cloned().map(Record::EscalationReview));
    say!("\nReminders: {}", file.reminders.len());
    for r in &file.reminders {
        say!("  {}  {}", r.due_on, r.what);
    }
}

/// A line about each record, then every field it presents that holds something.
fn section(title: &str, records: impl Iterator<Item = Record>) {
    let records: Vec<Record> = records.collect();
    say!("\n{title}: {}", records.len());
    for record in records {
        say!("  {}", summary(&record));
        for p in record.presented_text().into_iter().filter(|p| p.in_summaries) {
            say!("      {}: {}", p.label, p.text);
        }
    }
}

fn print_incidents(entries: &[IncidentEntry]) {
    for e in entries {
        let i = &e.current;
        let amended =
            if e.amendments.is_empty() { String::new() } else { format!(" [amended x{}]", e.amendments.len()) };
        let police = i.crime_reference.as_ref().map(|r| format!(" crime ref {r}")).unwrap_or_default();
        say!("  {}  {}{}{}", show_london(i.occurred_at), behaviours(&i.behaviours), police, amended);
        // Every other field the incident presents, labelled by the record kind.
        for p in i.presented_text() {
            if !matches!(p.field, "occurred_at" | "behaviours" | "crime_reference") {
                say!("      {}: {}", p.label, p.text);
            }
        }
    }
}

pub fn incidents(json: bool, entries: &[IncidentEntry]) {
    if json {
        print_json(entries);
    } else {
        print_incidents(entries);
    }
}

pub fn reminders(json: bool, vault: &Vault, list: &[Reminder]) -> Result<(), crate::Failure> {
    if json {
        print_json(list);
        return Ok(());
    }
    for r in list {
        let case: waymark_domain::Case = vault.get(r.case_id.as_uuid())?;
        say!("{}  {:<18} {}", r.due_on, case.reference, r.what);
    }
    if list.is_empty() {
        say!("Nothing due.");
    }
    Ok(())
}

pub fn instruments(json: bool, set: &Instruments) {
    if json {
        print_json(&set.iter().collect::<Vec<_>>());
        return;
    }
    for i in set.iter() {
        say!("{} - {} (version {})", i.id, i.name, i.version);
        for q in &i.questions {
            say!("  {:<20} {}", q.id, q.text);
        }
    }
}

pub fn audit(json: bool, events: &[AuditEvent]) {
    if json {
        print_json(events);
        return;
    }
    for e in events {
        say!(
            "{:>6}  {}  {:<8} {:<20} {:<16} {}",
            e.seq,
            e.at,
            e.actor,
            e.action.as_str(),
            e.kind.clone().unwrap_or_default(),
            e.record_id.clone().unwrap_or_default()
        );
    }
}

/// Sync state, warnings first: what needs a person before what is routine.
pub fn sync_status(json: bool, status: &SyncStatus, problems: &[Problem]) {
    if json {
        print_json(&json!({ "status": status, "problems": problems }));
        return;
    }
    if !status.enrolled {
        say!("Not enrolled with a clinic: get a code from the clinic administrator, then paste it into `waymark sync enrol` (or give `--code-file`).");
    }
    if let Some(ms) = status.drift_warning_ms {
        say!("Warning: a clock elsewhere is {} s ahead of this laptop's; check the date and time settings.", ms / 1000);
    }
    for problem in problems {
        say!("Problem {} ({}): {}", problem.id, show_london(problem.at), problem.advice);
    }
    if status.open_conflicts > 0 {
        say!("To decide: {} conflict(s); see `waymark sync conflicts`.", status.open_conflicts);
    }
    say!("Last sync: {}", status.last_sync_at.map_or_else(|| "never".to_owned(), show_london));
    if let (Some(code), Some(at)) = (&status.last_error, status.last_attempt_at) {
        say!("Last attempt failed ({code}) at {}.", show_london(at));
    }
    say!("Waiting for the clinic: {} change(s).", status.pending);
    if status.held > 0 {
        say!("Held until Waymark is updated: {} change(s) from a newer version.", status.held);
    }
}

/// Each open problem with what to do about it.
pub fn problems(json: bool, list: &[Problem]) {
    if json {
        print_json(&json!({ "problems": list }));
        return;
    }
    if list.is_empty() {
        say!("No problems.");
        return;
    }
    for problem in list {
        say!("Problem {} ({}, {}): {}", problem.id, problem.code, show_london(problem.at), problem.advice);
    }
    say!("When one has been dealt with: `waymark sync dismiss ID --reason \"...\"`; a change from the clinic that may now apply: `waymark sync retry ID`.");
}

/// Each conflict with both values, so a person can choose.
pub fn conflicts(json: bool, list: &[Conflict]) {
    if json {
        print_json(&json!({ "conflicts": list }));
        return;
    }
    if list.is_empty() {
        say!("No conflicts to decide.");
        return;
    }
    for c in list {
        say!(
            "{}  case {}  {} {}  (found {})",
            c.id,
            c.case_reference.as_deref().unwrap_or("-"),
            c.kind.wire(),
            c.field,
            show_london(c.detected_at)
        );
        say!("    on this laptop: {}", c.local_value);
        say!("    by {} elsewhere: {}", c.remote_actor, c.remote_value);
    }
    say!("Keep one with `waymark sync resolve ID --keep local|remote`.");
}

/// The return's figures, each with its breakdown indented beneath it.
pub fn quarterly_return(json: bool, report: &waymark_domain::report::QuarterlyReturn) {
    if json {
        print_json(report);
        return;
    }
    say!("Quarterly return: {}", report.period);
    let mut section = None;
    for figure in &report.figures {
        if section != Some(figure.section) {
            say!("\n{}", figure.section.label());
            section = Some(figure.section);
        }
        say!("  {:<60} {}", figure.label, figure.value.shown());
        for row in &figure.breakdown {
            say!("    {:<58} {}", row.label, row.value.shown());
        }
    }
    say!("\n[c] suppressed (could identify someone)  [x] held at the clinic  [z] nothing to measure");
}

/// Subject access requests, the soonest due first.
pub fn access_requests(json: bool, requests: &[waymark_vault::access::AccessRequest]) {
    if json {
        print_json(&requests);
        return;
    }
    if requests.is_empty() {
        say!("No subject access requests.");
    }
    for r in requests {
        say!("{}  {:<16} received {}  due {}", r.id, r.subject.label(), show_date(r.received_on), show_date(r.due_on));
    }
}

/// A request's items: the requester's own, and what is withheld until released, with each key.
pub fn access_review(json: bool, review: &waymark_vault::access::AccessReview) {
    if json {
        print_json(review);
        return;
    }
    say!(
        "Request {} ({}) on case {}, due {}.",
        review.request.id,
        review.request.subject.label(),
        review.reference,
        show_date(review.request.due_on)
    );
    for item in &review.items {
        let exempt = review.exempt.iter().find(|(key, _)| *key == item.key).map(|(_, why)| why);
        let state = match (item.withheld, exempt, review.released.contains(&item.key) && item.releasable) {
            (None, Some(why), _) => format!("WITHHELD under an exemption: {}", why.label()),
            (None, None, _) => "in the export".to_owned(),
            (Some(_), _, true) => "RELEASED".to_owned(),
            (Some(why), _, false) if review.changed_since_release.contains(&item.key) => {
                format!("withheld: changed since it was released, release it again to send it ({})", why.label())
            }
            (Some(why), _, false) if item.releasable => format!("withheld: {}", why.label()),
            (Some(why), _, false) => format!("withheld, never released: {}", why.label()),
        };
        say!("  {}  {}: {}  [{state}]", item.key, item.label, item.text);
    }
}

/// The retention review: each closed case's reference, why it is kept, and
/// from when it may be erased.
pub fn retention(json: bool, rows: &[waymark_domain::retention::RetentionRow]) {
    if json {
        print_json(&rows);
        return;
    }
    if rows.is_empty() {
        say!("No closed cases.");
        return;
    }
    for row in rows {
        let state = match (&row.retention.held, row.due) {
            (Some(hold), _) => format!("held since {}: {}", show_date(hold.since), hold.reason.label()),
            (None, true) => "DUE for deletion: ask the clinic's manager to erase it".to_owned(),
            (None, false) => format!("kept until {}", show_date(row.retention.due_on)),
        };
        say!("{:<16} closed {}  {:<24} {state}", row.reference, show_date(row.closed_on), row.retention.basis.label());
    }
}

/// What an import did, with each bad row's column, field and rule (never its value).
pub fn import(json: bool, report: &waymark_import::ImportReport) {
    if json {
        print_json(report);
        return;
    }
    let verb = if report.dry_run { "would be imported" } else { "imported" };
    say!(
        "{} rows: {} {verb}, {} already here (left as they are), {} with problems.",
        report.rows,
        report.imported,
        report.already_held,
        report.failed
    );
    for e in &report.errors {
        match &e.column {
            Some(column) => say!("  row {}, column \"{column}\" ({}): {}", e.row, e.field, e.message),
            None => say!("  row {} ({}): {}", e.row, e.field, e.message),
        }
    }
    if report.dry_run && report.failed == 0 {
        say!("No case was written. Run it again without --dry-run to import.");
    } else if report.dry_run {
        say!("No case was written. Fix those rows (or leave them out) and check again.");
    }
}

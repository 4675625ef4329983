//! Read models for the caseload, one case, and reminders. Views are audited.

use crate::audit::AuditAction;
use crate::error::{Result, VaultError};
use crate::vault::Vault;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::params;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use waymark_domain::escalation::{analyse, CourseOfConduct, Escalation, IncidentFacts};
use waymark_domain::patterns::{patterns, Patterns};
use waymark_domain::reminders::{reminders, Reminder, Sources};
use waymark_domain::time::london_date;
use waymark_domain::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Reference,
    /// Highest risk first.
    Risk,
    /// Soonest hearing first.
    NextHearing,
    /// Longest without contact first.
    LastContact,
    /// Escalating cases first, the most signs and then the newest evidence first.
    Escalation,
}

#[derive(Debug, Clone, Default)]
pub struct CaseloadFilter {
    pub status: Option<CaseStatus>,
    pub risk: Option<RiskLevel>,
    /// Matches the case reference, the victim's names and the perpetrator's names and aliases.
    pub search: Option<String>,
    pub sort: SortBy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaseloadRow {
    pub case_id: CaseId,
    pub reference: String,
    pub status: CaseStatus,
    pub risk_level: Option<RiskLevel>,
    pub risk_review_on: Option<NaiveDate>,
    /// The victim's preferred name, or their name.
    pub victim: Option<String>,
    pub advocate: String,
    pub incidents: i64,
    pub next_hearing: Option<DateTime<Utc>>,
    pub last_contact: Option<DateTime<Utc>>,
    pub days_since_contact: Option<i64>,
    /// What the escalation analysis flags and nobody has reviewed yet.
    pub escalation: Escalation,
}

/// Everything about one case.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaseFile {
    pub case: Case,
    pub victim: Option<Victim>,
    pub perpetrators: Vec<Perpetrator>,
    pub incidents: Vec<IncidentEntry>,
    pub risk_assessments: Vec<RiskAssessment>,
    pub safety_plans: Vec<SafetyPlan>,
    pub hearings: Vec<Hearing>,
    pub orders: Vec<OrderEntry>,
    pub referrals: Vec<Referral>,
    pub clinic_reviews: Vec<ClinicReview>,
    pub contacts: Vec<Contact>,
    pub tasks: Vec<Task>,
    pub escalation_reviews: Vec<EscalationReview>,
    pub reminders: Vec<Reminder>,
    /// What changed in the course of conduct and is not yet reviewed.
    pub escalation: Escalation,
    /// When, where, how and what, across the diary as it reads now.
    pub patterns: Patterns,
}

/// An incident as recorded, its amendments, and how it reads after them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IncidentEntry {
    pub original: Incident,
    pub amendments: Vec<IncidentAmendment>,
    pub current: Incident,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OrderEntry {
    pub order: ProtectiveOrder,
    pub breaches: Vec<Breach>,
    pub notification_deadline: Option<NaiveDate>,
    pub in_force_today: bool,
}

impl CaseFile {
    /// The records whose free text shows the victim's address now: kind, id
    /// and field paths (`waymark_domain::disclosure`). An incident field an
    /// amendment has since corrected is not counted: the original stays,
    /// immutable, as evidence.
    /// What a case's screen shows first, danger first: the same on the
    /// laptop and at the clinic.
    pub fn warnings(&self, today: NaiveDate) -> Vec<waymark_domain::alerts::Warning> {
        let orders: Vec<_> = self.orders.iter().map(|o| o.order.clone()).collect();
        let mut warnings =
            waymark_domain::alerts::case_warnings(&self.case, self.victim.as_ref(), &self.perpetrators, &orders, today);
        let mentions: Vec<RecordKind> = self.address_mentions().into_iter().map(|(kind, _, _)| kind).collect();
        warnings.extend(waymark_domain::alerts::address_in_text_warning(&mentions));
        warnings.sort_by_key(|w| w.severity);
        warnings
    }

    pub fn address_mentions(&self) -> Vec<(RecordKind, uuid::Uuid, Vec<String>)> {
        let Some(address) = self.victim.as_ref().and_then(|v| v.address.as_ref()) else { return Vec::new() };
        let finder = waymark_domain::disclosure::Finder::of_addresses([address]);
        let mut records: Vec<Record> = vec![self.case.clone().into_record()];
        records.extend(self.victim.iter().cloned().map(Entity::into_record));
        records.extend(self.perpetrators.iter().cloned().map(Entity::into_record));
        for entry in &self.incidents {
            records.push(entry.original.clone().into_record());
            records.extend(entry.amendments.iter().cloned().map(Entity::into_record));
        }
        records.extend(self.risk_assessments.iter().cloned().map(Entity::into_record));
        records.extend(self.safety_plans.iter().cloned().map(Entity::into_record));
        records.extend(self.hearings.iter().cloned().map(Entity::into_record));
        for entry in &self.orders {
            records.push(entry.order.clone().into_record());
            records.extend(entry.breaches.iter().cloned().map(Entity::into_record));
        }
        records.extend(self.referrals.iter().cloned().map(Entity::into_record));
        records.extend(self.clinic_reviews.iter().cloned().map(Entity::into_record));
        records.extend(self.contacts.iter().cloned().map(Entity::into_record));
        records.extend(self.tasks.iter().cloned().map(Entity::into_record));
        records.extend(self.escalation_reviews.iter().cloned().map(Entity::into_record));
        let corrected = |id: uuid::Uuid, path: &str| {
            self.incidents
                .iter()
                .filter(|e| e.original.id.as_uuid() == id)
                .flat_map(|e| &e.amendments)
                .any(|a| path.split('.').next().is_some_and(|field| a.changes.contains_key(field)))
        };
        let mut out = Vec::new();
        for record in records {
            let (kind, id) = (record.kind(), record.id());
            let fields: Vec<String> = waymark_domain::disclosure::fields_showing(&finder, kind, &record.to_doc())
                .into_iter()
                .filter(|path| !(kind == RecordKind::Incident && corrected(id, path)))
                .collect();
            if !fields.is_empty() {
                out.push((kind, id, fields));
            }
        }
        out
    }
}

/// Incidents as they read after their amendments. An amendment that no
/// longer applies makes the case file unreadable rather than show it wrong
/// (the caseload's column falls back to the original: `incident_facts`).
fn current_incidents(originals: Vec<Incident>, amendments: &[IncidentAmendment]) -> Result<Vec<IncidentEntry>> {
    let mut by_incident: HashMap<IncidentId, Vec<IncidentAmendment>> = HashMap::new();
    for a in amendments {
        by_incident.entry(a.incident_id).or_default().push(a.clone());
    }
    originals
        .into_iter()
        .map(|original| {
            let own = by_incident.remove(&original.id).unwrap_or_default();
            let current = if own.is_empty() {
                original.clone()
            } else {
                original.amended(&own).map_err(|_| VaultError::DatabaseUnreadable)?
            };
            Ok(IncidentEntry { original, amendments: own, current })
        })
        .collect()
}

fn by_case<T>(items: Vec<T>, case_of: impl Fn(&T) -> CaseId) -> HashMap<CaseId, Vec<T>> {
    let mut out: HashMap<CaseId, Vec<T>> = HashMap::new();
    for item in items {
        out.entry(case_of(&item)).or_default().push(item);
    }
    out
}

fn parse_instant(text: Option<String>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc))
}

fn parse_enum<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_value(json!(text)).map_err(|_| VaultError::DatabaseUnreadable)
}

fn like_pattern(text: &str) -> String {
    let escaped = text.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

impl Vault {
    /// The caseload with counts, next hearing and last contact. Audited as a list view.
    pub fn caseload(&mut self, filter: &CaseloadFilter) -> Result<Vec<CaseloadRow>> {
        let now = self.now();
        let rows = self.caseload_rows(filter, now)?;
        let searched = filter.search.is_some();
        self.record_event(
            AuditAction::List,
            Some(RecordKind::Case),
            None,
            None,
            json!({ "rows": rows.len(), "searched": searched }),
        )?;
        Ok(rows)
    }

    pub(crate) fn caseload_rows(&self, filter: &CaseloadFilter, now: DateTime<Utc>) -> Result<Vec<CaseloadRow>> {
        let now_text = now.to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut stmt = self.conn().prepare_cached(
            "SELECT c.id, c.reference, c.status, c.risk_level, c.risk_review_on,
                    coalesce(v.preferred_name, v.name), c.advocate,
                    (SELECT count(*) FROM incidents i WHERE i.case_id = c.id),
                    (SELECT min(h.starts_at) FROM hearings h WHERE h.case_id = c.id AND h.starts_at >= ?1),
                    (SELECT max(ct.at) FROM contacts ct WHERE ct.case_id = c.id)
             FROM cases c LEFT JOIN victims v ON v.case_id = c.id
             WHERE (?2 IS NULL OR c.status = ?2)
               AND (?3 IS NULL OR c.risk_level = ?3)
               AND (?4 IS NULL
                    OR c.reference LIKE ?4 ESCAPE '\\'
                    OR v.name LIKE ?4 ESCAPE '\\'
                    OR v.preferred_name LIKE ?4 ESCAPE '\\'
                    OR EXISTS (SELECT 1 FROM perpetrators p, json_each(p.doc, '$.names') n
                               WHERE p.case_id = c.id AND n.value LIKE ?4 ESCAPE '\\')
                    OR EXISTS (SELECT 1 FROM perpetrators p, json_each(p.doc, '$.aliases') a
                               WHERE p.case_id = c.id AND a.value LIKE ?4 ESCAPE '\\'))",
        )?;
        let today = london_date(now);
        let rows = stmt.query_map(
            params![
                now_text,
                filter.status.map(|s| s.wire()),
                filter.risk.map(|r| r.wire()),
                filter.search.as_deref().map(like_pattern)
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                ))
            },
        )?;
        let mut escalations = self.escalations(now)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, reference, status, risk, review, victim, advocate, incidents, hearing, contact) = row?;
            let last_contact = parse_instant(contact);
            let case_id: CaseId = id.parse().map_err(|_| VaultError::DatabaseUnreadable)?;
            out.push(CaseloadRow {
                escalation: escalations.remove(&case_id).unwrap_or_default(),
                case_id,
                reference,
                status: parse_enum(&status)?,
                risk_level: risk.as_deref().map(parse_enum::<RiskLevel>).transpose()?,
                risk_review_on: review.and_then(|r| r.parse().ok()),
                victim,
                advocate,
                incidents,
                next_hearing: parse_instant(hearing),
                days_since_contact: last_contact.map(|c| (today - london_date(c)).num_days()),
                last_contact,
            });
        }
        sort_rows(&mut out, filter.sort);
        Ok(out)
    }

    /// One case, whole. Audited as a view of the case.
    pub fn case_file(&mut self, case_id: CaseId) -> Result<CaseFile> {
        let file = self.read_case_file(case_id)?;
        self.record_event(
            AuditAction::View,
            Some(RecordKind::Case),
            Some(case_id.as_uuid()),
            Some(case_id),
            json!({}),
        )?;
        Ok(file)
    }

    pub(crate) fn read_case_file(&self, case_id: CaseId) -> Result<CaseFile> {
        let case: Case = self.get(case_id.as_uuid())?;
        let victim = self.list::<Victim>(case_id)?.into_iter().next();
        let amendments = self.list::<IncidentAmendment>(case_id)?;
        let incidents = current_incidents(self.list::<Incident>(case_id)?, &amendments)?;
        let breaches = self.list::<Breach>(case_id)?;
        let today = self.today();
        let order_records: Vec<ProtectiveOrder> = self.list(case_id)?;
        let orders = order_records
            .iter()
            .cloned()
            .map(|order| OrderEntry {
                breaches: breaches.iter().filter(|b| b.order_id == order.id).cloned().collect(),
                notification_deadline: order.notification_deadline(self.rules()),
                in_force_today: order.in_force_on(today),
                order,
            })
            .collect();
        let hearings = self.list::<Hearing>(case_id)?;
        let safety_plans = self.list::<SafetyPlan>(case_id)?;
        let tasks: Vec<Task> = self.list(case_id)?;
        let sources = Sources {
            cases: vec![&case],
            hearings: hearings.iter().collect(),
            orders: order_records.iter().collect(),
            latest_plans: safety_plans.last().into_iter().collect(),
            tasks: tasks.iter().collect(),
        };
        let reminders = reminders(&sources, today, self.rules());
        let current: Vec<Incident> = incidents.iter().map(|e| e.current.clone()).collect();
        let facts: Vec<IncidentFacts> = current.iter().map(IncidentFacts::from).collect();
        let risk_assessments: Vec<RiskAssessment> = self.list(case_id)?;
        let escalation_reviews: Vec<EscalationReview> = self.list(case_id)?;
        let escalation = if case.status == CaseStatus::Open {
            analyse(
                &CourseOfConduct {
                    opened_on: case.opened_on,
                    incidents: &facts,
                    orders: &order_records,
                    breaches: &breaches,
                    assessments: &risk_assessments,
                    reviews: &escalation_reviews,
                },
                self.now(),
                &self.rules().escalation,
            )
        } else {
            Escalation::default()
        };
        Ok(CaseFile {
            patterns: patterns(&current),
            escalation,
            escalation_reviews,
            victim,
            perpetrators: self.list(case_id)?,
            incidents,
            risk_assessments,
            safety_plans,
            hearings,
            orders,
            referrals: self.list(case_id)?,
            clinic_reviews: self.list(case_id)?,
            contacts: self.list(case_id)?,
            tasks,
            reminders,
            case,
        })
    }

    /// Reminders generated from the records across the caseload, soonest first.
    pub fn reminders(&self) -> Result<Vec<Reminder>> {
        let cases: Vec<Case> = self.list_all()?;
        let hearings: Vec<Hearing> = self.list_all()?;
        let orders: Vec<ProtectiveOrder> = self.list_all()?;
        let plans: Vec<SafetyPlan> = self.list_all()?;
        let tasks: Vec<Task> = self.list_all()?;
        let mut latest: std::collections::BTreeMap<CaseId, &SafetyPlan> = std::collections::BTreeMap::new();
        for plan in &plans {
            let slot = latest.entry(plan.case_id).or_insert(plan);
            if plan.version > slot.version {
                *slot = plan;
            }
        }
        let sources = Sources {
            cases: cases.iter().collect(),
            hearings: hearings.iter().collect(),
            orders: orders.iter().collect(),
            latest_plans: latest.into_values().collect(),
            tasks: tasks.iter().collect(),
        };
        Ok(reminders(&sources, self.today(), self.rules()))
    }

    /// The escalation analysis for every open case at once, each kind read
    /// in one pass: what the caseload column, the home screen and the
    /// clinic's list show.
    pub fn escalations(&self, now: DateTime<Utc>) -> Result<HashMap<CaseId, Escalation>> {
        let cases: Vec<Case> = self.list_all()?;
        let incidents = by_case(self.incident_facts()?, |i: &IncidentFacts| i.case_id);
        let orders = by_case(self.list_all()?, |o: &ProtectiveOrder| o.case_id);
        let breaches = by_case(self.list_all()?, |b: &Breach| b.case_id);
        let assessments = by_case(self.list_all()?, |a: &RiskAssessment| a.case_id);
        let reviews = by_case(self.list_all()?, |r: &EscalationReview| r.case_id);
        let rules = &self.rules().escalation;
        Ok(cases
            .iter()
            .filter(|c| c.status == CaseStatus::Open)
            .map(|case| {
                let course = CourseOfConduct {
                    opened_on: case.opened_on,
                    incidents: incidents.get(&case.id).map_or(&[], Vec::as_slice),
                    orders: orders.get(&case.id).map_or(&[], Vec::as_slice),
                    breaches: breaches.get(&case.id).map_or(&[], Vec::as_slice),
                    assessments: assessments.get(&case.id).map_or(&[], Vec::as_slice),
                    reviews: reviews.get(&case.id).map_or(&[], Vec::as_slice),
                };
                (case.id, analyse(&course, now, rules))
            })
            .collect())
    }

    /// The records the quarterly return counts (`waymark_domain::report`):
    /// on a laptop its own caseload, at the clinic its copy of the service's.
    /// Each case's first contact with its victim is read by the contacts'
    /// (case, time) index, never by reading what was said.
    pub fn return_facts(&self) -> Result<waymark_domain::report::ReturnFacts> {
        let mut first_contacts = HashMap::new();
        let mut stmt = self.conn().prepare_cached(
            "SELECT case_id, min(at) FROM contacts WHERE json_extract(doc, '$.with_victim') = 1 GROUP BY case_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (case, at): (String, String) = (row.get(0)?, row.get(1)?);
            let case = case.parse().map(CaseId).map_err(|_| VaultError::DatabaseUnreadable)?;
            let at = DateTime::parse_from_rfc3339(&at).map_err(|_| VaultError::DatabaseUnreadable)?;
            first_contacts.insert(case, london_date(at.with_timezone(&Utc)));
        }
        Ok(waymark_domain::report::ReturnFacts {
            cases: self.list_all()?,
            victims: self.list_all()?,
            first_contacts,
            assessments: self.list_all()?,
            orders: self.list_all()?,
            breaches: self.list_all()?,
            reviews: self.list_all()?,
            clinic: None,
        })
    }

    /// What the analysis reads of every incident, as it reads after its
    /// amendments. Only the few amended incidents are read whole; the rest
    /// are read for their facts alone, skipping the account and the rest.
    pub(crate) fn incident_facts(&self) -> Result<Vec<IncidentFacts>> {
        let amendments: Vec<IncidentAmendment> = self.list_all()?;
        let mut amended: HashMap<IncidentId, Vec<IncidentAmendment>> = HashMap::new();
        for a in amendments {
            amended.entry(a.incident_id).or_default().push(a);
        }
        let mut stmt = self.conn().prepare_cached("SELECT doc FROM incidents")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let doc = row.get_ref(0)?.as_str().map_err(|_| VaultError::DatabaseUnreadable)?;
            let facts: IncidentFacts = serde_json::from_str(doc).map_err(|_| VaultError::DatabaseUnreadable)?;
            match amended.get(&facts.id) {
                None => out.push(facts),
                Some(own) => {
                    // An amendment that no longer applies leaves the incident as
                    // recorded: one bad change must not hide the whole caseload.
                    let original: Incident = self.get(facts.id.as_uuid())?;
                    match original.amended(own) {
                        Ok(current) => out.push(IncidentFacts::from(&current)),
                        Err(_) => out.push(facts),
                    }
                }
            }
        }
        Ok(out)
    }

    /// Upcoming hearings across the caseload (or one case), soonest first.
    pub fn upcoming_hearings(&self, case: Option<CaseId>, limit: u32) -> Result<Vec<Hearing>> {
        let now = self.now().to_rfc3339_opts(SecondsFormat::Micros, true);
        self.read_docs(
            "SELECT doc FROM hearings WHERE starts_at >= ?1 AND (?2 IS NULL OR case_id = ?2) ORDER BY starts_at LIMIT ?3",
            &[&now, &case.map(|c| c.to_string()), &limit],
        )
    }
}

fn sort_rows(rows: &mut [CaseloadRow], sort: SortBy) {
    match sort {
        SortBy::Reference => rows.sort_by(|a, b| a.reference.cmp(&b.reference)),
        SortBy::Risk => {
            rows.sort_by(|a, b| b.risk_level.cmp(&a.risk_level).then_with(|| a.reference.cmp(&b.reference)))
        }
        SortBy::NextHearing => rows.sort_by(|a, b| match (a.next_hearing, b.next_hearing) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.reference.cmp(&b.reference),
        }),
        SortBy::Escalation => rows.sort_by(|a, b| {
            Escalation::urgency_order(&a.escalation, &b.escalation).then_with(|| a.reference.cmp(&b.reference))
        }),
        SortBy::LastContact => rows.sort_by(|a, b| match (a.last_contact, b.last_contact) {
            (Some(x), Some(y)) => x.cmp(&y),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (None, None) => a.reference.cmp(&b.reference),
        }),
    }
}

/// The longest a reminder may be put off: a snooze is for "not today", not
/// for making a deadline go away.
pub const LONGEST_SNOOZE_DAYS: u64 = 28;

/// The advocate's home screen: escalating cases first, then what is overdue,
/// what is due today and what is due in the next seven days.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ThisWeek {
    pub today: NaiveDate,
    pub escalating: Vec<EscalatingCase>,
    pub overdue: Vec<DueItem>,
    pub due_today: Vec<DueItem>,
    pub next_seven_days: Vec<DueItem>,
    /// Reminders put off and not shown until their date.
    pub snoozed: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EscalatingCase {
    pub case_id: CaseId,
    pub reference: String,
    pub risk_level: Option<RiskLevel>,
    pub escalation: Escalation,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DueItem {
    pub reminder: Reminder,
    pub reference: String,
    /// What a snooze is kept under (`Reminder::key`).
    pub key: String,
    pub snoozable: bool,
    /// The latest day a snooze may run to: 28 days on, or the reminder's own
    /// day for one that is not reminded of after it. `None` when it cannot be put off.
    pub snooze_latest: Option<NaiveDate>,
}

impl ThisWeek {
    /// The words of a desktop notification: counts only, never a name, a
    /// reference or a task's words, since a notification shows on a locked
    /// screen and over a shoulder. `None` when there is nothing to say.
    pub fn notice(&self) -> Option<String> {
        let tomorrow = self.today.succ_opt()?;
        let hearings_tomorrow = self
            .next_seven_days
            .iter()
            .filter(|i| i.reminder.kind == ReminderKind::Hearing && i.reminder.due_on == tomorrow)
            .count();
        let count = |n: usize, one: &str, many: &str| match n {
            0 => None,
            1 => Some(format!("1 {one}")),
            n => Some(format!("{n} {many}")),
        };
        let parts: Vec<String> = [
            count(self.escalating.len(), "case escalating", "cases escalating"),
            count(self.overdue.len(), "item overdue", "items overdue"),
            count(self.due_today.len(), "item due today", "items due today"),
            count(hearings_tomorrow, "hearing tomorrow", "hearings tomorrow"),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

use waymark_domain::reminders::ReminderKind;

/// The latest day a snooze of `reminder` may run to (`DueItem::snooze_latest`).
fn snooze_latest(reminder: &Reminder, today: NaiveDate) -> Option<NaiveDate> {
    if !reminder.kind.snoozable() {
        return None;
    }
    let longest = today.checked_add_days(chrono::Days::new(LONGEST_SNOOZE_DAYS)).unwrap_or(today);
    let latest = if reminder.kind.stays_when_overdue() { longest } else { longest.min(reminder.due_on) };
    (latest > today).then_some(latest)
}

impl Vault {
    /// The home screen. Audited as a list view of the caseload.
    pub fn this_week(&mut self) -> Result<ThisWeek> {
        let week = self.read_this_week()?;
        self.record_event(
            AuditAction::List,
            Some(RecordKind::Case),
            None,
            None,
            json!({ "screen": "this_week", "escalating": week.escalating.len() }),
        )?;
        Ok(week)
    }

    /// The counts a notification at unlock may say (`ThisWeek::notice`).
    pub fn this_week_notice(&self) -> Result<Option<String>> {
        Ok(self.read_this_week()?.notice())
    }

    pub(crate) fn read_this_week(&self) -> Result<ThisWeek> {
        let now = self.now();
        let today = london_date(now);
        let week_end = today.checked_add_days(chrono::Days::new(7)).unwrap_or(today);
        let cases: HashMap<CaseId, Case> = self.list_all::<Case>()?.into_iter().map(|c| (c.id, c)).collect();
        let mut escalating: Vec<EscalatingCase> = self
            .escalations(now)?
            .into_iter()
            .filter(|(_, e)| e.escalating())
            .filter_map(|(id, escalation)| {
                let case = cases.get(&id)?;
                Some(EscalatingCase {
                    case_id: id,
                    reference: case.reference.clone(),
                    risk_level: case.risk_level,
                    escalation,
                })
            })
            .collect();
        escalating.sort_by(|a, b| {
            Escalation::urgency_order(&a.escalation, &b.escalation).then_with(|| a.reference.cmp(&b.reference))
        });
        let snoozes = self.snoozes(today)?;
        let mut week =
            ThisWeek { today, escalating, overdue: vec![], due_today: vec![], next_seven_days: vec![], snoozed: 0 };
        for reminder in self.reminders()?.into_iter().filter(|r| r.due_on <= week_end) {
            let key = reminder.key();
            if reminder.kind.snoozable() && snoozes.contains_key(&key) {
                week.snoozed += 1;
                continue;
            }
            let item = DueItem {
                reference: cases.get(&reminder.case_id).map(|c| c.reference.clone()).unwrap_or_default(),
                snoozable: reminder.kind.snoozable(),
                snooze_latest: snooze_latest(&reminder, today),
                key,
                reminder,
            };
            let list = match item.reminder.due_on.cmp(&today) {
                std::cmp::Ordering::Less => &mut week.overdue,
                std::cmp::Ordering::Equal => &mut week.due_today,
                std::cmp::Ordering::Greater => &mut week.next_seven_days,
            };
            list.push(item);
        }
        Ok(week)
    }

    /// Snoozes still running today, by reminder key.
    fn snoozes(&self, today: NaiveDate) -> Result<HashMap<String, NaiveDate>> {
        let mut stmt = self.conn().prepare_cached("SELECT reminder_key, until_on FROM reminder_snoozes")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = HashMap::new();
        for row in rows {
            let (key, until) = row?;
            if let Ok(until) = until.parse::<NaiveDate>() {
                if until > today {
                    out.insert(key, until);
                }
            }
        }
        Ok(out)
    }

    /// Puts a reminder off until `until` (it shows again that day), on this
    /// laptop only. Only a reminder on today's list can be put off, a
    /// hearing cannot, and not for longer than `LONGEST_SNOOZE_DAYS`. The
    /// snooze and its audit event commit together.
    pub fn snooze_reminder(&mut self, key: &str, until: NaiveDate) -> Result<()> {
        let today = self.today();
        let reminder = self.reminders()?.into_iter().find(|r| r.key() == key).ok_or_else(|| {
            VaultError::Invalid(ValidationErrors::single(
                "reminder",
                "is not on today's list (it may be done or no longer due)",
            ))
        })?;
        let Some(latest) = snooze_latest(&reminder, today) else {
            return Err(VaultError::Invalid(ValidationErrors::single(
                "reminder",
                "cannot be put off (a hearing, or an order's expiry or deadline due tomorrow)",
            )));
        };
        if until <= today || until > latest {
            return Err(VaultError::Invalid(ValidationErrors::single(
                "until",
                "must be after today, at most 28 days ahead, and not past the day of an order's expiry or a deadline",
            )));
        }
        let now = self.now();
        let actor = self.actor().to_owned();
        let tx = self.conn_mut().transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO reminder_snoozes (reminder_key, until_on) VALUES (?1, ?2)
             ON CONFLICT (reminder_key) DO UPDATE SET until_on = excluded.until_on",
            params![key, until.to_string()],
        )?;
        tx.execute("DELETE FROM reminder_snoozes WHERE until_on <= ?1", params![today.to_string()])?;
        crate::audit::append(
            &tx,
            &crate::audit::AuditEntry {
                at: now,
                actor: &actor,
                action: AuditAction::ReminderSnoozed,
                kind: Some(reminder.linked.kind.wire()),
                record_id: Some(reminder.linked.id.to_string()),
                case_id: Some(reminder.case_id.to_string()),
                detail: json!({ "reminder": reminder.kind, "until": until }),
            },
        )?;
        tx.commit()?;
        Ok(())
    }
}

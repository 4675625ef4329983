//! What each template receives as `/data.json`: plain, preformatted values
//! built from the vault's read models. Dates and times are already in UK
//! time, so templates hold wording and layout only. A discreet plan's model
//! never holds the victim's address, the perpetrator, the case reference or
//! the service, so no edit to a template can print them.

use crate::templates::DiscreetRules;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use waymark_domain::time::{london_date, show_london};
use waymark_domain::timeline::weekly;
use waymark_domain::{
    Answer, Case, Expiry, Hearing, Incident, PlanSection, ProtectiveOrder, RecordKind, RiskAssessment, SafetyPlan,
    Victim,
};
use waymark_vault::queries::{CaseFile, IncidentEntry};

/// The protective marking on the chronology and hearing list.
pub const RESTRICTED: &str = "OFFICIAL-SENSITIVE";

pub fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

fn short_date(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

fn when(at: DateTime<Utc>) -> String {
    show_london(at)
}

/// Who made the printout and when, for every page.
#[derive(Debug, Clone, Serialize)]
pub struct Produced {
    pub by: String,
    pub at: String,
    pub on: String,
}

impl Produced {
    pub fn new(by: &str, now: DateTime<Utc>) -> Self {
        Self { by: by.to_owned(), at: when(now), on: long_date(london_date(now)) }
    }
}

// ---------------------------------------------------------------- safety plan

#[derive(Debug, Clone, Serialize)]
pub struct PlanDoc {
    pub discreet: bool,
    pub large_print: bool,
    pub title: String,
    pub version: u32,
    pub made_on: String,
    pub review_on: String,
    pub printed_on: String,
    /// The case reference and who made the plan: the full plan only.
    pub reference: Option<String>,
    pub made_by: Option<String>,
    pub emergency: Emergency,
    pub sections: Vec<PlanSectionDoc>,
    pub supporters: Vec<SupporterDoc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Emergency {
    pub code_word: Option<String>,
    pub safe_places: Vec<String>,
    pub actions: Vec<ActionDoc>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanSectionDoc {
    pub id: String,
    pub title: String,
    pub actions: Vec<ActionDoc>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionDoc {
    pub action: String,
    pub who: String,
    pub review_on: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SupporterDoc {
    pub label: String,
    pub phone: Option<String>,
    /// What the person knows and the agreed signal: the full plan only.
    pub knows: Option<String>,
}

/// A piece of plan text and where it sits, for the discreet check.
#[derive(Debug, Clone)]
pub struct Located<'a> {
    pub place: String,
    pub text: &'a str,
}

impl PlanDoc {
    pub fn new(
        plan: &SafetyPlan,
        case: &Case,
        discreet: bool,
        large_print: bool,
        rules: &DiscreetRules,
        today: NaiveDate,
    ) -> Self {
        let neutral_who = |who: &str| -> String {
            if !discreet {
                return who.to_owned();
            }
            // Wording not in the table ("Police", a name) would print as typed.
            rules.who.get(&who.trim().to_lowercase()).cloned().unwrap_or_else(|| rules.who_other.clone())
        };
        let action = |a: &waymark_domain::PlanAction| ActionDoc {
            action: a.action.clone(),
            who: neutral_who(&a.who),
            review_on: a.review_on.map(short_date),
        };
        let emergency_entry = plan.sections.iter().find(|s| s.section == PlanSection::Emergency);
        let mut sections: Vec<PlanSectionDoc> = plan
            .sections
            .iter()
            .filter(|s| s.section != PlanSection::Emergency)
            .map(|s| PlanSectionDoc {
                id: s.section.wire().to_owned(),
                title: s.section.label().to_owned(),
                actions: s.actions.iter().map(action).collect(),
                notes: s.notes.clone(),
            })
            .collect();
        // The plan's own order is the domain's section order, whatever order they were entered in.
        sections.sort_by_key(|s| PlanSection::ALL.iter().position(|p| p.wire() == s.id));
        Self {
            discreet,
            large_print,
            title: if discreet { rules.title.clone() } else { "Safety plan".to_owned() },
            version: plan.version,
            made_on: long_date(plan.made_on),
            review_on: long_date(plan.review_on),
            printed_on: long_date(today),
            reference: (!discreet).then(|| case.reference.clone()),
            made_by: (!discreet).then(|| plan.made_by.clone()),
            emergency: Emergency {
                code_word: plan.code_word.clone(),
                safe_places: plan.safe_places.clone(),
                actions: emergency_entry.map(|s| s.actions.iter().map(action).collect()).unwrap_or_default(),
                notes: emergency_entry.and_then(|s| s.notes.clone()),
            },
            sections,
            supporters: plan
                .support_network
                .iter()
                .map(|s| SupporterDoc {
                    label: if discreet { s.neutral_label.clone() } else { format!("{} ({})", s.name, s.neutral_label) },
                    phone: s.phone.clone(),
                    knows: if discreet { None } else { s.knows.clone() },
                })
                .collect(),
        }
    }

    /// Every piece of text the plan will print, with where it sits.
    pub fn texts(&self) -> Vec<Located<'_>> {
        let mut out = vec![Located { place: "the title".into(), text: &self.title }];
        let emergency = "the emergency box";
        if let Some(word) = &self.emergency.code_word {
            out.push(Located { place: emergency.into(), text: word });
        }
        for place in &self.emergency.safe_places {
            out.push(Located { place: emergency.into(), text: place });
        }
        for a in &self.emergency.actions {
            out.push(Located { place: emergency.into(), text: &a.action });
            out.push(Located { place: emergency.into(), text: &a.who });
        }
        if let Some(notes) = &self.emergency.notes {
            out.push(Located { place: emergency.into(), text: notes });
        }
        for section in &self.sections {
            let place = format!("the section \"{}\"", section.title);
            out.push(Located { place: place.clone(), text: &section.title });
            for a in &section.actions {
                out.push(Located { place: place.clone(), text: &a.action });
                out.push(Located { place: place.clone(), text: &a.who });
            }
            if let Some(notes) = &section.notes {
                out.push(Located { place: place.clone(), text: notes });
            }
        }
        for s in &self.supporters {
            out.push(Located { place: "the support network".into(), text: &s.label });
            if let Some(phone) = &s.phone {
                out.push(Located { place: "the support network".into(), text: phone });
            }
            if let Some(knows) = &s.knows {
                out.push(Located { place: "the support network".into(), text: knows });
            }
        }
        out
    }
}

// ---------------------------------------------------------------- chronology

#[derive(Debug, Clone, Serialize)]
pub struct ChronologyDoc {
    pub large_print: bool,
    pub marking: &'static str,
    pub produced: Produced,
    pub summary: Summary,
    pub behaviours: Vec<BehaviourCount>,
    pub weeks: Vec<WeekBar>,
    pub busiest_week: u32,
    /// What the escalation analysis flags and nobody has reviewed, and when
    /// it was last reviewed (`waymark_domain::escalation`).
    pub escalation: Vec<FindingDoc>,
    pub last_review: Option<String>,
    /// Incidents by day of the week and hour (London time), Monday first.
    pub day_by_hour: Vec<DayRow>,
    pub four: Option<FourDoc>,
    pub orders: Vec<OrderDoc>,
    pub incidents: Vec<IncidentDoc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub reference: String,
    pub status: String,
    pub opened_on: String,
    pub referral_source: String,
    pub risk_level: Option<String>,
    pub victim: Option<String>,
    pub victim_born: Option<String>,
    pub perpetrators: Vec<PerpetratorDoc>,
    pub police_references: Vec<PoliceRefDoc>,
    pub court_cases: Vec<String>,
    pub incidents: usize,
    pub first_incident: Option<String>,
    pub last_incident: Option<String>,
    pub span_days: Option<i64>,
    pub reported: usize,
    pub breaches: usize,
    pub forces: Vec<String>,
    pub persistently_targeted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PerpetratorDoc {
    pub names: String,
    pub aliases: Option<String>,
    pub born: Option<String>,
    pub relationship: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PoliceRefDoc {
    pub reference: String,
    pub force: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BehaviourCount {
    pub label: String,
    pub count: u32,
    pub first_on: String,
    /// The number of the incident where it first appears, as listed below.
    pub first_incident: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingDoc {
    pub sign: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayRow {
    pub day: &'static str,
    /// 24 counts, midnight first; a zero prints as a blank cell.
    pub hours: Vec<u32>,
    pub total: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeekBar {
    pub starts_on: String,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct FourDoc {
    pub assessed_on: String,
    pub assessor: String,
    pub markers: Vec<FourMarker>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FourMarker {
    pub label: String,
    pub answer: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderDoc {
    pub number: usize,
    pub kind: String,
    pub issued_by: String,
    pub made_on: Option<String>,
    pub served_on: Option<String>,
    pub expiry: String,
    pub conditions: Vec<String>,
    /// Each breach: its date, the incident it is listed as, whether reported, the crime reference.
    pub breaches: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentDoc {
    pub number: usize,
    pub when: String,
    /// "Order 2: Stalking Protection Order" when this incident breaches one.
    pub breach: Option<String>,
    /// Every other field the incident presents (`KindRules::presented`), in
    /// its order and with its label, so a new field reaches the chronology
    /// without a change here; and the behaviours seen here for the first time.
    pub facts: Vec<FactDoc>,
    pub amendments: Vec<AmendmentDoc>,
}

/// One labelled line of an entry (only what the record holds is listed).
#[derive(Debug, Clone, Serialize)]
pub struct FactDoc {
    pub label: &'static str,
    pub text: String,
}

/// The incident's presented fields as the chronology shows them. When it
/// happened and the order it breaches head the entry, so they are left out.
fn incident_facts(incident: &Incident, firsts: Vec<String>) -> Vec<FactDoc> {
    let mut facts = Vec::new();
    for presented in incident.presented_text() {
        let text = match presented.field {
            "occurred_at" | "breaches_order" | "recorded_by" => continue,
            // One line for who recorded it and when, as a court bundle reads it.
            "recorded_at" => format!("{} by {}", when(incident.recorded_at), incident.recorded_by),
            _ => presented.text,
        };
        facts.push(FactDoc { label: presented.label, text });
        if presented.field == "behaviours" && !firsts.is_empty() {
            facts.push(FactDoc { label: "First time", text: firsts.join(", ") });
        }
    }
    facts
}

#[derive(Debug, Clone, Serialize)]
pub struct AmendmentDoc {
    pub at: String,
    pub by: String,
    pub reason: String,
    /// "field: old → new" for each corrected field, in the field's own words.
    pub changes: Vec<String>,
}

fn expiry_text(expiry: &Expiry) -> String {
    match expiry {
        Expiry::On(date) => long_date(*date),
        Expiry::UntilFurtherOrder => "Until further order".into(),
        Expiry::UntilApplicationDecided => "Until the full application is decided".into(),
        Expiry::NotSet => "Not recorded".into(),
    }
}

fn yes_no(answer: Answer) -> String {
    answer.label().to_owned()
}

/// The most recent FOUR screening (latest date, then latest entered).
fn latest_four(assessments: &[RiskAssessment]) -> Option<&RiskAssessment> {
    assessments.iter().filter(|a| a.instrument == "four").max_by_key(|a| a.assessed_on)
}

fn incident_changes(entry: &IncidentEntry, amendment: &waymark_domain::IncidentAmendment) -> Vec<String> {
    let before = serde_json::to_value(&entry.original).unwrap_or_default();
    amendment
        .changes
        .iter()
        .map(|(field, new)| {
            let old = before.get(field).map(display_json).unwrap_or_else(|| "(none)".into());
            let label =
                RecordKind::Incident.rules().label_of(field).map_or_else(|| field.replace('_', " "), str::to_owned);
            format!("{label}: {} → {}", old, display_json(new))
        })
        .collect()
}

/// A stored value as the record kinds show it, "(none)" where it is empty.
fn display_json(value: &serde_json::Value) -> String {
    let text = waymark_domain::record::display_value(value);
    if text.is_empty() {
        "(none)".into()
    } else {
        text
    }
}

impl ChronologyDoc {
    pub fn new(file: &CaseFile, produced: Produced, today: NaiveDate, large_print: bool) -> Self {
        let mut entries: Vec<&IncidentEntry> = file.incidents.iter().collect();
        entries.sort_by(|a, b| a.current.occurred_at.cmp(&b.current.occurred_at).then(a.current.id.cmp(&b.current.id)));
        let current: Vec<&Incident> = entries.iter().map(|e| &e.current).collect();

        // Order numbers follow the order the orders were made, so breaches can point at them.
        let mut orders: Vec<&ProtectiveOrder> = file.orders.iter().map(|o| &o.order).collect();
        orders.sort_by_key(|o| (o.made_on.or(o.applied_on), o.id));
        let order_number = |id| orders.iter().position(|o| o.id == id).map(|i| i + 1);

        let mut first_seen: BTreeMap<String, (usize, NaiveDate)> = BTreeMap::new();
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        let mut incidents = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let incident = &entry.current;
            let number = index + 1;
            let mut firsts = Vec::new();
            for behaviour in &incident.behaviours {
                let label = behaviour.label().to_owned();
                *counts.entry(label.clone()).or_default() += 1;
                if !first_seen.contains_key(&label) {
                    first_seen.insert(label.clone(), (number, london_date(incident.occurred_at)));
                    firsts.push(label);
                }
            }
            let breach = incident.breaches_order.and_then(|id| {
                let order = orders.iter().find(|o| o.id == id)?;
                Some(format!("Order {}: {}", order_number(id)?, order.order_type.label()))
            });
            incidents.push(IncidentDoc {
                number,
                when: when(incident.occurred_at),
                breach,
                facts: incident_facts(incident, firsts),
                amendments: entry
                    .amendments
                    .iter()
                    .map(|a| AmendmentDoc {
                        at: when(a.made_at),
                        by: a.made_by.clone(),
                        reason: a.reason.clone(),
                        changes: incident_changes(entry, a),
                    })
                    .collect(),
            });
        }

        let mut behaviours: Vec<BehaviourCount> = counts
            .into_iter()
            .map(|(label, count)| {
                let (first_incident, first) = first_seen[&label];
                BehaviourCount { label, count, first_on: long_date(first), first_incident }
            })
            .collect();
        behaviours.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_incident.cmp(&b.first_incident)));

        let timeline = weekly(&current, today);
        let weeks: Vec<WeekBar> =
            timeline.weeks.iter().map(|w| WeekBar { starts_on: short_date(w.starts_on), count: w.incidents }).collect();
        let busiest_week = timeline.weeks.iter().map(|w| w.incidents).max().unwrap_or(0);

        let first = current.first().map(|i| i.occurred_at);
        let last = current.last().map(|i| i.occurred_at);
        let mut forces: Vec<String> = current.iter().filter_map(|i| i.police_force.clone()).collect();
        forces.extend(file.case.police_references.iter().filter_map(|r| r.force.clone()));
        forces.sort();
        forces.dedup();
        let incident_number = |id| current.iter().position(|i| i.id == id).map(|i| i + 1);
        let breaches_of =
            |order: &ProtectiveOrder| -> Vec<String> { breach_lines(file, order, &current, &incident_number) };
        let order_docs: Vec<OrderDoc> = orders
            .iter()
            .enumerate()
            .map(|(i, o)| OrderDoc {
                number: i + 1,
                kind: o.order_type.label().to_owned(),
                issued_by: o.issued_by.clone(),
                made_on: o.made_on.map(long_date),
                served_on: o.served_on.map(long_date),
                expiry: expiry_text(&o.expiry),
                conditions: o.conditions.iter().map(|c| format!("{}: {}", c.kind.label(), c.text)).collect(),
                breaches: breaches_of(o),
            })
            .collect();
        let breaches = order_docs.iter().map(|o| o.breaches.len()).sum();

        Self {
            large_print,
            marking: RESTRICTED,
            produced,
            summary: Summary {
                reference: file.case.reference.clone(),
                status: file.case.status.label().to_owned(),
                opened_on: long_date(file.case.opened_on),
                referral_source: file.case.referral.source.label().to_owned(),
                risk_level: file.case.risk_level.map(|r| r.label().to_owned()),
                victim: file.victim.as_ref().map(victim_name),
                victim_born: file.victim.as_ref().and_then(|v| v.date_of_birth).map(long_date),
                perpetrators: file
                    .perpetrators
                    .iter()
                    .map(|p| PerpetratorDoc {
                        names: p.names.join(", "),
                        aliases: (!p.aliases.is_empty()).then(|| p.aliases.join(", ")),
                        born: p.date_of_birth.map(long_date),
                        relationship: p.relationship.label().to_owned(),
                    })
                    .collect(),
                police_references: file
                    .case
                    .police_references
                    .iter()
                    .map(|r| PoliceRefDoc { reference: r.crime_reference.clone(), force: r.force.clone() })
                    .collect(),
                court_cases: file.case.court_cases.clone(),
                incidents: current.len(),
                first_incident: first.map(|t| long_date(london_date(t))),
                last_incident: last.map(|t| long_date(london_date(t))),
                span_days: first.zip(last).map(|(f, l)| (london_date(l) - london_date(f)).num_days() + 1),
                reported: current.iter().filter(|i| i.reported_to_police).count(),
                breaches,
                forces,
                persistently_targeted: file.case.persistently_targeted,
            },
            behaviours,
            weeks,
            busiest_week,
            // A risk review due is the advocate's own reminder, not a fact
            // about the course of conduct: it stays off a disclosable printout.
            escalation: file
                .escalation
                .findings
                .iter()
                .filter(|f| f.sign != waymark_domain::EscalationSign::RiskReviewDue)
                .map(|f| FindingDoc { sign: f.sign.label().to_owned(), text: f.text.clone() })
                .collect(),
            last_review: file.escalation.last_review.map(when),
            day_by_hour: waymark_domain::patterns::WEEKDAYS
                .iter()
                .zip(&file.patterns.day_by_hour)
                .map(|(day, hours)| DayRow { day, hours: hours.clone(), total: hours.iter().sum() })
                .collect(),
            four: latest_four(&file.risk_assessments).map(|a| FourDoc {
                assessed_on: long_date(a.assessed_on),
                assessor: a.assessor.clone(),
                markers: ["fixated", "obsessive", "unwanted", "repeated"]
                    .iter()
                    .map(|id| {
                        let entry = a.answers.get(*id);
                        FourMarker {
                            label: capitalise(id),
                            answer: entry.map(|e| yes_no(e.answer)).unwrap_or_else(|| "Not answered".into()),
                            comment: entry.and_then(|e| e.comment.clone()),
                        }
                    })
                    .collect(),
            }),
            orders: order_docs,
            incidents,
        }
    }
}

/// A breach recorded on the order, or an incident marked as breaching it; an
/// incident linked from a breach record is listed once.
fn breach_lines(
    file: &CaseFile,
    order: &ProtectiveOrder,
    incidents: &[&Incident],
    incident_number: &dyn Fn(waymark_domain::IncidentId) -> Option<usize>,
) -> Vec<String> {
    let recorded =
        file.orders.iter().find(|e| e.order.id == order.id).map(|e| e.breaches.as_slice()).unwrap_or_default();
    let line = |date: NaiveDate, incident: Option<usize>, reported: bool, crime: Option<&String>| {
        let mut line = long_date(date);
        if let Some(n) = incident {
            line.push_str(&format!(": incident {n}"));
        }
        line.push_str(if reported { ", reported to police" } else { ", not reported" });
        if let Some(crime) = crime {
            line.push_str(&format!(", crime ref {crime}"));
        }
        line
    };
    let mut lines: Vec<(NaiveDate, String)> = recorded
        .iter()
        .map(|b| {
            let mut text = line(
                b.occurred_on,
                b.incident_id.and_then(incident_number),
                b.reported_to_police,
                b.crime_reference.as_ref(),
            );
            if let Some(outcome) = &b.outcome {
                text.push_str(&format!(", outcome: {outcome}"));
            }
            (b.occurred_on, text)
        })
        .collect();
    for incident in incidents.iter().filter(|i| i.breaches_order == Some(order.id)) {
        if recorded.iter().any(|b| b.incident_id == Some(incident.id)) {
            continue;
        }
        let date = london_date(incident.occurred_at);
        let text =
            line(date, incident_number(incident.id), incident.reported_to_police, incident.crime_reference.as_ref());
        lines.push((date, text));
    }
    lines.sort();
    lines.into_iter().map(|(_, line)| line).collect()
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn victim_name(victim: &Victim) -> String {
    match &victim.preferred_name {
        Some(preferred) if preferred != &victim.name => format!("{} (known as {preferred})", victim.name),
        _ => victim.name.clone(),
    }
}

// ---------------------------------------------------------------- hearing list

#[derive(Debug, Clone, Serialize)]
pub struct HearingsDoc {
    pub large_print: bool,
    pub marking: &'static str,
    pub produced: Produced,
    /// "HSC-2026-0142" for one case, `None` for the whole caseload.
    pub reference: Option<String>,
    pub hearings: Vec<HearingDoc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HearingDoc {
    pub when: String,
    pub court: String,
    pub kind: String,
    pub reference: String,
    pub victim: Option<String>,
    pub court_reference: Option<String>,
    pub victim_attends: String,
    pub special_measures: Vec<String>,
    pub witness_care: Option<String>,
}

pub struct HearingRow<'a> {
    pub hearing: &'a Hearing,
    pub case: &'a Case,
    pub victim: Option<&'a Victim>,
}

impl HearingsDoc {
    pub fn new(rows: &[HearingRow<'_>], one_case: Option<&Case>, produced: Produced, large_print: bool) -> Self {
        Self {
            large_print,
            marking: RESTRICTED,
            produced,
            reference: one_case.map(|c| c.reference.clone()),
            hearings: rows
                .iter()
                .map(|r| HearingDoc {
                    when: when(r.hearing.starts_at),
                    court: r.hearing.court.clone(),
                    kind: r.hearing.hearing_type.label().to_owned(),
                    reference: r.case.reference.clone(),
                    victim: r.victim.map(|v| v.preferred_name.clone().unwrap_or_else(|| v.name.clone())),
                    court_reference: r.hearing.court_reference.clone(),
                    victim_attends: match r.hearing.victim_attends {
                        Some(true) => "Yes".into(),
                        Some(false) => "No".into(),
                        None => "Not known".into(),
                    },
                    special_measures: r.hearing.special_measures.clone(),
                    witness_care: r.hearing.witness_care_contact.clone(),
                })
                .collect(),
        }
    }
}

//! Escalation in a course of conduct, read from the incident diary, the
//! orders, the FOUR screenings and the risk assessments: what changed and
//! since when, in words that hold no personal data. Every threshold is in
//! `assets/rules.toml` (`[escalation]`) next to its source.
//!
//! Days are London calendar days, so a window means the same thing either
//! side of a clock change. A finding is covered by an advocate's review
//! (`EscalationReview`) made after its evidence; what happens afterwards is
//! flagged afresh. The same function runs on the laptop and at the clinic.

use crate::records::{Breach, EscalationReview, Incident, ProtectiveOrder, RiskAssessment};
use crate::time::london_date;
use crate::vocab::{Answer, Behaviour, Channel, EscalationSign, OrderType};
use crate::{CaseId, IncidentId, OrderId};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The instrument whose answers are the FOUR markers (`assets/instruments/four.toml`).
pub const FOUR_INSTRUMENT: &str = "four";

/// The `[escalation]` table of `assets/rules.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationRules {
    pub recent_days: u32,
    pub window_days: u32,
    pub baseline_days: u32,
    pub min_baseline_days: u32,
    pub rate_percent: u32,
    pub min_recent_incidents: u32,
    pub min_window_incidents: u32,
    pub horizon_days: u32,
    pub new_order_days: u32,
    pub remote_only_days: u32,
    pub remote_only_min: u32,
    pub approach_channels: Vec<Channel>,
    pub severity: Vec<SeverityStep>,
}

/// One step of the ordered scale of seriousness.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityStep {
    pub name: String,
    #[serde(default)]
    pub approach: bool,
    pub behaviours: Vec<Behaviour>,
}

impl EscalationRules {
    /// What a rules file must hold for the analysis to mean anything.
    pub fn check(&self) -> Result<(), String> {
        if self.recent_days == 0 || self.window_days <= self.recent_days {
            return Err("escalation: window_days must be longer than recent_days, and both above 0".into());
        }
        if self.rate_percent <= 100 {
            return Err("escalation: rate_percent must be above 100 (a rise)".into());
        }
        if self.min_baseline_days == 0 || self.baseline_days < self.min_baseline_days {
            return Err("escalation: baseline_days must be at least min_baseline_days, above 0".into());
        }
        if [
            self.min_recent_incidents,
            self.min_window_incidents,
            self.remote_only_min,
            self.horizon_days,
            self.new_order_days,
            self.remote_only_days,
        ]
        .contains(&0)
        {
            return Err("escalation: the minimum counts and the day spans must be at least 1".into());
        }
        if self.severity.is_empty() {
            return Err("escalation: the severity scale is empty".into());
        }
        let mut seen: Vec<&Behaviour> = self.severity.iter().flat_map(|s| &s.behaviours).collect();
        let listed = seen.len();
        seen.sort();
        seen.dedup();
        if seen.len() != listed {
            return Err("escalation: a behaviour sits on two steps of the severity scale".into());
        }
        Ok(())
    }

    /// The step of the most serious of `behaviours`; one the scale does not
    /// list (a service's own) counts as the first step.
    pub fn step_of(&self, behaviours: &[Behaviour]) -> usize {
        behaviours
            .iter()
            .filter_map(|b| self.severity.iter().position(|step| step.behaviours.contains(b)))
            .max()
            .unwrap_or(0)
    }

    fn is_approach(&self, incident: &IncidentFacts) -> bool {
        self.approach_channels.contains(&incident.channel)
            || incident
                .behaviours
                .iter()
                .any(|b| self.severity.iter().any(|step| step.approach && step.behaviours.contains(b)))
    }
}

/// One thing that changed. `text` is built from counts, dates, vocabulary
/// labels and instrument ids only: never a name, a place or an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Finding {
    pub sign: EscalationSign,
    pub text: String,
    /// When the change began.
    pub since: NaiveDate,
    /// When the newest record it rests on was recorded (an incident's
    /// `recorded_at`; the day's start for what carries only a date): a review
    /// made after this that lists its sign covers it, so something reported
    /// late about an earlier day is still news.
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub evidence_at: DateTime<Utc>,
}

/// A case's findings not yet reviewed, most telling first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Escalation {
    pub findings: Vec<Finding>,
    /// When the advocate last reviewed the case's escalation.
    #[cfg_attr(feature = "specta", specta(type = Option<String>))]
    pub last_review: Option<DateTime<Utc>>,
    /// How urgent, for sorting (higher first; 0 when nothing is flagged):
    /// the most telling sign first, then how many other signs, not counting
    /// the risk review every escalation brings. The laptop's caseload, its
    /// home screen and the clinic's lists all sort by it.
    pub rank: u32,
}

impl Escalation {
    pub fn escalating(&self) -> bool {
        !self.findings.is_empty()
    }

    /// The signs flagged, each once, most telling first.
    pub fn signs(&self) -> Vec<EscalationSign> {
        let mut signs: Vec<EscalationSign> = self.findings.iter().map(|f| f.sign).collect();
        signs.sort();
        signs.dedup();
        signs
    }

    /// The newest evidence flagged: the caseload sorts the most recent escalation first.
    pub fn latest_evidence(&self) -> Option<DateTime<Utc>> {
        self.findings.iter().map(|f| f.evidence_at).max()
    }

    /// Most urgent first: rank, then the newest evidence.
    pub fn urgency_order(a: &Escalation, b: &Escalation) -> std::cmp::Ordering {
        (b.rank, b.latest_evidence()).cmp(&(a.rank, a.latest_evidence()))
    }

    fn ranked(findings: Vec<Finding>, last_review: Option<DateTime<Utc>>) -> Escalation {
        let mut escalation = Escalation { findings, last_review, rank: 0 };
        let signs = escalation.signs();
        if let Some(first) = signs.first() {
            let telling = EscalationSign::ALL.len() - EscalationSign::ALL.iter().position(|s| s == first).unwrap_or(0);
            let others = signs.iter().filter(|s| **s != EscalationSign::RiskReviewDue).count().min(99);
            escalation.rank = u32::try_from(telling * 100 + others).unwrap_or(u32::MAX);
        }
        escalation
    }
}

/// What the analysis reads of an incident: when, how, what, and the order it
/// breaches. Read straight from a stored incident's document, it skips the
/// account and the rest, which is most of the bytes of a caseload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IncidentFacts {
    pub id: IncidentId,
    pub case_id: CaseId,
    #[serde(with = "crate::time::utc_micros")]
    pub occurred_at: DateTime<Utc>,
    pub channel: Channel,
    pub behaviours: Vec<Behaviour>,
    #[serde(default)]
    pub breaches_order: Option<OrderId>,
    #[serde(with = "crate::time::utc_micros")]
    pub recorded_at: DateTime<Utc>,
}

impl From<&Incident> for IncidentFacts {
    fn from(i: &Incident) -> Self {
        IncidentFacts {
            id: i.id,
            case_id: i.case_id,
            occurred_at: i.occurred_at,
            channel: i.channel.clone(),
            behaviours: i.behaviours.clone(),
            breaches_order: i.breaches_order,
            recorded_at: i.recorded_at,
        }
    }
}

/// What the analysis reads about one case. Incidents as they read after
/// their amendments.
#[derive(Debug, Clone, Copy)]
pub struct CourseOfConduct<'a> {
    pub opened_on: NaiveDate,
    pub incidents: &'a [IncidentFacts],
    pub orders: &'a [ProtectiveOrder],
    pub breaches: &'a [Breach],
    pub assessments: &'a [RiskAssessment],
    pub reviews: &'a [EscalationReview],
}

fn days_before(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_sub_days(Days::new(u64::from(days))).unwrap_or(NaiveDate::MIN)
}

/// The first instant of a London calendar day.
fn start_of(date: NaiveDate) -> DateTime<Utc> {
    crate::time::from_london(date.and_hms_opt(0, 0, 0).unwrap_or_default())
        .or_else(|_| crate::time::from_london(date.and_hms_opt(1, 0, 0).unwrap_or_default()))
        .unwrap_or_else(|_| date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// "14 November" this year, "14 November 2025" otherwise.
fn day_text(date: NaiveDate, today: NaiveDate) -> String {
    if date.year() == today.year() {
        date.format("%-d %B").to_string()
    } else {
        date.format("%-d %B %Y").to_string()
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// An incident placed on the London calendar with its step on the scale.
struct Placed<'a> {
    at: DateTime<Utc>,
    /// When it was known: recorded, or (dated ahead by a fast clock) happened.
    known: DateTime<Utc>,
    day: NaiveDate,
    step: usize,
    approach: bool,
    incident: &'a IncidentFacts,
}

/// How far ahead of `now` a review's time may be and still count (a clock a
/// few minutes fast). One dated further ahead covers nothing until then: a
/// review dated in 2099 must not silence a case for ever.
const REVIEW_FUTURE_TOLERANCE_MINUTES: i64 = 10;

/// The case's escalation findings at `now` not yet covered by a review.
pub fn analyse(course: &CourseOfConduct<'_>, now: DateTime<Utc>, rules: &EscalationRules) -> Escalation {
    let today = london_date(now);
    let latest_allowed = now + chrono::Duration::minutes(REVIEW_FUTURE_TOLERANCE_MINUTES);
    let reviews: Vec<&EscalationReview> = course.reviews.iter().filter(|r| r.reviewed_at <= latest_allowed).collect();
    let last_review = reviews.iter().map(|r| r.reviewed_at).max();
    let reviewed_for =
        |sign: EscalationSign| reviews.iter().filter(|r| r.signs.contains(&sign)).map(|r| r.reviewed_at).max();
    // An assessment dated ahead (a mistyped year) is not yet made.
    let assessments: Vec<RiskAssessment> =
        course.assessments.iter().filter(|a| a.assessed_on <= today).cloned().collect();
    let mut placed: Vec<Placed<'_>> = course
        .incidents
        .iter()
        .filter(|i| i.occurred_at <= now)
        .map(|incident| Placed {
            at: incident.occurred_at,
            known: incident.recorded_at.max(incident.occurred_at),
            day: london_date(incident.occurred_at),
            step: rules.step_of(&incident.behaviours),
            approach: rules.is_approach(incident),
            incident,
        })
        .collect();
    placed.sort_by_key(|p| (p.at, p.incident.id));
    let horizon_start = days_before(today, rules.horizon_days.saturating_sub(1));

    let mut findings = Vec::new();
    findings.extend(more_frequent(&placed, course.opened_on, today, reviewed_for(EscalationSign::MoreFrequent), rules));
    findings.extend(more_serious(&placed, horizon_start, today, rules));
    findings.extend(approach_after_remote(&placed, horizon_start, today, rules));
    findings.extend(breaches(&placed, course, horizon_start, today));
    findings.extend(contact_after_order(&placed, course, horizon_start, today, rules));
    findings.extend(four_markers(&assessments, horizon_start, today));
    findings.retain(|f| reviewed_for(f.sign).is_none_or(|reviewed| f.evidence_at > reviewed));
    if let Some(due) = risk_review_due(&findings, &assessments, today) {
        findings.push(due);
    }
    findings.sort_by(|a, b| (a.sign, b.evidence_at).cmp(&(b.sign, a.evidence_at)));
    Escalation::ranked(findings, last_review)
}

/// The incidents in the last `recent_days` or `window_days` against the
/// case's own earlier weekly rate: flagged when the recent rate is at least
/// `rate_percent` of it and the window holds at least its minimum count, of
/// which that many came after the last review.
fn more_frequent(
    placed: &[Placed<'_>],
    opened_on: NaiveDate,
    today: NaiveDate,
    last_review: Option<DateTime<Utc>>,
    rules: &EscalationRules,
) -> Option<Finding> {
    let window_start = days_before(today, rules.window_days - 1);
    let baseline_end = days_before(window_start, 1);
    let earliest = placed.first().map_or(opened_on, |p| p.day.min(opened_on));
    let baseline_start = earliest.max(days_before(window_start, rules.baseline_days));
    let baseline_days = (window_start - baseline_start).num_days();
    if baseline_days < i64::from(rules.min_baseline_days) {
        return None;
    }
    let earlier = placed.iter().filter(|p| p.day >= baseline_start && p.day <= baseline_end).count();
    for (days, minimum) in
        [(rules.recent_days, rules.min_recent_incidents), (rules.window_days, rules.min_window_incidents)]
    {
        let start = days_before(today, days - 1);
        let recent: Vec<&Placed<'_>> = placed.iter().filter(|p| p.day >= start && p.day <= today).collect();
        let fresh = recent.iter().filter(|p| last_review.is_none_or(|r| p.known > r)).count();
        if fresh < minimum as usize {
            continue;
        }
        // recent / days >= rate% * earlier / baseline_days, in whole numbers.
        let doubled = (recent.len() as u128) * 100 * (baseline_days as u128)
            >= u128::from(rules.rate_percent) * (earlier as u128) * u128::from(days);
        if !doubled {
            continue;
        }
        let (Some(first), Some(last)) = (recent.first(), recent.last()) else { continue };
        let weeks_before = baseline_days as f64 / 7.0;
        let before = if earlier == 0 {
            format!("none recorded in the {} weeks before", weeks_before.round() as i64)
        } else {
            let weekly = earlier as f64 / weeks_before;
            if weekly >= 1.0 {
                format!("about {} a week before", weekly.round() as i64)
            } else {
                let monthly = (weekly * 52.0 / 12.0).round().max(1.0) as i64;
                format!("about {monthly} a month before")
            }
        };
        return Some(Finding {
            sign: EscalationSign::MoreFrequent,
            text: format!(
                "{} in the last {days} days, against {before}",
                plural(recent.len(), "incident", "incidents")
            ),
            since: first.day,
            evidence_at: recent.iter().map(|p| p.known).max().unwrap_or(last.known),
        });
    }
    None
}

/// The latest first appearance, inside the horizon, of a step more serious
/// than anything in the diary before it.
fn more_serious(
    placed: &[Placed<'_>],
    horizon_start: NaiveDate,
    today: NaiveDate,
    rules: &EscalationRules,
) -> Option<Finding> {
    let mut worst: Option<usize> = None;
    let mut found = None;
    for p in placed {
        if let Some(before) = worst {
            if p.step > before && p.day >= horizon_start {
                found = Some((p, before));
            }
        }
        worst = Some(worst.map_or(p.step, |w| w.max(p.step)));
    }
    let (p, before) = found?;
    let name = |step: usize| rules.severity.get(step).map_or("", |s| s.name.as_str()).to_owned();
    Some(Finding {
        sign: EscalationSign::MoreSerious,
        text: format!(
            "first {} on {} (the most serious before: {})",
            name(p.step),
            day_text(p.day, today),
            name(before)
        ),
        since: p.day,
        evidence_at: p.known,
    })
}

/// The first approach inside the horizon after a run of remote-only contact.
fn approach_after_remote(
    placed: &[Placed<'_>],
    horizon_start: NaiveDate,
    today: NaiveDate,
    rules: &EscalationRules,
) -> Option<Finding> {
    for (n, p) in placed.iter().enumerate() {
        if !p.approach || p.day < horizon_start {
            continue;
        }
        let from = days_before(p.day, rules.remote_only_days);
        let run: Vec<&Placed<'_>> = placed[..n].iter().filter(|q| q.day >= from).collect();
        if run.len() >= rules.remote_only_min as usize && run.iter().all(|q| !q.approach) {
            return Some(Finding {
                sign: EscalationSign::ApproachAfterRemote,
                text: format!(
                    "an approach on {} after {} of remote contact only in the {} days before",
                    day_text(p.day, today),
                    plural(run.len(), "incident", "incidents"),
                    rules.remote_only_days
                ),
                since: p.day,
                evidence_at: p.known,
            });
        }
    }
    None
}

/// Breaches inside the horizon, one finding per order: incidents marked as
/// breaching it and breach records not tied to one of those incidents.
fn breaches(
    placed: &[Placed<'_>],
    course: &CourseOfConduct<'_>,
    horizon_start: NaiveDate,
    today: NaiveDate,
) -> Vec<Finding> {
    let mut by_order: BTreeMap<crate::OrderId, Vec<(NaiveDate, DateTime<Utc>)>> = BTreeMap::new();
    for p in placed.iter().filter(|p| p.day >= horizon_start) {
        if let Some(order) = p.incident.breaches_order {
            by_order.entry(order).or_default().push((p.day, p.known));
        }
    }
    let counted = |id: Option<crate::IncidentId>| {
        id.is_some_and(|id| placed.iter().any(|p| p.incident.id == id && p.incident.breaches_order.is_some()))
    };
    for b in course.breaches {
        if b.occurred_on >= horizon_start && b.occurred_on <= today && !counted(b.incident_id) {
            by_order.entry(b.order_id).or_default().push((b.occurred_on, start_of(b.occurred_on)));
        }
    }
    by_order
        .into_iter()
        .map(|(order_id, mut seen)| {
            seen.sort();
            let what = course
                .orders
                .iter()
                .find(|o| o.id == order_id)
                .map_or_else(|| "an order".to_owned(), |o| format!("the {}", order_name(&o.order_type)));
            let (first, _) = seen[0];
            let latest = seen.iter().map(|(_, at)| *at).max().unwrap_or_else(|| start_of(first));
            let text = if seen.len() == 1 {
                format!("a breach of {what} on {}", day_text(first, today))
            } else {
                format!("{} breaches of {what} since {}", seen.len(), day_text(first, today))
            };
            Finding { sign: EscalationSign::Breach, text, since: first, evidence_at: latest }
        })
        .collect()
}

/// Contact inside the horizon, after an order served in the last
/// `new_order_days` and still in force, that no one has marked a breach.
fn contact_after_order(
    placed: &[Placed<'_>],
    course: &CourseOfConduct<'_>,
    horizon_start: NaiveDate,
    today: NaiveDate,
    rules: &EscalationRules,
) -> Vec<Finding> {
    let new_since = days_before(today, rules.new_order_days);
    course
        .orders
        .iter()
        .filter(|o| o.in_force_on(today) && !UNSERVED_KINDS.contains(&o.order_type))
        .filter_map(|order| {
            let served = order.served_on.filter(|s| *s >= new_since)?;
            let after: Vec<&Placed<'_>> = placed
                .iter()
                .filter(|p| p.day > served && p.day >= horizon_start && p.incident.breaches_order.is_none())
                .collect();
            let last = after.last()?;
            Some(Finding {
                sign: EscalationSign::ContactAfterOrder,
                text: format!(
                    "{} since the {} was served on {}, not recorded as a breach",
                    plural(after.len(), "incident", "incidents"),
                    order_name(&order.order_type),
                    day_text(served, today)
                ),
                since: after[0].day,
                evidence_at: after.iter().map(|p| p.known).max().unwrap_or(last.known),
            })
        })
        .collect()
}

/// Kinds that carry no conditions to serve: contact after them is no news of its own.
const UNSERVED_KINDS: [OrderType; 2] = [OrderType::ReleasedUnderInvestigation, OrderType::PoliceInformationNotice];

/// An order's kind as a finding names it: a service's own kind is typed in
/// by an advocate, so it is not repeated.
fn order_name(kind: &OrderType) -> &str {
    match kind {
        OrderType::Other(_) => "order (of the service's own kind)",
        known => known.label(),
    }
}

/// FOUR markers answered yes at the latest screening (inside the horizon)
/// that were not yes at the one before. A first screening has nothing to
/// compare with, so it flags nothing here.
fn four_markers(assessments: &[RiskAssessment], horizon_start: NaiveDate, today: NaiveDate) -> Option<Finding> {
    let mut four: Vec<&RiskAssessment> = assessments.iter().filter(|a| a.instrument == FOUR_INSTRUMENT).collect();
    four.sort_by_key(|a| (a.assessed_on, a.id));
    let (latest, previous) = match four.as_slice() {
        [.., previous, latest] => (*latest, *previous),
        _ => return None,
    };
    if latest.assessed_on < horizon_start || latest.assessed_on > today {
        return None;
    }
    let yes = |a: &RiskAssessment, id: &str| a.answers.get(id).is_some_and(|e| e.answer == Answer::Yes);
    let new: Vec<&str> =
        latest.answers.keys().map(String::as_str).filter(|id| yes(latest, id) && !yes(previous, id)).collect();
    if new.is_empty() {
        return None;
    }
    Some(Finding {
        sign: EscalationSign::FourMarkers,
        text: format!(
            "{} newly present at the FOUR screening on {} (not at the one on {})",
            new.join(", "),
            day_text(latest.assessed_on, today),
            day_text(previous.assessed_on, today)
        ),
        since: latest.assessed_on,
        evidence_at: start_of(latest.assessed_on),
    })
}

/// A risk review is due when something flagged began after the latest risk
/// assessment (a FOUR screening is not one).
fn risk_review_due(findings: &[Finding], assessments: &[RiskAssessment], today: NaiveDate) -> Option<Finding> {
    let began = findings.iter().map(|f| f.since).min()?;
    let evidence_at = findings.iter().map(|f| f.evidence_at).max()?;
    let last = assessments.iter().filter(|a| a.instrument != FOUR_INSTRUMENT).map(|a| a.assessed_on).max();
    let text = match last {
        Some(on) if on >= findings.iter().map(|f| f.since).max()? => return None,
        Some(on) => format!("re-assess risk: the last assessment was on {}, before this", day_text(on, today)),
        None => "re-assess risk: no risk assessment is recorded".to_owned(),
    };
    Some(Finding { sign: EscalationSign::RiskReviewDue, text, since: began, evidence_at })
}

#[cfg(test)]
mod tests;

//! Which cases the multi-agency panel should hear (clinic.md, "The flow of a
//! case", step 3), read from a case's records with the criteria and
//! thresholds of `assets/rules.toml`'s `[panel]`, and when a case heard
//! before is due to be heard again. Pure: the clinic gathers the facts from
//! its copy of the records and passes today's date.
//!
//! What a criterion's reason says is made from counts, dates and instrument
//! names only, like the escalation findings: it is shown to the coordinator
//! beside the case reference and written nowhere else.

use crate::escalation::{Escalation, IncidentFacts};
use crate::records::RiskAssessment;
use crate::time::{london_date, show_date};
use crate::vocab::{Answer, ReferralCriterion, SelectionBasis};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The `[panel]` table of `assets/rules.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelRules {
    pub dash_yes_at_least: u32,
    pub s_dash_yes_at_least: u32,
    pub escalation_incidents: u32,
    pub escalation_months: u32,
    pub repeat_months: u32,
    pub review_after_months: u32,
    /// The criteria this service selects by, each with where it comes from.
    pub criteria: Vec<CriterionSource>,
}

/// A selection criterion the service uses and the guidance it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct CriterionSource {
    pub criterion: ReferralCriterion,
    pub source: String,
}

impl PanelRules {
    /// What a rules file must hold for the selection to mean anything.
    pub fn check(&self) -> Result<(), String> {
        if [self.dash_yes_at_least, self.s_dash_yes_at_least, self.escalation_incidents].contains(&0) {
            return Err("panel: the counts must be above 0".into());
        }
        if [self.escalation_months, self.repeat_months, self.review_after_months].contains(&0) {
            return Err("panel: the months must be above 0".into());
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = self.criteria.iter().find(|c| !seen.insert(c.criterion)) {
            return Err(format!("panel: {} is listed twice", twice.criterion.wire()));
        }
        Ok(())
    }
}

/// The instruments whose "yes" count is visible high risk.
const DASH: &str = "dash";
const S_DASH: &str = "s-dash";

/// What the selection reads of one case.
pub struct CaseForPanel<'a> {
    /// The criteria the referrer ticked, and when the referral came.
    pub claimed: &'a [ReferralCriterion],
    pub referred_on: NaiveDate,
    pub assessments: &'a [RiskAssessment],
    pub incidents: &'a [IncidentFacts],
    /// The escalation analysis of the same records.
    pub escalation: &'a Escalation,
    /// The dates of the meetings that heard the case.
    pub heard_on: &'a [NaiveDate],
}

/// One criterion a case meets, where that was found and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CriterionMet {
    pub criterion: ReferralCriterion,
    pub basis: SelectionBasis,
    pub why: String,
}

/// Every criterion the service uses that the case meets on `today`, in the
/// order the service lists its criteria; a criterion found both on the
/// referral and in the records is given once for each.
pub fn criteria_met(case: &CaseForPanel<'_>, today: NaiveDate, rules: &PanelRules) -> Vec<CriterionMet> {
    let mut met = Vec::new();
    for listed in &rules.criteria {
        let criterion = listed.criterion;
        if case.claimed.contains(&criterion) {
            met.push(CriterionMet {
                criterion,
                basis: SelectionBasis::Referral,
                why: format!("ticked on the referral of {}", show_date(case.referred_on)),
            });
        }
        let found = match criterion {
            ReferralCriterion::VisibleHighRisk => visible_high_risk(case.assessments, rules),
            ReferralCriterion::Escalation => escalation(case, today, rules),
            ReferralCriterion::Repeat => repeat(case, today, rules),
            // Only people know these; the referral or the coordinator says so.
            ReferralCriterion::ProfessionalJudgement | ReferralCriterion::StalkingCoordinator => vec![],
        };
        met.extend(found.into_iter().map(|why| CriterionMet { criterion, basis: SelectionBasis::Records, why }));
    }
    met
}

/// The latest assessment on each of DASH and S-DASH, when its "yes" count
/// reaches the threshold. A later, lower screening replaces an earlier one.
fn visible_high_risk(assessments: &[RiskAssessment], rules: &PanelRules) -> Vec<String> {
    [(DASH, "DASH", rules.dash_yes_at_least), (S_DASH, "S-DASH", rules.s_dash_yes_at_least)]
        .into_iter()
        .filter_map(|(instrument, name, threshold)| {
            let latest = assessments.iter().filter(|a| a.instrument == instrument).max_by_key(|a| a.assessed_on)?;
            let yes = latest.answers.values().filter(|a| a.answer == Answer::Yes).count();
            (yes >= threshold as usize).then(|| format!("{yes} \"yes\" on {name} of {}", show_date(latest.assessed_on)))
        })
        .collect()
}

fn escalation(case: &CaseForPanel<'_>, today: NaiveDate, rules: &PanelRules) -> Vec<String> {
    let mut why = Vec::new();
    let since = months_before(today, rules.escalation_months);
    let in_year = case.incidents.iter().filter(|i| (since..=today).contains(&london_date(i.occurred_at))).count();
    if in_year >= rules.escalation_incidents as usize {
        why.push(format!("{in_year} incidents in the last {} months", rules.escalation_months));
    }
    if let Some(first) = case.escalation.findings.first() {
        why.push(format!("escalating: {}", first.text));
    }
    why
}

/// A further incident after the last meeting that heard the case, and
/// within `repeat_months` of it.
fn repeat(case: &CaseForPanel<'_>, today: NaiveDate, rules: &PanelRules) -> Vec<String> {
    let Some(last) = case.heard_on.iter().copied().filter(|d| *d <= today).max() else { return vec![] };
    let until = months_after(last, rules.repeat_months).min(today);
    let later = case.incidents.iter().map(|i| london_date(i.occurred_at)).filter(|d| *d > last && *d <= until).min();
    later
        .map(|on| {
            format!(
                "an incident on {}, within {} months of the panel of {}",
                show_date(on),
                rules.repeat_months,
                show_date(last)
            )
        })
        .into_iter()
        .collect()
}

/// The day a case heard by the panel is due to be heard again, once that
/// day has come: `review_after_months` after the last meeting that heard it.
pub fn panel_review_due(heard_on: &[NaiveDate], today: NaiveDate, rules: &PanelRules) -> Option<NaiveDate> {
    let last = heard_on.iter().copied().filter(|d| *d <= today).max()?;
    Some(months_after(last, rules.review_after_months)).filter(|due| *due <= today)
}

fn months_before(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_sub_months(Months::new(months)).unwrap_or(NaiveDate::MIN)
}

fn months_after(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escalation::Finding;
    use crate::records::AnswerEntry;
    use crate::rules::Rules;
    use crate::vocab::{Behaviour, Channel, EscalationSign, RiskLevel};
    use crate::{CaseId, IncidentId, RiskAssessmentId};
    use chrono::{TimeZone, Utc};
    use std::collections::BTreeMap;
    use uuid::Uuid;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn rules() -> PanelRules {
        Rules::shipped().panel
    }

    fn incident(on: NaiveDate) -> IncidentFacts {
        let at = Utc.from_utc_datetime(&on.and_hms_opt(12, 0, 0).unwrap());
        IncidentFacts {
            id: IncidentId(Uuid::now_v7()),
            case_id: CaseId(Uuid::nil()),
            occurred_at: at,
            channel: Channel::Phone,
            behaviours: vec![Behaviour::UnwantedContact],
            breaches_order: None,
            recorded_at: at,
        }
    }

    fn assessment(instrument: &str, on: NaiveDate, yes: usize, of: usize) -> RiskAssessment {
        let answers: BTreeMap<String, AnswerEntry> = (0..of)
            .map(|i| {
                let answer = if i < yes { Answer::Yes } else { Answer::No };
                (format!("q{i}"), AnswerEntry { answer, comment: None })
            })
            .collect();
        RiskAssessment {
            id: RiskAssessmentId(Uuid::now_v7()),
            case_id: CaseId(Uuid::nil()),
            instrument: instrument.into(),
            instrument_version: "1".into(),
            assessed_on: on,
            assessor: "ADV1".into(),
            answers,
            judged_level: RiskLevel::High,
            rationale: None,
            next_review_on: on,
        }
    }

    struct Fixture {
        claimed: Vec<ReferralCriterion>,
        assessments: Vec<RiskAssessment>,
        incidents: Vec<IncidentFacts>,
        escalation: Escalation,
        heard_on: Vec<NaiveDate>,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                claimed: vec![],
                assessments: vec![],
                incidents: vec![],
                escalation: Escalation::default(),
                heard_on: vec![],
            }
        }
        fn met(&self, today: NaiveDate) -> Vec<CriterionMet> {
            let case = CaseForPanel {
                claimed: &self.claimed,
                referred_on: day(2026, 1, 5),
                assessments: &self.assessments,
                incidents: &self.incidents,
                escalation: &self.escalation,
                heard_on: &self.heard_on,
            };
            criteria_met(&case, today, &rules())
        }
    }

    fn pairs(met: &[CriterionMet]) -> Vec<(ReferralCriterion, SelectionBasis)> {
        met.iter().map(|m| (m.criterion, m.basis)).collect()
    }

    #[test]
    fn the_shipped_rules_list_every_criterion_the_referral_form_offers_once() {
        // The form's ticks and the selection must speak of the same criteria.
        let listed: Vec<_> = rules().criteria.iter().map(|c| c.criterion).collect();
        assert_eq!(listed, ReferralCriterion::ALL.to_vec());
        assert!(rules().criteria.iter().all(|c| !c.source.trim().is_empty()));
        rules().check().unwrap();
    }

    #[test]
    fn a_case_with_nothing_ticked_and_quiet_records_meets_nothing() {
        assert!(Fixture::new().met(day(2026, 6, 1)).is_empty());
    }

    #[test]
    fn the_referrers_ticks_count_as_from_the_referral() {
        let mut f = Fixture::new();
        f.claimed = vec![ReferralCriterion::StalkingCoordinator, ReferralCriterion::ProfessionalJudgement];
        let met = f.met(day(2026, 6, 1));
        // In the service's order, whatever order the form sent them in.
        assert_eq!(
            pairs(&met),
            vec![
                (ReferralCriterion::ProfessionalJudgement, SelectionBasis::Referral),
                (ReferralCriterion::StalkingCoordinator, SelectionBasis::Referral),
            ]
        );
        assert_eq!(met[0].why, "ticked on the referral of 5 Jan 2026");
    }

    #[test]
    fn fourteen_yes_on_the_latest_dash_is_visible_high_risk_and_a_later_lower_one_is_not() {
        let mut f = Fixture::new();
        f.assessments = vec![assessment("dash", day(2026, 2, 1), 14, 24)];
        let met = f.met(day(2026, 6, 1));
        assert_eq!(pairs(&met), vec![(ReferralCriterion::VisibleHighRisk, SelectionBasis::Records)]);
        assert_eq!(met[0].why, "14 \"yes\" on DASH of 1 Feb 2026");
        f.assessments[0] = assessment("dash", day(2026, 2, 1), 13, 24);
        assert!(f.met(day(2026, 6, 1)).is_empty(), "13 is below the threshold");
        f.assessments = vec![assessment("dash", day(2026, 2, 1), 16, 24), assessment("dash", day(2026, 5, 1), 9, 24)];
        assert!(f.met(day(2026, 6, 1)).is_empty(), "the latest screening is what counts");
    }

    #[test]
    fn s_dash_counts_against_its_own_threshold() {
        let mut f = Fixture::new();
        f.assessments = vec![assessment("s-dash", day(2026, 3, 1), 6, 11)];
        assert_eq!(f.met(day(2026, 6, 1))[0].why, "6 \"yes\" on S-DASH of 1 Mar 2026");
        f.assessments = vec![assessment("s-dash", day(2026, 3, 1), 5, 11)];
        assert!(f.met(day(2026, 6, 1)).is_empty());
    }

    #[test]
    fn three_incidents_within_twelve_months_is_escalation_and_older_ones_do_not_count() {
        let mut f = Fixture::new();
        f.incidents = vec![incident(day(2025, 5, 31)), incident(day(2025, 8, 1)), incident(day(2026, 5, 1))];
        assert!(f.met(day(2026, 6, 1)).is_empty(), "the first is more than 12 months ago");
        f.incidents.push(incident(day(2026, 5, 20)));
        let met = f.met(day(2026, 6, 1));
        assert_eq!(pairs(&met), vec![(ReferralCriterion::Escalation, SelectionBasis::Records)]);
        assert_eq!(met[0].why, "3 incidents in the last 12 months");
    }

    #[test]
    fn the_escalation_analysis_flag_is_an_escalation_with_its_first_finding() {
        let mut f = Fixture::new();
        let at = Utc.with_ymd_and_hms(2026, 5, 30, 9, 0, 0).unwrap();
        f.escalation = Escalation {
            findings: vec![Finding {
                sign: EscalationSign::MoreSerious,
                text: "first threats on 30 May".into(),
                since: day(2026, 5, 30),
                evidence_at: at,
            }],
            last_review: None,
            rank: 1,
        };
        let met = f.met(day(2026, 6, 1));
        assert_eq!(met.len(), 1);
        assert_eq!(met[0].why, "escalating: first threats on 30 May");
    }

    #[test]
    fn a_repeat_is_an_incident_after_the_last_panel_and_within_twelve_months_of_it() {
        let mut f = Fixture::new();
        f.heard_on = vec![day(2025, 3, 1), day(2025, 9, 10)];
        f.incidents = vec![incident(day(2025, 9, 10))];
        assert!(f.met(day(2026, 6, 1)).is_empty(), "an incident on the panel's own day was known to it");
        f.incidents.push(incident(day(2026, 9, 11)));
        assert!(f.met(day(2026, 9, 30)).is_empty(), "more than 12 months after the panel is not a repeat");
        f.incidents.push(incident(day(2026, 2, 3)));
        let met = f.met(day(2026, 9, 30));
        assert_eq!(pairs(&met), vec![(ReferralCriterion::Repeat, SelectionBasis::Records)]);
        assert_eq!(met[0].why, "an incident on 3 Feb 2026, within 12 months of the panel of 10 Sep 2025");
        // A meeting planned for later has not heard the case yet.
        f.heard_on = vec![day(2026, 12, 1)];
        assert!(f.met(day(2026, 9, 30)).is_empty());
    }

    #[test]
    fn a_criterion_the_service_left_out_is_not_offered() {
        let mut rules = rules();
        rules.criteria.retain(|c| c.criterion != ReferralCriterion::VisibleHighRisk);
        let assessments = vec![assessment("dash", day(2026, 2, 1), 20, 24)];
        let escalation = Escalation::default();
        let case = CaseForPanel {
            claimed: &[ReferralCriterion::VisibleHighRisk],
            referred_on: day(2026, 1, 5),
            assessments: &assessments,
            incidents: &[],
            escalation: &escalation,
            heard_on: &[],
        };
        assert!(criteria_met(&case, day(2026, 6, 1), &rules).is_empty());
    }

    #[test]
    fn a_case_is_due_again_twelve_months_after_its_last_panel() {
        let heard = [day(2025, 1, 15), day(2025, 6, 30)];
        assert_eq!(panel_review_due(&heard, day(2026, 6, 29), &rules()), None);
        assert_eq!(panel_review_due(&heard, day(2026, 6, 30), &rules()), Some(day(2026, 6, 30)));
        assert_eq!(panel_review_due(&[], day(2026, 6, 30), &rules()), None, "never heard is not a review");
    }

    #[test]
    fn rules_that_cannot_select_are_refused() {
        let mut bad = rules();
        bad.dash_yes_at_least = 0;
        assert!(bad.check().is_err());
        let mut twice = rules();
        twice.criteria.push(twice.criteria[0].clone());
        assert!(twice.check().unwrap_err().contains("twice"));
    }
}

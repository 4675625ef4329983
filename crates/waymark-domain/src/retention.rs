//! The retention schedule: how long a closed case is kept, by how it closed
//! (`[retention]` in `assets/rules.toml`), and when it falls due for
//! deletion. A legal hold stops the clock. Open cases are never due.

use crate::records::{Case, LegalHold};
use crate::vocab::{CaseStatus, ClosureReason, RetentionBasis};
use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The schedule a service keeps, with its data protection officer. The
/// shipped periods are those one national stalking charity publishes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRules {
    /// Kept this many days after closing when no service was taken up.
    pub no_service_taken_up_days: u32,
    /// The closure reasons that mean no service was taken up.
    pub no_service_taken_up_reasons: Vec<ClosureReason>,
    /// Kept this many months after closing when the victim could not be contacted.
    pub not_contactable_months: u32,
    pub not_contactable_reasons: Vec<ClosureReason>,
    /// Every other closed case: kept this many years after the last contact.
    pub after_last_contact_years: u32,
}

impl RetentionRules {
    pub fn check(&self) -> Result<(), String> {
        if self.no_service_taken_up_days == 0 || self.not_contactable_months == 0 || self.after_last_contact_years == 0
        {
            return Err("retention: every period must be above 0".into());
        }
        if self.no_service_taken_up_reasons.iter().any(|r| self.not_contactable_reasons.contains(r)) {
            return Err("retention: a closure reason may be in one list only".into());
        }
        Ok(())
    }

    /// Which part of the schedule a closure reason falls under.
    pub fn basis_of(&self, reason: &ClosureReason) -> RetentionBasis {
        if self.no_service_taken_up_reasons.contains(reason) {
            RetentionBasis::NoServiceTakenUp
        } else if self.not_contactable_reasons.contains(reason) {
            RetentionBasis::NotContactable
        } else {
            RetentionBasis::AfterLastContact
        }
    }
}

/// Where a closed case stands against the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Retention {
    pub basis: RetentionBasis,
    /// The day the period counts from: the closing date, or for
    /// `after_last_contact` the later of the last contact and the closing date.
    pub counted_from: NaiveDate,
    /// The first day the case may be erased.
    pub due_on: NaiveDate,
    /// Set when a legal hold keeps the case whatever the date.
    pub held: Option<LegalHold>,
}

impl Retention {
    /// Whether the schedule says the case should now be erased.
    pub fn is_due(&self, today: NaiveDate) -> bool {
        self.held.is_none() && self.due_on <= today
    }
}

/// One closed case on a retention review list (the laptop's and the
/// clinic's). Ids, the service's reference, a staff code and dates only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RetentionRow {
    pub case_id: crate::CaseId,
    pub reference: String,
    pub advocate: String,
    pub closed_on: NaiveDate,
    pub closure_reason: ClosureReason,
    pub retention: Retention,
    /// Whether the schedule says it should be erased now (due and not held).
    pub due: bool,
}

/// The case's place in the schedule, or `None` while it is open. `last_contact`
/// is the London day of its latest recorded contact, if any. A period that
/// runs past the calendar's end counts as never due.
pub fn retention(case: &Case, last_contact: Option<NaiveDate>, rules: &RetentionRules) -> Option<Retention> {
    let closure = match (&case.status, &case.closure) {
        (CaseStatus::Closed, Some(closure)) => closure,
        _ => return None,
    };
    let basis = rules.basis_of(&closure.reason);
    let counted_from = match basis {
        // Contact recorded after the closing date (a late call logged) keeps the case longer, never shorter.
        RetentionBasis::AfterLastContact => last_contact.map_or(closure.closed_on, |c| c.max(closure.closed_on)),
        _ => closure.closed_on,
    };
    let due_on = match basis {
        RetentionBasis::NoServiceTakenUp => {
            counted_from.checked_add_days(Days::new(u64::from(rules.no_service_taken_up_days)))
        }
        RetentionBasis::NotContactable => counted_from.checked_add_months(Months::new(rules.not_contactable_months)),
        RetentionBasis::AfterLastContact => {
            counted_from.checked_add_months(Months::new(rules.after_last_contact_years.saturating_mul(12)))
        }
    }
    .unwrap_or(NaiveDate::MAX);
    Some(Retention { basis, counted_from, due_on, held: case.legal_hold.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Closure, IntakeReferral};
    use crate::vocab::{HoldReason, ReferralSource};
    use crate::CaseId;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn closed(reason: ClosureReason, on: NaiveDate) -> Case {
        Case {
            id: CaseId(uuid::Uuid::from_u128(7)),
            reference: "T-1".into(),
            status: CaseStatus::Closed,
            closure: Some(Closure {
                closed_on: on,
                reason,
                feels_safer: None,
                behaviour_stopped: None,
                quality_of_life_improved: None,
                better_able_to_cope: None,
            }),
            referral: IntakeReferral::new(day(2020, 1, 2), ReferralSource::Police, "r", true),
            advocate: "ISA01".into(),
            opened_on: day(2020, 1, 2),
            risk_level: None,
            risk_review_on: None,
            police_references: vec![],
            court_cases: vec![],
            persistently_targeted: false,
            legal_hold: None,
        }
    }

    #[test]
    fn the_shipped_schedule_is_six_weeks_six_months_six_years() {
        // The periods the issue quotes from a national charity's published schedule.
        let rules = crate::rules::Rules::shipped().retention;
        let declined = retention(&closed(ClosureReason::VictimDeclined, day(2026, 3, 1)), None, &rules).unwrap();
        assert_eq!((declined.basis, declined.due_on), (RetentionBasis::NoServiceTakenUp, day(2026, 4, 12)));
        let unreached =
            retention(&closed(ClosureReason::NoContactEstablished, day(2026, 3, 31)), None, &rules).unwrap();
        assert_eq!((unreached.basis, unreached.due_on), (RetentionBasis::NotContactable, day(2026, 9, 30)));
        let supported = retention(&closed(ClosureReason::SupportComplete, day(2026, 2, 28)), None, &rules).unwrap();
        assert_eq!((supported.basis, supported.due_on), (RetentionBasis::AfterLastContact, day(2032, 2, 28)));
    }

    #[test]
    fn six_years_count_from_the_last_contact_when_it_is_later_than_the_closing() {
        let rules = crate::rules::Rules::shipped().retention;
        let case = closed(ClosureReason::SupportComplete, day(2026, 2, 1));
        let later = retention(&case, Some(day(2026, 5, 1)), &rules).unwrap();
        assert_eq!((later.counted_from, later.due_on), (day(2026, 5, 1), day(2032, 5, 1)));
        // An earlier contact never shortens it below the closing date.
        let earlier = retention(&case, Some(day(2025, 1, 1)), &rules).unwrap();
        assert_eq!(earlier.counted_from, day(2026, 2, 1));
    }

    #[test]
    fn due_from_its_first_day_and_never_while_held_or_open() {
        let rules = crate::rules::Rules::shipped().retention;
        let mut case = closed(ClosureReason::VictimDeclined, day(2026, 3, 1));
        let r = retention(&case, None, &rules).unwrap();
        assert!(!r.is_due(day(2026, 4, 11)));
        assert!(r.is_due(day(2026, 4, 12)));
        case.legal_hold = Some(LegalHold { reason: HoldReason::OngoingProceedings, since: day(2026, 4, 1) });
        let held = retention(&case, None, &rules).unwrap();
        assert!(!held.is_due(day(2040, 1, 1)), "a legal hold stops the schedule");
        case.legal_hold = None;
        case.status = CaseStatus::Open;
        case.closure = None;
        assert_eq!(retention(&case, None, &rules), None, "an open case has no retention date");
    }

    #[test]
    fn a_service_may_not_list_one_reason_under_two_periods() {
        let mut rules = crate::rules::Rules::shipped().retention;
        rules.not_contactable_reasons.push(ClosureReason::VictimDeclined);
        assert!(rules.check().is_err());
        let mut rules = crate::rules::Rules::shipped().retention;
        rules.after_last_contact_years = 0;
        assert!(rules.check().is_err());
    }
}

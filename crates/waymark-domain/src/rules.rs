//! Rules from law and guidance, held as data (`assets/rules.toml`) so a
//! service can correct them without a release.

use crate::vocab::BailAuthority;
use chrono::{Months, NaiveDate};
use serde::Deserialize;

const SHIPPED_RULES: &str = include_str!("../../../assets/rules.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub spo_minimum_years: u32,
    pub spo_notification_days: u32,
    pub pre_charge_bail_months: BailMonths,
    pub reminders: ReminderHorizons,
    /// A service's file written before escalation existed takes the shipped rules.
    #[serde(default = "shipped_escalation")]
    pub escalation: crate::escalation::EscalationRules,
    /// A service's file written before the panel's selection existed takes the shipped rules.
    #[serde(default = "shipped_panel")]
    pub panel: crate::panel::PanelRules,
    /// A service's file written before the quarterly return existed takes the shipped rules.
    #[serde(default = "shipped_report")]
    pub report: crate::report::ReportRules,
    /// A service's file written before the retention schedule existed takes the shipped one.
    #[serde(default = "shipped_retention")]
    pub retention: crate::retention::RetentionRules,
}

fn shipped_retention() -> crate::retention::RetentionRules {
    Rules::shipped().retention
}

fn shipped_report() -> crate::report::ReportRules {
    Rules::shipped().report
}

fn shipped_panel() -> crate::panel::PanelRules {
    Rules::shipped().panel
}

fn shipped_escalation() -> crate::escalation::EscalationRules {
    Rules::shipped().escalation
}

fn default_task_days() -> u32 {
    7
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BailMonths {
    pub first_grant: u32,
    pub inspector: u32,
    pub superintendent: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderHorizons {
    pub hearing_days_ahead: u32,
    pub order_expiry_days_ahead: u32,
    pub risk_review_days_ahead: u32,
    pub plan_review_days_ahead: u32,
    #[serde(default = "default_task_days")]
    pub task_days_ahead: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("the rules file is not valid: {0}")]
pub struct RulesError(String);

impl Rules {
    /// Parses a service's rules file.
    pub fn from_toml(text: &str) -> Result<Self, RulesError> {
        let rules: Rules = toml::from_str(text).map_err(|e| RulesError(e.message().to_owned()))?;
        rules.escalation.check().map_err(RulesError)?;
        rules.panel.check().map_err(RulesError)?;
        rules.report.check().map_err(RulesError)?;
        rules.retention.check().map_err(RulesError)?;
        Ok(rules)
    }

    /// The rules shipped with this build.
    pub fn shipped() -> Self {
        // The shipped file is checked by a unit test, so this cannot fail at run time.
        Self::from_toml(SHIPPED_RULES).unwrap_or_else(|e| panic!("shipped rules.toml: {e}"))
    }

    /// The earliest an SPO made on `made_on` may expire.
    pub fn spo_earliest_expiry(&self, made_on: NaiveDate) -> Option<NaiveDate> {
        made_on.checked_add_months(Months::new(12 * self.spo_minimum_years))
    }

    /// The date by which an SPO defendant must notify the police.
    pub fn spo_notification_deadline(&self, served_on: NaiveDate) -> Option<NaiveDate> {
        served_on.checked_add_days(chrono::Days::new(u64::from(self.spo_notification_days)))
    }

    /// The longest pre-charge bail may run from first grant under the given
    /// authority; `None` when a court has set it and no limit applies.
    pub fn bail_limit(&self, granted_on: NaiveDate, authority: BailAuthority) -> Option<NaiveDate> {
        let months = match authority {
            BailAuthority::FirstGrant => self.pre_charge_bail_months.first_grant,
            BailAuthority::Inspector => self.pre_charge_bail_months.inspector,
            BailAuthority::Superintendent => self.pre_charge_bail_months.superintendent,
            BailAuthority::Court => return None,
        };
        granted_on.checked_add_months(Months::new(months))
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::shipped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn shipped_rules_carry_the_statutory_values() {
        // Stalking Protection Act 2019: two years minimum, three days to notify.
        let rules = Rules::shipped();
        assert_eq!(rules.spo_earliest_expiry(d(2026, 2, 28)), Some(d(2028, 2, 28)));
        assert_eq!(rules.spo_notification_deadline(d(2026, 12, 30)), Some(d(2027, 1, 2)));
        assert_eq!(rules.bail_limit(d(2026, 1, 31), BailAuthority::FirstGrant), Some(d(2026, 4, 30)));
        assert_eq!(rules.bail_limit(d(2026, 1, 1), BailAuthority::Court), None);
    }

    #[test]
    fn a_service_can_change_a_rule_in_its_file() {
        let edited = SHIPPED_RULES.replace("spo_notification_days = 3", "spo_notification_days = 5");
        let rules = Rules::from_toml(&edited).unwrap();
        assert_eq!(rules.spo_notification_deadline(d(2026, 1, 1)), Some(d(2026, 1, 6)));
    }

    #[test]
    fn a_service_file_from_before_escalation_still_reads_with_the_shipped_escalation_rules() {
        // A service's rules.toml replaces the shipped one whole: one written
        // by an older release must not stop the vault or the clinic opening.
        let before = SHIPPED_RULES.split("\n# Escalation in the course of conduct").next().unwrap();
        let older = before.replace("task_days_ahead = 7\n", "");
        assert!(!older.contains("[escalation]") && !older.contains("task_days_ahead"));
        let rules = Rules::from_toml(&older).unwrap();
        assert_eq!(rules.escalation, Rules::shipped().escalation);
        assert_eq!(rules.panel, Rules::shipped().panel);
        assert_eq!(rules.reminders.task_days_ahead, 7);
    }

    #[test]
    fn a_misspelt_rule_is_refused_not_ignored() {
        let edited = SHIPPED_RULES.replace("spo_minimum_years", "spo_minimum_yeras");
        assert!(Rules::from_toml(&edited).is_err());
    }
}

//! Protective orders and bail conditions, and their breaches.

use super::*;
use crate::record::{ids_and, Asked, KindRules, Presented};
use serde_json::json;

/// An order's dates and conditions are safety-critical. Its conditions may
/// name the street it keeps the perpetrator out of (an exclusion zone): that
/// is the order's legal text, so the address guard leaves it.
pub(crate) const RULES: KindRules = KindRules {
    address_fields: &["conditions"],
    safety_critical: &["applied_on", "made_on", "served_on", "expiry", "conditions"],
    sets: &["protected_persons"],
    new_doc: |n| ids_and(n, json!({"expiry": {"kind": "not_set"}})),
    presented: &[
        Presented::new("order_type", "Order type").shown_as(OrderType::show),
        Presented::new("issued_by", "Issued by (court or force)"),
        Presented::new("applied_on", "Applied for on").asked(Asked::WhenMadeAndLater),
        Presented::new("made_on", "Made on").asked(Asked::WhenMadeAndLater),
        Presented::new("served_on", "Served on").asked(Asked::WhenMadeAndLater),
        Presented::new("expiry", "Ends").asked(Asked::WhenMadeAndLater).shown_as(show_expiry),
        Presented::new("protected_persons", "People it protects (one a line)")
            .asked(Asked::WhenMadeAndLater)
            .not_in_summaries(),
        Presented::new("conditions", "Conditions")
            .asked(Asked::WhenMadeAndLater)
            .shown_as(show_conditions)
            .not_in_summaries(),
        Presented::new("bail_authority", "Bail authorised by")
            .asked(Asked::WhenMadeAndLater)
            .shown_as(BailAuthority::show),
    ],
    about: crate::access::About::Both,
    never_to_perpetrator: &["conditions", "protected_persons"],
    ..KindRules::PLAIN
};

pub(crate) const BREACH_RULES: KindRules = KindRules {
    presented: &[
        Presented::new("order_id", "Order breached"),
        Presented::new("occurred_on", "Date of the breach"),
        Presented::new("incident_id", "The incident it was"),
        Presented::new("reported_to_police", "Reported to police").asked(Asked::WhenMadeAndLater),
        Presented::new("crime_reference", "Crime reference").asked(Asked::WhenMadeAndLater),
        Presented::new("outcome", "Outcome").later(),
    ],
    about: crate::access::About::Both,
    ..KindRules::PLAIN
};

/// When an order ends, as a person reads it.
fn show_expiry(value: &serde_json::Value) -> String {
    match serde_json::from_value::<Expiry>(value.clone()) {
        Ok(Expiry::On(date)) => format!("On {}", crate::time::show_date(date)),
        Ok(Expiry::UntilFurtherOrder) => "Until further order".to_owned(),
        Ok(Expiry::UntilApplicationDecided) => "Until the application is decided".to_owned(),
        Ok(Expiry::NotSet) => "Not recorded".to_owned(),
        Err(_) => crate::record::display_value(value),
    }
}

/// Each condition as its kind and its wording in the order.
fn show_conditions(value: &serde_json::Value) -> String {
    let conditions: Vec<Condition> = serde_json::from_value(value.clone()).unwrap_or_default();
    conditions.iter().map(|c| format!("{}: {}", c.kind.label(), c.text)).collect::<Vec<_>>().join("; ")
}

/// When an order ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", content = "date", rename_all = "snake_case")]
pub enum Expiry {
    On(NaiveDate),
    UntilFurtherOrder,
    /// An interim SPO lasts until the main application is decided.
    UntilApplicationDecided,
    NotSet,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct ProtectiveOrder {
    pub id: OrderId,
    pub case_id: CaseId,
    pub order_type: OrderType,
    /// The court or body that issued it.
    pub issued_by: String,
    #[serde(default)]
    pub applied_on: Option<NaiveDate>,
    #[serde(default)]
    pub made_on: Option<NaiveDate>,
    #[serde(default)]
    pub served_on: Option<NaiveDate>,
    pub expiry: Expiry,
    #[serde(default)]
    pub protected_persons: Vec<String>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// For pre-charge bail: who authorised the current period.
    #[serde(default)]
    pub bail_authority: Option<BailAuthority>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub kind: ConditionKind,
    pub text: String,
}

impl ProtectiveOrder {
    /// The notification deadline, for orders that carry one (SPO and interim SPO, s9).
    pub fn notification_deadline(&self, rules: &Rules) -> Option<NaiveDate> {
        match self.order_type {
            OrderType::Spo | OrderType::InterimSpo => self.served_on.and_then(|s| rules.spo_notification_deadline(s)),
            _ => None,
        }
    }

    /// Whether the order has effect on a date (made, and not yet expired).
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        let started = self.made_on.is_some_and(|m| m <= date);
        let ended = matches!(self.expiry, Expiry::On(end) if end < date);
        started && !ended
    }

    pub(crate) fn check(&self, c: &mut Checker, ctx: &Ctx<'_>) {
        c.not_blank(&self.issued_by, "issued_by");
        c.not_before(self.made_on, self.applied_on, "made_on", "applied_on");
        c.not_before(self.served_on, self.made_on, "served_on", "made_on");
        if let Expiry::On(end) = self.expiry {
            c.not_before(Some(end), self.made_on, "expiry.date", "made_on");
        }
        for (i, k) in self.conditions.iter().enumerate() {
            c.not_blank(&k.text, &format!("conditions[{i}].text"));
        }
        match self.order_type {
            OrderType::Spo => match (&self.expiry, self.made_on) {
                (Expiry::On(end), Some(made)) => {
                    let earliest = ctx.rules.spo_earliest_expiry(made);
                    c.require(
                        earliest.is_some_and(|e| *end >= e),
                        "expiry.date",
                        &format!(
                            "is less than {} years after made_on (an SPO runs at least that long, or until further order)",
                            ctx.rules.spo_minimum_years
                        ),
                    );
                }
                (Expiry::UntilApplicationDecided, _) => {
                    c.fail("expiry", "cannot be \"until the application is decided\" for a full SPO (use interim_spo)")
                }
                _ => {}
            },
            OrderType::PreChargeBail => {
                let authority = self.bail_authority;
                c.require(authority.is_some(), "bail_authority", "is required for pre-charge bail");
                if let (Some(authority), Some(made), Expiry::On(end)) = (authority, self.made_on, &self.expiry) {
                    if let Some(limit) = ctx.rules.bail_limit(made, authority) {
                        c.require(
                            *end <= limit,
                            "expiry.date",
                            &format!("is beyond the limit for {} (record who extended the bail)", authority.label()),
                        );
                    }
                }
            }
            OrderType::ReleasedUnderInvestigation => c.require(
                self.conditions.is_empty(),
                "conditions",
                "must be empty: released under investigation carries no conditions",
            ),
            _ => {}
        }
        if self.bail_authority.is_some() && self.order_type != OrderType::PreChargeBail {
            c.fail("bail_authority", "applies only to pre-charge bail");
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Breach {
    pub id: BreachId,
    pub case_id: CaseId,
    pub order_id: OrderId,
    pub occurred_on: NaiveDate,
    #[serde(default)]
    pub incident_id: Option<IncidentId>,
    #[serde(default)]
    pub reported_to_police: bool,
    #[serde(default)]
    pub crime_reference: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
}

impl Breach {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.require(
            self.crime_reference.is_none() || self.reported_to_police,
            "crime_reference",
            "needs reported_to_police to be true",
        );
    }
}

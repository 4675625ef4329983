//! The warnings a case header always shows, so nobody discloses an address,
//! walks into danger, or misses that an order is in force.

use crate::records::{Case, Expiry, Perpetrator, ProtectiveOrder, Victim};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    AddressNotDisclosed,
    WeaponsAccess,
    OrderInForce,
    RiskReviewOverdue,
    InterpreterNeeded,
    NoSafeContactRules,
    /// The victim's address sits in the free text of records (`disclosure`).
    AddressInText,
}

/// A warning for the case header. `text` holds no personal data: it is built
/// from the kind, the order type and dates only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Warning {
    pub kind: WarningKind,
    /// Danger first: the header shows warnings in this order.
    pub severity: Severity,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Danger,
    Caution,
    Info,
}

/// The warning for records whose free text shows the victim's address: the
/// kinds and a count, never which words. Saved before the address was set or
/// changed, confirmed at save, or received from another laptop.
pub fn address_in_text_warning(kinds: &[crate::RecordKind]) -> Option<Warning> {
    if kinds.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = kinds.iter().map(|k| k.wire()).collect();
    names.sort_unstable();
    names.dedup();
    let count = kinds.len();
    let records = if count == 1 { "1 record".to_owned() } else { format!("{count} records") };
    Some(Warning {
        kind: WarningKind::AddressInText,
        severity: Severity::Caution,
        text: format!(
            "The victim's address appears in the text of {records} ({}): reword it, or amend the incident, before anything is printed or shared",
            names.join(", ").replace('_', " ")
        ),
    })
}

fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// The header's warnings for a case, most serious first.
pub fn case_warnings(
    case: &Case,
    victim: Option<&Victim>,
    perpetrators: &[Perpetrator],
    orders: &[ProtectiveOrder],
    today: NaiveDate,
) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut push = |kind, severity, text: String| out.push(Warning { kind, severity, text });
    if let Some(victim) = victim {
        if victim.address.as_ref().is_some_and(|a| a.do_not_disclose) {
            push(WarningKind::AddressNotDisclosed, Severity::Danger, "Address: do not disclose".into());
        }
        if victim.safe_contact.phones.is_empty() && victim.safe_contact.email.is_none() {
            push(
                WarningKind::NoSafeContactRules,
                Severity::Caution,
                "No safe way to contact the victim is recorded".into(),
            );
        }
        if victim.interpreter_needed {
            push(WarningKind::InterpreterNeeded, Severity::Info, "Interpreter needed".into());
        }
    }
    if perpetrators.iter().any(|p| p.weapons_access == Some(true)) {
        push(WarningKind::WeaponsAccess, Severity::Danger, "Perpetrator has access to weapons".into());
    }
    for order in orders.iter().filter(|o| o.in_force_on(today)) {
        let until = match &order.expiry {
            Expiry::On(date) => format!("until {}", long_date(*date)),
            Expiry::UntilFurtherOrder => "until further order".into(),
            Expiry::UntilApplicationDecided => "until the application is decided".into(),
            Expiry::NotSet => "with no end date recorded".into(),
        };
        push(WarningKind::OrderInForce, Severity::Caution, format!("{} in force {until}", order.order_type.label()));
    }
    if let Some(review) = case.risk_review_on.filter(|r| *r < today) {
        push(
            WarningKind::RiskReviewOverdue,
            Severity::Caution,
            format!("Risk review overdue since {}", long_date(review)),
        );
    }
    out.sort_by_key(|w| w.severity);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Address, SafePhone};
    use serde_json::json;

    fn case(review: Option<&str>) -> Case {
        serde_json::from_value(json!({
            "id": "0190a000-0000-7000-8000-000000000001", "reference": "C-1", "status": "open",
            "referral": {"received_on": "2026-01-05", "source": "police", "reason": "r", "consent_recorded": true},
            "advocate": "ADV1", "opened_on": "2026-01-05", "risk_level": "high", "risk_review_on": review,
        }))
        .unwrap()
    }

    fn victim() -> Victim {
        serde_json::from_value(json!({
            "id": "0190a000-0000-7000-8000-000000000002", "case_id": "0190a000-0000-7000-8000-000000000001", "name": "Canary Person",
        }))
        .unwrap()
    }

    fn spo(expiry: serde_json::Value, made_on: &str) -> ProtectiveOrder {
        serde_json::from_value(json!({
            "id": "0190a000-0000-7000-8000-000000000003", "case_id": "0190a000-0000-7000-8000-000000000001",
            "order_type": "spo", "issued_by": "Court", "made_on": made_on, "expiry": expiry,
        }))
        .unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn a_withheld_address_and_weapons_come_first() {
        // The two warnings that stop someone getting hurt must lead the header.
        let mut v = victim();
        v.address = Some(Address { lines: vec!["1 Canary Street".into()], postcode: None, do_not_disclose: true });
        let mut p: Perpetrator = serde_json::from_value(json!({
            "id": "0190a000-0000-7000-8000-000000000004", "case_id": "0190a000-0000-7000-8000-000000000001",
            "names": ["X"], "relationship": "stranger", "weapons_access": true,
        }))
        .unwrap();
        let orders = [spo(json!({"kind": "on", "date": "2028-03-12"}), "2026-03-12")];
        let warnings = case_warnings(&case(Some("2026-10-01")), Some(&v), std::slice::from_ref(&p), &orders, today());
        let kinds: Vec<_> = warnings.iter().map(|w| w.kind).collect();
        assert_eq!(&kinds[..2], &[WarningKind::AddressNotDisclosed, WarningKind::WeaponsAccess]);
        assert!(kinds.contains(&WarningKind::NoSafeContactRules));
        let order = warnings.iter().find(|w| w.kind == WarningKind::OrderInForce).unwrap();
        assert!(order.text.ends_with("in force until 12 March 2028"), "{}", order.text);
        assert!(warnings.iter().any(|w| w.text == "Risk review overdue since 1 October 2026"));
        assert!(warnings.iter().all(|w| !w.text.contains("Canary")), "no personal data in warnings");
        p.weapons_access = Some(false);
        v.safe_contact.phones.push(SafePhone {
            number: "07700900001".into(),
            label: None,
            voicemail_ok: false,
            text_ok: true,
            safe_times: None,
        });
        let calmer = case_warnings(&case(Some("2027-01-01")), Some(&v), &[p], &[], today());
        assert_eq!(calmer.iter().map(|w| w.kind).collect::<Vec<_>>(), vec![WarningKind::AddressNotDisclosed]);
    }

    #[test]
    fn an_expired_or_unmade_order_is_not_in_force() {
        let expired = spo(json!({"kind": "on", "date": "2026-11-21"}), "2024-11-21");
        let until_further = spo(json!({"kind": "until_further_order"}), "2026-11-22");
        let warnings = case_warnings(&case(None), None, &[], &[expired, until_further], today());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].text.ends_with("in force until further order"));
    }
}

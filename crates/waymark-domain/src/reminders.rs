//! Reminders generated from the records: a hearing soon, an order expiring, a
//! risk or plan review due, an SPO notification deadline. They are derived on
//! demand, never stored, so they can't go stale. Open tasks due soon join them.

use crate::record::RecordKind;
use crate::records::{Case, Hearing, ProtectiveOrder, RecordRef, SafetyPlan, Task};
use crate::rules::Rules;
use crate::time::london_date;
use crate::vocab::{CaseStatus, TaskStatus};
use crate::{CaseId, Expiry};
use chrono::{Days, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Reminder {
    pub kind: ReminderKind,
    pub due_on: NaiveDate,
    pub case_id: CaseId,
    pub what: String,
    pub linked: RecordRef,
}

/// What a reminder is about: the home screen offers done or snooze by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    Hearing,
    OrderExpires,
    NotificationDeadline,
    RiskReview,
    PlanReview,
    Task,
}

impl ReminderKind {
    /// A hearing happens whatever anyone does: it cannot be put off.
    pub fn snoozable(self) -> bool {
        self != ReminderKind::Hearing
    }

    /// Whether the reminder stays, overdue, once its day has passed. An
    /// order's expiry and a notification deadline are reminded of only up to
    /// their day, so a snooze may not run past it.
    pub fn stays_when_overdue(self) -> bool {
        matches!(self, ReminderKind::RiskReview | ReminderKind::PlanReview | ReminderKind::Task)
    }

    /// The stored name (as serialised).
    pub fn wire(self) -> &'static str {
        match self {
            ReminderKind::Hearing => "hearing",
            ReminderKind::OrderExpires => "order_expires",
            ReminderKind::NotificationDeadline => "notification_deadline",
            ReminderKind::RiskReview => "risk_review",
            ReminderKind::PlanReview => "plan_review",
            ReminderKind::Task => "task",
        }
    }
}

impl Reminder {
    /// Names this reminder (its kind, record and due date) and never its
    /// words: what a snooze is kept under. A new due date is a new reminder.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.kind.wire(), self.linked.id, self.due_on)
    }
}

/// What the reminder pass reads about the caseload.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    pub cases: Vec<&'a Case>,
    pub hearings: Vec<&'a Hearing>,
    pub orders: Vec<&'a ProtectiveOrder>,
    /// Only the latest version of each case's plan.
    pub latest_plans: Vec<&'a SafetyPlan>,
    pub tasks: Vec<&'a Task>,
}

pub fn reminders(src: &Sources<'_>, today: NaiveDate, rules: &Rules) -> Vec<Reminder> {
    let horizon = |days: u32| today.checked_add_days(Days::new(u64::from(days))).unwrap_or(today);
    let open: Vec<CaseId> = src.cases.iter().filter(|c| c.status == CaseStatus::Open).map(|c| c.id).collect();
    let mut out = Vec::new();
    let mut push = |reminder: ReminderKind, due_on, case_id, what: String, kind, id| {
        if open.contains(&case_id) {
            out.push(Reminder { kind: reminder, due_on, case_id, what, linked: RecordRef { kind, id } });
        }
    };
    for h in &src.hearings {
        let day = london_date(h.starts_at);
        if day >= today && day <= horizon(rules.reminders.hearing_days_ahead) {
            push(
                ReminderKind::Hearing,
                day,
                h.case_id,
                format!("Hearing: {}", h.hearing_type.label()),
                RecordKind::Hearing,
                h.id.as_uuid(),
            );
        }
    }
    for o in &src.orders {
        if let Expiry::On(end) = o.expiry {
            if end >= today && end <= horizon(rules.reminders.order_expiry_days_ahead) {
                push(
                    ReminderKind::OrderExpires,
                    end,
                    o.case_id,
                    format!("{} expires", o.order_type.label()),
                    RecordKind::ProtectiveOrder,
                    o.id.as_uuid(),
                );
            }
        }
        if let Some(deadline) = o.notification_deadline(rules) {
            if deadline >= today {
                push(
                    ReminderKind::NotificationDeadline,
                    deadline,
                    o.case_id,
                    "Notification deadline: check the police were notified".into(),
                    RecordKind::ProtectiveOrder,
                    o.id.as_uuid(),
                );
            }
        }
    }
    for c in &src.cases {
        if let Some(review) = c.risk_review_on {
            if review <= horizon(rules.reminders.risk_review_days_ahead) {
                push(
                    ReminderKind::RiskReview,
                    review,
                    c.id,
                    "Risk review due".into(),
                    RecordKind::Case,
                    c.id.as_uuid(),
                );
            }
        }
    }
    for p in &src.latest_plans {
        if p.review_on <= horizon(rules.reminders.plan_review_days_ahead) {
            push(
                ReminderKind::PlanReview,
                p.review_on,
                p.case_id,
                format!("Safety plan v{} review due", p.version),
                RecordKind::SafetyPlan,
                p.id.as_uuid(),
            );
        }
    }
    for t in src.tasks.iter().filter(|t| t.status == TaskStatus::Open) {
        if let Some(case_id) = t.case_id.filter(|_| t.due_on <= horizon(rules.reminders.task_days_ahead)) {
            push(ReminderKind::Task, t.due_on, case_id, t.what.clone(), RecordKind::Task, t.id.as_uuid());
        }
    }
    out.sort_by(|a, b| (a.due_on, &a.what).cmp(&(b.due_on, &b.what)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn case(n: u8, status: CaseStatus) -> Case {
        Case {
            id: CaseId(Uuid::from_bytes([n; 16])),
            reference: format!("T-{n}"),
            status,
            closure: None,
            referral: IntakeReferral::new(d(2026, 1, 1), ReferralSource::Police, "r", true),
            advocate: "A1".into(),
            opened_on: d(2026, 1, 1),
            risk_level: Some(RiskLevel::High),
            risk_review_on: Some(d(2026, 11, 25)),
            police_references: vec![],
            court_cases: vec![],
            persistently_targeted: false,
            legal_hold: None,
        }
    }

    #[test]
    fn hearings_orders_and_reviews_inside_their_horizons_become_reminders() {
        let open = case(1, CaseStatus::Open);
        let today = d(2026, 11, 22);
        let hearing = Hearing {
            id: HearingId(Uuid::from_bytes([2; 16])),
            case_id: open.id,
            court: "Court".into(),
            hearing_type: HearingType::Trial,
            starts_at: Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
            court_reference: None,
            outcome: None,
            next_date: None,
            special_measures: vec![],
            victim_attends: None,
            vps_read: None,
            witness_care_contact: None,
        };
        let far_hearing =
            Hearing { starts_at: Utc.with_ymd_and_hms(2027, 1, 26, 10, 0, 0).unwrap(), ..hearing.clone() };
        let spo = ProtectiveOrder {
            id: OrderId(Uuid::from_bytes([3; 16])),
            case_id: open.id,
            order_type: OrderType::Spo,
            issued_by: "MC".into(),
            applied_on: None,
            made_on: Some(d(2026, 11, 20)),
            served_on: Some(d(2026, 11, 21)),
            expiry: Expiry::UntilFurtherOrder,
            protected_persons: vec![],
            conditions: vec![],
            bail_authority: None,
        };
        let src = Sources {
            cases: vec![&open],
            hearings: vec![&hearing, &far_hearing],
            orders: vec![&spo],
            latest_plans: vec![],
            tasks: vec![],
        };
        let got = reminders(&src, today, &Rules::shipped());
        let whats: Vec<(&str, NaiveDate)> = got.iter().map(|r| (r.what.as_str(), r.due_on)).collect();
        assert_eq!(
            whats,
            vec![
                ("Notification deadline: check the police were notified", d(2026, 11, 24)),
                ("Risk review due", d(2026, 11, 25)),
                ("Hearing: Trial", d(2026, 11, 26)),
            ]
        );
    }

    #[test]
    fn open_tasks_due_soon_are_reminders_and_each_reminder_has_a_key_without_words() {
        // The key is what a snooze is kept under: it must not carry the
        // task's words (they may name someone) and must change with the date.
        let open = case(1, CaseStatus::Open);
        let task = |n: u8, due_on, status| Task {
            id: TaskId(Uuid::from_bytes([n; 16])),
            case_id: Some(open.id),
            due_on,
            what: "Call Canary about the hearing".into(),
            linked: None,
            status,
            done_on: (status == TaskStatus::Done).then_some(due_on),
        };
        let (soon, far, done) = (
            task(4, d(2026, 11, 20), TaskStatus::Open),
            task(5, d(2026, 12, 20), TaskStatus::Open),
            task(6, d(2026, 11, 23), TaskStatus::Done),
        );
        let src = Sources { cases: vec![&open], tasks: vec![&soon, &far, &done], ..Default::default() };
        let got: Vec<Reminder> = reminders(&src, d(2026, 11, 22), &Rules::shipped())
            .into_iter()
            .filter(|r| r.kind == ReminderKind::Task)
            .collect();
        assert_eq!(got.len(), 1, "the overdue open task only");
        assert_eq!(got[0].due_on, d(2026, 11, 20));
        assert_eq!(got[0].key(), format!("task:{}:2026-11-20", soon.id));
        assert!(!got[0].key().contains("Canary"));
        assert!(!ReminderKind::Hearing.snoozable() && ReminderKind::Task.snoozable());
        for kind in [ReminderKind::Hearing, ReminderKind::OrderExpires, ReminderKind::Task] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.wire(), "the key uses the stored name");
        }
    }

    #[test]
    fn closed_cases_raise_no_reminders() {
        let closed = case(1, CaseStatus::Closed);
        let src = Sources { cases: vec![&closed], ..Default::default() };
        assert!(reminders(&src, d(2026, 11, 22), &Rules::shipped()).is_empty());
    }
}

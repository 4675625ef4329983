//! The advocate's operations that are more than one field's edit. Each is
//! made here once; the CLI, the desk (and through it the app) call these.

use crate::error::Result;
use crate::vault::Vault;
use serde_json::json;
use uuid::Uuid;
use waymark_domain::patch::{Assignment, Patch};
use waymark_domain::{CaseId, CaseStatus, Record, RecordKind, TaskStatus};

impl Vault {
    /// Corrects an incident: an amendment holding the corrected fields and
    /// why. The original stays exactly as it was recorded.
    pub fn amend_incident(&mut self, incident: Uuid, reason: &str, changes: &Patch) -> Result<Record> {
        let original = self.get_record(RecordKind::Incident, incident)?;
        let mut amendment = changes.within("changes");
        amendment.0.push(Assignment::set("incident_id", json!(incident)));
        amendment.0.push(Assignment::set("reason", json!(reason)));
        self.add(RecordKind::IncidentAmendment, original.case_id(), &amendment)
    }

    /// Marks a task done today (UK date).
    pub fn complete_task(&mut self, task: Uuid) -> Result<Record> {
        let done = Patch(vec![
            Assignment::set("status", json!(TaskStatus::Done)),
            Assignment::set("done_on", json!(self.today())),
        ]);
        self.edit(RecordKind::Task, task, &done)
    }

    /// Closes a case. `closure` holds the closure's fields (`reason`, and
    /// `closed_on` unless it is today, and the outcomes at exit).
    pub fn close_case(&mut self, case: CaseId, closure: &Patch) -> Result<Record> {
        let mut closing = closure.within("closure");
        if !closure.touches("closed_on") {
            closing.0.push(Assignment::set("closure.closed_on", json!(self.today())));
        }
        closing.0.push(Assignment::set("status", json!(CaseStatus::Closed)));
        self.edit(RecordKind::Case, case.as_uuid(), &closing)
    }
}

#[cfg(test)]
mod tests {
    use crate::kit::{add_case, clock, new_vault, patch};
    use waymark_domain::{Case, CaseStatus, ClosureReason, IncidentAmendment, Record, RecordKind, Task, TaskStatus};

    #[test]
    fn an_amendment_names_its_incident_and_the_original_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let mut v = new_vault(dir.path(), &c);
        let case = add_case(&mut v, "OP-1");
        let incident = v
            .add(
                RecordKind::Incident,
                Some(case),
                &patch(&["account=Followed home", "channel=in_person", "behaviours+=following"]),
            )
            .unwrap();
        let Record::IncidentAmendment(amendment) =
            v.amend_incident(incident.id(), "wrong road", &patch(&["location=Bus stop"])).unwrap()
        else {
            panic!("an amendment")
        };
        assert_eq!(amendment.incident_id.as_uuid(), incident.id());
        assert_eq!(amendment.case_id, case);
        assert_eq!(amendment.changes.get("location"), Some(&serde_json::json!("Bus stop")));
        let stored: IncidentAmendment = v.get(amendment.id.as_uuid()).unwrap();
        assert_eq!(stored.reason, "wrong road");
        assert_eq!(
            v.get_record(RecordKind::Incident, incident.id()).unwrap(),
            incident,
            "the original is never edited"
        );
        // A correction of an incident's provenance is refused, as an edit would be.
        assert!(v.amend_incident(incident.id(), "x", &patch(&["recorded_by=SOMEONE"])).is_err());
    }

    #[test]
    fn closing_a_case_and_finishing_a_task_are_dated_today_unless_told() {
        let dir = tempfile::tempdir().unwrap();
        let c = clock();
        let mut v = new_vault(dir.path(), &c);
        let case = add_case(&mut v, "OP-2");
        let task = v.add(RecordKind::Task, Some(case), &patch(&["what=Call back", "due_on=2026-12-01"])).unwrap();
        v.complete_task(task.id()).unwrap();
        let task: Task = v.get(task.id()).unwrap();
        assert_eq!((task.status, task.done_on), (TaskStatus::Done, Some(v.today())));

        v.close_case(case, &patch(&["reason=risk_reduced"])).unwrap();
        let closed: Case = v.get(case.as_uuid()).unwrap();
        assert_eq!(closed.status, CaseStatus::Closed);
        let closure = closed.closure.unwrap();
        assert_eq!((closure.closed_on, closure.reason), (v.today(), ClosureReason::RiskReduced));

        let other = add_case(&mut v, "OP-3");
        c.advance(chrono::Duration::days(3));
        v.close_case(other, &patch(&["reason=risk_reduced", "closed_on=2026-11-23"])).unwrap();
        let closed: Case = v.get(other.as_uuid()).unwrap();
        assert_eq!(closed.closure.unwrap().closed_on.to_string(), "2026-11-23", "a date given is kept, not today's");
        // A closure without a reason is refused and leaves the case open.
        let third = add_case(&mut v, "OP-4");
        assert!(v.close_case(third, &patch(&[])).is_err());
        assert_eq!(v.get::<Case>(third.as_uuid()).unwrap().status, CaseStatus::Open);
    }
}

//! The advocate's tasks, with or without a case.

use super::*;
use crate::record::{ids_and, KindRules, Presented};
use serde_json::json;

/// A task may have no case (an advocate's own reminder).
pub(crate) const RULES: KindRules = KindRules {
    protected: &["id"],
    new_doc: |n| ids_and(n, json!({"status": "open"})),
    presented: &[
        Presented::new("what", "Task"),
        Presented::new("due_on", "Due on"),
        // Set by completing the task (`operations::complete_task`).
        Presented::new("status", "Status").own_screen().shown_as(TaskStatus::show),
        Presented::new("done_on", "Done on").own_screen(),
    ],
    internal: &["id", "case_id", "linked"],
    ..KindRules::PLAIN
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Task {
    pub id: TaskId,
    #[serde(default)]
    pub case_id: Option<CaseId>,
    pub due_on: NaiveDate,
    pub what: String,
    #[serde(default)]
    pub linked: Option<RecordRef>,
    pub status: TaskStatus,
    #[serde(default)]
    pub done_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    pub kind: crate::record::RecordKind,
    pub id: uuid::Uuid,
}

impl Task {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.what, "what");
        c.require(
            (self.status == TaskStatus::Done) == self.done_on.is_some(),
            "done_on",
            "is set exactly when the task is done",
        );
    }
}

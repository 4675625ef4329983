//! The retention review: every closed case with its place in the service's
//! schedule (`waymark_domain::retention`), on a laptop its own caseload and
//! at the clinic its copy of the service's; and the check that the op log is
//! whole after erasures.

use crate::audit::AuditAction;
use crate::error::{Result, VaultError};
use crate::vault::Vault;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use waymark_domain::retention::retention;
pub use waymark_domain::retention::RetentionRow;
use waymark_domain::time::london_date;
use waymark_domain::{Case, CaseId, RecordKind};

impl Vault {
    /// Every closed case with its retention date, the due ones first.
    /// Audited as a list view.
    pub fn retention_review(&mut self) -> Result<Vec<RetentionRow>> {
        let rows = self.read_retention(self.now())?;
        self.record_event(
            AuditAction::List,
            Some(RecordKind::Case),
            None,
            None,
            json!({"screen": "retention", "closed": rows.len(), "due": rows.iter().filter(|r| r.due).count()}),
        )?;
        Ok(rows)
    }

    pub(crate) fn read_retention(&self, now: DateTime<Utc>) -> Result<Vec<RetentionRow>> {
        let today = london_date(now);
        let mut last_contact: HashMap<String, NaiveDate> = HashMap::new();
        let mut stmt = self.conn().prepare_cached("SELECT case_id, max(at) FROM contacts GROUP BY case_id")?;
        let mut found = stmt.query([])?;
        while let Some(row) = found.next()? {
            let (case, at): (String, String) = (row.get(0)?, row.get(1)?);
            let at = DateTime::parse_from_rfc3339(&at).map_err(|_| VaultError::DatabaseUnreadable)?;
            last_contact.insert(case, london_date(at.with_timezone(&Utc)));
        }
        drop(found);
        drop(stmt);
        let rules = &self.rules().retention;
        let mut rows: Vec<RetentionRow> = self
            .list_all::<Case>()?
            .into_iter()
            .filter_map(|case| {
                let kept = retention(&case, last_contact.get(&case.id.to_string()).copied(), rules)?;
                let closure = case.closure?;
                Some(RetentionRow {
                    due: kept.is_due(today),
                    case_id: case.id,
                    reference: case.reference,
                    advocate: case.advocate,
                    closed_on: closure.closed_on,
                    closure_reason: closure.reason,
                    retention: kept,
                })
            })
            .collect();
        rows.sort_by(|a, b| b.due.cmp(&a.due).then(a.retention.due_on.cmp(&b.retention.due_on)));
        Ok(rows)
    }

    /// The case ids the clinic erased here, with when.
    pub fn erasures(&self) -> Result<Vec<(CaseId, DateTime<Utc>)>> {
        let mut stmt = self.conn().prepare_cached("SELECT case_id, erased_at FROM erasures ORDER BY erased_at")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (case, at) = row?;
            let case = case.parse().map(CaseId).map_err(|_| VaultError::DatabaseUnreadable)?;
            let at = DateTime::parse_from_rfc3339(&at).map_err(|_| VaultError::DatabaseUnreadable)?;
            out.push((case, at.with_timezone(&Utc)));
        }
        Ok(out)
    }

    /// Checks the op log is whole: numbered from 1 without a gap, every op
    /// readable as the change it was, and every tombstone an op of a case the
    /// clinic erased. Returns the number of ops.
    pub fn op_log_verify(&self) -> Result<OpLogVerified> {
        let mut stmt = self.conn().prepare("SELECT seq, case_id, changes, erased_at FROM ops ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let (mut expected, mut erased) = (1i64, 0i64);
        let broken = |what: String| Err(VaultError::OpLogBroken(what));
        while let Some(row) = rows.next()? {
            let (seq, case, changes, erased_at): (i64, Option<String>, String, Option<String>) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            if seq != expected {
                return broken(format!("op {expected} is missing"));
            }
            match erased_at {
                Some(_) => {
                    let tombstone = changes == crate::sync::TOMBSTONE;
                    let case_erased = match &case {
                        Some(case) => {
                            self.conn().prepare_cached("SELECT 1 FROM erasures WHERE case_id = ?1")?.exists([case])?
                        }
                        None => false,
                    };
                    if !(tombstone && case_erased) {
                        return broken(format!("op {seq} was emptied without an erasure"));
                    }
                    erased += 1;
                }
                None if serde_json::from_str::<waymark_protocol::OpChanges>(&changes).is_err() => {
                    return broken(format!("op {seq} does not read as a change"));
                }
                None => {}
            }
            expected += 1;
        }
        Ok(OpLogVerified { ops: expected - 1, erased })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpLogVerified {
    pub ops: i64,
    /// Of which tombstones of erased cases.
    pub erased: i64,
}

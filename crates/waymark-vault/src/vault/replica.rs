//! The clinic's copy of the records: a vault that only ever receives ops.
//! The clinic applies the ops it accepts through the same `sync_apply` a
//! laptop uses, so a record kind, its validation and its merge have one
//! implementation, and it reads with the laptop's queries. A `Replica` has
//! no write path of its own: the clinic's changes reach it as ops in the
//! feed, like everyone else's.

use super::*;
use crate::queries::{CaseFile, CaseloadFilter, CaseloadRow};
use crate::sync::{ApplyReport, Problem};
use waymark_protocol::WireOp;

/// The actor a replica records for what it applies: no staff code is this
/// (staff codes are letters, digits, '-' and '_', and the clinic refuses this one).
pub const REPLICA_ACTOR: &str = "clinic-replica";
/// Marks a vault as a replica, naming the clinic whose feed it copies.
const REPLICA_OF: &str = "replica_of";

pub struct Replica {
    vault: Vault,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica").field("vault", &self.vault).finish()
    }
}

impl Replica {
    /// Opens the replica in `dir`, creating it when the folder holds none.
    /// The clinic keeps the key (there is no key file or passphrase); ops
    /// from `clinic` may set what the clinic owns (assignment, reviews). A
    /// replica held under another key or for another clinic is refused
    /// (`KeyMismatch`): it is a copy of the feed, so the caller starts afresh.
    pub fn open(dir: &Path, key: DbKey, clinic: Uuid, mut env: Env) -> Result<Replica> {
        std::fs::create_dir_all(dir).map_err(VaultError::io("create replica folder"))?;
        restrict_permissions(dir)?;
        let path = dir.join(db::DB_FILE);
        if !path.exists() {
            let mut conn = db::open(&path, Some(&key), true)?;
            db::migrate(&mut conn)?;
            let now = env.clock.now();
            let device = DeviceId::new(now, env.rng.as_mut());
            let tx = conn.transaction()?;
            stamp_identity(&tx, &key, REPLICA_ACTOR, device, now)?;
            meta_set(&tx, REPLICA_OF, &clinic.to_string())?;
            tx.commit()?;
        }
        let vault = Vault::open_with_key(dir, key, env)?;
        if meta_get(&vault.conn, REPLICA_OF)?.and_then(|c| c.parse::<Uuid>().ok()) != Some(clinic) {
            return Err(VaultError::KeyMismatch);
        }
        Ok(Replica { vault })
    }

    /// The clinic whose ops may set clinic-owned fields here.
    pub(crate) fn clinic_of(conn: &Connection) -> Result<Option<Uuid>> {
        Ok(meta_get(conn, REPLICA_OF)?.and_then(|c| c.parse().ok()))
    }

    /// Applies a page of the feed, in feed order, and moves the cursor to
    /// `through`, in one transaction, exactly as a laptop's pull does.
    pub fn apply(&mut self, ops: &[WireOp], through: u64) -> Result<ApplyReport> {
        self.vault.sync_apply(ops, through)
    }

    /// The feed position applied so far.
    pub fn cursor(&self) -> Result<u64> {
        self.vault.sync_pull_cursor()
    }

    /// Every case the replica holds, with the laptop's caseload columns. Not
    /// audited here: the clinic audits each reader in its own trail.
    pub fn caseload(&self, filter: &CaseloadFilter) -> Result<Vec<CaseloadRow>> {
        self.vault.caseload_rows(filter, self.vault.now())
    }

    /// What the escalation analysis and the panel's selection read of every incident.
    pub fn incident_facts(&self) -> Result<Vec<waymark_domain::escalation::IncidentFacts>> {
        self.vault.incident_facts()
    }

    /// The records the service's quarterly return counts; the clinic adds what only it holds.
    pub fn return_facts(&self) -> Result<waymark_domain::report::ReturnFacts> {
        self.vault.return_facts()
    }

    /// Every closed case with its place in the service's retention schedule, the due ones first.
    pub fn retention_review(&self) -> Result<Vec<waymark_domain::retention::RetentionRow>> {
        self.vault.read_retention(self.vault.now())
    }

    /// The escalation analysis of every open case.
    pub fn escalations(&self) -> Result<std::collections::HashMap<CaseId, waymark_domain::escalation::Escalation>> {
        self.vault.escalations(self.vault.now())
    }

    /// The tasks that link to a record (a panel action's task links to its review).
    pub fn tasks_linked_to(&self, id: Uuid) -> Result<Vec<waymark_domain::Task>> {
        self.vault.tasks_linked_to(id)
    }

    /// One case whole, with the laptop's warnings. Not audited here either.
    pub fn case_file(&self, case_id: CaseId) -> Result<CaseFile> {
        self.vault.read_case_file(case_id)
    }

    pub fn get_record(&self, kind: RecordKind, id: Uuid) -> Result<Record> {
        self.vault.get_record(kind, id)
    }

    /// Every record of a kind, across cases.
    pub fn list_all<E: waymark_domain::Entity>(&self) -> Result<Vec<E>> {
        self.vault.list_all()
    }

    pub fn list_kind(&self, kind: RecordKind, case: CaseId) -> Result<Vec<Record>> {
        self.vault.list_kind(kind, case)
    }

    /// Everything the copy holds of a case, for a subject access request at the clinic.
    pub fn case_held(&self, case: CaseId) -> Result<crate::access::CaseHeld> {
        self.vault.case_held(case)
    }

    /// Safety-critical fields changed on two laptops at once, until an
    /// advocate decides: the same conflicts, by id, as the laptops hold.
    pub fn conflicts(&self) -> Result<Vec<crate::sync::Conflict>> {
        self.vault.sync_conflicts()
    }

    /// Ops the replica could not apply (a clash with a record it holds), kept whole.
    pub fn problems(&self) -> Result<Vec<Problem>> {
        self.vault.sync_problems()
    }

    pub fn rules(&self) -> &Rules {
        &self.vault.rules
    }

    pub fn close(self) {
        self.vault.lock();
    }
}

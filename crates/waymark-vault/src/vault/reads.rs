//! Reading records by id and by case, in the order each kind declares.

use super::*;

impl Vault {
    pub fn get_record(&self, kind: RecordKind, id: Uuid) -> Result<Record> {
        let doc: Option<String> = self
            .conn
            .prepare_cached(&format!("SELECT doc FROM {} WHERE id = ?1", kind.table()))?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?;
        let doc = doc.ok_or(VaultError::NotFound { kind })?;
        let value = serde_json::from_str(&doc).map_err(|_| VaultError::DatabaseUnreadable)?;
        Record::from_doc(kind, value).map_err(|_| VaultError::DatabaseUnreadable)
    }

    pub fn get<E: Entity>(&self, id: Uuid) -> Result<E> {
        read_doc(&self.conn, E::KIND, id)
    }

    /// All records of a kind for a case, in their natural order.
    pub fn list<E: Entity>(&self, case: CaseId) -> Result<Vec<E>> {
        self.read_docs(&list_sql(E::KIND), &[&case.to_string()])
    }

    /// All records of a kind for a case, in their natural order, untyped.
    pub fn list_kind(&self, kind: RecordKind, case: CaseId) -> Result<Vec<Record>> {
        let mut stmt = self.conn.prepare_cached(&list_sql(kind))?;
        let docs = stmt.query_map([case.to_string()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for doc in docs {
            let doc = serde_json::from_str(&doc?).map_err(|_| VaultError::DatabaseUnreadable)?;
            out.push(Record::from_doc(kind, doc).map_err(|_| VaultError::DatabaseUnreadable)?);
        }
        Ok(out)
    }

    /// The records of a case whose free text shows its victim's address now
    /// (`CaseFile::address_mentions`), read without recording a view.
    pub fn address_mentions(&self, case: CaseId) -> Result<Vec<(RecordKind, Uuid, Vec<String>)>> {
        Ok(self.read_case_file(case)?.address_mentions())
    }

    /// Every record of a kind in the vault (for reminders and reports).
    pub fn list_all<E: Entity>(&self) -> Result<Vec<E>> {
        self.read_docs(&format!("SELECT doc FROM {} ORDER BY id", E::KIND.table()), &[])
    }

    /// The tasks that link to a record, by the index made for it (schema 9).
    pub fn tasks_linked_to(&self, id: uuid::Uuid) -> Result<Vec<waymark_domain::Task>> {
        self.read_docs(
            "SELECT doc FROM tasks WHERE json_extract(doc, '$.linked.id') = ?1 ORDER BY id",
            &[&id.to_string()],
        )
    }

    /// Stored documents were validated on the way in, so they are read
    /// straight into their type.
    pub(crate) fn read_docs<E: Entity>(&self, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<E>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let docs = stmt.query_map(params, |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for doc in docs {
            out.push(serde_json::from_str::<E>(&doc?).map_err(|_| VaultError::DatabaseUnreadable)?);
        }
        Ok(out)
    }

    /// The case with this reference, if the vault holds one.
    pub fn find_case(&self, reference: &str) -> Result<Option<CaseId>> {
        let id: Option<String> = self
            .conn
            .prepare_cached("SELECT id FROM cases WHERE reference = ?1 LIMIT 1")?
            .query_row([reference.trim()], |r| r.get(0))
            .optional()?;
        id.map(|id| id.parse().map_err(|_| VaultError::DatabaseUnreadable)).transpose()
    }

    /// Finds a case by its reference or its id.
    pub fn resolve_case(&self, text: &str) -> Result<CaseId> {
        let text = text.trim();
        if let Ok(id) = text.parse::<CaseId>() {
            return self.get_record(RecordKind::Case, id.as_uuid()).map(|_| id);
        }
        // Two cases can share a reference after a sync; guessing between them could print the wrong victim's plan.
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM cases WHERE reference = ?1 LIMIT 2")?
            .query_map([text], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match ids.as_slice() {
            [one] => one.parse().map_err(|_| VaultError::DatabaseUnreadable),
            [] => Err(VaultError::NotFound { kind: RecordKind::Case }),
            _ => Err(VaultError::AmbiguousReference),
        }
    }

    pub fn audit_verify(&self) -> Result<audit::Verified> {
        audit::verify(&self.conn)
    }

    pub fn audit_events(&self, case: Option<CaseId>, limit: u32) -> Result<Vec<audit::AuditEvent>> {
        audit::list(&self.conn, case.map(|c| c.to_string()).as_deref(), limit)
    }

    /// Ops not yet acknowledged by the clinic.
    pub fn pending_ops(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
    }
}

/// Reads a case's records of `kind` in the order the kind declares.
pub(super) fn list_sql(kind: RecordKind) -> String {
    format!("SELECT doc FROM {} WHERE case_id = ?1 ORDER BY {}", kind.table(), kind.rules().order.join(", "))
}

pub(super) fn read_doc<E: Entity>(conn: &Connection, kind: RecordKind, id: Uuid) -> Result<E> {
    let doc: Option<String> = conn
        .prepare_cached(&format!("SELECT doc FROM {} WHERE id = ?1", kind.table()))?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    serde_json::from_str::<E>(&doc.ok_or(VaultError::NotFound { kind })?).map_err(|_| VaultError::DatabaseUnreadable)
}

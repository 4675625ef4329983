//! The write path: every change on this laptop is made here, in one
//! transaction with its op, field clocks, outbox row and audit event.

use super::reads::read_doc;
use super::*;

impl Vault {
    /// The one write path. In one transaction, for each mutation: check it,
    /// apply it, append an op to the device's op log (and its outbox entry),
    /// and append an audit event. Any failure rolls back all of them.
    pub fn commit(&mut self, mutations: Vec<Mutation>) -> Result<Vec<Uuid>> {
        self.write(mutations, true)
    }

    /// Runs `mutations` through every check the write path makes, in its
    /// transaction, and rolls it back: a dry run refused exactly as the
    /// write would be, leaving nothing behind (no record, op or audit event).
    pub fn trial(&mut self, mutations: Vec<Mutation>) -> Result<()> {
        self.write(mutations, false).map(|_| ())
    }

    fn write(&mut self, mutations: Vec<Mutation>, keep: bool) -> Result<Vec<Uuid>> {
        let now = self.env.clock.now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        // A victim saved in this batch (a new case) is the address to guard for its case.
        let batch_addresses: Vec<(CaseId, Address)> = mutations
            .iter()
            .filter_map(|m| match m {
                Mutation::Create(Record::Victim(v)) | Mutation::Update(Record::Victim(v)) => {
                    Some((v.case_id, v.address.clone()?))
                }
                _ => None,
            })
            .collect();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut hlc = self.hlc;
        let mut ids = Vec::with_capacity(mutations.len());
        let mut renamed_case = false;
        for mutation in mutations {
            let (mut record, creating) = match mutation {
                Mutation::Create(r) => (r, true),
                Mutation::Update(r) => (r, false),
            };
            let kind = record.kind();
            // A new entry of a consents, dependants or vehicles list gets its id here, on every write path.
            if !kind.rules().keyed.is_empty() {
                let mut doc = record.to_doc();
                let rng = &mut self.env.rng;
                if waymark_domain::merge::give_entry_ids(kind, &mut doc, || {
                    waymark_domain::ids::uuid_v7(now, rng.as_mut())
                }) {
                    record = Record::from_doc(kind, doc)?;
                }
            }
            record.validate(&ctx)?;
            let id = record.id().to_string();
            let old_doc = crate::documents::read(&tx, kind, &id)?.map(|(doc, _)| doc);
            let old: Option<Value> =
                old_doc.map(|d| serde_json::from_str(&d)).transpose().map_err(|_| VaultError::DatabaseUnreadable)?;
            match (creating, &old) {
                (true, Some(_)) => return Err(VaultError::Duplicate { field: "id" }),
                (false, None) => return Err(VaultError::NotFound { kind }),
                (false, Some(_)) if !kind.is_mutable() => {
                    return Err(VaultError::Immutable { kind, correction: kind.rules().correction.unwrap_or("record") })
                }
                _ => {}
            }
            let new = record.to_doc();
            if let Some(old) = &old {
                if old.get("case_id") != new.get("case_id") {
                    return Err(
                        ValidationErrors::single("case_id", "cannot be changed; a record stays with its case").into()
                    );
                }
            }
            check_references(&tx, &record)?;
            check_store_rules(&tx, &record, creating, &ctx)?;
            let changes = field_changes(old.as_ref(), &new);
            renamed_case |= kind == RecordKind::Case && changes.iter().any(|c| c.0 == "reference");
            if changes.is_empty() {
                ids.push(record.id());
                continue;
            }
            let address_shown = address_in_text(&tx, &record, &new, &changes, &batch_addresses)?;
            if !address_shown.is_empty() && !self.address_confirmed {
                return Err(VaultError::AddressInText { kind, fields: address_shown });
            }
            hlc = hlc.tick(now_ms);
            let hlc_text = hlc.to_string();
            let doc_text = new.to_string();
            if creating {
                crate::documents::insert(&tx, kind, &id, &doc_text, &hlc_text)?;
            } else {
                crate::documents::update(&tx, kind, &id, &doc_text, &hlc_text)?;
            }
            let case_id = record.case_id().map(|c| c.to_string());
            let op_id = waymark_domain::ids::uuid_v7(now, self.env.rng.as_mut()).to_string();
            let action = if creating { OpAction::Create } else { OpAction::Update };
            let seq = append_op(
                &tx,
                &NewOp {
                    op_id: &op_id,
                    hlc: &hlc_text,
                    made_at: now,
                    actor: &self.actor,
                    kind,
                    record_id: &id,
                    case_id: case_id.as_deref(),
                    action,
                    changes: &op_changes(creating, &changes),
                },
            )?;
            // The audit names changed fields on an edit (never values); a create points at its op.
            let detail = if creating {
                json!({ "op": seq })
            } else {
                json!({ "fields": changes.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), "op": seq })
            };
            if !address_shown.is_empty() {
                // The advocate was warned and saved anyway: which fields, never what they hold.
                audit::append(
                    &tx,
                    &AuditEntry {
                        at: now,
                        actor: &self.actor,
                        action: AuditAction::AddressInTextConfirmed,
                        kind: Some(kind.wire()),
                        record_id: Some(id.clone()),
                        case_id: case_id.clone(),
                        detail: json!({ "fields": address_shown, "op": seq }),
                    },
                )?;
            }
            audit::append(
                &tx,
                &AuditEntry {
                    at: now,
                    actor: &self.actor,
                    action: if creating { AuditAction::Create } else { AuditAction::Update },
                    kind: Some(kind.wire()),
                    record_id: Some(id),
                    case_id,
                    detail,
                },
            )?;
            ids.push(record.id());
        }
        if renamed_case {
            crate::sync::settle_shared_references(&tx, now)?;
        }
        meta_set(&tx, "hlc", &hlc.to_string())?;
        if !keep {
            // Dropped, the transaction rolls back.
            return Ok(ids);
        }
        tx.commit()?;
        self.hlc = hlc;
        Ok(ids)
    }

    /// Runs `write` with the address guard's warning accepted: a save that
    /// would otherwise be refused with `AddressInText` goes ahead, and the
    /// audit trail records which fields hold the address.
    pub fn with_address_confirmed<T>(&mut self, write: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.address_confirmed = true;
        let out = write(self);
        self.address_confirmed = false;
        out
    }

    pub fn create<E: Entity>(&mut self, record: E) -> Result<E> {
        self.commit(vec![Mutation::Create(record.clone().into_record())])?;
        Ok(record)
    }

    pub fn update<E: Entity>(&mut self, record: E) -> Result<E> {
        self.commit(vec![Mutation::Update(record.clone().into_record())])?;
        Ok(record)
    }

    /// Builds a new record from field assignments without saving it. The core
    /// fills in the id, the case, the time and the actor, and refuses
    /// assignments to those fields.
    pub fn draft(&mut self, kind: RecordKind, case: Option<CaseId>, patch: &Patch) -> Result<Record> {
        if kind != RecordKind::Case && kind != RecordKind::Task && case.is_none() {
            return Err(ValidationErrors::single("case", "is required: give the case reference").into());
        }
        if let Some(case) = case {
            self.get_record(RecordKind::Case, case.as_uuid())?;
        }
        self.draft_unchecked(kind, case, patch)
    }

    /// Opens a case and records its victim in one transaction: a new case is
    /// never saved without the person it is about.
    pub fn open_case(&mut self, case: &Patch, victim: &Patch) -> Result<(Record, Record)> {
        let case_record = self.draft_unchecked(RecordKind::Case, None, case).map_err(within("case"))?;
        let case_id = case_record.case_id();
        let victim_record = self.draft_unchecked(RecordKind::Victim, case_id, victim).map_err(within("victim"))?;
        self.commit(vec![Mutation::Create(case_record.clone()), Mutation::Create(victim_record.clone())])?;
        Ok((case_record, victim_record))
    }

    /// A case from a spreadsheet row (`waymark-import`): its victim and, when
    /// the row names one, its perpetrator, written together or not at all,
    /// or with `dry_run` checked exactly so and rolled back. Field errors
    /// say which record they belong to (`victim.date_of_birth`).
    pub fn import_case(
        &mut self,
        case: &Patch,
        victim: &Patch,
        perpetrator: Option<&Patch>,
        dry_run: bool,
    ) -> Result<()> {
        let case_record = self.draft_unchecked(RecordKind::Case, None, case).map_err(within("case"))?;
        let case_id = case_record.case_id();
        let mut records = vec![
            ("case", case_record),
            ("victim", self.draft_unchecked(RecordKind::Victim, case_id, victim).map_err(within("victim"))?),
        ];
        if let Some(perpetrator) = perpetrator {
            let record =
                self.draft_unchecked(RecordKind::Perpetrator, case_id, perpetrator).map_err(within("perpetrator"))?;
            records.push(("perpetrator", record));
        }
        // Each record's own rules first, so an error names the record it is in;
        // the write checks them again with everything else.
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        for (part, record) in &records {
            record.validate(&ctx).map_err(|e| within(part)(e.into()))?;
        }
        let mutations = records.into_iter().map(|(_, r)| Mutation::Create(r)).collect();
        if dry_run {
            self.trial(mutations)
        } else {
            self.commit(mutations).map(|_| ())
        }
    }

    fn draft_unchecked(&mut self, kind: RecordKind, case: Option<CaseId>, patch: &Patch) -> Result<Record> {
        let id = self.new_uuid();
        let now = self.now();
        let actor = self.actor.clone();
        let mut doc =
            (kind.rules().new_doc)(&NewRecord { id, case_id: case, now, today: london_date(now), actor: &actor });
        if kind == RecordKind::SafetyPlan {
            self.continue_plan(&mut doc, case)?;
        }
        patch.apply(&mut doc, kind.rules().protected)?;
        self.give_entry_ids(kind, &mut doc);
        if kind == RecordKind::RiskAssessment {
            self.fill_instrument_version(&mut doc);
        }
        Ok(Record::from_doc(kind, doc)?)
    }

    /// Creates a record from field assignments. A risk assessment newer than
    /// the case's last one also sets the case's current risk, in the same transaction.
    pub fn add(&mut self, kind: RecordKind, case: Option<CaseId>, patch: &Patch) -> Result<Record> {
        let record = self.draft(kind, case, patch)?;
        let mut mutations = vec![Mutation::Create(record.clone())];
        if let Record::RiskAssessment(assessment) = &record {
            if self.is_latest_assessment(assessment)? {
                let mut case: waymark_domain::Case = self.get(assessment.case_id.as_uuid())?;
                case.apply_assessment(assessment);
                mutations.push(Mutation::Update(Record::Case(case)));
            }
        }
        self.commit(mutations)?;
        Ok(record)
    }

    /// Edits a record with field assignments.
    pub fn edit(&mut self, kind: RecordKind, id: Uuid, patch: &Patch) -> Result<Record> {
        if !kind.is_mutable() {
            return Err(VaultError::Immutable { kind, correction: kind.rules().correction.unwrap_or("record") });
        }
        let mut doc = self.get_record(kind, id)?.to_doc();
        patch.apply(&mut doc, kind.rules().protected)?;
        self.give_entry_ids(kind, &mut doc);
        let record = Record::from_doc(kind, doc)?;
        self.commit(vec![Mutation::Update(record.clone())])?;
        Ok(record)
    }

    /// A new safety plan version starts from the latest one's content.
    fn continue_plan(&self, doc: &mut Value, case: Option<CaseId>) -> Result<()> {
        let Some(case) = case else { return Ok(()) };
        let latest: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT version, doc FROM safety_plans WHERE case_id = ?1 ORDER BY version DESC LIMIT 1",
                [case.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (version, previous) = match latest {
            Some((v, d)) => (v + 1, serde_json::from_str::<Value>(&d).map_err(|_| VaultError::DatabaseUnreadable)?),
            None => (1, Value::Null),
        };
        if let (Some(target), Some(source)) = (doc.as_object_mut(), previous.as_object()) {
            for &field in RecordKind::SafetyPlan.rules().carries_forward {
                if let Some(v) = source.get(field) {
                    target.insert(field.to_owned(), v.clone());
                }
            }
        }
        doc["version"] = json!(version);
        Ok(())
    }

    fn fill_instrument_version(&self, doc: &mut Value) {
        let instrument = doc.get("instrument").and_then(Value::as_str).and_then(|i| self.instruments.get(i));
        if let (Some(instrument), true) = (instrument, doc.get("instrument_version").is_none()) {
            doc["instrument_version"] = json!(instrument.version);
        }
    }

    fn is_latest_assessment(&self, assessment: &waymark_domain::RiskAssessment) -> Result<bool> {
        let latest: Option<String> = self.conn.query_row(
            "SELECT max(assessed_on) FROM risk_assessments WHERE case_id = ?1",
            [assessment.case_id.to_string()],
            |r| r.get(0),
        )?;
        Ok(latest.is_none_or(|l| assessment.assessed_on.to_string() >= l))
    }

    /// Records a view, print or export in the audit trail.
    pub fn record_event(
        &mut self,
        action: AuditAction,
        kind: Option<RecordKind>,
        record_id: Option<Uuid>,
        case_id: Option<CaseId>,
        detail: Value,
    ) -> Result<()> {
        let now = self.env.clock.now();
        // The event and the new chain head commit together.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action,
                kind: kind.map(RecordKind::wire),
                record_id: record_id.map(|i| i.to_string()),
                case_id: case_id.map(|c| c.to_string()),
                detail,
            },
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// An op about to join the device's log.
pub(crate) struct NewOp<'a> {
    pub op_id: &'a str,
    pub hlc: &'a str,
    pub made_at: DateTime<Utc>,
    pub actor: &'a str,
    pub kind: RecordKind,
    pub record_id: &'a str,
    pub case_id: Option<&'a str>,
    pub action: OpAction,
    pub changes: &'a Value,
}

/// Appends an op with the next contiguous sequence, its outbox entry, and the
/// clock of every field it writes, inside the caller's transaction.
pub(crate) fn append_op(tx: &Connection, op: &NewOp<'_>) -> Result<i64> {
    let seq: i64 = tx.prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM ops")?.query_row([], |r| r.get(0))?;
    let changes = if op.action == OpAction::Update { with_base(tx, op)? } else { op.changes.clone() };
    tx.prepare_cached(
        "INSERT INTO ops (seq, op_id, hlc, made_at, actor, kind, record_id, case_id, action, changes, schema_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        seq,
        op.op_id,
        op.hlc,
        op.made_at.to_rfc3339(),
        op.actor,
        op.kind.wire(),
        op.record_id,
        op.case_id,
        op.action.as_str(),
        changes.to_string(),
        db::schema_version(),
    ])?;
    tx.prepare_cached("INSERT INTO outbox (seq) VALUES (?1)")?.execute([seq])?;
    if let Some(fields) = changes.get("new").and_then(Value::as_object) {
        crate::clocks::set(tx, op.record_id, fields.keys().map(String::as_str), op.hlc, op.op_id)?;
    }
    Ok(seq)
}

/// An update's changes with, per field, the writes it replaces (`base`):
/// the field's heads as this device knows them. An update of a field in
/// conflict decides it, so the conflict is closed and named in `resolves`.
pub(super) fn with_base(tx: &Connection, op: &NewOp<'_>) -> Result<Value> {
    let mut changes = op.changes.clone();
    let fields: Vec<String> =
        changes.get("new").and_then(Value::as_object).map(|n| n.keys().cloned().collect()).unwrap_or_default();
    let mut base = serde_json::Map::new();
    let mut resolves: Vec<Value> = changes.get("resolves").and_then(Value::as_array).cloned().unwrap_or_default();
    for field in fields {
        let keeps_heads =
            waymark_domain::merge::field_class(op.kind, &field) != waymark_domain::merge::FieldClass::Ordinary;
        let before = changes.get("old").and_then(|old| old.get(&field)).cloned().unwrap_or(Value::Null);
        let (replaced, closed) =
            crate::heads::supersede_locally(tx, op.record_id, &field, &before, keeps_heads, op.made_at, op.actor)?;
        base.insert(field, json!(replaced));
        for id in closed {
            if !resolves.iter().any(|r| r.as_str() == Some(id.as_str())) {
                resolves.push(Value::String(id));
            }
        }
    }
    if let Some(map) = changes.as_object_mut() {
        map.insert("base".into(), Value::Object(base));
        if !resolves.is_empty() {
            map.insert("resolves".into(), Value::Array(resolves));
        }
    }
    Ok(changes)
}

/// The op's field-level change: every field's value for a create; the new and
/// old values of the changed fields for an update.
pub(super) fn op_changes(creating: bool, changes: &[(String, Value, Value)]) -> Value {
    let new: serde_json::Map<String, Value> = changes.iter().map(|(f, _, n)| (f.clone(), n.clone())).collect();
    if creating {
        json!({ "new": new })
    } else {
        let old: serde_json::Map<String, Value> = changes.iter().map(|(f, o, _)| (f.clone(), o.clone())).collect();
        json!({ "new": new, "old": old })
    }
}

/// The address guard: free-text fields this change sets that show the case's
/// victim's address (street with or without the number, postcode however
/// written), as field paths. Text there can be printed, exported or sent to
/// the clinic, where the address field's "do not disclose" does not reach.
pub(super) fn address_in_text(
    conn: &Connection,
    record: &Record,
    doc: &Value,
    changes: &[(String, Value, Value)],
    batch: &[(CaseId, Address)],
) -> Result<Vec<String>> {
    let Some(case) = record.case_id() else { return Ok(Vec::new()) };
    let address = match (record, batch.iter().find(|(c, _)| *c == case)) {
        (Record::Victim(v), _) => v.address.clone(),
        (_, Some((_, a))) => Some(a.clone()),
        _ => {
            let stored: Option<String> = conn
                .prepare_cached("SELECT doc FROM victims WHERE case_id = ?1 LIMIT 1")?
                .query_row([case.to_string()], |r| r.get(0))
                .optional()?;
            let victim: Option<Victim> =
                stored.map(|d| serde_json::from_str(&d)).transpose().map_err(|_| VaultError::DatabaseUnreadable)?;
            victim.and_then(|v| v.address)
        }
    };
    let Some(address) = address else { return Ok(Vec::new()) };
    let finder = waymark_domain::disclosure::Finder::of_addresses([&address]);
    let changed = |path: &String| changes.iter().any(|c| path.split('.').next() == Some(c.0.as_str()));
    Ok(waymark_domain::disclosure::fields_showing(&finder, record.kind(), doc).into_iter().filter(changed).collect())
}

/// Top-level fields that differ, as (field, old, new).
pub(super) fn field_changes(old: Option<&Value>, new: &Value) -> Vec<(String, Value, Value)> {
    let empty = serde_json::Map::new();
    let old_map = old.and_then(Value::as_object).unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    let mut fields: Vec<&String> = old_map.keys().chain(new_map.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|f| {
            let (o, n) =
                (old_map.get(f).cloned().unwrap_or(Value::Null), new_map.get(f).cloned().unwrap_or(Value::Null));
            (o != n).then(|| (f.clone(), o, n))
        })
        .collect()
}

pub(crate) fn check_references(conn: &Connection, record: &Record) -> Result<()> {
    let own_case = record.case_id().map(|c| c.to_string());
    for r in record.references() {
        if r.kind == RecordKind::Case && record.kind() == RecordKind::Case {
            continue;
        }
        let found: Option<Option<String>> = conn
            .prepare_cached(&format!("SELECT case_id FROM {} WHERE id = ?1", r.kind.table()))?
            .query_row([r.id.to_string()], |row| row.get(0))
            .optional()?;
        match found {
            None => {
                return Err(ValidationErrors::single(
                    r.field,
                    format!("refers to a {} that does not exist", r.kind.wire()),
                )
                .into())
            }
            Some(case) if r.kind != RecordKind::Case && case != own_case => {
                return Err(
                    ValidationErrors::single(r.field, format!("refers to a {} in another case", r.kind.wire())).into()
                )
            }
            _ => {}
        }
    }
    Ok(())
}

/// Rules that need the rest of the vault to check.
pub(super) fn check_store_rules(conn: &Connection, record: &Record, creating: bool, ctx: &Ctx<'_>) -> Result<()> {
    match record {
        Record::Case(case) => {
            // Only a new or changed reference is checked: a case that came to
            // share its reference through sync must stay editable.
            let clash: Option<String> = conn
                .prepare_cached(
                    "SELECT id FROM cases WHERE reference = ?1 AND id <> ?2
                       AND NOT EXISTS (SELECT 1 FROM cases WHERE id = ?2 AND reference = ?1)",
                )?
                .query_row(params![case.reference, case.id.to_string()], |r| r.get(0))
                .optional()?;
            if clash.is_some() {
                return Err(VaultError::Duplicate { field: "reference" });
            }
        }
        Record::Victim(victim) if creating => {
            let existing: Option<String> = conn
                .prepare_cached("SELECT id FROM victims WHERE case_id = ?1")?
                .query_row([victim.case_id.to_string()], |r| r.get(0))
                .optional()?;
            if existing.is_some() {
                return Err(
                    ValidationErrors::single("case_id", "already has a victim record; edit that one instead").into()
                );
            }
        }
        Record::SafetyPlan(plan) => {
            let max: Option<i64> = conn
                .prepare_cached("SELECT max(version) FROM safety_plans WHERE case_id = ?1")?
                .query_row([plan.case_id.to_string()], |r| r.get(0))?;
            let next = max.unwrap_or(0) + 1;
            if i64::from(plan.version) != next {
                return Err(ValidationErrors::single(
                    "version",
                    format!("must be {next}, the next version for this case"),
                )
                .into());
            }
        }
        Record::IncidentAmendment(amendment) => {
            let incident: waymark_domain::Incident =
                read_doc(conn, RecordKind::Incident, amendment.incident_id.as_uuid())?;
            let mut stmt =
                conn.prepare_cached("SELECT doc FROM incident_amendments WHERE incident_id = ?1 ORDER BY id")?;
            let mut earlier: Vec<waymark_domain::IncidentAmendment> = Vec::new();
            for doc in stmt.query_map([amendment.incident_id.to_string()], |r| r.get::<_, String>(0))? {
                earlier.push(serde_json::from_str(&doc?).map_err(|_| VaultError::DatabaseUnreadable)?);
            }
            let corrected = incident.amended(earlier.iter().chain(std::iter::once(amendment)))?;
            corrected.validate(ctx).map_err(|e| {
                let mut prefixed = waymark_domain::validation::Checker::new();
                prefixed.merge("changes.", e);
                VaultError::Invalid(prefixed.finish().err().unwrap_or_default())
            })?;
        }
        _ => {}
    }
    Ok(())
}

/// Field errors of one record of a form that makes several, named within it
/// (`victim.date_of_birth`), so a person knows which part to correct.
fn within(part: &'static str) -> impl Fn(VaultError) -> VaultError {
    move |e| match e {
        VaultError::Invalid(mut errors) => {
            errors.0.iter_mut().for_each(|f| f.field = format!("{part}.{}", f.field));
            VaultError::Invalid(errors)
        }
        other => other,
    }
}

//! Applying ops from the clinic: receipt (resends, quarantine, held ops), the per-field merge, heads and conflicts, all in the pull's transaction.

use super::outbox::own_ops;
use super::*;

impl Vault {
    /// Applies ops from the clinic in one transaction and moves the pull
    /// cursor with them, so a crash applies all of them or none. Ops held
    /// back for a newer schema are retried first.
    pub fn sync_apply(&mut self, ops: &[WireOp], cursor: u64) -> Result<ApplyReport> {
        let now = self.env.clock.now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        // A laptop takes clinic-owned fields from its clinic; the clinic's replica from itself.
        let clinic = match self.sync_link()? {
            Some(link) => Some(link.clinic_id),
            None => crate::vault::Replica::clinic_of(&self.conn)?,
        };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut state = ApplyState {
            tx: &tx,
            ctx: &ctx,
            now,
            hlc: self.hlc,
            now_ms,
            actor: &self.actor,
            clinic,
            device: self.device.as_uuid(),
            report: ApplyReport::default(),
        };
        state.retry_held()?;
        for op in ops {
            if op.origin == self.device.as_uuid() {
                continue;
            }
            state.receive(op)?;
        }
        if cursor > meta_u64(&tx, CURSOR)? {
            meta_set(&tx, CURSOR, &cursor.to_string())?;
        }
        settle_shared_references(&tx, now)?;
        let (hlc, report) = (state.hlc, state.report);
        if let Some(drift) = report.drift_ms {
            meta_set(&tx, DRIFT, &drift.to_string())?;
        }
        meta_set(&tx, "hlc", &hlc.to_string())?;
        tx.commit()?;
        self.hlc = hlc;
        super::erase::checkpoint(&self.conn, report.erased > 0)?;
        Ok(report)
    }
}

/// Closes the shared-reference problems whose cases no longer share a
/// reference (a person renamed one of them).
pub(crate) fn settle_shared_references(tx: &Connection, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE sync_problems SET resolved_at = ?1
         WHERE code = 'duplicate_reference' AND resolved_at IS NULL AND NOT EXISTS (
             SELECT 1 FROM received_ops r
             JOIN cases a ON a.id = json_extract(r.op, '$.record_id')
             JOIN cases b ON b.reference = a.reference AND b.id <> a.id
             WHERE r.op_id = sync_problems.op_id)",
        [now.to_rfc3339()],
    )?;
    Ok(())
}

/// A received write to one field, as the heads merge needs it.
pub(super) struct Incoming<'a> {
    op: &'a WireOp,
    kind: RecordKind,
    class: FieldClass,
    /// The writes the op replaces (its `base`), when it names them.
    named: Option<&'a [&'a str]>,
    old: Option<&'a Value>,
    value: &'a Value,
    resolves: &'a [&'a str],
}

pub(super) struct ApplyState<'a> {
    pub(super) tx: &'a Connection,
    pub(super) ctx: &'a Ctx<'a>,
    pub(super) now: DateTime<Utc>,
    pub(super) now_ms: u64,
    pub(super) hlc: Hlc,
    pub(super) actor: &'a str,
    /// The clinic this laptop is enrolled with: the only origin that may set clinic-owned fields.
    pub(super) clinic: Option<Uuid>,
    /// This laptop's device id: its own ops' origin on the wire.
    pub(super) device: Uuid,
    pub(super) report: ApplyReport,
}

pub(super) enum Applied {
    Done,
    Failed(ProblemCode),
}

impl ApplyState<'_> {
    fn retry_held(&mut self) -> Result<()> {
        let supported = crate::db::schema_version();
        let held: Vec<(String, String)> = {
            let mut stmt =
                self.tx.prepare("SELECT op_id, op FROM received_ops WHERE state = 'held' ORDER BY received_at, seq")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        for (op_id, text) in held {
            // Held by an older Waymark in a shape this one no longer reads:
            // listed as a problem, kept whole, and the pull goes on.
            let Ok(op) = serde_json::from_str::<WireOp>(&text) else {
                self.tx.execute("UPDATE received_ops SET state = 'failed' WHERE op_id = ?1", [&op_id])?;
                self.tx.execute(
                    "INSERT INTO sync_problems (at, code, direction, op_id, op) VALUES (?1, ?2, 'down', ?3, ?4)",
                    params![self.now.to_rfc3339(), ProblemCode::Invalid.wire(), op_id, text],
                )?;
                self.report.failed += 1;
                continue;
            };
            if op.schema_version <= supported {
                self.tx.execute("DELETE FROM received_ops WHERE op_id = ?1", [op.op_id.to_string()])?;
                self.receive(&op)?;
            }
        }
        Ok(())
    }

    fn receive(&mut self, op: &WireOp) -> Result<()> {
        let hash = op.content_hash();
        let op_id = op.op_id.to_string();
        // An erased case's ops are kept as tombstones (id and slot, no content, no hash),
        // never applied and never quarantined: its content must not come back.
        if let Some(case) = super::erase::erased_case_of(self.tx, op)? {
            self.tx.execute(
                "INSERT OR IGNORE INTO received_ops (op_id, origin, seq, content_hash, op, received_at, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'applied')",
                params![
                    op_id,
                    op.origin.to_string(),
                    i64::try_from(op.seq).unwrap_or(0),
                    super::erase::ERASED_HASH,
                    super::erase::received_tombstone(case),
                    self.now.to_rfc3339()
                ],
            )?;
            self.report.duplicates += 1;
            return Ok(());
        }
        let seen: Option<(String, String)> = self
            .tx
            .prepare_cached("SELECT content_hash, op FROM received_ops WHERE op_id = ?1")?
            .query_row([&op_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        // A hash stored by an earlier Waymark may have been taken with another
        // key order; the op kept beside it, hashed now, is the fair comparison.
        let seen = seen.map(|(stored, text)| match serde_json::from_str::<WireOp>(&text) {
            Ok(kept) if stored != hash => kept.content_hash(),
            _ => stored,
        });
        // One of this laptop's own changes, back from the clinic under an
        // earlier identity (it enrolled again after a restore): the same
        // change, whatever slot carried it, is nothing new.
        let own = own_ops(self.tx, "FROM ops WHERE op_id = ?1", [&op_id], op.origin, 0)?.pop();
        if own.as_ref().is_some_and(|own| own.meaning_hash() == op.meaning_hash()) {
            self.report.duplicates += 1;
            return Ok(());
        }
        let own = own.is_some();
        let op_text = serde_json::to_string(op).map_err(|_| VaultError::DatabaseUnreadable)?;
        match seen {
            Some(h) if h == hash => {
                self.report.duplicates += 1;
                return Ok(());
            }
            Some(_) => return self.quarantine(op, &op_text, &ProblemCode::SameIdDifferentContent),
            None if own => return self.quarantine(op, &op_text, &ProblemCode::SameIdDifferentContent),
            None => {}
        }
        let observed =
            self.hlc.observe(&op.hlc.parse().unwrap_or(waymark_domain::hlc::Hlc::zero(self.hlc.device)), self.now_ms);
        self.hlc = observed.hlc;
        if let Some(drift) = observed.drift_ms {
            self.report.drift_ms = Some(self.report.drift_ms.unwrap_or(0).max(drift));
        }
        let state = if op.schema_version > crate::db::schema_version() {
            self.report.held += 1;
            "held"
        } else {
            match self.apply_alone(op)? {
                Applied::Done => {
                    self.report.applied += 1;
                    "applied"
                }
                Applied::Failed(code) => {
                    self.report.failed += 1;
                    self.tx.execute(
                        "INSERT INTO sync_problems (at, code, direction, op_id, seq, op) VALUES (?1, ?2, 'down', ?3, ?4, ?5)",
                        params![self.now.to_rfc3339(), code.wire(), op_id, i64::try_from(op.seq).unwrap_or(0), op_text],
                    )?;
                    "failed"
                }
            }
        };
        self.tx.execute(
            "INSERT INTO received_ops (op_id, origin, seq, content_hash, op, received_at, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![op_id, op.origin.to_string(), i64::try_from(op.seq).unwrap_or(0), hash, op_text, self.now.to_rfc3339(), state],
        )?;
        Ok(())
    }

    fn quarantine(&mut self, op: &WireOp, op_text: &str, code: &ProblemCode) -> Result<()> {
        self.report.quarantined += 1;
        tracing::warn!(op = %op.op_id, origin = %op.origin, "an op arrived again with different content; quarantined");
        self.tx.execute(
            "INSERT INTO sync_problems (at, code, direction, op_id, seq, op) VALUES (?1, ?2, 'down', ?3, ?4, ?5)",
            params![
                self.now.to_rfc3339(),
                code.wire(),
                op.op_id.to_string(),
                i64::try_from(op.seq).unwrap_or(0),
                op_text
            ],
        )?;
        Ok(())
    }

    /// Applies one op inside its own savepoint. An op that clashes with a
    /// record held here (a second victim for a case, a safety plan version
    /// made on two laptops) is undone alone and listed as failed, with its
    /// text kept; it must not roll back the whole pull, or every later sync
    /// would stop at the same op and the laptop would never catch up.
    pub(super) fn apply_alone(&mut self, op: &WireOp) -> Result<Applied> {
        self.tx.execute_batch("SAVEPOINT apply_op")?;
        let applied = match self.apply(op) {
            Err(VaultError::Clash) => {
                self.tx.execute_batch("ROLLBACK TO apply_op")?;
                Applied::Failed(ProblemCode::ClashesWithLocal)
            }
            Err(e) => {
                self.tx.execute_batch("ROLLBACK TO apply_op; RELEASE apply_op")?;
                return Err(e);
            }
            // Whatever it touched before failing (heads, conflicts) is undone with it.
            Ok(Applied::Failed(code)) => {
                self.tx.execute_batch("ROLLBACK TO apply_op")?;
                Applied::Failed(code)
            }
            Ok(applied) => applied,
        };
        self.tx.execute_batch("RELEASE apply_op")?;
        if matches!(applied, Applied::Done) && op.kind == RecordKind::Case.wire() {
            self.flag_shared_reference(op)?;
        }
        Ok(applied)
    }

    /// Lists a case that now shares its reference with another case here,
    /// so a person renames one; both cases are kept.
    fn flag_shared_reference(&mut self, op: &WireOp) -> Result<()> {
        // One open problem per case, however many of its ops arrive.
        let shared: i64 = self
            .tx
            .prepare_cached(
                "SELECT count(*) FROM cases a JOIN cases b ON b.reference = a.reference AND b.id <> a.id WHERE a.id = ?1
                   AND NOT EXISTS (SELECT 1 FROM sync_problems p JOIN received_ops r ON r.op_id = p.op_id
                                   WHERE p.code = 'duplicate_reference' AND p.resolved_at IS NULL
                                     AND json_extract(r.op, '$.record_id') = ?1)",
            )?
            .query_row([op.record_id.to_string()], |r| r.get(0))?;
        if shared > 0 {
            tracing::warn!(record = %op.record_id, "a case from the clinic has the same reference as another case here; both kept");
            self.tx.execute(
                "INSERT INTO sync_problems (at, code, direction, op_id, seq) VALUES (?1, 'duplicate_reference', 'down', ?2, ?3)",
                params![self.now.to_rfc3339(), op.op_id.to_string(), i64::try_from(op.seq).unwrap_or(0)],
            )?;
        }
        Ok(())
    }

    fn apply(&mut self, op: &WireOp) -> Result<Applied> {
        if op.action == OpAction::Erase {
            return self.erase(op);
        }
        let Some(kind) = RecordKind::from_wire(&op.kind) else { return Ok(Applied::Failed(ProblemCode::UnknownKind)) };
        // Clocks are compared as text and stored as bytes: one not in the
        // fixed form is listed, never stored or allowed to stop the pull.
        if op.hlc.parse::<Hlc>().map(|h| h.to_string()).ok().as_deref() != Some(op.hlc.as_str()) {
            return Ok(Applied::Failed(ProblemCode::Invalid));
        }
        let new = &op.changes.new;
        // Entries an older Waymark sent without ids get the ids every device derives for them.
        let identified;
        let new = if kind.rules().keyed.is_empty() {
            new
        } else {
            let mut copy = new.clone();
            waymark_domain::merge::identify_keyed_lists(kind, op.record_id, &mut copy);
            identified = copy;
            &identified
        };
        let old = op.changes.old.as_ref();
        let resolves: Vec<&str> = op.changes.resolves().iter().map(String::as_str).collect();
        let record_id = op.record_id.to_string();
        let existing: Option<(String, String)> = crate::documents::read(self.tx, kind, &record_id)?;
        // Only the clinic moves a case or writes what the clinic owns; a
        // laptop may name its own advocate only on a case it creates.
        if self.clinic != Some(op.origin) {
            let creating = op.action == OpAction::Create && existing.is_none();
            // A new record's document carries every field; unset ones are null.
            let owned_field =
                kind.rules().clinic_owned.iter().any(|f| new.get(*f).is_some_and(|v| !(creating && v.is_null())));
            let own_new_case = creating && kind == RecordKind::Case;
            if kind.rules().clinic_only || (owned_field && !own_new_case) {
                return Ok(Applied::Failed(ProblemCode::ClinicOwned));
            }
        }
        let Some((doc_text, record_hlc)) = existing else {
            // The clinic tells every laptop of the old advocate that a case moved
            // away, including one that never held it: nothing to apply.
            let moved_away = self.clinic == Some(op.origin)
                && kind == RecordKind::Case
                && new.get("advocate").and_then(Value::as_str).is_some_and(|a| a != self.actor);
            if op.action == OpAction::Update && moved_away {
                return Ok(Applied::Done);
            }
            if op.action == OpAction::Update {
                return Ok(Applied::Failed(ProblemCode::UnknownRecord));
            }
            let doc = Value::Object(new.clone());
            let Ok(record) = Record::from_doc(kind, doc.clone()) else {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            };
            if record.id() != op.record_id {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            }
            if record.case_id().map(|c| c.as_uuid()) != op.case_id {
                return Ok(Applied::Failed(ProblemCode::CaseMismatch));
            }
            if record.validate(self.ctx).is_err() {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            }
            match check_references(self.tx, &record) {
                Ok(()) => {}
                Err(VaultError::Invalid(_)) => return Ok(Applied::Failed(ProblemCode::UnknownRecord)),
                Err(e) => return Err(e),
            }
            crate::documents::insert(self.tx, kind, &record_id, &doc.to_string(), &op.hlc)?;
            crate::clocks::set(self.tx, &record_id, new.keys().map(String::as_str), &op.hlc, &op.op_id.to_string())?;
            self.audit(op, kind, new.keys().map(String::as_str).collect())?;
            return Ok(Applied::Done);
        };
        if !kind.is_mutable() {
            return Ok(Applied::Failed(ProblemCode::Immutable));
        }
        let mut doc: Value = serde_json::from_str(&doc_text).map_err(|_| VaultError::DatabaseUnreadable)?;
        // An op must name the case its record belongs to here: otherwise a
        // writer could aim at one case and land in another's record.
        let stored_case = if kind == RecordKind::Case {
            Some(op.record_id)
        } else {
            doc.get("case_id").and_then(Value::as_str).and_then(|c| c.parse::<Uuid>().ok())
        };
        if stored_case != op.case_id {
            return Ok(Applied::Failed(ProblemCode::CaseMismatch));
        }
        let op_id = op.op_id.to_string();
        // Each written field with the clock its value now carries.
        let mut written: Vec<(&str, String, String)> = Vec::new();
        for (field, value) in new {
            if field == "id" || field == "case_id" {
                continue;
            }
            let local = doc.get(field).cloned().unwrap_or(Value::Null);
            let clock = crate::clocks::of_field(self.tx, &record_id, field, &local)?
                .unwrap_or((record_hlc.clone(), String::new()));
            let named: Option<Vec<&str>> =
                op.changes.base_of(field).map(|ids| ids.iter().map(String::as_str).collect());
            let old_value = old.and_then(|o| o.get(field)).or(if op.action == OpAction::Create {
                None
            } else {
                Some(&Value::Null)
            });
            let class = field_class(kind, field);
            if matches!(class, FieldClass::SafetyCritical | FieldClass::Set | FieldClass::Keyed) {
                let incoming =
                    Incoming { op, kind, class, named: named.as_deref(), old: old_value, value, resolves: &resolves };
                let shown = self.settle_heads(&incoming, &record_id, field, &local, &clock)?;
                doc[field.as_str()] = shown.value;
                written.push((field.as_str(), shown.hlc, shown.op_id));
                continue;
            }
            // Two ops can carry one HLC (a restored copy ticking from the same
            // clock); the op id after it orders them the same way everywhere.
            let (local_order, remote_order) = (format!("{} {}", clock.0, clock.1), format!("{} {op_id}", op.hlc));
            let outcome = merge_field(FieldChange {
                class,
                local: &local,
                local_hlc: &local_order,
                old: old_value,
                new: value,
                remote_hlc: &remote_order,
                successor: named.map(|n| n.contains(&clock.1.as_str())),
            });
            match outcome {
                FieldOutcome::Take(v) => {
                    doc[field.as_str()] = v;
                    written.push((field.as_str(), op.hlc.clone(), op_id.clone()));
                }
                // The same value written later elsewhere: the field's clock
                // moves to the later write, so a successor of the earlier one
                // (which never saw this one) does not pass for a successor of
                // what is held. Otherwise a device that received the two equal
                // writes oldest first would let it through, and one that
                // received them the other way would not.
                FieldOutcome::Same if remote_order > local_order => {
                    written.push((field.as_str(), op.hlc.clone(), op_id.clone()));
                }
                _ => {}
            }
        }
        if !written.is_empty() {
            let Ok(record) = Record::from_doc(kind, doc.clone()) else {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            };
            if record.validate(self.ctx).is_err() {
                return Ok(Applied::Failed(ProblemCode::Invalid));
            }
            let updated = if op.hlc > record_hlc { op.hlc.clone() } else { record_hlc.clone() };
            crate::documents::update(self.tx, kind, &record_id, &doc.to_string(), &updated)?;
            for (field, hlc, by) in &written {
                crate::clocks::set(self.tx, &record_id, [*field], hlc, by)?;
            }
        }
        self.audit(op, kind, written.iter().map(|w| w.0).collect())?;
        Ok(Applied::Done)
    }

    /// Merges a received write into a field's heads (see `heads.rs`) and
    /// returns what is shown. For a safety-critical field, several heads with
    /// different values are one conflict, the same on every device; for a
    /// set, the heads' values merge (`merge_set_heads`).
    fn settle_heads(
        &mut self,
        incoming: &Incoming<'_>,
        record_id: &str,
        field: &str,
        local: &Value,
        clock: &(String, String),
    ) -> Result<Head> {
        let op = incoming.op;
        let op_id = op.op_id.to_string();
        let heads = crate::heads::current(self.tx, record_id, field, local, clock)?;
        // An op from an older Waymark (or the clinic) names no base: it
        // replaces the heads when it decides their conflict, or when it
        // changed the one value held here.
        let decides = incoming.resolves.iter().any(|r| self.is_conflict_for(r, record_id, field));
        let single = heads.len() == 1;
        let replaced = |h: &Head| {
            h.op_id.is_empty()
                || match incoming.named {
                    Some(named) => named.contains(&h.op_id.as_str()),
                    None => decides || (single && incoming.old == Some(&h.value)),
                }
        };
        // Two decisions of one conflict made at once: the later stands
        // everywhere. An earlier decision arriving late changes nothing, even
        // if the later one has since been edited over; a later one replaces
        // the earlier wherever that is still a head.
        let mut earlier_decisions: Vec<String> = Vec::new();
        if !incoming.resolves.is_empty() && incoming.class == FieldClass::SafetyCritical {
            let latest = crate::heads::latest_decision(self.tx, incoming.resolves, &op_id)?;
            if latest.as_ref().is_some_and(|l| *l > op.hlc) {
                let shown = heads
                    .iter()
                    .max_by(|a, b| a.order().cmp(&b.order()))
                    .cloned()
                    .ok_or(VaultError::DatabaseUnreadable)?;
                return Ok(shown);
            }
            for head in &heads {
                let decided = crate::heads::resolves_of(self.tx, &head.op_id)?;
                if decided.iter().any(|d| incoming.resolves.contains(&d.as_str())) {
                    earlier_decisions.push(head.op_id.clone());
                }
            }
        }
        let mut next: Vec<Head> =
            heads.iter().filter(|h| !replaced(h) && !earlier_decisions.contains(&h.op_id)).cloned().collect();
        next.push(Head { op_id: op_id.clone(), hlc: op.hlc.clone(), value: incoming.value.clone() });
        let shown = crate::heads::store(self.tx, record_id, field, &next)?;
        if matches!(incoming.class, FieldClass::Set | FieldClass::Keyed) {
            if next.len() == 1 {
                return Ok(shown);
            }
            let mut olds = Vec::with_capacity(next.len());
            for head in &next {
                olds.push(if head.op_id == op_id {
                    incoming.old.cloned()
                } else {
                    crate::heads::old_of(self.tx, &head.op_id, field)?
                });
            }
            let value = if incoming.class == FieldClass::Keyed {
                let record: Uuid = record_id.parse().map_err(|_| VaultError::DatabaseUnreadable)?;
                let orders: Vec<String> = next.iter().map(|h| format!("{} {}", h.hlc, h.op_id)).collect();
                let triples: Vec<(&Value, Option<&Value>, &str)> = next
                    .iter()
                    .zip(&olds)
                    .zip(&orders)
                    .map(|((h, o), order)| (&h.value, o.as_ref(), order.as_str()))
                    .collect();
                waymark_domain::merge::merge_keyed_heads(record, field, &triples)
            } else {
                let pairs: Vec<(&Value, Option<&Value>)> =
                    next.iter().zip(&olds).map(|(h, o)| (&h.value, o.as_ref())).collect();
                waymark_domain::merge::merge_set_heads(&pairs)
            };
            return Ok(Head { value, ..shown });
        }
        let disagree = next.iter().any(|h| h.value != shown.value);
        if !disagree {
            crate::heads::close_open(self.tx, record_id, field, None, self.now, &op.actor, Resolution::Remote)?;
            return Ok(shown);
        }
        let ids: Vec<&str> = next.iter().map(|h| h.op_id.as_str()).collect();
        let id = crate::heads::conflict_id_of(&ids, field);
        crate::heads::close_open(self.tx, record_id, field, Some(&id), self.now, &op.actor, Resolution::Remote)?;
        // The list shows this device's own write as "local" and the latest other as "remote".
        let mut own = None;
        for head in &next {
            if crate::heads::is_own(self.tx, &head.op_id)?
                && own.as_ref().is_none_or(|o: &Head| head.order() > o.order())
            {
                own = Some(head.clone());
            }
        }
        let mine = own.unwrap_or_else(|| shown.clone());
        let Some(theirs) = next.iter().filter(|h| h.op_id != mine.op_id).max_by(|a, b| a.order().cmp(&b.order()))
        else {
            return Ok(shown);
        };
        let actor = if theirs.op_id == op_id { op.actor.clone() } else { self.actor_of(&theirs.op_id)? };
        let inserted = self.tx.execute(
            "INSERT OR IGNORE INTO sync_conflicts (id, kind, record_id, case_id, field, local_value, local_hlc, local_op,
                 remote_value, remote_hlc, remote_op, remote_actor, detected_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                id,
                incoming.kind.wire(),
                record_id,
                op.case_id.map(|c| c.to_string()),
                field,
                mine.value.to_string(),
                mine.hlc,
                mine.op_id,
                theirs.value.to_string(),
                theirs.hlc,
                theirs.op_id,
                actor,
                self.now.to_rfc3339()
            ],
        )?;
        if inserted > 0 {
            self.report.conflicts += 1;
            tracing::warn!(kind = incoming.kind.wire(), record = %op.record_id, field, "a safety-critical field was changed on two devices; kept both for a decision");
        }
        Ok(shown)
    }

    /// Who made a write this device holds: its own staff code, or the sender's of a received op.
    /// The clinic's order to erase a case: only the clinic may give it, and
    /// it names a case as its record.
    fn erase(&mut self, op: &WireOp) -> Result<Applied> {
        if self.clinic != Some(op.origin) {
            return Ok(Applied::Failed(ProblemCode::ClinicOwned));
        }
        if op.kind != RecordKind::Case.wire() || op.case_id != Some(op.record_id) {
            return Ok(Applied::Failed(ProblemCode::Invalid));
        }
        super::erase::erase_case(self.tx, op.record_id, self.device, op, self.now)?;
        self.report.erased += 1;
        Ok(Applied::Done)
    }

    fn actor_of(&self, op_id: &str) -> Result<String> {
        if crate::heads::is_own(self.tx, op_id)? {
            return Ok(self.actor.to_owned());
        }
        let actor: Option<String> = self
            .tx
            .prepare_cached("SELECT json_extract(op, '$.actor') FROM received_ops WHERE op_id = ?1")?
            .query_row([op_id], |r| r.get(0))
            .optional()?;
        Ok(actor.unwrap_or_default())
    }

    fn is_conflict_for(&self, id: &str, record_id: &str, field: &str) -> bool {
        self.tx
            .query_row(
                "SELECT count(*) FROM sync_conflicts WHERE id = ?1 AND record_id = ?2 AND field = ?3",
                params![id, record_id, field],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .unwrap_or(false)
    }

    fn audit(&self, op: &WireOp, kind: RecordKind, fields: Vec<&str>) -> Result<()> {
        audit::append(
            self.tx,
            &AuditEntry {
                at: self.now,
                actor: self.actor,
                action: AuditAction::SyncApplied,
                kind: Some(kind.wire()),
                record_id: Some(op.record_id.to_string()),
                case_id: op.case_id.map(|c| c.to_string()),
                detail: json!({ "op": op.op_id.to_string(), "origin": op.origin.to_string(), "by": op.actor, "fields": fields }),
            },
        )?;
        Ok(())
    }
}

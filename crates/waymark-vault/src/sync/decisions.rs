//! What a person decides: conflicts to resolve, problems to retry or set aside.

use super::*;

impl Vault {
    pub fn sync_conflicts(&self) -> Result<Vec<Conflict>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.id, c.kind, c.record_id, c.case_id, cases.reference, c.field, c.local_value, c.remote_value, c.remote_actor, c.detected_at
             FROM sync_conflicts c LEFT JOIN cases ON cases.id = c.case_id
             WHERE c.resolved_at IS NULL ORDER BY c.detected_at, c.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        let bad = |_| VaultError::DatabaseUnreadable;
        let mut out = Vec::new();
        for row in rows {
            let (id, kind, record_id, case_id, case_reference, field, local, remote, remote_actor, detected_at) = row?;
            out.push(Conflict {
                id,
                kind: RecordKind::from_wire(&kind).ok_or(VaultError::DatabaseUnreadable)?,
                record_id: record_id.parse().map_err(bad)?,
                case_id: case_id.map(|c| c.parse()).transpose().map_err(bad)?,
                case_reference,
                field,
                local_value: serde_json::from_str(&local).map_err(|_| VaultError::DatabaseUnreadable)?,
                remote_value: serde_json::from_str(&remote).map_err(|_| VaultError::DatabaseUnreadable)?,
                remote_actor,
                detected_at: parse_time(&detected_at)?,
            });
        }
        Ok(out)
    }

    pub fn sync_problems(&self) -> Result<Vec<Problem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, code, direction, op_id, seq, op IS NOT NULL FROM sync_problems WHERE resolved_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, code, direction, op_id, seq, kept) = row?;
            let code = ProblemCode::from_wire(&code);
            let direction: Flow = Flow::from_wire(&direction).ok_or(VaultError::DatabaseUnreadable)?;
            let retryable = direction == Flow::Down && kept && code.is_retryable();
            let needs_rejoin = code.needs_rejoin();
            out.push(Problem {
                id,
                at: parse_time(&at)?,
                advice: code.advice(),
                code,
                direction,
                op_id,
                seq,
                retryable,
                needs_rejoin,
            });
        }
        Ok(out)
    }

    /// Sets a problem aside with a person's reason, kept with it and audited.
    /// The change it was about stays where it is (in the op log, or kept as received).
    pub fn dismiss_problem(&mut self, id: i64, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(waymark_domain::ValidationErrors::single(
                "reason",
                "is required, up to 500 characters: say why it can be set aside",
            )
            .into());
        }
        let now = self.env.clock.now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let code: Option<String> = tx
            .query_row("SELECT code FROM sync_problems WHERE id = ?1 AND resolved_at IS NULL", [id], |r| r.get(0))
            .optional()?;
        let Some(code) = code else {
            return Err(waymark_domain::ValidationErrors::single("problem", "is not open; refresh the list").into());
        };
        tx.execute(
            "UPDATE sync_problems SET resolved_at = ?2, resolution = 'dismissed', reason = ?3 WHERE id = ?1",
            params![id, now.to_rfc3339(), reason],
        )?;
        // The reason stays with the problem in the vault; the audit names the problem, never the words.
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: AuditAction::SyncProblemDismissed,
                kind: None,
                record_id: None,
                case_id: None,
                detail: json!({ "problem": id, "code": code }),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Tries a change from the clinic that could not apply again, for the
    /// problems where something may since have changed here (the record it
    /// needs has arrived, the clashing record was renamed, Waymark was
    /// updated). Returns whether it applied now; if not, the problem stays.
    pub fn retry_problem(&mut self, id: i64) -> Result<bool> {
        let now = self.env.clock.now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let clinic = self.sync_link()?.map(|link| link.clinic_id);
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, Option<String>)> = tx
            .query_row(
                "SELECT code, direction, op FROM sync_problems WHERE id = ?1 AND resolved_at IS NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((code, direction, Some(text))) = row.filter(|(code, direction, op)| {
            direction == Flow::Down.as_str() && op.is_some() && ProblemCode::from_wire(code).is_retryable()
        }) else {
            return Err(waymark_domain::ValidationErrors::single(
                "problem",
                "cannot be retried: it is not a change from the clinic that may now apply; dismiss it once it has been dealt with",
            )
            .into());
        };
        let op: WireOp = serde_json::from_str(&text).map_err(|_| VaultError::DatabaseUnreadable)?;
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
        let applied = matches!(state.apply_alone(&op)?, Applied::Done);
        let hlc = state.hlc;
        if applied {
            tx.execute("UPDATE received_ops SET state = 'applied' WHERE op_id = ?1", [op.op_id.to_string()])?;
            tx.execute(
                "UPDATE sync_problems SET resolved_at = ?2, resolution = 'retried' WHERE id = ?1",
                params![id, now.to_rfc3339()],
            )?;
        }
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: AuditAction::SyncProblemRetried,
                kind: None,
                record_id: None,
                case_id: None,
                detail: json!({ "problem": id, "code": code, "direction": direction, "applied": applied }),
            },
        )?;
        tx.commit()?;
        self.hlc = hlc;
        Ok(applied)
    }

    /// A person's decision on a conflict. The chosen value is written as a
    /// new op that names the conflict, so the other device closes the same
    /// conflict with the same value when it arrives.
    pub fn resolve_conflict(&mut self, id: &str, choice: Resolution) -> Result<()> {
        let now = self.env.clock.now();
        let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let op_id = waymark_domain::ids::uuid_v7(now, self.env.rng.as_mut()).to_string();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String, Option<String>, String, String, String)> = tx
            .query_row(
                "SELECT kind, record_id, case_id, field, local_value, remote_value FROM sync_conflicts WHERE id = ?1 AND resolved_at IS NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        let Some((kind, record_id, case_id, field, local, remote)) = row else {
            return Err(waymark_domain::ValidationErrors::single("conflict", "is not open; refresh the list").into());
        };
        let kind = RecordKind::from_wire(&kind).ok_or(VaultError::DatabaseUnreadable)?;
        let parse = |t: &str| serde_json::from_str::<Value>(t).map_err(|_| VaultError::DatabaseUnreadable);
        let (chosen, other) = match choice {
            Resolution::Local => (parse(&local)?, parse(&remote)?),
            Resolution::Remote => (parse(&remote)?, parse(&local)?),
        };
        let (doc, _) = crate::documents::read(&tx, kind, &record_id)?.ok_or(VaultError::NotFound { kind })?;
        let mut doc: Value = serde_json::from_str(&doc).map_err(|_| VaultError::DatabaseUnreadable)?;
        doc[field.as_str()] = chosen.clone();
        let ctx = Ctx { rules: &self.rules, instruments: &self.instruments };
        Record::from_doc(kind, doc.clone())?.validate(&ctx)?;
        let hlc = self.hlc.tick(now_ms);
        let hlc_text = hlc.to_string();
        crate::documents::update(&tx, kind, &record_id, &doc.to_string(), &hlc_text)?;
        let changes = json!({ "new": { field.as_str(): chosen }, "old": { field.as_str(): other }, "resolves": [id] });
        let seq = append_op(
            &tx,
            &NewOp {
                op_id: &op_id,
                hlc: &hlc_text,
                made_at: now,
                actor: &self.actor,
                kind,
                record_id: &record_id,
                case_id: case_id.as_deref(),
                action: OpAction::Update,
                changes: &changes,
            },
        )?;
        tx.execute(
            "UPDATE sync_conflicts SET resolved_at = ?2, resolved_by = ?3, resolution = ?4 WHERE id = ?1",
            params![id, now.to_rfc3339(), self.actor, choice.as_str()],
        )?;
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: AuditAction::ConflictResolved,
                kind: Some(kind.wire()),
                record_id: Some(record_id.clone()),
                case_id: case_id.clone(),
                detail: json!({ "conflict": id, "field": field, "choice": choice.as_str(), "op": seq }),
            },
        )?;
        meta_set(&tx, "hlc", &hlc_text)?;
        tx.commit()?;
        self.hlc = hlc;
        Ok(())
    }
}

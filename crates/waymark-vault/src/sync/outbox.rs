//! This laptop's ops on their way to the clinic: the outbox as wire ops, durable acknowledgements, refusals, and the sync status.

use super::*;

impl Vault {
    /// The next ops to send, in op-log order, after the clinic's acknowledgement.
    pub fn outbox_batch(&self, after: u64, limit: u32) -> Result<Vec<WireOp>> {
        let base = meta_u64(&self.conn, SEQ_BASE)?;
        let after = i64::try_from(after.saturating_add(base)).unwrap_or(i64::MAX);
        own_ops(
            &self.conn,
            "FROM outbox JOIN ops ON ops.seq = outbox.seq WHERE ops.seq > ?1 ORDER BY ops.seq LIMIT ?2",
            params![after, limit],
            self.device.as_uuid(),
            base,
        )
    }

    /// Makes the clinic's acknowledgement durable: ops up to `through` leave
    /// the outbox, and quarantined ones go on the problems list.
    pub fn sync_acknowledge(&mut self, through: u64, quarantined: &[u64], refused: &[RefusedOp]) -> Result<()> {
        let now = self.env.clock.now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        acknowledge(&tx, through, quarantined, now)?;
        let base = meta_u64(&tx, SEQ_BASE)?;
        // A change to a case the clinic erased needs nobody: the erasure reaches this laptop on its pull.
        for op in refused.iter().filter(|op| op.code != waymark_protocol::OpRefusal::CaseErased) {
            list_own_op(&tx, &ProblemCode::Refused(op.code.clone()), op.seq.saturating_add(base), now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Checks the clinic's acknowledgement against this laptop's op log: the
    /// op in slot `through` must exist here and, when the clinic names it, be
    /// the same op. Otherwise the two histories differ and nothing may leave
    /// the outbox on the clinic's word.
    pub fn sync_check_acknowledgement(&self, through: u64, op_id: Option<Uuid>) -> Result<()> {
        if through == 0 {
            return Ok(());
        }
        let seq = i64::try_from(through.saturating_add(meta_u64(&self.conn, SEQ_BASE)?)).unwrap_or(i64::MAX);
        let held: Option<String> =
            self.conn.query_row("SELECT op_id FROM ops WHERE seq = ?1", [seq], |r| r.get(0)).optional()?;
        let agrees = match (held, op_id) {
            (None, _) => false,
            (Some(held), Some(named)) => held == named.to_string(),
            // A positive acknowledgement that names no op cannot be checked, so it is not trusted.
            (Some(_), None) => false,
        };
        if !agrees {
            tracing::warn!(through, "the clinic's acknowledgement does not match this laptop's op log; refused");
            return Err(VaultError::LogDiverged);
        }
        Ok(())
    }

    pub fn sync_acked_through(&self) -> Result<u64> {
        meta_u64(&self.conn, ACKED)
    }

    pub fn sync_pull_cursor(&self) -> Result<u64> {
        meta_u64(&self.conn, CURSOR)
    }

    /// Notes the end of a sync attempt: the time, and the failure code if any.
    pub fn sync_record_attempt(&mut self, error_code: Option<&str>) -> Result<()> {
        let now = self.env.clock.now().to_rfc3339();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta_set(&tx, LAST_ATTEMPT, &now)?;
        match error_code {
            None => {
                meta_set(&tx, LAST_OK, &now)?;
                tx.execute("DELETE FROM meta WHERE key = ?1", [LAST_ERROR])?;
            }
            Some(code) => meta_set(&tx, LAST_ERROR, code)?,
        }
        tx.commit()?;
        Ok(())
    }

    /// Puts a refusal the device cannot fix alone on the problems list.
    pub fn sync_record_problem(&mut self, code: &ProblemCode, direction: Flow) -> Result<()> {
        let code = code.wire();
        let now = self.env.clock.now();
        let open: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM sync_problems WHERE code = ?1 AND op_id IS NULL AND resolved_at IS NULL",
                [&code],
                |r| r.get(0),
            )
            .optional()?;
        if open.is_none() {
            self.conn.execute(
                "INSERT INTO sync_problems (at, code, direction) VALUES (?1, ?2, ?3)",
                params![now.to_rfc3339(), code, direction.as_str()],
            )?;
        }
        Ok(())
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        let count = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(SyncStatus {
            enrolled: meta_get(&self.conn, LINK)?.is_some(),
            last_sync_at: meta_time(&self.conn, LAST_OK)?,
            last_attempt_at: meta_time(&self.conn, LAST_ATTEMPT)?,
            last_error: meta_get(&self.conn, LAST_ERROR)?,
            pending: count("SELECT count(*) FROM outbox")?,
            open_conflicts: count("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL")?,
            problems: count("SELECT count(*) FROM sync_problems WHERE resolved_at IS NULL")?,
            held: count("SELECT count(*) FROM received_ops WHERE state = 'held'")?,
            drift_warning_ms: meta_get(&self.conn, DRIFT)?.and_then(|d| d.parse().ok()),
            acked_through: meta_u64(&self.conn, ACKED)?,
            pull_cursor: meta_u64(&self.conn, CURSOR)?,
        })
    }

    /// What is waiting to go, oldest first. Field names only, never values.
    pub fn sync_pending(&self, limit: u32) -> Result<Vec<PendingOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ops.seq, kind, action, made_at, changes FROM outbox JOIN ops ON ops.seq = outbox.seq ORDER BY ops.seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, kind, action, made_at, changes) = row?;
            let changes: Value = serde_json::from_str(&changes).map_err(|_| VaultError::DatabaseUnreadable)?;
            let fields =
                changes.get("new").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
            out.push(PendingOp {
                seq,
                kind: RecordKind::from_wire(&kind).ok_or(VaultError::DatabaseUnreadable)?,
                action,
                made_at: parse_time(&made_at)?,
                fields,
            });
        }
        Ok(out)
    }
}

/// This laptop's own ops as the wire carries them, numbered for `origin`
/// (local sequence − `base`). `tail` is the SQL after the column list.
pub(super) fn own_ops(
    conn: &Connection,
    tail: &str,
    args: impl rusqlite::Params,
    origin: Uuid,
    base: u64,
) -> Result<Vec<WireOp>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ops.seq, op_id, hlc, made_at, actor, kind, record_id, case_id, action, changes, schema_version {tail}"
    ))?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, String>(9)?,
            r.get::<_, i64>(10)?,
        ))
    })?;
    let bad = |_| VaultError::DatabaseUnreadable;
    let mut ops = Vec::new();
    for row in rows {
        let (seq, op_id, hlc, made_at, actor, kind, record_id, case_id, action, changes, schema) = row?;
        ops.push(WireOp {
            op_id: op_id.parse().map_err(bad)?,
            origin,
            seq: u64::try_from(seq).unwrap_or(0).saturating_sub(base),
            hlc,
            made_at: parse_time(&made_at)?,
            actor,
            kind,
            record_id: record_id.parse().map_err(bad)?,
            case_id: case_id.map(|c| c.parse()).transpose().map_err(bad)?,
            action: OpAction::from_wire(&action).ok_or(VaultError::DatabaseUnreadable)?,
            changes: serde_json::from_str(&changes).map_err(|_| VaultError::DatabaseUnreadable)?,
            schema_version: u32::try_from(schema).unwrap_or(0),
        });
    }
    Ok(ops)
}

/// `through` and `quarantined` are the clinic's numbers for this device's ops.
pub(super) fn acknowledge(tx: &Connection, through: u64, quarantined: &[u64], now: DateTime<Utc>) -> Result<()> {
    let base = meta_u64(tx, SEQ_BASE)?;
    let through_i = i64::try_from(through.saturating_add(base)).unwrap_or(i64::MAX);
    // The clinic cannot hold changes this laptop never made. If it claims to,
    // the op log went back in time (a folder restored from an old copy), and
    // trusting the claim would drop new changes from the outbox unsent.
    let head: i64 = tx.query_row("SELECT coalesce(max(seq), 0) FROM ops", [], |r| r.get(0))?;
    if through_i > head {
        tracing::warn!(through, head, "the clinic acknowledged changes past this laptop's op log; refused");
        return Err(VaultError::LogDiverged);
    }
    for seq in quarantined {
        list_own_op(tx, &ProblemCode::QuarantinedByClinic, seq.saturating_add(base), now)?;
    }
    tx.execute("DELETE FROM outbox WHERE seq <= ?1", [through_i])?;
    if through > meta_u64(tx, ACKED)? {
        meta_set(tx, ACKED, &through.to_string())?;
    }
    Ok(())
}

/// Lists one of this laptop's own ops (by its local sequence) the clinic
/// would not take, once however often the clinic says so. The op itself
/// stays in the op log.
pub(super) fn list_own_op(tx: &Connection, code: &ProblemCode, seq: u64, now: DateTime<Utc>) -> Result<()> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    let op_id: Option<String> = tx.query_row("SELECT op_id FROM ops WHERE seq = ?1", [seq], |r| r.get(0)).optional()?;
    tx.execute(
        "INSERT INTO sync_problems (at, code, direction, op_id, seq)
         SELECT ?1, ?2, 'up', ?3, ?4 WHERE NOT EXISTS (
             SELECT 1 FROM sync_problems WHERE code = ?2 AND direction = 'up' AND seq = ?4 AND resolved_at IS NULL)",
        params![now.to_rfc3339(), code.wire(), op_id, seq],
    )?;
    Ok(())
}

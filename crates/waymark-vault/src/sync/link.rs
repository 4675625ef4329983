//! The link to the clinic: the device's keys, enrolment and rejoining, and the recovery recipient the clinic gives.

use super::*;

impl Vault {
    pub fn sync_link(&self) -> Result<Option<ClinicLink>> {
        meta_get(&self.conn, LINK)?
            .map(|t| serde_json::from_str(&t).map_err(|_| VaultError::DatabaseUnreadable))
            .transpose()
    }

    pub fn sync_keys(&self) -> Result<Option<DeviceKeys>> {
        keys_from_meta(&self.conn, KEYS)
    }

    /// The identity an enrolment registers: a new device id and new keys.
    /// Every enrolment is a new device, so a vault restored from a backup (or
    /// put back from an older copy) never speaks for the device it was
    /// copied from. Both are saved before the request goes out, so a retry
    /// after a lost reply registers the same ones.
    pub fn sync_enrolment(&mut self) -> Result<(DeviceId, DeviceKeys)> {
        let pending_device = meta_get(&self.conn, PENDING_DEVICE)?.and_then(|d| d.parse::<DeviceId>().ok());
        if let (Some(device), Some(keys)) = (pending_device, keys_from_meta(&self.conn, PENDING_KEYS)?) {
            return Ok((device, keys));
        }
        let device = DeviceId::new(self.env.clock.now(), self.env.rng.as_mut());
        let keys = DeviceKeys::generate(&mut rand::rngs::OsRng);
        let text = serde_json::to_string(&keys.to_text()).map_err(|_| VaultError::DatabaseUnreadable)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        meta_set(&tx, PENDING_KEYS, &text)?;
        meta_set(&tx, PENDING_DEVICE, &device.to_string())?;
        tx.commit()?;
        Ok((device, keys))
    }

    /// Records a completed enrolment: the vault becomes the device the clinic
    /// registered. The changes the clinic has not acknowledged are numbered
    /// from 1 for the new device (a renumbering, not a rewrite: the op log is
    /// untouched), and the pull starts from the beginning of the feed, where
    /// whatever this vault already holds is recognised and skipped.
    pub fn sync_enrolled(&mut self, link: &ClinicLink) -> Result<()> {
        let now = self.env.clock.now();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let keys = meta_get(&tx, PENDING_KEYS)?.ok_or(VaultError::DatabaseUnreadable)?;
        let device: DeviceId =
            meta_get(&tx, PENDING_DEVICE)?.and_then(|d| d.parse().ok()).ok_or(VaultError::DatabaseUnreadable)?;
        let earlier = self.device;
        let rejoin = meta_get(&tx, LINK)?.is_some();
        let base: i64 = tx.query_row(
            "SELECT coalesce((SELECT min(seq) - 1 FROM outbox), (SELECT max(seq) FROM ops), 0)",
            [],
            |r| r.get(0),
        )?;
        let renumbered: i64 = tx.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        meta_set(&tx, KEYS, &keys)?;
        tx.execute("DELETE FROM meta WHERE key IN (?1, ?2)", [PENDING_KEYS, PENDING_DEVICE])?;
        meta_set(&tx, LINK, &serde_json::to_string(link).map_err(|_| VaultError::DatabaseUnreadable)?)?;
        meta_set(&tx, "device_id", &device.to_string())?;
        let hlc = Hlc { device, ..self.hlc };
        meta_set(&tx, "hlc", &hlc.to_string())?;
        meta_set(&tx, SEQ_BASE, &base.to_string())?;
        meta_set(&tx, ACKED, "0")?;
        meta_set(&tx, CURSOR, "0")?;
        // The laptop is a new device now; what stopped the old one no longer applies.
        tx.execute(
            "UPDATE sync_problems SET resolved_at = ?1 WHERE resolved_at IS NULL AND op_id IS NULL AND code IN ('log_diverged', 'device_known', 'ack_stalled')",
            [now.to_rfc3339()],
        )?;
        audit::append(
            &tx,
            &AuditEntry {
                at: now,
                actor: &self.actor,
                action: if rejoin { AuditAction::SyncRejoined } else { AuditAction::SyncEnrolled },
                kind: None,
                record_id: None,
                case_id: None,
                detail: json!({
                    "clinic": link.clinic_id.to_string(),
                    "device": device.to_string(),
                    "earlier_device": earlier.to_string(),
                    "renumbered": renumbered,
                }),
            },
        )?;
        tx.commit()?;
        self.device = device;
        self.hlc = hlc;
        tracing::info!(device = %device, earlier = %earlier, renumbered, "enrolled as a new device");
        Ok(())
    }

    /// Adds the clinic's recovery recipient to the key file, when the vault
    /// has none, so the clinic can reset a forgotten passphrase. Returns
    /// whether it was added; an existing recovery recipient is never replaced.
    pub fn add_recovery_if_missing(&mut self, recipient: &age::x25519::Recipient) -> Result<bool> {
        let keyfile = crate::keyfile::KeyFile::read(&self.dir)?;
        if keyfile.recovery_wrap.is_some() {
            return Ok(false);
        }
        keyfile.with_recovery(&self.key, recipient)?.write_atomic(&self.dir)?;
        self.record_event(AuditAction::RecoveryRecipientAdded, None, None, None, json!({ "source": "enrolment" }))?;
        Ok(true)
    }
}

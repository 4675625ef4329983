//! Enrolment, one sync round (hello, push, pull), and the offline bundle.

use crate::error::SyncError;
use crate::transport::Https;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::Signer;
use serde::Serialize;
use std::sync::Mutex;
use uuid::Uuid;
use waymark_domain::codes::ErrorCode;
use waymark_protocol::auth::{body_hash, sign_push, sign_request, Claim, CLAIM_HEADER, SIGNATURE_HEADER};
use waymark_protocol::enrol::EnrolmentCode;
use waymark_protocol::messages::*;
use waymark_protocol::receipt::verify_wipe;
use waymark_protocol::{
    decode, encode, open, seal, BatchHeader, DeviceKeys, Direction, Envelope, Limits, Receipt, WireOp,
};
use waymark_vault::sync::ClinicLink;
use waymark_vault::Vault;

/// Ops per upward batch. Small enough that a cut connection loses little
/// work, large enough that sealing and signing cost little per op.
pub const PUSH_BATCH_OPS: u32 = 2000;
/// How long one push may take. Its upload shares the link with the other
/// batch in flight, so on a slow link each takes up to that many times as
/// long as it would alone; the time allowed grows to match, so a batch that
/// went up alone in time still does.
const PUSH_TIME: std::time::Duration =
    crate::transport::REQUEST_TIME.saturating_mul(waymark_protocol::messages::PUSHES_IN_FLIGHT as u32);
const PULL_BATCH_OPS: u32 = 1000;
/// A page may carry a reassigned case's whole history besides its ops.
const PULL_LIMITS: Limits = Limits { max_batch_bytes: crate::transport::MAX_REPLY_BYTES, max_ops: 1_000_000 };

/// How the engine reaches the vault. The desktop app holds `None` while
/// locked, so each step takes the vault briefly and never across network I/O.
/// `Sync` because a push reads the next batch on a second thread.
pub trait VaultAccess: Sync {
    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> Result<R, SyncError>) -> Result<R, SyncError>;
}

impl VaultAccess for Mutex<Vault> {
    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> Result<R, SyncError>) -> Result<R, SyncError> {
        let mut guard = self.lock().map_err(|_| SyncError::Locked)?;
        f(&mut guard)
    }
}

impl VaultAccess for Mutex<Option<Vault>> {
    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> Result<R, SyncError>) -> Result<R, SyncError> {
        let mut guard = self.lock().map_err(|_| SyncError::Locked)?;
        f(guard.as_mut().ok_or(SyncError::Locked)?)
    }
}

/// What one sync round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: u64,
    pub acked_through: u64,
    pub quarantined: u32,
    /// This laptop's ops the clinic refused by its authority rules (on the problems list).
    pub refused: u32,
    pub pulled: u32,
    pub conflicts: u32,
    pub held: u32,
    pub failed: u32,
    pub drift_ms: Option<u64>,
    /// Batches sent again from the acknowledgement: one sent ahead reached a
    /// server before the batch before it, or was built on an acknowledgement
    /// that came back otherwise (`push`).
    pub resent: u32,
}

/// Enrols this vault with the clinic named in the code.
pub fn enrol(access: &impl VaultAccess, code_text: &str) -> Result<(), SyncError> {
    register(access, code_text, false)
}

/// Enrols an enrolled vault again, as a new device, with a new code from
/// the same clinic: the way back for a laptop whose log the clinic does not
/// recognise (`log_diverged`: put back from an older copy of its folder).
/// The clinic recognises the changes it already holds; the rest are sent
/// under the new device.
pub fn rejoin(access: &impl VaultAccess, code_text: &str) -> Result<(), SyncError> {
    register(access, code_text, true)
}

fn register(access: &impl VaultAccess, code_text: &str, rejoin: bool) -> Result<(), SyncError> {
    let code = EnrolmentCode::parse(code_text)?;
    let (device, advocate, keys, now) = access.with_vault(|v| {
        match (v.sync_link()?, rejoin) {
            (Some(_), false) => {
                return Err(SyncError::Refused {
                    code: ErrorCode::AlreadyEnrolled,
                    message: "this laptop is already enrolled with a clinic; to enrol it again as a new device, rejoin"
                        .into(),
                    status: 0,
                })
            }
            (Some(link), true) if link.clinic_id != code.clinic_id => return Err(SyncError::WrongServer),
            (None, true) => return Err(SyncError::NotEnrolled),
            _ => {}
        }
        let (device, keys) = v.sync_enrolment()?;
        Ok((device, v.actor().to_owned(), keys, v.now()))
    })?;
    // The code says whose it is; a laptop set up under another staff code stops here, with the code still unused.
    if code.advocate.as_deref().is_some_and(|a| a != advocate) {
        return Err(SyncError::AdvocateMismatch { vault: advocate });
    }
    let proof = B64.encode(keys.signing.sign(&enrol_proof_message(&code.token, device.as_uuid())).to_bytes());
    let request = EnrolRequest {
        token: code.token.clone(),
        device_id: device.as_uuid(),
        advocate: Some(advocate.clone()),
        keys: keys.public(),
        proof,
    };
    let https = Https::new(&code.url, code.fingerprint.as_deref())?;
    let body = serde_json::to_vec(&request).unwrap_or_default();
    let response: EnrolResponse = parse(&https.post(PATH_ENROL, &[], body, "application/json")?)?;
    if response.clinic_id != code.clinic_id {
        return Err(SyncError::WrongServer);
    }
    if response.advocate != advocate {
        return Err(SyncError::AdvocateMismatch { vault: advocate });
    }
    let link = ClinicLink {
        url: code.url,
        fingerprint: code.fingerprint,
        clinic_id: code.clinic_id,
        clinic: code.clinic,
        enrolled_at: now,
    };
    let recovery = code.recovery.as_deref().map(waymark_vault::keyfile::parse_recipient).transpose()?;
    access.with_vault(|v| {
        // The enrolment reply is not signed, so its acknowledgement removes
        // nothing; the first hello's signed one does.
        v.sync_enrolled(&link)?;
        if let Some(recipient) = &recovery {
            v.add_recovery_if_missing(recipient)?;
        }
        Ok(())
    })?;
    tracing::info!(device = %device, rejoin, "enrolled with the clinic");
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, SyncError> {
    serde_json::from_slice(bytes)
        .map_err(|_| SyncError::Protocol(waymark_protocol::ProtocolError::Malformed("clinic reply")))
}

struct Session {
    https: Https,
    link: ClinicLink,
    keys: DeviceKeys,
    device: Uuid,
}

impl Session {
    /// The vault, while it is still the device this round signs as. A rejoin
    /// between two steps changes the device and its numbering; what this
    /// round read or would write belongs to the old one, so it stops there.
    fn with_own_vault<A: VaultAccess, R>(
        &self,
        access: &A,
        f: impl FnOnce(&mut Vault) -> Result<R, SyncError>,
    ) -> Result<R, SyncError> {
        access.with_vault(|v| {
            if v.device().as_uuid() != self.device {
                return Err(SyncError::IdentityChanged);
            }
            f(v)
        })
    }

    /// A signed call; returns the reply and the request id the clinic's signatures are bound to.
    fn signed(
        &self,
        path: &str,
        body: Vec<u8>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(Vec<u8>, Uuid), SyncError> {
        let request_id = Uuid::now_v7();
        let claim =
            Claim { device: self.device, request_id, path: path.into(), body_sha256: body_hash(&body), at: now };
        let (claim, signature) = sign_request(&claim, &self.keys.signing);
        let reply =
            self.https.post(path, &[(CLAIM_HEADER, claim), (SIGNATURE_HEADER, signature)], body, "application/json");
        Ok((for_request(reply, request_id)?, request_id))
    }

    /// Checks an acknowledgement is the clinic's own, for this device and this request.
    fn check_receipt(&self, receipt: &Receipt<'_>, signature: &str) -> Result<(), SyncError> {
        receipt.verify(&self.link.clinic.verifying_key()?, signature).map_err(|e| {
            tracing::warn!(
                through = receipt.through,
                "an acknowledgement not signed by the clinic; nothing removed from the outbox"
            );
            SyncError::Protocol(e)
        })
    }
}

/// Names the request a wipe order answered, so its signature can be checked against it.
fn for_request<T>(reply: Result<T, SyncError>, request_id: Uuid) -> Result<T, SyncError> {
    reply.map_err(|e| match e {
        SyncError::WipeOrder { signature, .. } => SyncError::WipeOrder { signature, request: Some(request_id) },
        other => other,
    })
}

fn session(access: &impl VaultAccess) -> Result<Session, SyncError> {
    let (link, keys, device) = access.with_vault(|v| {
        Ok((v.sync_link()?.ok_or(SyncError::NotEnrolled)?, v.sync_keys()?.ok_or(SyncError::NotEnrolled)?, v.device()))
    })?;
    Ok(Session { https: Https::cached(&link.url, link.fingerprint.as_deref())?, link, keys, device: device.as_uuid() })
}

/// One sync round: learn what the clinic holds, push what it lacks, pull
/// what is new. The attempt and its outcome are recorded in the vault. A
/// revocation erases the vault and ends with `SyncError::Wiped`.
pub fn sync_once<A: VaultAccess>(access: &A) -> Result<SyncReport, SyncError> {
    let result = session(access).and_then(|session| match round(access, &session) {
        Err(SyncError::WipeOrder { signature, request }) => {
            let genuine = signature.zip(request).is_some_and(|(signature, request)| {
                session
                    .link
                    .clinic
                    .verifying_key()
                    .is_ok_and(|key| verify_wipe(&key, session.device, request, &signature).is_ok())
            });
            if genuine {
                session.with_own_vault(access, |v| Ok(v.wipe("revoked_by_clinic")?))?;
                return Err(SyncError::Wiped);
            }
            // Whoever sent it holds the server's TLS key at most, not the clinic's signing key.
            tracing::warn!("an order to erase this laptop was not signed by the clinic; not obeyed");
            Err(SyncError::Protocol(waymark_protocol::ProtocolError::BadWipeOrder))
        }
        other => other,
    });
    match &result {
        Err(SyncError::Wiped) => return result,
        Ok(_) => access.with_vault(|v| Ok(v.sync_record_attempt(None)?))?,
        Err(e) => {
            let code = e.code();
            let permanent = e.is_permanent();
            access.with_vault(|v| {
                v.sync_record_attempt(Some(code.as_str()))?;
                if permanent {
                    v.sync_record_problem(
                        &waymark_vault::sync::ProblemCode::request(code),
                        waymark_vault::sync::Flow::Up,
                    )?;
                }
                Ok(())
            })?;
        }
    }
    result
}

fn round<A: VaultAccess>(access: &A, session: &Session) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let now = access.with_vault(|v| Ok(v.now()))?;
    let (reply, request) = session.signed(PATH_HELLO, b"{}".to_vec(), now)?;
    let hello: HelloResponse = parse(&reply)?;
    let receipt = Receipt {
        device: session.device,
        through: hello.acked_through,
        op: hello.acked_op,
        request,
        quarantined: &[],
        refused: &[],
    };
    session.check_receipt(&receipt, &hello.signature)?;
    // The clinic's word on what it holds wins: an acknowledgement whose reply
    // was lost is recovered here, and nothing past it is assumed.
    session.with_own_vault(access, |v| {
        v.sync_check_acknowledgement(hello.acked_through, hello.acked_op)?;
        if hello.acked_through > v.sync_acked_through()? {
            v.sync_acknowledge(hello.acked_through, &[], &[])?;
        }
        Ok(())
    })?;
    report.acked_through = hello.acked_through;
    push(access, session, &mut report)?;
    let mut cursor = session.with_own_vault(access, |v| Ok(v.sync_pull_cursor()?))?;
    if cursor > hello.feed_head {
        // The clinic's feed is shorter than what this laptop has read: it may have been put back from a backup.
        return Err(SyncError::Refused {
            code: ErrorCode::CursorAhead,
            message: "the clinic's feed ends before the point this laptop has read to".into(),
            status: 409,
        });
    }
    while cursor < hello.feed_head {
        let request = serde_json::to_vec(&PullRequest { after: cursor, max_ops: PULL_BATCH_OPS }).unwrap_or_default();
        let now = access.with_vault(|v| Ok(v.now()))?;
        let (bytes, _) = session.signed(PATH_PULL, request, now)?;
        let batch = decode(&bytes, &PULL_LIMITS)?;
        let opened = open(&batch, &session.link.clinic.verifying_key()?, &session.keys.sealing, &PULL_LIMITS)?;
        let h = &opened.header;
        if h.direction != Direction::Down
            || h.sender != session.link.clinic_id
            || h.recipient != session.device
            || h.first_seq != cursor + 1
        {
            return Err(SyncError::Protocol(waymark_protocol::ProtocolError::HeaderMismatch("pull")));
        }
        if h.last_seq <= cursor {
            break;
        }
        let applied = session.with_own_vault(access, |v| Ok(v.sync_apply(&opened.ops, h.last_seq)?))?;
        report.pulled += applied.applied;
        report.conflicts += applied.conflicts;
        report.held += applied.held;
        report.failed += applied.failed;
        report.drift_ms = report.drift_ms.max(applied.drift_ms);
        cursor = h.last_seq;
    }
    Ok(report)
}

/// Sends the outbox past `report.acked_through`, batch by batch, with up to
/// `PUSHES_IN_FLIGHT` batches in flight, so the clinic opens one while it
/// stores the one before; each is acknowledged in order, and the laptop
/// reads and seals the next while the clinic works. A batch sent ahead is a
/// guess that the one before it is acknowledged in full: when it is not,
/// what is in flight is let go and sending starts again from the
/// acknowledgement.
fn push<A: VaultAccess>(access: &A, session: &Session, report: &mut SyncReport) -> Result<(), SyncError> {
    std::thread::scope(|scope| {
        let mut after = report.acked_through;
        let mut sent_through = after;
        let mut in_flight: std::collections::VecDeque<Posted<'_>> = std::collections::VecDeque::new();
        loop {
            while in_flight.len() < PUSHES_IN_FLIGHT {
                let Some(batch) = prepare_push(access, session, sent_through)? else { break };
                sent_through = batch.last_seq;
                in_flight.push_back(post_push(scope, session, batch, after));
            }
            let Some(posted) = in_flight.pop_front() else { return Ok(()) };
            let reply = posted.reply.join().map_err(|_| SyncError::Offline)?;
            let reply = match reply {
                // It overtook the batch before it (another server behind the
                // clinic's address took that one), which is acknowledged now.
                Err(SyncError::Refused { code: ErrorCode::OutOfOrder, .. })
                    if posted.acked_when_posted < after && posted.first_seq == after + 1 =>
                {
                    report.resent += 1 + let_go(&mut in_flight);
                    sent_through = after;
                    continue;
                }
                other => other?,
            };
            let response: PushResponse = parse(&reply)?;
            let receipt = Receipt {
                device: session.device,
                through: response.acked_through,
                op: response.acked_op,
                request: posted.batch_id,
                quarantined: &response.quarantined,
                refused: &response.refused,
            };
            session.check_receipt(&receipt, &response.signature)?;
            session.with_own_vault(access, |v| {
                v.sync_check_acknowledgement(response.acked_through, response.acked_op)?;
                v.sync_acknowledge(response.acked_through, &response.quarantined, &response.refused)?;
                Ok(())
            })?;
            // What this reply acknowledged of this batch; a resend counts only what it adds.
            report.pushed += response.acked_through.min(posted.last_seq).saturating_sub(after);
            report.quarantined += response.quarantined.len() as u32;
            report.refused += response.refused.len() as u32;
            if response.acked_through <= after {
                // The clinic stored nothing contiguous past our acknowledgement: stop rather than loop.
                return Err(SyncError::Refused {
                    code: ErrorCode::AckStalled,
                    message: "the clinic did not acknowledge the batch".into(),
                    status: 0,
                });
            }
            after = response.acked_through;
            report.acked_through = after;
            if after != posted.last_seq {
                // The clinic holds more or less than this batch ends at, so
                // what went after it was built on a wrong guess.
                report.resent += let_go(&mut in_flight);
                sent_through = after;
            }
        }
    })
}

/// Waits for the batches in flight and ignores their replies: each was sent
/// on a guess that turned out wrong, so the clinic either refused it as out
/// of order or holds ops it will acknowledge again when they are resent.
/// Returns how many there were.
fn let_go(in_flight: &mut std::collections::VecDeque<Posted<'_>>) -> u32 {
    let mut count = 0;
    for later in in_flight.drain(..) {
        let _ = later.reply.join();
        count += 1;
    }
    count
}

/// A batch posted on a thread of its own, waiting for the clinic's reply.
struct Posted<'scope> {
    batch_id: Uuid,
    first_seq: u64,
    last_seq: u64,
    /// The acknowledgement when it was posted: a batch posted before the one
    /// ahead of it was acknowledged may reach a server before that one.
    acked_when_posted: u64,
    reply: std::thread::ScopedJoinHandle<'scope, Result<Vec<u8>, SyncError>>,
}

fn post_push<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    session: &'scope Session,
    batch: PushBatch,
    acked: u64,
) -> Posted<'scope> {
    let PushBatch { frame, batch_id, first_seq, last_seq, sealed_at } = batch;
    let reply = scope.spawn(move || {
        let (claim, signature) = sign_push(session.device, batch_id, &frame, sealed_at, &session.keys.signing);
        let headers = [(CLAIM_HEADER, claim), (SIGNATURE_HEADER, signature)];
        let reply = session.https.post_within(PATH_PUSH, &headers, frame, "application/octet-stream", PUSH_TIME);
        for_request(reply, batch_id)
    });
    Posted { batch_id, first_seq, last_seq, acked_when_posted: acked, reply }
}

/// A sealed frame of the outbox after `after`, ready to post.
struct PushBatch {
    frame: Vec<u8>,
    /// What the clinic's acknowledgement of this batch must name.
    batch_id: Uuid,
    first_seq: u64,
    last_seq: u64,
    sealed_at: chrono::DateTime<chrono::Utc>,
}

/// Reads the next ops under the vault lock, then seals them outside it, so
/// the app stays responsive while a large batch is encrypted.
fn prepare_push<A: VaultAccess>(access: &A, session: &Session, after: u64) -> Result<Option<PushBatch>, SyncError> {
    let (ops, now) = session.with_own_vault(access, |v| Ok((v.outbox_batch(after, PUSH_BATCH_OPS)?, v.now())))?;
    let (Some(first), Some(last)) = (ops.first(), ops.last()) else { return Ok(None) };
    let header = upward_header(session.device, session.link.clinic_id, &ops, after, now);
    let header_id = header.batch_id;
    let sealed = seal(header, &ops, &session.link.clinic.recipient()?, &session.keys.signing)?;
    Ok(Some(PushBatch {
        frame: encode(&sealed),
        batch_id: header_id,
        first_seq: first.seq,
        last_seq: last.seq,
        sealed_at: now,
    }))
}

/// A header for the device's own ops. A fresh batch id per attempt: a resend
/// is a new batch with the same ops, which the clinic acknowledges again; an
/// old batch sent again is a replay.
pub fn upward_header(
    device: Uuid,
    clinic: Uuid,
    ops: &[WireOp],
    acked_through: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> BatchHeader {
    let envelope = Envelope { batch_id: Uuid::now_v7(), sender: device, recipient: clinic, sent_at: now };
    BatchHeader::upward(envelope, ops, acked_through, waymark_vault::db::schema_version())
}

/// A sealed, signed batch of everything not yet acknowledged, for a clinic
/// reached only by USB stick. The ops stay in the outbox: the next online
/// sync is acknowledged for them, idempotently.
pub fn export_bundle(vault: &Vault) -> Result<(Vec<u8>, usize), SyncError> {
    let link = vault.sync_link()?.ok_or(SyncError::NotEnrolled)?;
    let keys = vault.sync_keys()?.ok_or(SyncError::NotEnrolled)?;
    let ops = vault.outbox_batch(vault.sync_acked_through()?, Limits::default().max_ops)?;
    let header =
        upward_header(vault.device().as_uuid(), link.clinic_id, &ops, vault.sync_acked_through()?, vault.now());
    let sealed = seal(header, &ops, &link.clinic.recipient()?, &keys.signing)?;
    Ok((encode(&sealed), ops.len()))
}

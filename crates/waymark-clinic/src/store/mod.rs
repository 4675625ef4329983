//! The clinic's storage, behind a trait: an embedded SQLCipher database for
//! a clinic on one server, PostgreSQL for several servers over one
//! database, and memory for tests. `tests/story.rs` runs the same story
//! against every implementation.

mod memory;
pub mod postgres;
mod sqlite;

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
/// The sync benchmark's plain-SQLite floor.
#[cfg(feature = "test-kit")]
pub use sqlite::plain_with_schema;
pub use sqlite::SqliteStore;

use crate::error::ClinicError;
use crate::signin::SessionPolicy;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;
use waymark_domain::access::AccessRequest;
use waymark_domain::intake::ReferralRecords;
use waymark_domain::records::ServiceRules;
use waymark_domain::{DeclineReason, ExemptionReason};
use waymark_protocol::{DevicePublic, OpRefusal, RefusedOp, WireOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Active,
    Revoked,
}

/// What a member of staff does at the clinic. Advocates are enrolled with
/// laptops; the other roles are for the clinic workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum StaffRole {
    Administrator,
    Coordinator,
    Manager,
    PanelMember,
    Advocate,
    Referrer,
}

impl StaffRole {
    pub const ALL: [StaffRole; 6] = [
        StaffRole::Administrator,
        StaffRole::Coordinator,
        StaffRole::Manager,
        StaffRole::PanelMember,
        StaffRole::Advocate,
        StaffRole::Referrer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Administrator => "administrator",
            StaffRole::Coordinator => "coordinator",
            StaffRole::Manager => "manager",
            StaffRole::PanelMember => "panel_member",
            StaffRole::Advocate => "advocate",
            StaffRole::Referrer => "referrer",
        }
    }

    pub fn parse(text: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// One entry of the staff register. The staff code is what ops carry as
/// `actor`; the display name stays at the clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub code: String,
    pub name: String,
    pub role: StaffRole,
    pub active: bool,
    pub added_at: DateTime<Utc>,
    /// The agency a panel member or a referrer works for.
    pub agency: Option<waymark_domain::Agency>,
}

impl StaffMember {
    /// Staff codes are short identifiers, never names: they appear in ops, audits and logs.
    pub fn check_code(code: &str) -> Result<(), ClinicError> {
        // The clinic's copy of the records applies ops as this actor; nobody may be it.
        let reserved = code.eq_ignore_ascii_case(crate::projection::REPLICA_ACTOR);
        let ok = !code.is_empty()
            && !reserved
            && code.len() <= 32
            && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(())
        } else {
            Err(ClinicError::BadRequest("a staff code is 1 to 32 letters, digits, '-' or '_'"))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub id: Uuid,
    /// The advocate the clinic bound the device to at enrolment.
    pub advocate: String,
    /// False for a device enrolled before codes were bound to an advocate,
    /// until an administrator confirms whose it is. It syncs nothing till then.
    pub confirmed: bool,
    pub keys: DevicePublic,
    pub status: DeviceStatus,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The highest contiguous sequence of this device's ops held durably.
    pub acked_through: u64,
}

/// Who a batch is from. The clinic's own ops are not judged: it authored them.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    Clinic(Uuid),
    Device { id: Uuid, advocate: &'a str, max_ahead_ms: u64, service: &'a waymark_domain::records::ServiceRules },
}

impl Origin<'_> {
    pub fn id(&self) -> Uuid {
        match self {
            Origin::Clinic(id) | Origin::Device { id, .. } => *id,
        }
    }
}

/// What storing a batch did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    pub acked_through: u64,
    /// The op id in slot `acked_through`.
    pub acked_op: Option<Uuid>,
    /// Ops refused by the authority rules (`crate::authority`), kept whole.
    pub refused: Vec<RefusedOp>,
    pub inserted: u32,
    pub duplicates: u32,
    /// Ops the feed already held from another device of the same advocate
    /// (a laptop that rejoined after a restore): the slot is held, the feed unchanged.
    pub recognised: u32,
    /// Sequences whose op id (or slot) was already held with other content.
    pub quarantined: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    pub devices_active: u64,
    pub devices_revoked: u64,
    pub devices_unconfirmed: u64,
    pub ops: u64,
    pub quarantined: u64,
    pub refused: u64,
    /// Slots of rejoined laptops filled by ops the feed already held.
    pub recognised: u64,
    pub feed_head: u64,
}

/// What an administrator decided about a quarantined op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineDecision {
    /// The op joined the feed as the clinic's, after the authority rules.
    Released,
    /// The op stays kept, out of the feed, for good.
    Discarded,
}

impl QuarantineDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineDecision::Released => "released",
            QuarantineDecision::Discarded => "discarded",
        }
    }
    fn parse(text: &str) -> Option<Self> {
        [QuarantineDecision::Released, QuarantineDecision::Discarded].into_iter().find(|d| d.as_str() == text)
    }
}

/// What a line of the administrative audit records. Stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminAction {
    QuarantineReleased,
    QuarantineDiscarded,
    /// An administrator set a staff member's password (a new account or a reset).
    PasswordSet,
    /// An administrator gave a staff member a new second factor to enrol.
    SecondFactorReset,
    /// A member of staff signed in to the workspace (a new session).
    SignedIn,
    SignedOut,
    /// Someone read something in the workspace: a list (target: its name) or a record (its id).
    Viewed,
    /// The server refused someone a route or a record (target: the route, or the id asked for).
    Refused,
    /// A referral came in (target: the referral's id).
    ReferralSubmitted,
    /// A referral became a case (target: the referral's id; the case and advocate in the detail).
    ReferralAccepted,
    ReferralDeclined,
    /// The manager moved a case to another advocate (target: the case; from and to in the detail).
    CaseReassigned,
    /// An administrator issued an enrolment code (target: the advocate it is bound to).
    EnrolmentIssued,
    /// An administrator revoked a laptop (target: the device).
    DeviceRevoked,
    /// The coordinator made or changed a meeting (target: the meeting; the counts in the detail).
    MeetingSaved,
    /// A meeting's agenda went to its invited members.
    MeetingPublished,
    /// A meeting's follow-up closed: its members no longer see its cases.
    MeetingClosed,
    /// The coordinator added a case to the panel's selection or took one off (target: the case).
    SelectionChanged,
    /// An agency returned its research on a case before a meeting (target: the meeting; case and agency in the detail).
    ResearchReturned,
    /// The coordinator recorded who came to a meeting (target: the meeting).
    AttendanceRecorded,
    /// The panel's review of a case was recorded (target: the case; meeting and counts in the detail).
    PanelCaseRecorded,
    /// An action's status or owner changed (target: the action).
    ActionUpdated,
    /// A meeting's minutes or an agency's extract were made (target: the meeting; which and pages in the detail).
    MinutesMade,
    /// A step on a perpetrator's pathway was recorded (target: the perpetrator; kind and stage in the detail).
    PathwayRecorded,
    /// The commissioner's quarterly return was made (target: the quarter; the format in the detail).
    ReturnMade,
    /// A case erased everywhere (the case id, the reason's code and counts).
    CaseErased,
    /// A subject access request recorded (target: the request; the case and whose in the detail).
    AccessRequested,
    /// A withheld item of a request released (target: the request; the item's key in the detail).
    AccessReleased,
    /// One of the requester's own items withheld under an exemption (target: the request).
    AccessWithheld,
    /// A request's answer made as PDF or JSON (target: the request; counts and the file's hash).
    AccessExported,
    /// A request's requester's identity checked (target: the request; the day in the detail).
    AccessIdentityChecked,
    /// Written by a newer waymark-clinic.
    Unrecognised,
}

impl AdminAction {
    pub const KNOWN: [AdminAction; 31] = [
        AdminAction::QuarantineReleased,
        AdminAction::QuarantineDiscarded,
        AdminAction::PasswordSet,
        AdminAction::SecondFactorReset,
        AdminAction::SignedIn,
        AdminAction::SignedOut,
        AdminAction::Viewed,
        AdminAction::Refused,
        AdminAction::ReferralSubmitted,
        AdminAction::ReferralAccepted,
        AdminAction::ReferralDeclined,
        AdminAction::CaseReassigned,
        AdminAction::EnrolmentIssued,
        AdminAction::DeviceRevoked,
        AdminAction::MeetingSaved,
        AdminAction::MeetingPublished,
        AdminAction::MeetingClosed,
        AdminAction::SelectionChanged,
        AdminAction::ResearchReturned,
        AdminAction::AttendanceRecorded,
        AdminAction::PanelCaseRecorded,
        AdminAction::ActionUpdated,
        AdminAction::MinutesMade,
        AdminAction::PathwayRecorded,
        AdminAction::ReturnMade,
        AdminAction::CaseErased,
        AdminAction::AccessRequested,
        AdminAction::AccessReleased,
        AdminAction::AccessWithheld,
        AdminAction::AccessExported,
        AdminAction::AccessIdentityChecked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::QuarantineReleased => "quarantine_released",
            AdminAction::QuarantineDiscarded => "quarantine_discarded",
            AdminAction::PasswordSet => "password_set",
            AdminAction::SecondFactorReset => "second_factor_reset",
            AdminAction::SignedIn => "signed_in",
            AdminAction::SignedOut => "signed_out",
            AdminAction::Viewed => "viewed",
            AdminAction::Refused => "refused",
            AdminAction::ReferralSubmitted => "referral_submitted",
            AdminAction::ReferralAccepted => "referral_accepted",
            AdminAction::ReferralDeclined => "referral_declined",
            AdminAction::CaseReassigned => "case_reassigned",
            AdminAction::EnrolmentIssued => "enrolment_issued",
            AdminAction::DeviceRevoked => "device_revoked",
            AdminAction::MeetingSaved => "meeting_saved",
            AdminAction::MeetingPublished => "meeting_published",
            AdminAction::MeetingClosed => "meeting_closed",
            AdminAction::SelectionChanged => "selection_changed",
            AdminAction::ResearchReturned => "research_returned",
            AdminAction::AttendanceRecorded => "attendance_recorded",
            AdminAction::PanelCaseRecorded => "panel_case_recorded",
            AdminAction::ActionUpdated => "action_updated",
            AdminAction::MinutesMade => "minutes_made",
            AdminAction::PathwayRecorded => "pathway_recorded",
            AdminAction::ReturnMade => "return_made",
            AdminAction::CaseErased => "case_erased",
            AdminAction::AccessRequested => "access_requested",
            AdminAction::AccessReleased => "access_released",
            AdminAction::AccessWithheld => "access_withheld",
            AdminAction::AccessExported => "access_exported",
            AdminAction::AccessIdentityChecked => "access_identity_checked",
            AdminAction::Unrecognised => "unrecognised",
        }
    }

    pub fn from_wire(text: &str) -> AdminAction {
        AdminAction::KNOWN.into_iter().find(|a| a.as_str() == text).unwrap_or(AdminAction::Unrecognised)
    }

    pub fn of(decision: QuarantineDecision) -> AdminAction {
        match decision {
            QuarantineDecision::Released => AdminAction::QuarantineReleased,
            QuarantineDecision::Discarded => AdminAction::QuarantineDiscarded,
        }
    }
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeStatus {
    /// Waiting for the coordinator's screening.
    Submitted,
    /// Now a case, assigned to an advocate.
    Accepted,
    Declined,
}

impl IntakeStatus {
    pub const ALL: [IntakeStatus; 3] = [IntakeStatus::Submitted, IntakeStatus::Accepted, IntakeStatus::Declined];

    pub fn as_str(self) -> &'static str {
        match self {
            IntakeStatus::Submitted => "submitted",
            IntakeStatus::Accepted => "accepted",
            IntakeStatus::Declined => "declined",
        }
    }
    pub(crate) fn parse(text: &str) -> Option<Self> {
        IntakeStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A referral as the clinic keeps it. `number` is the clinic's running
/// number for people to say aloud; `id` is what routes name, so a referral
/// cannot be found by counting.
#[derive(Debug, Clone)]
pub struct StoredReferral {
    pub id: Uuid,
    pub number: i64,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub status: IntakeStatus,
    pub form: ReferralRecords,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decline_reason: Option<DeclineReason>,
    /// Who the case went to, once accepted.
    pub advocate: Option<String>,
}

/// The screening's verdict on a submitted referral.
#[derive(Debug, Clone, Copy)]
pub enum ReferralOutcome<'a> {
    /// The case is made by `ops` (the clinic's, already numbered), stored
    /// in the feed in the same transaction as the verdict.
    Accepted {
        advocate: &'a str,
        ops: &'a [WireOp],
    },
    Declined(DeclineReason),
}

/// A case on a meeting's agenda, in order, with the minutes it is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AgendaItem {
    pub case_id: Uuid,
    pub minutes: u32,
}

/// A panel meeting (clinic.md, "The flow of a case", steps 4 and 5). Its
/// invited members see its cases from publication until its follow-up is
/// closed, and no others. A panel run with no meeting at all is one with a
/// date by which agencies return their research.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PanelMeeting {
    pub id: Uuid,
    pub meets_on: chrono::NaiveDate,
    /// The chair's staff code.
    pub chair: String,
    /// Panel members' staff codes.
    pub invited: Vec<String>,
    pub agenda: Vec<AgendaItem>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// When the coordinator closed the meeting's follow-up.
    pub closed_at: Option<DateTime<Utc>>,
    /// The day by which each invited agency returns its research.
    #[serde(default)]
    pub research_due_on: Option<chrono::NaiveDate>,
    /// Who came and who sent apologies, once the coordinator records it.
    #[serde(default)]
    pub attendance: Vec<Attended>,
}

/// A member's mark at a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attended {
    pub code: String,
    pub mark: waymark_domain::Attendance,
}

impl PanelMeeting {
    /// Whether `staff_code` may see the meeting's cases on `today`: from
    /// publication until the follow-up is closed, and never more than
    /// `FOLLOW_UP_DAYS` after the meeting, should nobody close it.
    pub fn opens_cases_to(&self, staff_code: &str, today: chrono::NaiveDate) -> bool {
        self.published_at.is_some()
            && self.closed_at.is_none()
            && today <= self.meets_on + chrono::Duration::days(FOLLOW_UP_DAYS)
            && self.invited.iter().any(|c| c == staff_code)
    }
}

/// The longest a meeting's cases stay open to its members after the meeting:
/// the follow-up runs to the next panel, about a month on (clinic.md,
/// "Follow-up"); a coordinator who forgets to close it does not leave them open.
pub const FOLLOW_UP_DAYS: i64 = 42;

/// What a staff member's sign-in is checked against.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// The argon2id PHC string (`signin::PasswordRecord`), once an administrator set one.
    pub password: Option<String>,
    pub totp_secret: Option<zeroize::Zeroizing<Vec<u8>>>,
    /// The TOTP step of the last code that signed in: a code counts once.
    pub totp_last_step: Option<u64>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("password", &self.password.as_ref().map(|_| "argon2id"))
            .field("totp_secret", &self.totp_secret.as_ref().map(|_| ".."))
            .field("totp_last_step", &self.totp_last_step)
            .finish()
    }
}

/// How long a failed sign-in holds back the next one that names the same
/// key (`signin::failure_key`): given the failures so far and when the last
/// was, the wait left at `now`, if any.
/// Shared with the PostgreSQL store's worker thread, so it must be `Sync`.
pub type SignInWait<'a> = &'a (dyn Fn(&str, u32, DateTime<Utc>) -> Option<chrono::Duration> + Sync);

/// A sign-in that passed every check, as the store records it.
#[derive(Clone, Copy)]
pub struct GoodSignIn<'a> {
    pub staff_code: &'a str,
    /// The failure keys the attempt counted against (`Store::start_sign_in`):
    /// the account's is cleared, the address's loses this attempt.
    pub account_key: &'a str,
    pub address_key: &'a str,
    /// What was checked: the session is made only while they are still the
    /// member's (an administrator's reset in between wins).
    pub password: &'a str,
    pub totp_secret: &'a [u8],
    /// The TOTP step of the code that signed in.
    pub totp_step: u64,
    /// The SHA-256 of the session's token.
    pub session_id: &'a str,
    pub csrf: &'a str,
}

/// A session as the store holds it (keyed by the SHA-256 of its token).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub session: crate::signin::Session,
    /// The token every state-changing request must echo (the CSRF defence).
    pub csrf: String,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession").field("session", &self.session).field("csrf", &"..").finish()
    }
}

/// An op the clinic would not store because its id or its slot was already
/// held with other content. Ids and kinds only: the change itself stays sealed in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quarantined {
    pub id: i64,
    pub origin: Uuid,
    pub seq: u64,
    pub op_id: Uuid,
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// The feed holds another change under this op id, so it cannot be released.
    pub id_taken: bool,
    pub decision: Option<QuarantineDecision>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// An administrator's decision on a quarantined op. A release carries the
/// clinic's copy of the op: the same change under the clinic's origin and
/// its next sequence.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    pub by: &'a str,
    /// Kept with the quarantined op; never in the audit.
    pub reason: &'a str,
    pub release: Option<&'a WireOp>,
    /// The rules a released change is judged by, as its laptop had them.
    pub service: &'a waymark_domain::records::ServiceRules,
}

/// One entry of the clinic's audit: who did what to which id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: AdminAction,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    /// The line's link in the hash chain (`audit_hash`); `None` only for
    /// lines written before the chain began (clinic schema 7).
    pub hash: Option<String>,
}

/// A line for the audit, as a caller gives it.
#[derive(Debug, Clone)]
pub struct AuditLine<'a> {
    pub actor: &'a str,
    pub action: AdminAction,
    pub target: Option<&'a str>,
    /// Ids and counts only: never a name, an address or free text.
    pub detail: serde_json::Value,
}

/// The audit's hash chain: each line's hash covers the line before's, so a
/// line changed, removed or put out of order breaks every hash after it.
pub fn audit_hash(
    previous: Option<&str>,
    at: DateTime<Utc>,
    actor: &str,
    action: AdminAction,
    target: Option<&str>,
    detail: &serde_json::Value,
) -> String {
    let line = serde_json::json!([
        previous.unwrap_or(""),
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        actor,
        action.as_str(),
        target,
        detail
    ]);
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(line.to_string().as_bytes()))
}

/// What `verify_audit` found: how many lines the chain holds, how many came
/// before it began, and its head, to keep somewhere the database's holder
/// cannot reach and give back as an anchor later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerified {
    pub chained: u64,
    pub before_chain: u64,
    pub head: Option<(i64, String)>,
}

/// What the store knows about its audit besides the lines themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditBounds {
    /// Lines up to this one were written before the chain began (clinic schema 7) and carry no hash.
    pub chain_starts_after: i64,
    /// The highest line number the store ever gave: a line taken off the end leaves it behind.
    pub highest_issued: i64,
}

/// Recomputes the chain. The first line that does not match, is missing or
/// has lost its hash names where the audit was changed (`AuditBroken`). The
/// chain alone cannot stop someone with the database's key from rewriting
/// it all; `anchor`, a head kept elsewhere from an earlier check, can: the
/// line it names must still be there with that hash.
pub fn verify_audit(
    lines: &[AdminEvent],
    bounds: AuditBounds,
    anchor: Option<(i64, &str)>,
) -> StoreResult<AuditVerified> {
    let mut found = AuditVerified { chained: 0, before_chain: 0, head: None };
    let mut previous: Option<String> = None;
    let mut expected_seq = 1;
    for line in lines {
        if line.seq != expected_seq {
            return Err(ClinicError::AuditBroken { seq: expected_seq });
        }
        expected_seq += 1;
        if line.seq <= bounds.chain_starts_after {
            if line.hash.is_some() {
                return Err(ClinicError::AuditBroken { seq: line.seq });
            }
            found.before_chain += 1;
            continue;
        }
        let expected =
            audit_hash(previous.as_deref(), line.at, &line.actor, line.action, line.target.as_deref(), &line.detail);
        if line.hash.as_deref() != Some(expected.as_str()) {
            return Err(ClinicError::AuditBroken { seq: line.seq });
        }
        found.chained += 1;
        found.head = Some((line.seq, expected.clone()));
        previous = Some(expected);
    }
    if expected_seq - 1 != bounds.highest_issued {
        return Err(ClinicError::AuditBroken { seq: (expected_seq).min(bounds.highest_issued) });
    }
    if let Some((seq, hash)) = anchor {
        let kept = lines.iter().find(|l| l.seq == seq).and_then(|l| l.hash.as_deref());
        if kept != Some(hash) {
            return Err(ClinicError::AuditBroken { seq });
        }
    }
    Ok(found)
}

/// An accepted op whose free text shows its case's victim's address
/// (`crate::text_guard`): which fields, never what they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextWarning {
    pub op_id: Uuid,
    pub case_id: Uuid,
    pub kind: String,
    pub record_id: Uuid,
    pub fields: Vec<String>,
    pub at: DateTime<Utc>,
}

/// A page of the feed for one device.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    pub ops: Vec<WireOp>,
    /// The feed position this page covers up to (ops not for this device are skipped).
    pub through: u64,
}

pub type StoreResult<T> = Result<T, ClinicError>;

/// Every method is one atomic step: it happens whole or not at all.
pub trait ClinicStore: Send + Sync {
    /// Adds someone to the staff register; a code already there is refused.
    fn add_staff(&self, member: &StaffMember) -> StoreResult<()>;
    fn staff(&self, code: &str) -> StoreResult<Option<StaffMember>>;
    fn staff_list(&self) -> StoreResult<Vec<StaffMember>>;
    /// Returns false when no such staff code exists.
    fn set_staff_active(&self, code: &str, active: bool) -> StoreResult<bool>;
    /// The member's sign-in record, or `None` for no such staff member.
    fn credentials(&self, code: &str) -> StoreResult<Option<Credentials>>;
    /// Sets a password (a PHC string) and ends the member's sessions; audited as `by`'s act, never the password.
    fn set_password(&self, code: &str, password: &str, by: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Gives the member a new TOTP secret and ends their sessions; audited, never the secret.
    fn set_totp_secret(&self, code: &str, secret: &[u8], by: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Starts a sign-in attempt in one transaction: when no key still has a
    /// wait to run (`wait`), the attempt is counted as a failure against
    /// every key before any password is checked (so attempts sent together
    /// cannot share one window) and `None` is returned; otherwise the longest
    /// wait, and nothing is counted. Failures last seen before `forget_before` start afresh.
    fn start_sign_in(
        &self,
        keys: &[&str],
        wait: SignInWait<'_>,
        forget_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<chrono::Duration>>;
    /// Records a good sign-in in one transaction: the code's step (refused
    /// as `false` when a code of that step or later already signed in, or
    /// the password or secret checked is no longer the member's, or the
    /// member is inactive), the account's failures cleared and this attempt
    /// taken off the address's, and the new session.
    fn sign_in_succeeded(&self, good: &GoodSignIn<'_>, now: DateTime<Utc>) -> StoreResult<bool>;
    /// The session, when it is live at `now` under `policy` (its last use
    /// is then moved to `now`); an ended one is removed.
    fn session(&self, id: &str, now: DateTime<Utc>, policy: SessionPolicy) -> StoreResult<Option<StoredSession>>;
    fn end_session(&self, id: &str) -> StoreResult<()>;
    /// Forgets sessions no longer live at `now` under `policy` (each is
    /// removed when next asked for anyway; these were never asked again) and
    /// failed sign-ins last counted before `forget_failures_before`. Returns how many.
    fn prune_sign_in(
        &self,
        now: DateTime<Utc>,
        policy: SessionPolicy,
        forget_failures_before: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// Records a one-time enrolment token (its hash only), bound to an advocate, until `expires_at`.
    fn add_enrolment(&self, token_hash: &str, advocate: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Uses a token to register a device for the advocate the token is bound
    /// to (`device.advocate` is ignored). A claimed advocate that differs is
    /// refused without using the token. A retry by the same device with the
    /// same keys succeeds again; anything else with a used token is refused.
    fn enrol(
        &self,
        token_hash: &str,
        device: &DeviceRecord,
        claimed: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<DeviceRecord>;
    /// Whether a token could enrol `device` now: known, bound, unexpired, and
    /// unused or used by that same device. Read only; `enrol` decides.
    fn enrolment_open(&self, token_hash: &str, device: Uuid, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Binds an unconfirmed device (enrolled before codes were bound) to an
    /// advocate. Returns false when no such device exists.
    fn confirm_device(&self, id: Uuid, advocate: &str) -> StoreResult<bool>;
    fn device(&self, id: Uuid) -> StoreResult<Option<DeviceRecord>>;
    fn devices(&self) -> StoreResult<Vec<DeviceRecord>>;
    /// Returns false when no such device exists.
    fn revoke(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Refuses a request id seen before from the device (a replayed request).
    fn use_request_id(&self, device: Uuid, request_id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    /// Forgets request and batch ids recorded before `before`; the server
    /// refuses claims and pushed batches older than the window anyway.
    /// Returns how many were forgotten.
    fn prune(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Stores a device's ops: new ones are judged by `crate::authority` and
    /// join the feed or the refused list, identical resends are acknowledged
    /// again, and the same id or slot with other content is quarantined,
    /// never dropped or overwritten. A batch id seen before is a replay; a
    /// batch that starts past the next slot (a hole in the log) is refused whole.
    fn store_batch(
        &self,
        origin: Origin<'_>,
        batch_id: Uuid,
        ops: &[WireOp],
        now: DateTime<Utc>,
    ) -> StoreResult<Stored> {
        self.store_ready(origin, batch_id, &crate::authority::ready(ops, &origin), now)
    }
    /// `store_batch` of ops readied beforehand for `origin`
    /// (`crate::authority::ready`), as a push readies them before it waits its turn.
    fn store_ready(
        &self,
        origin: Origin<'_>,
        batch_id: Uuid,
        ops: &crate::authority::Readied<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<Stored>;
    /// Other devices' ops for cases assigned to `advocate`, after a feed position.
    /// A reassignment away from `advocate` is included too, so the old
    /// advocate's laptops learn the case has moved.
    /// When a case was reassigned to `advocate` within the page, the history
    /// the cursor had already passed comes first, so the new advocate's
    /// laptop receives the whole case.
    fn feed(&self, device: Uuid, advocate: &str, after: u64, limit: u32) -> StoreResult<FeedPage>;
    /// Every op in the feed after a position, in feed order, for the clinic's
    /// own copy of the records (`crate::projection`). Never for a device.
    fn feed_all(&self, after: u64, limit: u32) -> StoreResult<FeedPage>;
    /// The advocate a case is assigned to, from the latest case op that names one.
    fn case_advocate(&self, case: Uuid) -> StoreResult<Option<String>>;
    /// The latest HLC among a case's ops in the feed, so the clinic's change
    /// to the case is stamped after all of them.
    fn case_latest_hlc(&self, case: Uuid) -> StoreResult<Option<String>>;
    /// The highest sequence and its HLC among an origin's ops (the clinic's own, for authoring).
    fn last_op_of(&self, origin: Uuid) -> StoreResult<(u64, Option<String>)>;
    /// The op id held in an origin's slot, from the feed or else the quarantine.
    fn op_id_at(&self, origin: Uuid, seq: u64) -> StoreResult<Option<Uuid>>;
    /// The newest feed position.
    fn feed_head(&self) -> StoreResult<u64>;
    /// Every quarantined op, oldest first, with any decision.
    fn quarantine_list(&self) -> StoreResult<Vec<Quarantined>>;
    /// A quarantined op itself, for building its release.
    fn quarantined_op(&self, id: i64) -> StoreResult<Option<WireOp>>;
    /// Records an administrator's decision on an undecided quarantined op,
    /// audited. A release is judged first by the authority rules as if its
    /// device sent it now (`ReleaseRefused` otherwise), must carry the same
    /// change, and cannot take an op id the feed already holds; it then
    /// joins the feed as the clinic's op.
    fn decide_quarantined(&self, id: i64, decision: Decision<'_>, now: DateTime<Utc>) -> StoreResult<()>;
    /// Judges again, as from its device, each op held for a newer schema
    /// or refused for its content (`OpRefusal::may_pass_later`), by a clinic
    /// reading schema `understood` with the service rules it has now: one
    /// that passes goes into the feed, one that does not stays refused under
    /// the rule it breaks. Run when the clinic starts, so updating the clinic
    /// or its service files lets in what an older clinic held back. Returns
    /// how many went into the feed.
    fn rejudge_held(&self, understood: u32, service: &ServiceRules, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Appends a line to the audit, chained to the line before.
    fn audit(&self, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()>;
    /// The audit, oldest first.
    fn admin_audit(&self) -> StoreResult<Vec<AdminEvent>>;
    /// Where the audit's chain begins and the highest line number ever given.
    fn audit_bounds(&self) -> StoreResult<AuditBounds>;
    /// The ops in the feed about one case (of one record kind, if given), in feed order.
    fn case_ops(&self, case: Uuid, kind: Option<&str>) -> StoreResult<Vec<WireOp>>;
    /// Keeps a warning; one per op.
    fn add_text_warning(&self, warning: &TextWarning) -> StoreResult<()>;
    fn text_warnings(&self) -> StoreResult<Vec<TextWarning>>;
    fn stats(&self) -> StoreResult<Stats>;
    /// Keeps a new referral and audits its arrival, in one transaction.
    fn add_referral(&self, id: Uuid, by: &str, form: &ReferralRecords, now: DateTime<Utc>) -> StoreResult<i64>;
    /// Every referral, newest first, or only those `submitted_by` made.
    fn referrals(&self, submitted_by: Option<&str>) -> StoreResult<Vec<StoredReferral>>;
    fn referral(&self, id: Uuid) -> StoreResult<Option<StoredReferral>>;
    /// Settles a submitted referral once: its status, the case's ops when it
    /// is accepted, and the audit line, in one transaction. A referral
    /// already settled is `ReferralDecided`, and nothing is written.
    fn decide_referral(&self, id: Uuid, by: &str, outcome: ReferralOutcome<'_>, now: DateTime<Utc>) -> StoreResult<()>;
    /// Keeps a meeting as it now is, with an audit line naming `action`, in
    /// one transaction. A meeting whose follow-up is closed is not changed
    /// again (`MeetingClosed`).
    fn save_meeting(
        &self,
        meeting: &PanelMeeting,
        by: &str,
        action: AdminAction,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Every meeting, the latest date first.
    fn meetings(&self) -> StoreResult<Vec<PanelMeeting>>;
    /// Keeps the panel's documents as they now are, the clinic's ops they
    /// make (a review, a task, already numbered) in the feed, and one audit
    /// line, in one transaction. An op whose number another of the clinic's
    /// changes took meanwhile is `ClinicBusy`, and nothing is written.
    fn save_panel(
        &self,
        docs: &[PanelDoc],
        ops: &[WireOp],
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The panel's documents of one kind, of one meeting if given, by id.
    fn panel_docs(&self, kind: PanelDocKind, meeting: Option<Uuid>) -> StoreResult<Vec<PanelDoc>>;
    /// Erases a case, in one transaction: records the erasure, stores the
    /// clinic's `erase` op (numbered by `authoring`; `ClinicBusy` when its
    /// slot was taken meanwhile, and nothing is written), turns every op of
    /// the case in the feed, the refused list and the quarantine into a
    /// tombstone that keeps its id, slot and hash, deletes the referral that
    /// became the case, the panel's documents about it, its warnings and the
    /// decisions on its subject access requests (the requests, ids and dates,
    /// stay: each is still owed an answer), and writes the audit line. Then empties the write-ahead log, so no earlier
    /// version of a page is left on disk.
    fn erase_case(&self, erasure: &Erasure, op: &WireOp, now: DateTime<Utc>) -> StoreResult<ErasedAtClinic>;
    fn erasures(&self) -> StoreResult<Vec<Erasure>>;
    fn case_erased(&self, case: Uuid) -> StoreResult<bool>;
    /// Records a subject access request and its audit line in one transaction;
    /// `CaseErased` when its case was erased, however recently.
    fn add_access_request(&self, request: &AccessRequest, line: &AuditLine<'_>, now: DateTime<Utc>) -> StoreResult<()>;
    /// The requests, for one case or all, the soonest due first.
    fn access_requests(&self, case: Option<Uuid>) -> StoreResult<Vec<AccessRequest>>;
    /// What was decided on a request's items, by item key.
    fn access_decisions(&self, request: Uuid) -> StoreResult<AccessDecisions>;
    /// Records who checked a request's requester's identity and on which day,
    /// with its audit line, in one transaction; `CaseErased` as for a decision.
    fn check_access_identity(
        &self,
        request: Uuid,
        check: &waymark_domain::access::IdentityCheck,
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Keeps a decision on one item (replacing an earlier one on it) and its
    /// audit line in one transaction; `CaseErased` when the request's case was erased.
    fn decide_access_item(
        &self,
        request: Uuid,
        key: &str,
        decision: &AccessDecision,
        line: &AuditLine<'_>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// A decision on one item of a subject access request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessDecision {
    /// A withheld item released, with the digest of the words released.
    Release { digest: String },
    /// One of the requester's own items withheld under an exemption.
    Exempt { reason: ExemptionReason },
}

/// The decisions on a request's items, as `waymark_domain::access::review` takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessDecisions {
    pub releases: Vec<(String, String)>,
    pub exempt: Vec<(String, ExemptionReason)>,
}

/// A case erased at the clinic: ids, a code and a time, nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    pub case_id: Uuid,
    pub erased_at: DateTime<Utc>,
    pub erased_by: String,
    pub reason: waymark_domain::ErasureReason,
    pub op_id: Uuid,
}

/// What erasing a case took out of the clinic's store, by where it was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErasedAtClinic {
    pub feed_ops: u64,
    pub refused: u64,
    pub quarantined: u64,
    pub referrals: u64,
    pub panel_docs: u64,
    pub warnings: u64,
}

/// What an erased case's op in the feed holds instead of the op (the
/// store's trigger allows exactly this text, migration 12).
pub const FEED_TOMBSTONE: &str = r#"{"erased":true}"#;

/// The audit line of an erasure: the case id, the reason's code and counts.
pub(crate) fn erasure_line<'a>(erasure: &'a Erasure, target: &'a str, erased: &ErasedAtClinic) -> AuditLine<'a> {
    AuditLine {
        actor: &erasure.erased_by,
        action: AdminAction::CaseErased,
        target: Some(target),
        detail: serde_json::json!({
            "reason": erasure.reason.wire(),
            "erase_op": erasure.op_id.to_string(),
            "feed_ops": erased.feed_ops,
            "refused": erased.refused,
            "quarantined": erased.quarantined,
            "referrals": erased.referrals,
            "panel_docs": erased.panel_docs,
            "warnings": erased.warnings,
        }),
    }
}

/// What of the panel's work a document is; its shape is in `crate::panel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PanelDocKind {
    /// The coordinator's hand on the selection, one per case.
    Selection,
    /// An agency's research on a case before a meeting.
    Research,
    /// What a meeting recorded of a case.
    CaseRecord,
    Action,
    /// A perpetrator's mental-health pathway or MAPPA referral.
    Pathway,
}

impl PanelDocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PanelDocKind::Selection => "selection",
            PanelDocKind::Research => "research",
            PanelDocKind::CaseRecord => "case_record",
            PanelDocKind::Action => "action",
            PanelDocKind::Pathway => "pathway",
        }
    }
}

/// One of the panel's documents as the store keeps it: the JSON document
/// under its kind and id, with the case and meeting it belongs to for finding it.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelDoc {
    pub kind: PanelDocKind,
    pub id: String,
    pub case_id: Option<Uuid>,
    pub meeting_id: Option<Uuid>,
    pub doc: serde_json::Value,
}

/// The audit line of a meeting's change: ids and counts only.
pub(crate) fn meeting_line<'a>(
    by: &'a str,
    target: &'a str,
    action: AdminAction,
    meeting: &PanelMeeting,
) -> AuditLine<'a> {
    AuditLine {
        actor: by,
        action,
        target: Some(target),
        detail: serde_json::json!({ "cases": meeting.agenda.len(), "invited": meeting.invited.len() }),
    }
}

/// The audit line of a referral's verdict: ids and codes only.
pub(crate) fn referral_verdict_line<'a>(
    by: &'a str,
    target: &'a str,
    number: i64,
    outcome: &ReferralOutcome<'_>,
) -> AuditLine<'a> {
    match outcome {
        ReferralOutcome::Accepted { advocate, ops } => AuditLine {
            actor: by,
            action: AdminAction::ReferralAccepted,
            target: Some(target),
            detail: serde_json::json!({
                "number": number,
                "advocate": advocate,
                "case": ops.first().and_then(|o| o.case_id).map(|c| c.to_string()),
            }),
        },
        ReferralOutcome::Declined(reason) => AuditLine {
            actor: by,
            action: AdminAction::ReferralDeclined,
            target: Some(target),
            detail: serde_json::json!({ "number": number, "reason": reason.wire() }),
        },
    }
}

/// The case-to-advocate map follows `advocate` on case ops, so a
/// reassignment moves the case's future ops to the new advocate's devices.
pub(crate) fn advocate_of(op: &WireOp) -> Option<&str> {
    (op.kind == "case").then(|| op.changes.new.get("advocate")?.as_str()).flatten()
}

/// The staff member an enrolment may bind a device to: registered, active, an advocate.
pub(crate) fn enrollable(member: Option<StaffMember>) -> StoreResult<StaffMember> {
    match member {
        Some(m) if m.active && m.role == StaffRole::Advocate => Ok(m),
        Some(m) if !m.active => Err(ClinicError::StaffInactive),
        Some(_) => Err(ClinicError::BadRequest("only an advocate's laptop can be enrolled")),
        None => Err(ClinicError::UnknownStaff),
    }
}

pub(crate) fn decision_of(text: &str) -> Option<QuarantineDecision> {
    QuarantineDecision::parse(text)
}

/// Checks a decision before any store writes it: the release carries the
/// quarantined change and no other, and the reason is there.
pub(crate) fn check_decision(held: &WireOp, decision: &Decision<'_>) -> StoreResult<()> {
    let reason = decision.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ClinicError::BadRequest("a reason is required, up to 500 characters"));
    }
    if decision.release.is_some_and(|r| r.meaning_hash() != held.meaning_hash() || r.op_id != held.op_id) {
        return Err(ClinicError::BadRequest("a release must carry the quarantined change unaltered"));
    }
    Ok(())
}

/// The refusal kept for a slot, read back when the same op is sent again.
pub(crate) fn refusal_of(code: &str) -> OpRefusal {
    OpRefusal::parse(code)
}

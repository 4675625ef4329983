//! Command-line arguments. Passphrases are never arguments: they come from a
//! no-echo prompt or from the files named by WAYMARK_*PASSPHRASE_FILE.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use waymark_vault::SHIPPED_WORK_FACTOR;

const FIELDS_HELP: &str = "Fields: name=text, name:=<json>, list+=text, group.field=text; \
an empty value clears a field. Times are UK local time (YYYY-MM-DD HH:MM).";

#[derive(Debug, Parser)]
#[command(
    name = "waymark",
    version,
    about = "Waymark: the caseload of an independent stalking advocate, in an encrypted vault."
)]
pub struct Cli {
    /// The vault folder (default: the platform data folder).
    #[arg(long, global = true, env = "WAYMARK_VAULT")]
    pub vault: Option<PathBuf>,
    /// Print stable JSON (see docs/cli-json.md) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Save or print even though the victim's address appears in a
    /// free-text field (the address guard's warning); recorded in the audit trail.
    #[arg(long, global = true)]
    pub address_confirmed: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a vault, protected by a new passphrase.
    Init {
        /// Your staff code, recorded against every change (not your name).
        #[arg(long)]
        advocate: String,
        /// The clinic's recovery recipient (age1...), so a forgotten passphrase can be reset.
        #[arg(long)]
        recovery_recipient: Option<String>,
        /// scrypt work factor (log2 N). Lower only for tests.
        #[arg(long, default_value_t = SHIPPED_WORK_FACTOR, hide = true)]
        work_factor: u8,
    },
    /// Check the passphrase opens the vault.
    Unlock,
    /// Change the passphrase.
    #[command(subcommand)]
    Passphrase(PassphraseCmd),
    /// Set a new passphrase with the clinic's recovery identity file.
    Recover {
        #[arg(long)]
        identity: PathBuf,
        #[arg(long, default_value_t = SHIPPED_WORK_FACTOR, hide = true)]
        work_factor: u8,
    },
    /// Give the database a new key, so old copies of the key file (with the
    /// old passphrase) no longer open it: after a lost laptop is found, or
    /// when the passphrase or the vault folder may have been copied.
    Rekey {
        #[arg(long, default_value_t = SHIPPED_WORK_FACTOR, hide = true)]
        work_factor: u8,
    },
    /// Vault details: device, key id, schema, changes waiting to sync.
    Status,
    /// Cases: add, edit, list, show, close.
    #[command(subcommand)]
    Case(CaseCmd),
    /// The incident diary: add, list, amend.
    #[command(subcommand)]
    Incident(IncidentCmd),
    /// The victim's record (one per case).
    #[command(subcommand)]
    Victim(RecordCmd),
    /// Perpetrator records.
    #[command(subcommand)]
    Perpetrator(RecordCmd),
    /// Risk assessments (DASH, S-DASH, SRP). See `waymark instruments`.
    #[command(subcommand)]
    Risk(RecordCmd),
    /// Safety plans. `add` makes the next version, starting from the last.
    #[command(subcommand)]
    Plan(RecordCmd),
    /// Court hearings.
    #[command(subcommand)]
    Hearing(RecordCmd),
    /// Protective orders and bail conditions.
    #[command(subcommand)]
    Order(RecordCmd),
    /// Breaches of orders.
    #[command(subcommand)]
    Breach(RecordCmd),
    /// Outgoing referrals.
    #[command(subcommand)]
    Referral(RecordCmd),
    /// Clinic reviews (SRP judgements and agreed actions).
    #[command(subcommand)]
    Review(RecordCmd),
    /// Escalation reviews: what was decided when a case escalated
    /// (`signs:=[...]` as `case show` lists them, `note=...`, optionally `risk_assessment_id=...`).
    #[command(subcommand)]
    Escalation(RecordCmd),
    /// The contact log.
    #[command(subcommand)]
    Contact(RecordCmd),
    /// Tasks and reminders entered by hand.
    #[command(subcommand)]
    Task(TaskCmd),
    /// Reminders generated from the records: hearings, expiries, reviews, deadlines.
    Reminders,
    /// Upcoming hearings across the caseload or for one case.
    Hearings {
        #[arg(long)]
        case: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Print a document to a PDF file: the safety plan, the chronology or the hearing list.
    #[command(subcommand)]
    Print(PrintCmd),
    /// Bring a caseload in from a spreadsheet (CSV or Excel), each row a case,
    /// by a mapping file from its columns to fields. Cases already here (by
    /// reference) are left as they are. Check it first with --dry-run.
    Import {
        /// The spreadsheet: .csv, .xlsx, .xls or .ods.
        file: Option<PathBuf>,
        /// Which column fills which field (start from --example-mapping).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Check every row as the import would, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the shipped example mapping for a typical spreadsheet.
        #[arg(long)]
        example_mapping: bool,
    },
    /// The commissioner's quarterly return for this laptop's caseload: shown,
    /// or saved as a PDF, CSV or Excel workbook by the --out file's extension.
    QuarterlyReturn {
        /// The financial-year quarter, like 2026-27-Q3 (default: the last full quarter).
        #[arg(long)]
        quarter: Option<String>,
        /// Where to save it: a .pdf, .csv or .xlsx file. Without it, the figures are shown.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Closed cases against the service's retention schedule (6 weeks when no
    /// service was taken up, 6 months when not contactable, 6 years after the
    /// last contact, or the service's own), the ones due for deletion first.
    /// Erasing is the clinic manager's; a legal hold is a case field
    /// (`waymark case edit REF 'legal_hold:={"reason": "ongoing_proceedings", "since": "2026-12-07"}'`).
    Retention,
    /// Subject access requests: everything held about the victim or the
    /// perpetrator, other people's information withheld until released item
    /// by item, and the export as a PDF or JSON. Each step is audited.
    #[command(subcommand)]
    Access(AccessCmd),
    /// Sync with the stalking clinic: enrol, sync now, status, conflicts, offline bundle.
    #[command(subcommand)]
    Sync(SyncCmd),
    /// The installed risk instruments and their questions.
    Instruments,
    /// Write an encrypted backup.
    Backup {
        #[arg(long)]
        out: PathBuf,
        /// An age recipient (age1...) who can open it. Repeat for several.
        #[arg(long)]
        recipient: Vec<String>,
        /// Seal it to a backup passphrase instead (asked for, never an argument).
        #[arg(long)]
        passphrase: bool,
        #[arg(long, default_value_t = SHIPPED_WORK_FACTOR, hide = true)]
        work_factor: u8,
    },
    /// Replace the vault's contents with an encrypted backup (creates the vault if none).
    Restore {
        file: PathBuf,
        /// The age identity file the backup was sealed to (else the backup passphrase is asked for).
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Fill a separate vault with a clearly fictional caseload.
    Demo {
        #[arg(long, default_value_t = 30)]
        cases: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A fixed number of incidents in every case, for benchmarks.
        #[arg(long, hide = true)]
        incidents_per_case: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrintCmd {
    /// The safety plan. For the victim to keep, use --discreet.
    SafetyPlan {
        #[arg(long)]
        case: String,
        /// A plan version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
        #[command(flatten)]
        out: PrintOut,
        /// Neutral title; no service, address, perpetrator or avoided words.
        #[arg(long)]
        discreet: bool,
    },
    /// The course-of-conduct chronology for police, CPS and the clinic.
    Chronology {
        #[arg(long)]
        case: String,
        #[command(flatten)]
        out: PrintOut,
    },
    /// Upcoming hearings for one case, or across the caseload.
    Hearings {
        #[arg(long)]
        case: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        out: PrintOut,
    },
}

#[derive(Debug, clap::Args)]
pub struct PrintOut {
    /// Where to write the PDF. A saved PDF is readable by anyone who finds it: keep it somewhere safe.
    #[arg(long)]
    pub out: PathBuf,
    /// Body text of 16 pt or more.
    #[arg(long)]
    pub large_print: bool,
}

#[derive(Debug, Subcommand)]
pub enum PassphraseCmd {
    /// Rewrap the key under a new passphrase (only the key file changes).
    Change {
        /// Also give the database a new key (see `waymark rekey`): use it when
        /// the old passphrase may be known to someone else.
        #[arg(long)]
        rekey: bool,
        #[arg(long, default_value_t = SHIPPED_WORK_FACTOR, hide = true)]
        work_factor: u8,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaseCmd {
    /// Add a case, e.g. `reference=HSC-2026-0142 referral.source=police referral.reason=...`.
    #[command(after_help = FIELDS_HELP)]
    Add { fields: Vec<String> },
    /// Edit a case by reference or id.
    #[command(after_help = FIELDS_HELP)]
    Edit { case: String, fields: Vec<String> },
    /// Close a case with a reason.
    Close {
        case: String,
        #[arg(long, value_enum)]
        reason: Reason,
        /// Closing date (default today).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
    },
    /// The caseload, with risk, next hearing and days since last contact.
    List {
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[arg(long, value_enum)]
        risk: Option<RiskArg>,
        /// Reference, victim name or perpetrator name/alias.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_enum, default_value_t = SortArg::Reference)]
        sort: SortArg,
    },
    /// One case in full, warnings first.
    Show { case: String },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Log an incident, e.g. `behaviours+=loitering channel=in_person account=...`.
    #[command(after_help = FIELDS_HELP)]
    Add { case: String, fields: Vec<String> },
    /// The diary for a case, in time order, with amendments.
    List { case: String },
    /// Correct an incident: the original is kept and the amendment shown beside it.
    #[command(after_help = FIELDS_HELP)]
    Amend {
        incident: String,
        #[arg(long)]
        reason: String,
        fields: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecordCmd {
    /// Add one to a case (by reference or id).
    #[command(after_help = FIELDS_HELP)]
    Add { case: String, fields: Vec<String> },
    /// Edit one by id.
    #[command(after_help = FIELDS_HELP)]
    Edit { id: String, fields: Vec<String> },
    /// List a case's records.
    List { case: String },
    /// Show one by id.
    Show { id: String },
}

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Add a task (optionally for a case): `due_on=2026-12-01 what=...`.
    #[command(after_help = FIELDS_HELP)]
    Add {
        #[arg(long)]
        case: Option<String>,
        fields: Vec<String>,
    },
    /// Mark a task done today.
    Done { id: String },
    #[command(flatten)]
    Record(RecordCmd),
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain: detects a changed or deleted event.
    Verify,
    /// Recent audit events, newest first.
    List {
        #[arg(long)]
        case: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Open,
    Closed,
}

impl From<StatusArg> for waymark_domain::CaseStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Open => Self::Open,
            StatusArg::Closed => Self::Closed,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RiskArg {
    Standard,
    Medium,
    High,
}

impl From<RiskArg> for waymark_domain::RiskLevel {
    fn from(r: RiskArg) -> Self {
        match r {
            RiskArg::Standard => Self::Standard,
            RiskArg::Medium => Self::Medium,
            RiskArg::High => Self::High,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    Reference,
    Risk,
    NextHearing,
    LastContact,
    Escalation,
}

impl From<SortArg> for waymark_vault::queries::SortBy {
    fn from(s: SortArg) -> Self {
        match s {
            SortArg::Reference => Self::Reference,
            SortArg::Risk => Self::Risk,
            SortArg::NextHearing => Self::NextHearing,
            SortArg::LastContact => Self::LastContact,
            SortArg::Escalation => Self::Escalation,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Reason {
    SupportComplete,
    RiskReduced,
    VictimDisengaged,
    NoContactEstablished,
    MovedOutOfArea,
    Transferred,
    VictimDeclined,
}

impl Reason {
    pub fn into_reason(self) -> waymark_domain::ClosureReason {
        use waymark_domain::ClosureReason as R;
        match self {
            Reason::SupportComplete => R::SupportComplete,
            Reason::RiskReduced => R::RiskReduced,
            Reason::VictimDisengaged => R::VictimDisengaged,
            Reason::NoContactEstablished => R::NoContactEstablished,
            Reason::MovedOutOfArea => R::MovedOutOfArea,
            Reason::Transferred => R::TransferredToOtherService,
            Reason::VictimDeclined => R::VictimDeclined,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AccessCmd {
    /// Record a request from the case's victim or perpetrator (due a month after it was received).
    Request {
        case: String,
        #[arg(long, value_enum)]
        subject: Subject,
        /// For a perpetrator's request: his record's id (`perpetrator list CASE`), as a case may hold more than one.
        #[arg(long)]
        perpetrator: Option<uuid::Uuid>,
        /// The day it was received (default today).
        #[arg(long)]
        received_on: Option<chrono::NaiveDate>,
    },
    /// The requests recorded here, the soonest due first.
    List { case: Option<String> },
    /// Record that the requester's identity was checked (a perpetrator may
    /// pose as the victim): no answer is exported before.
    Identity {
        request: uuid::Uuid,
        /// The day it was checked (default today).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
    },
    /// Every item the case holds for the request: the requester's own, and
    /// what is withheld (and why) until released.
    Review { request: uuid::Uuid },
    /// Withhold one of the requester's own items under an exemption.
    Withhold {
        request: uuid::Uuid,
        key: String,
        #[arg(long, value_enum)]
        reason: Exemption,
    },
    /// Release withheld items to the requester, by the keys `review` lists.
    Release {
        request: uuid::Uuid,
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Save the export: a .pdf or a .json file.
    Export {
        request: uuid::Uuid,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Exemption {
    Crime,
    SeriousHarm,
    IdentifiesSomeone,
    LegalPrivilege,
}

impl Exemption {
    pub fn into_reason(self) -> waymark_domain::ExemptionReason {
        use waymark_domain::ExemptionReason as R;
        match self {
            Exemption::Crime => R::Crime,
            Exemption::SeriousHarm => R::SeriousHarm,
            Exemption::IdentifiesSomeone => R::IdentifiesSomeone,
            Exemption::LegalPrivilege => R::LegalPrivilege,
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Subject {
    Victim,
    Perpetrator,
}

impl Subject {
    pub fn into_subject(self) -> waymark_domain::access::AccessSubject {
        match self {
            Subject::Victim => waymark_domain::access::AccessSubject::Victim,
            Subject::Perpetrator => waymark_domain::access::AccessSubject::Perpetrator,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Enrol this vault with the clinic, using the one-time code from the clinic administrator
    /// (pasted on standard input, or in a file: never on the command line, where shell history keeps it).
    Enrol {
        /// A file holding the code (WAYMARK1-...). Without it the code is read from standard input.
        #[arg(long)]
        code_file: Option<std::path::PathBuf>,
    },
    /// Enrol again as a new device, with a new code from the same clinic: for a
    /// laptop put back from an older copy, whose changes the clinic does not
    /// recognise (problem `log_diverged`). Nothing is lost or sent twice.
    Rejoin {
        /// A file holding the code (WAYMARK1-...). Without it the code is read from standard input.
        #[arg(long)]
        code_file: Option<std::path::PathBuf>,
    },
    /// Push what is waiting and pull the clinic's changes, now.
    Now,
    /// Last sync, what is waiting, conflicts and problems.
    Status,
    /// Safety-critical fields changed on two devices, with both values.
    Conflicts,
    /// What sync could not do alone and will not drop, with what to do about each.
    Problems,
    /// Set a problem aside once it has been dealt with; the reason is kept and the dismissal audited.
    Dismiss {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Try a change from the clinic that could not apply, again.
    Retry { id: i64 },
    /// Keep one value of a conflict.
    Resolve {
        id: String,
        /// Which value to keep: this laptop's (local) or the other writer's (remote).
        #[arg(long, value_enum)]
        keep: Keep,
    },
    /// Write a sealed, signed bundle of everything waiting, for a clinic reached by USB stick.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
}

/// Which side of a conflict stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Keep {
    /// This laptop's value.
    Local,
    /// The other writer's value, as it came from the clinic.
    Remote,
}

//! Everything sync could not do alone and will not drop, by code, with the
//! words that tell a person what to do next. The codes are stored in
//! `sync_problems.code` as their wire names.

use serde::{Serialize, Serializer};
use waymark_domain::codes::ErrorCode;
use waymark_protocol::OpRefusal;

/// Which way the change or request on the list was going. Stored as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// From this laptop to the clinic.
    Up,
    /// From the clinic to this laptop.
    Down,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Up => "up",
            Flow::Down => "down",
        }
    }

    /// The column allows only these two; anything else is an unreadable row.
    pub fn from_wire(text: &str) -> Option<Flow> {
        [Flow::Up, Flow::Down].into_iter().find(|f| f.as_str() == text)
    }
}

/// Why a problem is on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemCode {
    QuarantinedByClinic,
    SameIdDifferentContent,
    UnknownRecord,
    UnknownKind,
    Invalid,
    Immutable,
    ClashesWithLocal,
    DuplicateReference,
    ClinicOwned,
    CaseMismatch,
    /// The clinic refused one of this laptop's changes.
    Refused(OpRefusal),
    /// A sync request failed in a way that will not pass by itself.
    Request(ErrorCode),
    /// A code only a newer Waymark writes, kept as it was stored.
    Unknown(String),
}

impl ProblemCode {
    /// The local problems, for listing and tests.
    pub const LOCAL: [ProblemCode; 10] = [
        ProblemCode::QuarantinedByClinic,
        ProblemCode::SameIdDifferentContent,
        ProblemCode::UnknownRecord,
        ProblemCode::UnknownKind,
        ProblemCode::Invalid,
        ProblemCode::Immutable,
        ProblemCode::ClashesWithLocal,
        ProblemCode::DuplicateReference,
        ProblemCode::ClinicOwned,
        ProblemCode::CaseMismatch,
    ];

    /// A failed request's problem. A request error named like a local problem is that problem.
    pub fn request(code: ErrorCode) -> ProblemCode {
        ProblemCode::from_wire(code.as_str())
    }

    pub fn wire(&self) -> String {
        match self {
            ProblemCode::QuarantinedByClinic => "quarantined_by_clinic".to_owned(),
            ProblemCode::SameIdDifferentContent => "same_id_different_content".to_owned(),
            ProblemCode::UnknownRecord => "unknown_record".to_owned(),
            ProblemCode::UnknownKind => "unknown_kind".to_owned(),
            ProblemCode::Invalid => "invalid".to_owned(),
            ProblemCode::Immutable => "immutable".to_owned(),
            ProblemCode::ClashesWithLocal => "clashes_with_local".to_owned(),
            ProblemCode::DuplicateReference => "duplicate_reference".to_owned(),
            ProblemCode::ClinicOwned => "clinic_owned".to_owned(),
            ProblemCode::CaseMismatch => "case_mismatch".to_owned(),
            ProblemCode::Refused(refusal) => format!("refused_{}", refusal.as_str()),
            ProblemCode::Request(code) => code.as_str().to_owned(),
            ProblemCode::Unknown(text) => text.clone(),
        }
    }

    pub fn from_wire(text: &str) -> ProblemCode {
        if let Some(local) = ProblemCode::LOCAL.iter().find(|p| p.wire() == text) {
            return local.clone();
        }
        match text.strip_prefix("refused_") {
            Some(refusal) => ProblemCode::Refused(OpRefusal::parse(refusal)),
            None => match ErrorCode::from_wire(text) {
                ErrorCode::Unrecognised if text != ErrorCode::Unrecognised.as_str() => {
                    ProblemCode::Unknown(text.to_owned())
                }
                code => ProblemCode::Request(code),
            },
        }
    }

    /// A change from the clinic that something here may since have fixed:
    /// the record it needs has arrived, the clash was renamed, Waymark was updated.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProblemCode::UnknownRecord
                | ProblemCode::ClashesWithLocal
                | ProblemCode::Invalid
                | ProblemCode::UnknownKind
        )
    }

    /// Ends only when the laptop enrols again as a new device.
    pub fn needs_rejoin(&self) -> bool {
        matches!(self, ProblemCode::Request(ErrorCode::LogDiverged | ErrorCode::DeviceKnown))
    }

    /// What happened and what to do, shared by the app and the CLI. The words
    /// never quote the change itself.
    pub fn advice(&self) -> String {
        let words = match self {
            ProblemCode::QuarantinedByClinic => "The clinic already holds a different change with this number. It kept both; ask the clinic to check.",
            ProblemCode::SameIdDifferentContent => "A change arrived twice with different content. Both are kept; ask the clinic to check.",
            ProblemCode::UnknownRecord => "A change from the clinic is for a record this laptop does not have. It is kept here; ask the clinic to check.",
            ProblemCode::UnknownKind => "A change from the clinic is for a kind of record this Waymark does not know. Update Waymark.",
            ProblemCode::Invalid => "A change from the clinic did not pass this laptop's checks. It is kept here; ask the clinic to check.",
            ProblemCode::Immutable => "A change from the clinic tried to edit a record that is never edited. It is kept here; ask the clinic to check.",
            ProblemCode::ClashesWithLocal => {
                "A change from the clinic clashes with a record on this laptop, such as a second victim record for a case or a safety plan version made on two laptops. It is kept but not applied; ask the clinic to check."
            }
            ProblemCode::DuplicateReference => {
                "A case from the clinic has the same reference as a case on this laptop. Both are kept; rename one so they can be told apart."
            }
            ProblemCode::Request(ErrorCode::LogDiverged) => {
                "The clinic's record of this laptop's changes does not match the laptop's, so it may have been put back from an older copy. Nothing was sent or removed, and the changes stay on this laptop. Ask the clinic administrator for a new enrolment code and rejoin (`waymark sync rejoin`, or Rejoin on the Sync screen): the clinic recognises what it already has and nothing is lost or sent twice."
            }
            ProblemCode::Request(ErrorCode::CursorAhead) => {
                "The clinic's feed is shorter than this laptop has already read, so the clinic may have been put back from a backup. Nothing was changed here; tell the clinic administrator."
            }
            ProblemCode::Request(ErrorCode::DeviceKnown) => {
                "The clinic already knows a laptop with this one's id, so this laptop was probably copied. Ask the clinic administrator for a new enrolment code and rejoin (`waymark sync rejoin`, or Rejoin on the Sync screen)."
            }
            ProblemCode::ClinicOwned => {
                "A change from the clinic tried to set something only the clinic sets (who holds a case, a typology, a panel review) but did not come from the clinic. It is kept here, not applied; tell the clinic administrator."
            }
            ProblemCode::CaseMismatch => {
                "A change from the clinic names a different case from the one its record belongs to. It is kept here, not applied; tell the clinic administrator."
            }
            ProblemCode::Refused(OpRefusal::NotYourCase) => {
                "The clinic refused a change because the case was no longer assigned to you when it was made. It is kept on this laptop; pass what it records to the case's new advocate."
            }
            ProblemCode::Refused(OpRefusal::ClinicOwned) => {
                "The clinic refused a change to something only the clinic sets (who holds a case, a typology, a panel review). It is kept on this laptop; ask the clinic to record it."
            }
            ProblemCode::Refused(OpRefusal::CaseErased) => {
                "The clinic erased this change's case under the retention schedule or at the person's request, so it did not keep the change. The case is erased from this laptop at the next sync; nothing needs doing."
            }
            ProblemCode::Refused(OpRefusal::NewerSchema) => {
                "The clinic runs an older Waymark than this laptop, so it holds this change and passes it on once the clinic is updated. Nothing is lost; tell the clinic administrator it needs updating."
            }
            ProblemCode::Refused(OpRefusal::ActorMismatch) => {
                "The clinic refused a change recorded under a staff code other than the one this laptop is enrolled for. It is kept here; tell the clinic administrator."
            }
            ProblemCode::Refused(OpRefusal::CaseMismatch) | ProblemCode::Refused(OpRefusal::UnknownRecord) | ProblemCode::Refused(OpRefusal::UnknownKind) => {
                "The clinic refused a change it could not match to a record it holds. It is kept here; tell the clinic administrator."
            }
            ProblemCode::Refused(OpRefusal::BadHlc) | ProblemCode::Refused(OpRefusal::HlcAhead) | ProblemCode::Refused(OpRefusal::HlcBackwards) => {
                "The clinic refused a change because this laptop's clock was wrong when it was made. Check the date and time are set automatically; the change is kept here. Tell the clinic administrator."
            }
            ProblemCode::Request(ErrorCode::ForgedReceipt) => {
                "A reply claiming to be the clinic's acknowledgement was not signed by the clinic, so nothing was removed from this laptop. Someone may be interfering with this network: sync from another network and tell the clinic."
            }
            ProblemCode::Request(ErrorCode::ForgedWipe) => {
                "A reply ordered this laptop erased but was not signed by the clinic, so it was not obeyed. Someone may be interfering with this network: sync from another network and tell the clinic now."
            }
            ProblemCode::Request(ErrorCode::AdvocateMismatch) => {
                "The enrolment code was issued for a different staff code from this laptop's. Ask the clinic administrator for a code issued to you."
            }
            ProblemCode::Request(ErrorCode::UnconfirmedDevice) => {
                "The clinic has not yet confirmed whose laptop this is, so nothing is sent or received. Ask the clinic administrator to confirm it; your changes stay here meanwhile."
            }
            ProblemCode::Request(ErrorCode::StaffInactive) => "Your staff code is marked inactive at the clinic, so nothing is sent or received. Ask the clinic administrator.",
            ProblemCode::Request(ErrorCode::UnknownDevice) => "The clinic does not know this laptop. Ask the clinic administrator to enrol it again.",
            ProblemCode::Request(ErrorCode::WrongServer) => "The server did not prove it is the clinic. Do not sync on this network, and tell the clinic.",
            ProblemCode::Request(ErrorCode::UnsupportedVersion) => "The clinic speaks another version of the sync protocol. Update Waymark, or ask the clinic which version it runs.",
            ProblemCode::Request(ErrorCode::BadSignature) | ProblemCode::Request(ErrorCode::Undecryptable) | ProblemCode::Request(ErrorCode::HeaderMismatch) => {
                "The clinic could not verify this laptop's changes. They are still waiting here; tell the clinic administrator."
            }
            ProblemCode::Refused(refusal @ OpRefusal::Invalid(_)) => {
                let (kind, field) = refusal.invalid_field().unwrap_or_default();
                let label = waymark_domain::RecordKind::from_wire(kind)
                    .and_then(|k| k.rules().label_of_field(field))
                    .map_or_else(|| field.replace('_', " "), str::to_owned);
                return format!(
                    "The clinic refused a change to {} because \"{label}\" breaks a record rule there, so no other laptop received it. It is kept here. Tell the clinic administrator: if the clinic's service rules differ from this laptop's, putting the same files at the clinic lets the change in when the clinic restarts, with nothing to do here.",
                    match kind.replace('_', " ") {
                        named if named.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {named}"),
                        named if named.is_empty() => "a record".to_owned(),
                        named => format!("a {named}"),
                    },
                );
            }
            ProblemCode::Refused(_) | ProblemCode::Request(_) | ProblemCode::Unknown(_) => {
                return format!("The clinic refused a request ({}). The changes are still waiting here; tell the clinic administrator.", self.wire());
            }
        };
        words.to_owned()
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.wire())
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.wire())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_reads_back_as_itself_and_has_its_own_words() {
        // Stored codes are text: one that read back as another problem would
        // give the wrong advice and the wrong retry and rejoin buttons.
        let mut all: Vec<ProblemCode> = ProblemCode::LOCAL.to_vec();
        all.extend(OpRefusal::ALL.into_iter().map(ProblemCode::Refused));
        all.extend(
            [ErrorCode::LogDiverged, ErrorCode::DeviceKnown, ErrorCode::ForgedReceipt, ErrorCode::WrongServer]
                .map(ProblemCode::Request),
        );
        all.push(ProblemCode::Refused(OpRefusal::invalid("incident", "account")));
        for problem in &all {
            assert_eq!(&ProblemCode::from_wire(&problem.wire()), problem);
            assert!(!problem.advice().contains("refused a request ("), "{} has no words of its own", problem.wire());
        }
        assert!(ProblemCode::request(ErrorCode::LogDiverged).needs_rejoin());
        assert_eq!(ProblemCode::request(ErrorCode::Invalid), ProblemCode::Invalid);
        // A code only a newer Waymark writes still gets words that say what to do.
        let newer = ProblemCode::from_wire("something_new");
        assert_eq!(newer.wire(), "something_new", "kept as stored, so a newer Waymark reads it back");
        assert!(newer.advice().contains("(something_new)") && newer.advice().contains("tell the clinic administrator"));
        // A record the clinic found broken is named by its kind and the field's label, never its value.
        let invalid = ProblemCode::from_wire("refused_invalid__incident__account").advice();
        assert!(invalid.contains("a change to an incident because \"What happened\""), "{invalid}");
    }
}

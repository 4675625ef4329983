//! Every error code Waymark gives, one enum from the stores to the UI: the
//! vault, the printouts, the sync engine, the desktop app and the clinic's
//! HTTP errors. The TypeScript bindings carry it as a union, so the UI can
//! only compare with a code that exists; the clinic sends `as_str` on the
//! wire, and a laptop reads a code it does not know as `Unrecognised`.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($variant:ident = $text:literal,)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum ErrorCode {
            $(#[serde(rename = $text)] $variant,)+
            /// A code from a newer clinic that this build does not know.
            #[serde(rename = "unrecognised", other)]
            Unrecognised,
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+ ErrorCode::Unrecognised];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text,)+ ErrorCode::Unrecognised => "unrecognised" }
            }

            /// A code as the clinic sent it.
            pub fn from_wire(text: &str) -> ErrorCode {
                match text { $($text => ErrorCode::$variant,)+ _ => ErrorCode::Unrecognised }
            }
        }
    };
}

error_codes! {
        AckStalled = "ack_stalled",
        AddressInText = "address_in_text",
        AdvocateMismatch = "advocate_mismatch",
        AlreadyEnrolled = "already_enrolled",
        AlreadyExists = "already_exists",
        AlreadyUnlocked = "already_unlocked",
        AmbiguousReference = "ambiguous_reference",
        AuditBroken = "audit_broken",
        BackupCorrupt = "backup_corrupt",
        BackupExcessiveWork = "backup_excessive_work",
        BackupNotForYou = "backup_not_for_you",
        BadAgeKey = "bad_age_key",
        BadDeviceId = "bad_device_id",
        BadEnrolmentCode = "bad_enrolment_code",
        BadKey = "bad_key",
        BadRequest = "bad_request",
        BadSequence = "bad_sequence",
        BadSignature = "bad_signature",
        CaseErased = "case_erased",
        CaseHeld = "case_held",
        Clash = "clash",
        ConfirmRefused = "confirm_refused",
        CsrfRefused = "csrf_refused",
        CursorAhead = "cursor_ahead",
        Database = "database",
        DatabaseUnreadable = "database_unreadable",
        DeviceKnown = "device_known",
        DiscreetUnsafe = "discreet_unsafe",
        Duplicate = "duplicate",
        EnrolmentRefused = "enrolment_refused",
        FileExists = "file_exists",
        Forbidden = "forbidden",
        ForgedReceipt = "forged_receipt",
        ForgedWipe = "forged_wipe",
        HeaderMismatch = "header_mismatch",
        IdentityChanged = "identity_changed",
        Immutable = "immutable",
        Internal = "internal",
        Invalid = "invalid",
        Io = "io",
        KeyFileCorrupt = "key_file_corrupt",
        KeyFileExcessiveWork = "key_file_excessive_work",
        KeyMismatch = "key_mismatch",
        Locked = "locked",
        LogDiverged = "log_diverged",
        Malformed = "malformed",
        NewerSchema = "newer_schema",
        NoPreview = "no_preview",
        NoRecoveryRecipient = "no_recovery_recipient",
        NoSafetyPlan = "no_safety_plan",
        NoVault = "no_vault",
        NotDue = "not_due",
        NotEnrolled = "not_enrolled",
        NotFound = "not_found",
        NotQuarantined = "not_quarantined",
        Offline = "offline",
        OpLogBroken = "op_log_broken",
        OutOfOrder = "out_of_order",
        MeetingClosed = "meeting_closed",
        RateLimited = "rate_limited",
        ReferralDecided = "referral_decided",
        ReleaseRefused = "release_refused",
        Replayed = "replayed",
        Revoked = "revoked",
        Setup = "setup",
        SignInRefused = "sign_in_refused",
        SignedOut = "signed_out",
        StaffInactive = "staff_inactive",
        StaffKnown = "staff_known",
        StaleRequest = "stale_request",
        Store = "store",
        TemplateError = "template_error",
        TemplateUnreadable = "template_unreadable",
        Timeout = "timeout",
        TooLarge = "too_large",
        TooManyOps = "too_many_ops",
        TooSoon = "too_soon",
        UnconfirmedDevice = "unconfirmed_device",
        Undecryptable = "undecryptable",
        UnknownDevice = "unknown_device",
        UnknownStaff = "unknown_staff",
        Unsigned = "unsigned",
        UnsupportedVersion = "unsupported_version",
        UpdateFailed = "update_failed",
        UpdateUnverified = "update_unverified",
        VaultInUse = "vault_in_use",
        WeakPassphrase = "weak_passphrase",
        Wiped = "wiped",
        WrongPassphrase = "wrong_passphrase",
        WrongRecoveryIdentity = "wrong_recovery_identity",
        WrongServer = "wrong_server",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_name_in_serde_and_on_the_wire() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(code.as_str()));
            assert_eq!(ErrorCode::from_wire(code.as_str()), *code);
        }
        assert_eq!(ErrorCode::from_wire("a_code_from_the_future"), ErrorCode::Unrecognised);
        assert_eq!(serde_json::from_str::<ErrorCode>("\"a_code_from_the_future\"").unwrap(), ErrorCode::Unrecognised);
    }
}

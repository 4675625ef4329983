//! Print errors. Like the vault's, each has a stable code and says what to do
//! next, and none carries a value from the case: only template file names,
//! line numbers, plan sections and words from the service's own avoid list.

use waymark_domain::codes::ErrorCode;
use waymark_vault::VaultError;

pub type Result<T> = std::result::Result<T, PrintError>;

/// What a discreet plan was about to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// A word or phrase from `discreet.toml`'s avoid list.
    AvoidedWord,
    /// A line of the victim's address or the postcode.
    VictimAddress,
    /// A name, alias, vehicle registration or phone number of the perpetrator.
    PerpetratorDetail,
    /// A picture (a logo) on the page.
    Image,
}

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("the print template file {file} could not be read or is not valid; fix the service's copy in the templates folder, or remove it to use the shipped one")]
    TemplatesUnreadable { file: String },
    #[error("the print template {file} has an error{}; fix the service's copy, or remove it to use the shipped one", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Template { file: String, line: Option<usize> },
    #[error("{}", discreet_message(*exposure, section, word.as_deref()))]
    DiscreetUnsafe { exposure: Exposure, section: String, word: Option<String> },
    #[error("{}", address_message(pages))]
    AddressInText { pages: Vec<usize> },
    /// A perpetrator's subject access answer: where the victim lives is never printed, confirmed or not.
    #[error("an answer to a perpetrator's request is never printed with the victim's address confirmed; print it without confirming, and withhold whatever the check finds")]
    AddressNeverConfirmed,
    /// A perpetrator's JSON answer whose words, as written, show where the victim is.
    #[error("the perpetrator's answer would show where the victim is or how to reach her, so it was not saved; withhold the item that shows it (or release fewer) and save it again")]
    AnswerShowsWhereabouts,
    #[error("only the safety plan has a discreet form; print this document without the discreet option")]
    DiscreetOnlyForPlan,
    #[error("this case has no safety plan yet; make one in the Safety plan section, then print")]
    NoSafetyPlan,
    #[error("this case has no safety plan version {version}; print the latest, or pick a version the case has")]
    NoSuchPlanVersion { version: u32 },
    #[error("the printout could not be saved ({kind}); choose a folder you can write to and try again")]
    SaveFailed { kind: std::io::ErrorKind },
    #[error("{0}")]
    Vault(#[from] VaultError),
    #[error("the printout could not be made ({what}); try again, and report it if it repeats")]
    Internal { what: &'static str },
}

fn address_message(pages: &[usize]) -> String {
    let pages: Vec<String> = pages.iter().map(ToString::to_string).collect();
    let place = if pages.is_empty() {
        "the text of this printout".to_owned()
    } else {
        format!("the text on page {}", pages.join(", "))
    };
    format!(
        "the victim's address appears in {place}, typed into a field other than the address; nothing was printed. Reword that record (an incident takes an amendment), or confirm you mean to print it: the confirmation is recorded in the audit trail"
    )
}

fn discreet_message(exposure: Exposure, section: &str, word: Option<&str>) -> String {
    let shown = match (exposure, word) {
        (Exposure::AvoidedWord, Some(word)) => format!("the word \"{word}\", which is on the service's avoid list,"),
        (Exposure::AvoidedWord, None) => "a word on the service's avoid list".to_owned(),
        (Exposure::VictimAddress, _) => "part of the victim's address".to_owned(),
        (Exposure::PerpetratorDetail, _) => "a detail that identifies the perpetrator".to_owned(),
        (Exposure::Image, _) => "a picture (such as a logo)".to_owned(),
    };
    format!(
        "the discreet plan would show {shown} in {section}; nothing was printed. Reword that part of the plan (save a new version), or print the full plan for the case file"
    )
}

impl PrintError {
    /// A stable code for the UI and for scripts.
    pub fn code(&self) -> ErrorCode {
        match self {
            PrintError::TemplatesUnreadable { .. } => ErrorCode::TemplateUnreadable,
            PrintError::Template { .. } => ErrorCode::TemplateError,
            PrintError::DiscreetUnsafe { .. } => ErrorCode::DiscreetUnsafe,
            PrintError::AddressInText { .. }
            | PrintError::AddressNeverConfirmed
            | PrintError::AnswerShowsWhereabouts => ErrorCode::AddressInText,
            PrintError::DiscreetOnlyForPlan => ErrorCode::Invalid,
            PrintError::NoSafetyPlan => ErrorCode::NoSafetyPlan,
            PrintError::NoSuchPlanVersion { .. } => ErrorCode::NotFound,
            PrintError::SaveFailed { .. } => ErrorCode::Io,
            PrintError::Vault(e) => e.code(),
            PrintError::Internal { .. } => ErrorCode::Internal,
        }
    }
}

//! Records as a closed set of kinds, so one generic write path can check,
//! store and log any of them.

use crate::ids::CaseId;
use crate::patch::NewRecord;
use crate::records::*;
use crate::validation::{Checker, ValidationErrors};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A reference from one record to another, checked by the store on write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub field: &'static str,
    pub kind: RecordKind,
    pub id: Uuid,
}

/// Implemented by every record type.
pub trait Entity: Serialize + DeserializeOwned + Clone {
    const KIND: RecordKind;
    fn record_id(&self) -> Uuid;
    /// The case a record belongs to (a case belongs to itself).
    fn case_id(&self) -> Option<CaseId>;
    fn validate(&self, ctx: &Ctx<'_>) -> Result<(), ValidationErrors>;
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
    fn into_record(self) -> Record;
}

/// What every consumer needs to know about a record kind, declared in the
/// kind's own module next to its type (`records::case::RULES` and so on).
/// The vault, sync, the clinic, the CLI and the app read these; none of them
/// keeps a list of its own.
#[derive(Debug, Clone, Copy)]
pub struct KindRules {
    /// Fields only the core sets (ids and provenance): an edit naming one is refused.
    pub protected: &'static [&'static str],
    /// Fields only the clinic sets: a laptop's op that sets one is refused
    /// (`clinic_owned`), except the advocate of a case its sender creates.
    pub clinic_owned: &'static [&'static str],
    /// Only the clinic creates and edits records of this kind.
    pub clinic_only: bool,
    /// Fields that hold an address on purpose; the address guard reads the rest.
    pub address_fields: &'static [&'static str],
    /// Fields two devices must not overwrite silently: changed on both at
    /// once, both values stay until a person decides.
    pub safety_critical: &'static [&'static str],
    /// Lists merged as sets: entries added on either device are kept.
    pub sets: &'static [&'static str],
    /// Lists whose entries carry ids and merge entry by entry.
    pub keyed: &'static [&'static str],
    /// The order a case's records of this kind are listed in (stored columns).
    pub order: &'static [&'static str],
    /// How a record of this kind is corrected, when it is never edited.
    pub correction: Option<&'static str>,
    /// What a new record copies from the case's latest one.
    pub carries_forward: &'static [&'static str],
    /// The document a new record starts from: ids, provenance and defaults.
    pub new_doc: fn(&NewRecord<'_>) -> Value,
    /// The fields a person sees, in order, with their labels and when they
    /// are asked: the app's forms (except what the core sets), the printouts
    /// and the CLI take them from here. A field inside a structure is named
    /// by its path (`referral.source`).
    pub presented: &'static [Presented],
    /// Fields no person needs to see (ids). With `presented`, every field of
    /// the record, checked by a test on a serialised sample.
    pub internal: &'static [&'static str],
    /// What of a record the clinic's workspace never sends to a browser:
    /// where someone lives and how to reach them, their children, and what
    /// the victim said in confidence. It stays on the advocate's laptop.
    pub at_clinic: AtClinic,
    /// Whose personal data a record of this kind is, for a subject access
    /// request (`access.rs`), and the fields that are someone else's.
    pub about: crate::access::About,
    pub about_fields: &'static [(&'static str, crate::access::About)],
    /// Fields that could show where the victim is or how to reach her (a
    /// place, a condition naming a street, a witness care contact): never in
    /// a perpetrator's subject access export, whatever the advocate decides.
    pub never_to_perpetrator: &'static [&'static str],
}

/// What of a record the clinic's workspace sends (`KindRules::at_clinic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtClinic {
    Shown,
    /// Everything but these fields.
    Withhold(&'static [&'static str]),
    /// Everything but these fields, unless the victim's consent in force or
    /// a recorded lawful basis covers the viewer's agency (`Victim::shares_with`).
    WithholdUnlessShared(&'static [&'static str]),
    /// None of it.
    WithholdAll,
}

/// A field as a person sees it.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Presented {
    /// The field, or its path inside a structure (`expiry`, `referral.source`).
    pub field: &'static str,
    pub label: &'static str,
    pub asked: Asked,
    /// Shown where a record is summarised for a screen (the CLI's `show`):
    /// false for what only its own screen or printout shows (a safety plan's
    /// code word and safe places, an order's conditions, which may name the
    /// street it keeps someone out of).
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub in_summaries: bool,
    /// How a stored value reads, when not as stored (a vocabulary's labels).
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub shown_as: Option<fn(&Value) -> String>,
}

/// When a form asks for a presented field. Several kinds are filled in
/// stages: a hearing's outcome after the hearing, a referral's outcome when
/// it comes back, a case's closure when it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    /// By the form that makes the record.
    WhenMade,
    /// By the form that updates it afterwards.
    Later,
    /// By both.
    WhenMadeAndLater,
    /// Shown, but set by a screen or an operation of its own (answers to an
    /// instrument, a plan's sections, a list of people, closing a case).
    OwnScreen,
}

impl Asked {
    pub fn when_made(self) -> bool {
        matches!(self, Asked::WhenMade | Asked::WhenMadeAndLater)
    }
    pub fn later(self) -> bool {
        matches!(self, Asked::Later | Asked::WhenMadeAndLater)
    }
}

/// A presented field's value as text, for a printout or the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedText {
    pub field: &'static str,
    pub label: &'static str,
    pub text: String,
    /// `Presented::in_summaries`.
    pub in_summaries: bool,
}

/// A stored value as a person reads it: lists joined, yes or no, nothing for
/// null, dates and instants as read in England, a structure as its filled parts.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(yes) => if *yes { "Yes" } else { "No" }.to_owned(),
        Value::String(text) => {
            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
                crate::time::show_london(at.with_timezone(&chrono::Utc))
            } else if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                crate::time::show_date(date)
            } else {
                text.clone()
            }
        }
        Value::Array(items) => {
            // Entries that are structures read as parts of their own.
            let between = if items.iter().any(Value::is_object) { "; " } else { ", " };
            items.iter().map(display_value).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(between)
        }
        // An entry's id is for merging, not for reading.
        Value::Object(map) => map
            .iter()
            .filter(|(key, _)| key.as_str() != "id")
            .map(|(_, v)| display_value(v))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The value at a presented field's path in a record's document.
pub fn value_at<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |value, key| value.get(key))
}

impl Presented {
    /// A field the form that makes the record asks for.
    pub const fn new(field: &'static str, label: &'static str) -> Presented {
        Presented { field, label, asked: Asked::WhenMade, in_summaries: true, shown_as: None }
    }
    pub const fn asked(self, asked: Asked) -> Presented {
        Presented { asked, ..self }
    }
    pub const fn later(self) -> Presented {
        self.asked(Asked::Later)
    }
    pub const fn own_screen(self) -> Presented {
        self.asked(Asked::OwnScreen)
    }
    pub const fn not_in_summaries(self) -> Presented {
        Presented { in_summaries: false, ..self }
    }
    /// Read through a vocabulary (`Channel::show`) or a wording of its own.
    pub const fn shown_as(self, shown_as: fn(&Value) -> String) -> Presented {
        Presented { shown_as: Some(shown_as), ..self }
    }
    /// The record field this presents (the first part of its path).
    pub fn top_field(&self) -> &'static str {
        self.field.split('.').next().unwrap_or(self.field)
    }
    /// The value as a person reads it.
    pub fn show(&self, doc: &Value) -> String {
        match value_at(doc, self.field) {
            None | Some(Value::Null) => String::new(),
            Some(value) => match self.shown_as {
                Some(shown_as) => shown_as(value),
                None => display_value(value),
            },
        }
    }
}

/// Each presented field of a record that holds something, as text, in the
/// order its kind gives: what the printouts and the CLI show.
pub fn presented_text(rules: &KindRules, doc: &Value) -> Vec<PresentedText> {
    rules
        .presented
        .iter()
        .map(|p| PresentedText { field: p.field, label: p.label, text: p.show(doc), in_summaries: p.in_summaries })
        .filter(|p| !p.text.is_empty())
        .collect()
}

impl KindRules {
    /// A kind with no rules beyond the ids the core sets.
    pub const PLAIN: KindRules = KindRules {
        protected: &["id", "case_id"],
        clinic_owned: &[],
        clinic_only: false,
        address_fields: &[],
        safety_critical: &[],
        sets: &[],
        keyed: &[],
        order: &["id"],
        correction: None,
        carries_forward: &[],
        new_doc: ids_only,
        presented: &[],
        internal: &["id", "case_id"],
        at_clinic: AtClinic::Shown,
        about: crate::access::About::Service,
        about_fields: &[],
        never_to_perpetrator: &[],
    };

    /// The label of a presented field.
    pub fn label_of(&self, field: &str) -> Option<&'static str> {
        self.presented.iter().find(|p| p.field == field).map(|p| p.label)
    }

    /// Whether `name` is a field of the record: presented or internal, which
    /// together hold every field (checked by a test).
    pub fn has_field(&self, name: &str) -> bool {
        self.internal.contains(&name) || self.presented.iter().any(|p| p.top_field() == name)
    }

    /// The label of a field, or of the first presented part of it (`address` reads as its lines' label).
    pub fn label_of_field(&self, name: &str) -> Option<&'static str> {
        self.label_of(name).or_else(|| self.presented.iter().find(|p| p.top_field() == name).map(|p| p.label))
    }

    /// Every field the rules name, so a test can check each exists.
    pub fn named_fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            self.protected,
            self.clinic_owned,
            self.address_fields,
            self.safety_critical,
            self.sets,
            self.keyed,
            self.order,
            self.carries_forward,
            self.internal,
        ]
        .into_iter()
        .flatten()
        .copied()
        .chain(self.presented.iter().map(Presented::top_field))
    }
}

/// A new record's ids: the start of every kind's document.
pub fn ids_only(n: &NewRecord<'_>) -> Value {
    serde_json::json!({ "id": n.id.to_string(), "case_id": n.case_id.map(|c| c.to_string()) })
}

/// A new record's ids with more fields set.
pub fn ids_and(n: &NewRecord<'_>, more: Value) -> Value {
    let mut doc = ids_only(n);
    if let (Some(doc), Value::Object(more)) = (doc.as_object_mut(), more) {
        doc.extend(more);
    }
    doc
}

macro_rules! record_kinds {
    ($($variant:ident($ty:ty) = $wire:literal, table $table:literal, rules $rules:path, case $case:expr, refs $refs:expr;)+) => {
        /// The kinds of record, with their storage table and their one name:
        /// the same in ops, the audit, over IPC and in the CLI's JSON.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum RecordKind { $(#[serde(rename = $wire)] $variant),+ }

        impl RecordKind {
            pub const ALL: &'static [RecordKind] = &[$(RecordKind::$variant),+];
            pub fn wire(self) -> &'static str { match self { $(RecordKind::$variant => $wire),+ } }
            pub fn table(self) -> &'static str { match self { $(RecordKind::$variant => $table),+ } }
            /// The name of the kind's record type, in Rust and in the generated TypeScript.
            pub fn type_name(self) -> &'static str { match self { $(RecordKind::$variant => stringify!($ty)),+ } }
            /// The kind's rules, declared next to its type.
            pub fn rules(self) -> &'static KindRules { match self { $(RecordKind::$variant => &$rules),+ } }
            /// Immutable kinds are corrected by a new record, never edited.
            pub fn is_mutable(self) -> bool { self.rules().correction.is_none() }
            pub fn from_wire(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.wire() == text)
            }
        }

        /// Any record.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(untagged)]
        pub enum Record { $($variant($ty)),+ }

        impl Record {
            pub fn kind(&self) -> RecordKind { match self { $(Record::$variant(_) => RecordKind::$variant),+ } }
            pub fn id(&self) -> Uuid { match self { $(Record::$variant(r) => r.record_id()),+ } }
            pub fn case_id(&self) -> Option<CaseId> { match self { $(Record::$variant(r) => r.case_id()),+ } }
            pub fn validate(&self, ctx: &Ctx<'_>) -> Result<(), ValidationErrors> {
                match self { $(Record::$variant(r) => r.validate(ctx)),+ }
            }
            pub fn references(&self) -> Vec<Reference> { match self { $(Record::$variant(r) => r.references()),+ } }
            /// Each presented field that holds something, as text (`KindRules::presented`).
            pub fn presented_text(&self) -> Vec<PresentedText> {
                match self {
                    Record::Incident(i) => i.presented_text(),
                    other => presented_text(other.kind().rules(), &other.to_doc()),
                }
            }
            pub fn to_doc(&self) -> Value {
                // Serialising plain data structs to a JSON value cannot fail.
                match self { $(Record::$variant(r) => serde_json::to_value(r).unwrap_or(Value::Null)),+ }
            }
            /// Checks the fields an update sets, without the rest of the record:
            /// each must be a field of the kind with a value of its type. The
            /// rules that relate one field to another need the whole record.
            pub fn check_fields(kind: RecordKind, fields: &serde_json::Map<String, Value>) -> Result<(), ValidationErrors> {
                match kind { $(RecordKind::$variant => check_fields_typed::<$ty>(fields)),+ }
            }
            /// Reads a stored or patched document as a typed record. Errors name
            /// the field and the rule, never the value.
            pub fn from_doc(kind: RecordKind, doc: Value) -> Result<Record, ValidationErrors> {
                match kind { $(RecordKind::$variant => from_doc_typed::<$ty>(doc, "").map(Record::$variant)),+ }
            }
            /// `from_doc` of a document's fields, read where they are: the
            /// clinic judges every op of a push and need not copy each one.
            pub fn from_fields(kind: RecordKind, fields: &serde_json::Map<String, Value>) -> Result<Record, ValidationErrors> {
                match kind { $(RecordKind::$variant => from_doc_typed::<$ty>(fields, "").map(Record::$variant)),+ }
            }
        }

        $(
        impl Entity for $ty {
            const KIND: RecordKind = RecordKind::$variant;
            fn record_id(&self) -> Uuid { self.id.as_uuid() }
            fn case_id(&self) -> Option<CaseId> { let f: fn(&$ty) -> Option<CaseId> = $case; f(self) }
            fn validate(&self, ctx: &Ctx<'_>) -> Result<(), ValidationErrors> {
                let mut checker = Checker::new();
                self.check(&mut checker, ctx);
                checker.finish()
            }
            fn references(&self) -> Vec<Reference> { let f: fn(&$ty) -> Vec<Reference> = $refs; f(self) }
            fn into_record(self) -> Record { Record::$variant(self) }
        }
        )+
    };
}

fn to_case(field: &'static str, id: CaseId) -> Reference {
    Reference { field, kind: RecordKind::Case, id: id.as_uuid() }
}

record_kinds! {
    Case(Case) = "case", table "cases", rules crate::records::case::RULES, case |r| Some(r.id), refs |_| vec![];
    Victim(Victim) = "victim", table "victims", rules crate::records::victim::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    Perpetrator(Perpetrator) = "perpetrator", table "perpetrators", rules crate::records::perpetrator::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    Incident(Incident) = "incident", table "incidents", rules crate::records::incident::RULES, case |r| Some(r.case_id), refs |r| {
        let mut refs = vec![to_case("case_id", r.case_id)];
        if let Some(order) = r.breaches_order {
            refs.push(Reference { field: "breaches_order", kind: RecordKind::ProtectiveOrder, id: order.as_uuid() });
        }
        refs
    };
    IncidentAmendment(IncidentAmendment) = "incident_amendment", table "incident_amendments", rules crate::records::incident::AMENDMENT_RULES, case |r| Some(r.case_id), refs |r| vec![
        to_case("case_id", r.case_id),
        Reference { field: "incident_id", kind: RecordKind::Incident, id: r.incident_id.as_uuid() },
    ];
    RiskAssessment(RiskAssessment) = "risk_assessment", table "risk_assessments", rules crate::records::risk::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    SafetyPlan(SafetyPlan) = "safety_plan", table "safety_plans", rules crate::records::safety_plan::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    Hearing(Hearing) = "hearing", table "hearings", rules crate::records::hearing::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    ProtectiveOrder(ProtectiveOrder) = "order", table "orders", rules crate::records::order::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    Breach(Breach) = "breach", table "breaches", rules crate::records::order::BREACH_RULES, case |r| Some(r.case_id), refs |r| {
        let mut refs = vec![
            to_case("case_id", r.case_id),
            Reference { field: "order_id", kind: RecordKind::ProtectiveOrder, id: r.order_id.as_uuid() },
        ];
        if let Some(incident) = r.incident_id {
            refs.push(Reference { field: "incident_id", kind: RecordKind::Incident, id: incident.as_uuid() });
        }
        refs
    };
    Referral(Referral) = "referral", table "referrals", rules crate::records::referral::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    ClinicReview(ClinicReview) = "clinic_review", table "clinic_reviews", rules crate::records::clinic_review::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    Contact(Contact) = "contact", table "contacts", rules crate::records::contact::RULES, case |r| Some(r.case_id), refs |r| vec![to_case("case_id", r.case_id)];
    EscalationReview(EscalationReview) = "escalation_review", table "escalation_reviews", rules crate::records::escalation_review::RULES, case |r| Some(r.case_id), refs |r| {
        let mut refs = vec![to_case("case_id", r.case_id)];
        if let Some(assessment) = r.risk_assessment_id {
            refs.push(Reference { field: "risk_assessment_id", kind: RecordKind::RiskAssessment, id: assessment.as_uuid() });
        }
        refs
    };
    Task(Task) = "task", table "tasks", rules crate::records::task::RULES, case |r| r.case_id, refs |r| {
        let mut refs: Vec<Reference> = r.case_id.map(|c| to_case("case_id", c)).into_iter().collect();
        if let Some(link) = r.linked {
            refs.push(Reference { field: "linked", kind: link.kind, id: link.id });
        }
        refs
    };
}

/// Deserialises a document, turning serde's message into a field-and-rule
/// error that never repeats the offending value.
/// Reads some of a record's fields as its type: a field left out is no error
/// (serde's derive reads every field it is given before it reports one
/// missing; no record uses `flatten`, which would change that), a field of
/// the wrong type or not of the record is.
fn check_fields_typed<T: DeserializeOwned>(fields: &serde_json::Map<String, Value>) -> Result<(), ValidationErrors> {
    match serde_path_to_error::deserialize::<_, T>(fields) {
        Ok(_) => Ok(()),
        Err(err) if err.path().to_string() == "." && err.inner().to_string().starts_with("missing field ") => Ok(()),
        Err(err) => {
            let (field, rule) = describe_serde_error(&err.path().to_string(), &err.inner().to_string());
            Err(ValidationErrors::single(field, rule))
        }
    }
}

/// Reads a document as a record type; an error names the field and the rule.
pub(crate) fn from_doc_typed<'de, T: Deserialize<'de>>(
    doc: impl serde::Deserializer<'de, Error = serde_json::Error>,
    prefix: &str,
) -> Result<T, ValidationErrors> {
    serde_path_to_error::deserialize(doc).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        let (field, rule) = describe_serde_error(&path, &message);
        ValidationErrors::single(format!("{prefix}{field}"), rule)
    })
}

fn describe_serde_error(path: &str, message: &str) -> (String, String) {
    let field = if path == "." { String::new() } else { path.to_owned() };
    let join = |name: &str| if field.is_empty() { name.to_owned() } else { format!("{field}.{name}") };
    let quoted = |text: &str| text.split('`').nth(1).map(str::to_owned);
    if let Some(rest) = message.strip_prefix("missing field ") {
        return (join(&quoted(rest).unwrap_or_default()), "is required".into());
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // serde_path_to_error already ends the path with the unknown key.
        let name = quoted(rest).unwrap_or_default();
        let named = if field.ends_with(&name) { field.clone() } else { join(&name) };
        return (named, "is not a field of this record".into());
    }
    // serde puts the input before its own ", expected …": the last one is serde's,
    // so text typed to look like it ("expected Jane Smith") is never read as the rule.
    if message.starts_with("unknown variant") {
        let expected = message.rsplit_once(", expected ").map(|(_, e)| e.replace('`', "")).unwrap_or_default();
        return (field, format!("must be {expected}"));
    }
    if let Some((_, expected)) = message.rsplit_once(", expected ") {
        return (field, format!("must be {}", expected.replace('`', "")));
    }
    if message.starts_with("is not a valid") {
        return (field, message.to_owned());
    }
    // Anything else may quote the input, so only the kind of problem is kept.
    let rule = if message.contains("premature end")
        || message.contains("input contains invalid")
        || message.contains("input is out of range")
    {
        "is not a valid date or time (use YYYY-MM-DD, or YYYY-MM-DD HH:MM)"
    } else {
        "has the wrong form"
    };
    (field, rule.into())
}

/// Reads a typed record from its document.
pub fn parse<T: Entity>(doc: Value) -> Result<T, ValidationErrors> {
    from_doc_typed(doc, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_names_are_unique_and_kinds_round_trip() {
        let mut tables: Vec<&str> = RecordKind::ALL.iter().map(|k| k.table()).collect();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!(tables.len(), RecordKind::ALL.len());
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::from_wire(kind.wire()), Some(*kind));
            // One name everywhere: an order was "order" in ops and "protective_order" over IPC.
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.wire()));
            assert_eq!(serde_json::from_value::<RecordKind>(serde_json::json!(kind.wire())).unwrap(), *kind);
        }
    }

    #[test]
    fn what_the_clinic_withholds_names_real_fields_and_covers_where_the_victim_is() {
        // Why: a misspelt field would be sent to every browser at the clinic.
        for kind in RecordKind::ALL {
            if let AtClinic::Withhold(fields) | AtClinic::WithholdUnlessShared(fields) = kind.rules().at_clinic {
                for field in fields {
                    assert!(kind.rules().has_field(field), "{}.{field} is not a field", kind.wire());
                }
            }
        }
        let victim = RecordKind::Victim.rules();
        // Every field that holds the victim's address is withheld, and how to reach them.
        for field in victim.address_fields.iter().chain(&["safe_contact", "dependants"]) {
            assert!(matches!(victim.at_clinic, AtClinic::WithholdUnlessShared(f) if f.contains(field)), "{field}");
        }
        assert_eq!(RecordKind::SafetyPlan.rules().at_clinic, AtClinic::WithholdAll, "the code word and safe places");
    }

    #[test]
    fn diary_plans_and_assessments_are_immutable() {
        // domain.md: incident entries are never silently edited; history is kept.
        assert!(!RecordKind::Incident.is_mutable());
        assert!(!RecordKind::IncidentAmendment.is_mutable());
        assert!(!RecordKind::SafetyPlan.is_mutable());
        assert!(!RecordKind::RiskAssessment.is_mutable());
        assert!(RecordKind::Case.is_mutable());
    }

    #[test]
    fn a_type_error_names_the_field_but_not_the_value() {
        // A name typed into a date field must not be echoed into an error message.
        let doc = json!({
            "id": "0190b6a0-0000-7000-8000-000000000000",
            "case_id": "0190b6a0-0000-7000-8000-000000000001",
            "name": "Canary Person", "date_of_birth": "Secret Street"
        });
        let err = Record::from_doc(RecordKind::Victim, doc).unwrap_err();
        assert_eq!(err.fields(), vec!["date_of_birth"]);
        assert!(!err.to_string().contains("Secret"), "{err}");
    }

    #[test]
    fn an_unknown_variant_lists_the_choices() {
        let doc = json!({
            "id": "0190b6a0-0000-7000-8000-000000000000",
            "case_id": "0190b6a0-0000-7000-8000-000000000001",
            "names": ["X"], "relationship": "neighbour-from-hell"
        });
        let err = Record::from_doc(RecordKind::Perpetrator, doc).unwrap_err();
        assert_eq!(err.fields(), vec!["relationship"]);
        assert!(err.to_string().contains("ex_intimate_partner"), "{err}");
        assert!(!err.to_string().contains("neighbour"), "{err}");
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let missing = Record::from_doc(
            RecordKind::Perpetrator,
            json!({
                "id": "0190b6a0-0000-7000-8000-000000000000",
                "case_id": "0190b6a0-0000-7000-8000-000000000001",
                "names": ["X"]
            }),
        )
        .unwrap_err();
        assert_eq!(missing.fields(), vec!["relationship"]);
        let unknown = Record::from_doc(
            RecordKind::Perpetrator,
            json!({
                "id": "0190b6a0-0000-7000-8000-000000000000",
                "case_id": "0190b6a0-0000-7000-8000-000000000001",
                "names": ["X"], "relationship": "stranger", "shoe_size": 9
            }),
        )
        .unwrap_err();
        assert_eq!(unknown.fields(), vec!["shoe_size"]);
    }

    #[test]
    fn fields_read_in_place_read_as_an_owned_document() {
        // The clinic judges a push's ops with `from_fields`; the laptop and an
        // administrator's release read documents with `from_doc`. A difference
        // would let the clinic accept what the laptop refuses, or name another field.
        let ids = |more: Value| {
            let mut doc = json!({"id": "0190b6a0-0000-7000-8000-000000000000", "case_id": "0190b6a0-0000-7000-8000-000000000001"});
            doc.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
            doc
        };
        let docs = [
            (RecordKind::Perpetrator, ids(json!({"names": ["X"], "relationship": "stranger"}))),
            (RecordKind::Perpetrator, ids(json!({"names": ["X"]}))),
            (RecordKind::Perpetrator, ids(json!({"names": ["X"], "relationship": "stranger", "shoe_size": 9}))),
            (RecordKind::Perpetrator, ids(json!({"names": "X", "relationship": "stranger"}))),
            (RecordKind::Perpetrator, ids(json!({"names": ["X"], "relationship": "neighbour-from-hell"}))),
            (RecordKind::Victim, ids(json!({"name": "Canary Person", "date_of_birth": "Secret Street"}))),
            (RecordKind::Victim, ids(json!({"name": "Canary Person", "date_of_birth": null}))),
            (RecordKind::Victim, json!({"id": 7, "name": "Canary Person"})),
        ];
        let mut read = 0;
        for (kind, doc) in docs {
            let in_place = Record::from_fields(kind, doc.as_object().unwrap());
            let owned = Record::from_doc(kind, doc);
            read += usize::from(owned.is_ok());
            assert_eq!(format!("{in_place:?}"), format!("{owned:?}"));
        }
        assert!(read >= 1, "at least one document reads as a record, so both paths are compared on success too");
    }
}

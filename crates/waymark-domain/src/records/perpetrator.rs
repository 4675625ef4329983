//! The person the case is about: names, addresses, accounts and vehicles.

use super::*;
use crate::record::{ids_and, Asked, KindRules, Presented};
use serde_json::json;

/// A perpetrator's typology is the clinic panel's judgement.
pub(crate) const RULES: KindRules = KindRules {
    protected: &["id", "case_id", "typology"],
    clinic_owned: &["typology"],
    address_fields: &["addresses"],
    safety_critical: &["addresses"],
    sets: &["names", "aliases", "phones", "online_accounts"],
    keyed: &["vehicles"],
    presented: &[
        Presented::new("names", "Names (one a line)").asked(Asked::WhenMadeAndLater),
        Presented::new("aliases", "Aliases (one a line)").asked(Asked::WhenMadeAndLater),
        Presented::new("relationship", "Relationship to the victim")
            .asked(Asked::WhenMadeAndLater)
            .shown_as(Relationship::show),
        Presented::new("date_of_birth", "Date of birth").asked(Asked::WhenMadeAndLater),
        Presented::new("addresses", "Known addresses (one a line)").later(),
        Presented::new("phones", "Phone numbers (one a line)").later(),
        Presented::new("online_accounts", "Online accounts (one a line)").later(),
        Presented::new("vehicles", "Vehicles").own_screen(),
        Presented::new("weapons_access", "Has access to weapons").asked(Asked::WhenMadeAndLater),
        Presented::new("weapons_notes", "About the weapons").asked(Asked::WhenMadeAndLater),
        Presented::new("probation_status", "Probation").later(),
        Presented::new("mappa_status", "MAPPA").later(),
        Presented::new("mental_health", "Mental health").later(),
        // The clinic panel's judgement (`clinic_owned`).
        Presented::new("typology", "Typology").own_screen().shown_as(Typology::show),
    ],
    new_doc: |n| ids_and(n, json!({"names": []})),
    about: crate::access::About::Perpetrator,
    // What the victim, the police or a clinician told the service about him: who said it could be identified.
    about_fields: &[
        ("weapons_notes", crate::access::About::PerpetratorFromOthers),
        ("probation_status", crate::access::About::PerpetratorFromOthers),
        ("mappa_status", crate::access::About::PerpetratorFromOthers),
        ("mental_health", crate::access::About::PerpetratorFromOthers),
        ("typology", crate::access::About::PerpetratorFromOthers),
    ],
    ..KindRules::PLAIN
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Perpetrator {
    pub id: PerpetratorId,
    pub case_id: CaseId,
    /// Known names, the usual one first.
    pub names: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub vehicles: Vec<Vehicle>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub online_accounts: Vec<String>,
    pub relationship: Relationship,
    /// Set by the clinic.
    #[serde(default)]
    pub typology: Option<Typology>,
    /// `None` means not known.
    #[serde(default)]
    pub weapons_access: Option<bool>,
    #[serde(default)]
    pub weapons_notes: Option<String>,
    #[serde(default)]
    pub probation_status: Option<String>,
    #[serde(default)]
    pub mappa_status: Option<String>,
    #[serde(default)]
    pub mental_health: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    /// Names this entry within its list, so edits of it on two laptops
    /// merge as one entry (`merge::merge_keyed_heads`). Given when first saved.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    #[serde(default)]
    pub make: Option<String>,
    #[serde(default)]
    pub colour: Option<String>,
    #[serde(default)]
    pub registration: Option<String>,
}

impl Perpetrator {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.require(
            self.names.iter().any(|n| !n.trim().is_empty()),
            "names",
            "needs at least one name (\"unknown\" is allowed)",
        );
        c.require(distinct(self.vehicles.iter().map(|v| v.id)), "vehicles", "has two entries with one id");
        for (i, v) in self.vehicles.iter().enumerate() {
            c.require(
                v.make.is_some() || v.colour.is_some() || v.registration.is_some(),
                &format!("vehicles[{i}]"),
                "needs a make, colour or registration",
            );
        }
    }
}

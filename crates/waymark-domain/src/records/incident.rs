//! The incident diary and its amendments: an incident is never edited, only corrected.

use super::*;
use crate::record::{ids_and, presented_text, KindRules, Presented, PresentedText};
use serde_json::json;

/// Incident fields an amendment may not change: identity and provenance.
pub(crate) const RULES: KindRules = KindRules {
    protected: &["id", "case_id", "recorded_at", "recorded_by"],
    order: &["occurred_at", "id"],
    correction: Some("incident_amendment (the original is kept)"),
    presented: &[
        Presented::new("occurred_at", "When it happened"),
        Presented::new("behaviours", "Behaviours").shown_as(Behaviour::show),
        Presented::new("channel", "How").shown_as(Channel::show),
        Presented::new("location", "Where"),
        Presented::new("account", "What happened"),
        Presented::new("impact", "Impact"),
        Presented::new("witnesses", "Witnesses"),
        Presented::new("evidence", "Evidence held").shown_as(show_evidence),
        Presented::new("reported_to_police", "Reported to police"),
        Presented::new("crime_reference", "Crime reference"),
        Presented::new("police_force", "Police force"),
        Presented::new("officer", "Officer"),
        Presented::new("breaches_order", "Breach of"),
        Presented::new("recorded_at", "Recorded"),
        Presented::new("recorded_by", "Recorded by"),
    ],
    new_doc: |n| {
        let now = n.now.to_rfc3339();
        ids_and(n, json!({"occurred_at": now, "recorded_at": now, "recorded_by": n.actor, "behaviours": []}))
    },
    // What happened between them; a witness or an officer is someone else.
    about: crate::access::About::Both,
    about_fields: &[("witnesses", crate::access::About::Others), ("officer", crate::access::About::Others)],
    never_to_perpetrator: &["location", "impact", "evidence", "police_force", "crime_reference"],
    ..KindRules::PLAIN
};

pub(crate) const AMENDMENT_RULES: KindRules = KindRules {
    protected: &["id", "case_id", "made_at", "made_by"],
    correction: Some("record"),
    new_doc: |n| ids_and(n, json!({"made_at": n.now.to_rfc3339(), "made_by": n.actor, "changes": {}})),
    presented: &[
        Presented::new("reason", "Why it is corrected"),
        // The corrected fields are asked with the incident's own form.
        Presented::new("changes", "Corrected").own_screen(),
        Presented::new("made_at", "Corrected at"),
        Presented::new("made_by", "Corrected by"),
    ],
    internal: &["id", "case_id", "incident_id"],
    about: crate::access::About::Both,
    never_to_perpetrator: &["changes"],
    ..KindRules::PLAIN
};

/// One entry in the stalking diary. Never edited: see [`IncidentAmendment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub id: IncidentId,
    pub case_id: CaseId,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    pub location: Option<String>,
    /// What happened and the words used.
    pub account: String,
    pub channel: Channel,
    pub behaviours: Vec<Behaviour>,
    #[serde(default)]
    pub witnesses: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub reported_to_police: bool,
    #[serde(default)]
    pub crime_reference: Option<String>,
    #[serde(default)]
    pub officer: Option<String>,
    #[serde(default)]
    pub police_force: Option<String>,
    /// Impact on the victim, in their words (needed for "serious alarm or distress").
    #[serde(default)]
    pub impact: Option<String>,
    /// The order or bail condition this incident breaches, if any.
    #[serde(default)]
    pub breaches_order: Option<OrderId>,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub description: String,
    /// Where it is kept (e.g. "victim's phone", "police exhibit").
    #[serde(default)]
    pub kept_at: Option<String>,
}

/// Each item with where it is kept, as the court bundle lists it.
fn show_evidence(value: &serde_json::Value) -> String {
    let items: Vec<Evidence> = serde_json::from_value(value.clone()).unwrap_or_default();
    items
        .iter()
        .map(|e| match &e.kept_at {
            Some(at) => format!("{} (kept: {at})", e.description),
            None => e.description.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How far ahead of the recording time an incident may be dated (a clock a
/// few minutes fast must not block a diary entry).
const INCIDENT_FUTURE_TOLERANCE_MINUTES: i64 = 10;

impl Incident {
    /// Each presented field that holds something, as text, in the order the
    /// rules give: what the chronology and the CLI show. A field with no
    /// wording of its own here reads as its stored value.
    pub fn presented_text(&self) -> Vec<PresentedText> {
        presented_text(&RULES, &serde_json::to_value(self).unwrap_or_default())
    }

    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.account, "account");
        c.require(!self.behaviours.is_empty(), "behaviours", "needs at least one behaviour");
        let mut seen = self.behaviours.clone();
        seen.sort();
        seen.dedup();
        c.require(seen.len() == self.behaviours.len(), "behaviours", "lists a behaviour twice");
        c.require(
            self.occurred_at <= self.recorded_at + Duration::minutes(INCIDENT_FUTURE_TOLERANCE_MINUTES),
            "occurred_at",
            "is in the future",
        );
        c.require(
            self.crime_reference.is_none() || self.reported_to_police,
            "crime_reference",
            "needs reported_to_police to be true",
        );
        c.not_blank_opt(self.crime_reference.as_deref(), "crime_reference");
        for (i, e) in self.evidence.iter().enumerate() {
            c.not_blank(&e.description, &format!("evidence[{i}].description"));
        }
        for (i, b) in self.behaviours.iter().enumerate() {
            if let Behaviour::Other(text) = b {
                c.not_blank(text, &format!("behaviours[{i}].other"));
            }
        }
    }
}

/// A correction to an incident. The original stays as it was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(deny_unknown_fields)]
pub struct IncidentAmendment {
    pub id: AmendmentId,
    pub incident_id: IncidentId,
    pub case_id: CaseId,
    #[serde(with = "crate::time::utc_micros")]
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub made_at: DateTime<Utc>,
    pub made_by: String,
    pub reason: String,
    /// Corrected incident fields and their new values.
    pub changes: BTreeMap<String, serde_json::Value>,
}

impl IncidentAmendment {
    pub(crate) fn check(&self, c: &mut Checker, _ctx: &Ctx<'_>) {
        c.not_blank(&self.reason, "reason");
        c.require(!self.changes.is_empty(), "changes", "needs at least one corrected field");
        for field in self.changes.keys() {
            c.require(
                !RULES.protected.contains(&field.as_str()),
                &format!("changes.{field}"),
                "cannot be amended (it records who made the entry and when)",
            );
        }
    }
}

impl Incident {
    /// The incident as it reads after its amendments, oldest first. The
    /// original is unchanged; this is the corrected reading.
    pub fn amended<'a>(
        &self,
        amendments: impl IntoIterator<Item = &'a IncidentAmendment>,
    ) -> Result<Incident, ValidationErrors> {
        let mut doc =
            serde_json::to_value(self).map_err(|_| ValidationErrors::single("incident", "could not be read"))?;
        for amendment in amendments {
            for (field, value) in &amendment.changes {
                if RULES.protected.contains(&field.as_str()) {
                    return Err(ValidationErrors::single(format!("changes.{field}"), "cannot be amended"));
                }
                match doc.as_object_mut() {
                    Some(map) if map.contains_key(field) => {
                        map.insert(field.clone(), value.clone());
                    }
                    _ => return Err(ValidationErrors::single(format!("changes.{field}"), "is not an incident field")),
                }
            }
        }
        crate::record::from_doc_typed::<Incident>(doc, "changes.")
    }
}

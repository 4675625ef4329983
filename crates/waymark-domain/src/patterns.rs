//! When, where, how and what: the shape of a course of conduct that a safety
//! plan is built around (which evenings to have someone in, which route to
//! vary). Counts only; the screen draws each as a chart and the same
//! figures as a table for screen readers.

use crate::records::Incident;
use crate::time::london_day_and_hour;
use serde::Serialize;
use std::collections::BTreeMap;

/// A label and how many incidents carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Tally {
    pub label: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Patterns {
    pub incidents: u32,
    /// Seven rows, Monday first, of 24 hourly counts, in London time.
    pub day_by_hour: Vec<Vec<u32>>,
    /// Most frequent first.
    pub channels: Vec<Tally>,
    pub behaviours: Vec<Tally>,
    /// Places as written, grouped without regard to case or spacing.
    pub locations: Vec<Tally>,
}

pub const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

fn ranked(counts: BTreeMap<String, (String, u32)>) -> Vec<Tally> {
    let mut out: Vec<Tally> = counts.into_values().map(|(label, count)| Tally { label, count }).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    out
}

fn count(into: &mut BTreeMap<String, (String, u32)>, label: &str) {
    let key = label.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if key.is_empty() {
        return;
    }
    into.entry(key).or_insert_with(|| (label.trim().to_owned(), 0)).1 += 1;
}

/// The patterns of `incidents` (as they read after their amendments).
pub fn patterns(incidents: &[Incident]) -> Patterns {
    let mut day_by_hour = vec![vec![0u32; 24]; 7];
    let (mut channels, mut behaviours, mut locations) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for incident in incidents {
        let (day, hour) = london_day_and_hour(incident.occurred_at);
        day_by_hour[day][hour] += 1;
        count(&mut channels, incident.channel.label());
        for b in &incident.behaviours {
            count(&mut behaviours, b.label());
        }
        if let Some(place) = &incident.location {
            count(&mut locations, place);
        }
    }
    Patterns {
        incidents: u32::try_from(incidents.len()).unwrap_or(u32::MAX),
        day_by_hour,
        channels: ranked(channels),
        behaviours: ranked(behaviours),
        locations: ranked(locations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn incident(at: &str, channel: &str, behaviours: &[&str], location: Option<&str>) -> Incident {
        serde_json::from_value(json!({
            "id": "0190a000-0000-7000-8000-000000000009", "case_id": "0190a000-0000-7000-8000-000000000001",
            "occurred_at": at, "account": "a", "channel": channel, "behaviours": behaviours,
            "location": location, "recorded_at": at, "recorded_by": "ADV1",
        }))
        .unwrap()
    }

    #[test]
    fn hours_are_london_hours_either_side_of_a_clock_change() {
        // 21:30 UTC is 22:30 in summer and 21:30 in winter: a victim's
        // "every night at half ten" must land in one row either way.
        let summer = incident("2026-07-06T21:30:00Z", "text", &["unwanted_contact"], None);
        let winter = incident("2026-12-07T22:30:00Z", "text", &["unwanted_contact"], None);
        let p = patterns(&[summer, winter]);
        assert_eq!(p.day_by_hour[0][22], 2, "both on a Monday at 22:00 London time");
        assert_eq!(p.day_by_hour.iter().flatten().sum::<u32>(), 2);
        assert_eq!(Utc.with_ymd_and_hms(2026, 7, 6, 0, 0, 0).unwrap().format("%A").to_string(), "Monday");
    }

    #[test]
    fn channels_behaviours_and_places_are_ranked_with_places_grouped_loosely() {
        let p = patterns(&[
            incident("2026-11-02T10:00:00Z", "in_person", &["following", "loitering"], Some("Outside  work")),
            incident("2026-11-03T10:00:00Z", "in_person", &["following"], Some("outside work")),
            incident("2026-11-04T10:00:00Z", "text", &["unwanted_contact"], Some("  ")),
        ]);
        assert_eq!(p.incidents, 3);
        assert_eq!(p.channels[0], Tally { label: "In person".into(), count: 2 });
        assert_eq!(p.behaviours[0], Tally { label: "Following".into(), count: 2 });
        assert_eq!(p.locations, vec![Tally { label: "Outside  work".into(), count: 2 }], "a blank place is not one");
    }
}

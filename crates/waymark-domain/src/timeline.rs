//! Incidents per week and behaviours over time: escalation at a glance, and
//! the weekly frequency a course-of-conduct chronology needs.

use crate::records::Incident;
use crate::time::london_date;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// One week, Monday to Sunday in UK time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Week {
    pub starts_on: NaiveDate,
    pub incidents: u32,
    /// Behaviour wire name to the number of incidents that week showing it.
    pub behaviours: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Timeline {
    /// Every week from the first incident's to the current one, empty weeks included,
    /// so gaps and bursts read truly.
    pub weeks: Vec<Week>,
    /// Behaviours seen, most frequent first.
    pub behaviours: Vec<String>,
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// Builds the weekly timeline. Incidents after `today` (a mistyped year) still
/// get their week, so nothing silently disappears from the picture.
pub fn weekly(incidents: &[&Incident], today: NaiveDate) -> Timeline {
    let Some(first) = incidents.iter().map(|i| london_date(i.occurred_at)).min() else {
        return Timeline { weeks: Vec::new(), behaviours: Vec::new() };
    };
    let last = incidents.iter().map(|i| london_date(i.occurred_at)).max().unwrap_or(first).max(today);
    let mut weeks: BTreeMap<NaiveDate, Week> = BTreeMap::new();
    let mut start = monday_of(first);
    while start <= last {
        weeks.insert(start, Week { starts_on: start, incidents: 0, behaviours: BTreeMap::new() });
        start += Duration::days(7);
    }
    let mut totals: BTreeMap<String, u32> = BTreeMap::new();
    for incident in incidents {
        let Some(week) = weeks.get_mut(&monday_of(london_date(incident.occurred_at))) else { continue };
        week.incidents += 1;
        for behaviour in &incident.behaviours {
            *week.behaviours.entry(behaviour.wire().to_owned()).or_default() += 1;
            *totals.entry(behaviour.wire().to_owned()).or_default() += 1;
        }
    }
    let mut behaviours: Vec<(String, u32)> = totals.into_iter().collect();
    behaviours.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Timeline { weeks: weeks.into_values().collect(), behaviours: behaviours.into_iter().map(|(b, _)| b).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn incident(at: &str, behaviours: &[&str]) -> Incident {
        serde_json::from_value(json!({
            "id": "0190a000-0000-7000-8000-000000000009", "case_id": "0190a000-0000-7000-8000-000000000001",
            "occurred_at": at, "account": "a", "channel": "text", "behaviours": behaviours,
            "recorded_at": at, "recorded_by": "ADV1",
        }))
        .unwrap()
    }

    #[test]
    fn weeks_run_monday_to_sunday_in_uk_time_with_gaps_kept() {
        // 23:30 UTC on Sunday 5 July 2026 is 00:30 BST on Monday 6 July: the second week.
        let a = incident("2026-06-29T10:00:00Z", &["following"]);
        let b = incident("2026-07-05T23:30:00Z", &["following", "threat_to_kill"]);
        let c = incident("2026-07-22T12:00:00Z", &["threat_to_kill"]);
        let timeline = weekly(&[&a, &b, &c], NaiveDate::from_ymd_opt(2026, 7, 28).unwrap());
        let starts: Vec<String> = timeline.weeks.iter().map(|w| w.starts_on.to_string()).collect();
        assert_eq!(starts, ["2026-06-29", "2026-07-06", "2026-07-13", "2026-07-20", "2026-07-27"]);
        let counts: Vec<u32> = timeline.weeks.iter().map(|w| w.incidents).collect();
        assert_eq!(counts, [1, 1, 0, 1, 0]);
        assert_eq!(timeline.weeks[1].behaviours.get("threat_to_kill"), Some(&1));
        assert_eq!(timeline.behaviours, ["following", "threat_to_kill"], "ties break by name");
    }

    #[test]
    fn no_incidents_means_no_weeks() {
        assert!(weekly(&[], NaiveDate::from_ymd_opt(2026, 7, 28).unwrap()).weeks.is_empty());
    }
}

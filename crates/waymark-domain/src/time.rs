//! Time is passed in. Instants are stored in UTC and shown in Europe/London.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use std::sync::Mutex;

/// The source of "now" for everything that records time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *guard += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Formats an instant as a person in England reads it, e.g. "Fri 20 Nov 2026 21:30 GMT".
pub fn show_london(at: DateTime<Utc>) -> String {
    at.with_timezone(&London).format("%a %-d %b %Y %H:%M %Z").to_string()
}

/// Formats a calendar date as a person in England reads it, e.g. "30 Nov 2026".
pub fn show_date(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// Day of the week (Monday first, 0) and hour of an instant, in England.
pub fn london_day_and_hour(at: DateTime<Utc>) -> (usize, usize) {
    use chrono::{Datelike, Timelike};
    let local = at.with_timezone(&London);
    (local.weekday().num_days_from_monday() as usize, local.hour() as usize)
}

/// The calendar date in England at an instant.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    #[error("that time does not exist in UK time (the clocks went forward)")]
    Skipped,
}

/// Reads a wall-clock time in England as the UTC instant it names. In the
/// autumn hour that happens twice, the earlier (summer time) reading is taken.
pub fn from_london(local: NaiveDateTime) -> Result<DateTime<Utc>, LocalTimeError> {
    match London.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Ok(earlier.with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeError::Skipped),
    }
}

/// Parses "YYYY-MM-DD HH:MM[:SS]" (or with a `T`) without an offset as UK local time.
pub fn parse_london_local(text: &str) -> Option<Result<DateTime<Utc>, LocalTimeError>> {
    const FORMATS: [&str; 4] = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];
    FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok()).map(from_london)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summer_and_winter_times_convert_to_utc() {
        // BST is UTC+1, GMT is UTC+0: an incident at 21:30 in July happened at 20:30 UTC.
        let july = parse_london_local("2026-07-10 21:30").unwrap().unwrap();
        assert_eq!(july, Utc.with_ymd_and_hms(2026, 7, 10, 20, 30, 0).unwrap());
        let december = parse_london_local("2026-12-10T21:30").unwrap().unwrap();
        assert_eq!(december, Utc.with_ymd_and_hms(2026, 12, 10, 21, 30, 0).unwrap());
        assert!(show_london(july).contains("21:30 BST"));
    }

    #[test]
    fn the_skipped_spring_hour_is_refused() {
        // 29 March 2026 01:30 never happened in the UK.
        assert_eq!(parse_london_local("2026-03-29 01:30").unwrap(), Err(LocalTimeError::Skipped));
    }

    #[test]
    fn text_with_an_offset_is_not_treated_as_local() {
        assert!(parse_london_local("2026-03-29T01:30:00Z").is_none());
        assert!(parse_london_local("2026-03-29").is_none());
    }

    #[test]
    fn london_date_crosses_midnight_in_summer() {
        // 23:30 UTC on 1 July is already 2 July in England.
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 23, 30, 0).unwrap();
        assert_eq!(london_date(t), NaiveDate::from_ymd_opt(2026, 7, 2).unwrap());
    }
}

/// Serialises instants with fixed microsecond precision, so their text sorts
/// in time order inside the store.
pub mod utc_micros {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| serde::de::Error::custom("is not a valid date or time (use YYYY-MM-DD HH:MM)"))
    }
}

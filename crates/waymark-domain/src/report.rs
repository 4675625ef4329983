//! The commissioner's quarterly return (clinic.md, "What the commissioner
//! asks for each quarter"): every figure counted from the records, never
//! typed in. One pure function over a caseload's records: the laptop passes
//! its own, the clinic its copy of the service's with what only the clinic
//! holds (screening, the panel's actions, pathways). Each figure's key,
//! section, label and whether it is suppressed live here, once;
//! `docs/reports.md` defines each in words and a test holds the two together.
//!
//! Nothing here names a person: figures are counts, shares and medians.

use crate::disclosure::words;
use crate::records::{Case, ClinicReview, ProtectiveOrder, RiskAssessment, Victim};
use crate::vocab::{
    ActionStatus, ClosureReason, DeclineReason, Ethnicity, OrderType, PathwayKind, PathwayStage, ReferralSource,
    RiskLevel,
};
use crate::{Breach, CaseId};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The `[report]` table of `assets/rules.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRules {
    pub first_contact_target_days: u32,
    pub repeat_within_months: u32,
    pub suppress_below: u32,
}

impl ReportRules {
    pub fn check(&self) -> Result<(), String> {
        if self.repeat_within_months == 0 {
            return Err("report: repeat_within_months must be above 0".into());
        }
        // Suppressing nothing (1) is a service's choice to make with its
        // commissioner; suppressing every count it could publish is not a return.
        if !(1..=20).contains(&self.suppress_below) {
            return Err("report: suppress_below must be 1 to 20".into());
        }
        Ok(())
    }
}

/// A quarter of the financial year the commissioner reports by: Q1 is April
/// to June. `year` is the calendar year the financial year starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    number: u32,
}

impl Quarter {
    pub fn new(year: i32, number: u32) -> Option<Quarter> {
        ((1..=4).contains(&number) && (2000..=2999).contains(&year)).then_some(Quarter { year, number })
    }

    /// The quarter a day falls in.
    pub fn containing(day: NaiveDate) -> Quarter {
        let (year, number) = match day.month() {
            4..=6 => (day.year(), 1),
            7..=9 => (day.year(), 2),
            10..=12 => (day.year(), 3),
            _ => (day.year() - 1, 4),
        };
        Quarter { year, number }
    }

    /// The quarter before: the one a return is usually made for.
    pub fn previous(self) -> Quarter {
        match self.number {
            1 => Quarter { year: self.year - 1, number: 4 },
            n => Quarter { year: self.year, number: n - 1 },
        }
    }

    pub fn first_day(self) -> NaiveDate {
        let (year, month) = match self.number {
            4 => (self.year + 1, 1),
            n => (self.year, 4 + 3 * (n - 1)),
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        self.first_day().checked_add_months(Months::new(3)).and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        (self.first_day()..=self.last_day()).contains(&day)
    }

    /// `2026-27-Q3`: what a form and a file name use.
    pub fn wire(self) -> String {
        format!("{}-{:02}-Q{}", self.year, (self.year + 1) % 100, self.number)
    }

    pub fn from_wire(text: &str) -> Option<Quarter> {
        let (years, number) = text.trim().split_once("-Q").or_else(|| text.trim().split_once("-q"))?;
        let (first, second) = years.split_once('-')?;
        let year: i32 = first.parse().ok()?;
        let number: u32 = number.parse().ok()?;
        (second.len() == 2 && second.parse::<i32>().ok()? == (year + 1) % 100).then_some(())?;
        Quarter::new(year, number)
    }

    /// `Q3 2026/27 (1 October to 31 December 2026)`.
    pub fn label(self) -> String {
        let (first, last) = (self.first_day(), self.last_day());
        format!(
            "Q{} {}/{:02} ({} to {})",
            self.number,
            self.year,
            (self.year + 1) % 100,
            first.format("%-d %B"),
            last.format("%-d %B %Y")
        )
    }
}

impl Serialize for Quarter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.wire())
    }
}

impl<'de> Deserialize<'de> for Quarter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Quarter, D::Error> {
        let text = String::deserialize(d)?;
        Quarter::from_wire(&text).ok_or_else(|| serde::de::Error::custom("a quarter is written like 2026-27-Q3"))
    }
}

#[cfg(feature = "specta")]
impl specta::Type for Quarter {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        <String as specta::Type>::definition(types)
    }
}

/// A referral the clinic received that is not a case: waiting for
/// screening, or declined by it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnacceptedReferral {
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    /// When screening declined it, and why.
    pub declined: Option<(NaiveDate, DeclineReason)>,
}

/// One of the panel's actions as the clinic keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionFacts {
    /// The date of the meeting that set it.
    pub set_on: NaiveDate,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
    /// Closed after its due date (the clinic records why).
    pub closed_late: bool,
}

/// A dated step on a perpetrator's pathway.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathwayStepFacts {
    pub kind: PathwayKind,
    pub stage: PathwayStage,
    pub on: NaiveDate,
}

/// What only the clinic holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClinicFacts {
    pub unaccepted: Vec<UnacceptedReferral>,
    pub actions: Vec<ActionFacts>,
    pub pathway_steps: Vec<PathwayStepFacts>,
}

/// The records a return counts. A laptop's holds its own caseload and no
/// `clinic`; the clinic's holds the service's.
#[derive(Debug, Clone, Default)]
pub struct ReturnFacts {
    pub cases: Vec<Case>,
    pub victims: Vec<Victim>,
    /// Each case's first contact with its victim, as a London date.
    pub first_contacts: HashMap<CaseId, NaiveDate>,
    pub assessments: Vec<RiskAssessment>,
    pub orders: Vec<ProtectiveOrder>,
    pub breaches: Vec<Breach>,
    pub reviews: Vec<ClinicReview>,
    pub clinic: Option<ClinicFacts>,
}

/// Whose records a return counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ReturnScope {
    /// The whole service, at the clinic.
    Service,
    /// One advocate's caseload, on their laptop: what screening declined
    /// and what the clinic's panel and pathways keep are held at the clinic.
    Caseload,
}

/// Declares the sections and figures: each figure's key, section, label, and
/// whether its cells count people by something that could identify them
/// (and so are suppressed when small).
macro_rules! figures {
    ($($section:ident = $swire:literal => $slabel:literal {
        $($key:ident = $wire:literal => $label:literal, $suppressed:literal;)+
    })+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum Section { $(#[serde(rename = $swire)] $section),+ }

        impl Section {
            pub const ALL: &'static [Section] = &[$(Section::$section),+];
            pub fn wire(self) -> &'static str { match self { $(Section::$section => $swire),+ } }
            pub fn label(self) -> &'static str { match self { $(Section::$section => $slabel),+ } }
        }

        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum FigureKey { $($(#[serde(rename = $wire)] $key),+),+ }

        impl FigureKey {
            pub const ALL: &'static [FigureKey] = &[$($(FigureKey::$key),+),+];
            pub fn wire(self) -> &'static str { match self { $($(FigureKey::$key => $wire),+),+ } }
            pub fn label(self) -> &'static str { match self { $($(FigureKey::$key => $label),+),+ } }
            pub fn section(self) -> Section { match self { $($(FigureKey::$key => Section::$section),+),+ } }
            /// Whether small cells of this figure are suppressed.
            pub fn suppressed(self) -> bool { match self { $($(FigureKey::$key => $suppressed),+),+ } }
        }
    };
}

figures! {
    Referrals = "referrals" => "Referrals" {
        ReferralsReceived = "referrals_received" => "Referrals received, by source", true;
        ReferralsAccepted = "referrals_accepted" => "Referrals accepted", false;
        ReferralsDeclined = "referrals_declined" => "Referrals declined at screening", true;
        ReferralsNotContactable = "referrals_not_contactable" => "Not contactable (wrong details, unsafe to leave a message)", true;
        ReferralsSupportDeclined = "referrals_support_declined" => "Support declined", true;
    }
    Victims = "victims" => "Victims supported" {
        VictimsNew = "victims_new" => "New this quarter", false;
        VictimsOpenAtEnd = "victims_open_at_end" => "Open at the end of the quarter", false;
        VictimsClosed = "victims_closed" => "Closed this quarter, by reason", true;
    }
    FirstContact = "first_contact" => "Time from referral to first contact" {
        FirstContactMedianDays = "first_contact_median_days" => "Median days from referral to first contact", true;
        FirstContactWithinTarget = "first_contact_within_target" => "First contact within the service's target", true;
        FirstContactAwaited = "first_contact_awaited" => "Referrals still awaiting first contact", false;
    }
    Risk = "risk" => "Risk at intake" {
        RiskAtIntake = "risk_at_intake" => "Risk level at intake", true;
        IntakeInstrument = "intake_instrument" => "Intake assessment made with", true;
    }
    Repeat = "repeat" => "Repeat referrals" {
        RepeatReferrals = "repeat_referrals" => "Repeat referrals within 12 months", true;
    }
    Characteristics = "characteristics" => "Victims newly supported: protected characteristics" {
        Gender = "gender" => "Gender", true;
        AgeBand = "age_band" => "Age band", true;
        EthnicGroup = "ethnicity" => "Ethnic group", true;
        Disability = "disability" => "Disability", true;
        LgbtPlus = "lgbt_plus" => "LGBT+", true;
        ChildrenInHousehold = "children_in_household" => "Children in the household", true;
    }
    Panel = "panel" => "Multi-agency panel" {
        PanelCasesReviewed = "panel_cases_reviewed" => "Cases reviewed", false;
        PanelActionsSet = "panel_actions_set" => "Actions set", false;
        PanelActionsOnTime = "panel_actions_on_time" => "Actions set this quarter and completed on time", false;
        PanelActionsOverdue = "panel_actions_overdue" => "Actions set this quarter and now overdue", false;
    }
    Pathways = "pathways" => "Perpetrator pathways" {
        MentalHealthStarted = "mental_health_started" => "Mental-health interventions started", false;
        MentalHealthCompleted = "mental_health_completed" => "Mental-health interventions completed", false;
        MappaReferrals = "mappa_referrals" => "MAPPA referrals", false;
        PathwayReoffended = "pathway_reoffended" => "Reoffending recorded on a pathway", false;
    }
    Orders = "orders" => "Orders" {
        SpoApplied = "spo_applied" => "Stalking Protection Orders applied for", false;
        SpoGranted = "spo_granted" => "Stalking Protection Orders granted", false;
        SpoBreached = "spo_breached" => "Breaches of Stalking Protection Orders", false;
        OtherOrders = "other_orders" => "Other orders made, by type", false;
    }
    Outcomes = "outcomes" => "Outcomes at closure (of those who answered)" {
        FeelsSafer = "feels_safer" => "Feels safer", true;
        BetterAbleToCope = "better_able_to_cope" => "Better able to cope and recover", true;
        QualityOfLifeImproved = "quality_of_life_improved" => "Quality of life improved", true;
        BehaviourStopped = "behaviour_stopped" => "The stalking behaviour stopped", true;
    }
}

/// One cell of the return.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cell {
    Count {
        n: u32,
    },
    /// `n` of `of` (an outcome, or contact within the target).
    Share {
        n: u32,
        of: u32,
    },
    /// A median, in whole or half days, over `over` referrals.
    Days {
        days: f64,
        over: u32,
    },
    /// Small enough to identify someone, or enough with the total to work one out.
    Suppressed,
    /// Kept at the clinic, not on an advocate's laptop.
    HeldAtClinic,
    /// Nothing to measure (a median of no cases).
    NotApplicable,
}

impl Cell {
    /// As a page or a spreadsheet shows it: the ONS's symbols for what is not
    /// published (`[c]` confidential, `[x]` not available, `[z]` not applicable).
    pub fn shown(&self) -> String {
        match *self {
            Cell::Count { n } => n.to_string(),
            Cell::Share { n, of } => format!("{n} of {of} ({}%)", percent(n, of)),
            Cell::Days { days, .. } if days.fract() == 0.0 => format!("{days:.0} days"),
            Cell::Days { days, .. } => format!("{days:.1} days"),
            Cell::Suppressed => "[c]".into(),
            Cell::HeldAtClinic => "[x]".into(),
            Cell::NotApplicable => "[z]".into(),
        }
    }

    fn count(self) -> Option<u32> {
        match self {
            Cell::Count { n } | Cell::Share { n, .. } => Some(n),
            _ => None,
        }
    }
}

/// A rounded whole percentage, half up.
pub fn percent(n: u32, of: u32) -> u32 {
    if of == 0 {
        0
    } else {
        (200 * u64::from(n) + u64::from(of)).div_euclid(2 * u64::from(of)) as u32
    }
}

/// One line of a figure's breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Row {
    /// A vocabulary's wire value, or the breakdown's own key (`16_17`).
    pub key: String,
    pub label: String,
    pub value: Cell,
    /// `value` as every output shows it (`Cell::shown`), so no screen words it again.
    pub shown: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Figure {
    pub key: FigureKey,
    pub section: Section,
    pub label: String,
    pub value: Cell,
    /// `value` as every output shows it (`Cell::shown`).
    pub shown: String,
    pub breakdown: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QuarterlyReturn {
    pub quarter: Quarter,
    /// `Q3 2026/27 (1 October to 31 December 2026)`.
    pub period: String,
    pub scope: ReturnScope,
    /// The London day it was made: figures that depend on what has happened
    /// since (an action now overdue) are as the records stood then.
    pub made_on: NaiveDate,
    pub first_contact_target_days: u32,
    pub suppress_below: u32,
    pub figures: Vec<Figure>,
}

impl QuarterlyReturn {
    pub fn figure(&self, key: FigureKey) -> &Figure {
        // Every key is made by `quarterly_return`; a test holds that.
        self.figures.iter().find(|f| f.key == key).unwrap_or_else(|| panic!("{} is not in the return", key.wire()))
    }
}

/// An age band at referral, as the commissioner counts them (16–17 apart).
const AGE_BANDS: &[(u32, &str, &str)] = &[
    (16, "under_16", "Under 16"),
    (18, "16_17", "16 to 17"),
    (25, "18_24", "18 to 24"),
    (35, "25_34", "25 to 34"),
    (45, "35_44", "35 to 44"),
    (55, "45_54", "45 to 54"),
    (65, "55_64", "55 to 64"),
    (u32::MAX, "65_plus", "65 and over"),
];

const NOT_RECORDED: (&str, &str) = ("not_recorded", "Not recorded");

/// Whole years from `born` to `day`; none when `day` is before `born` (a mistyped date).
fn age_on(born: NaiveDate, day: NaiveDate) -> Option<u32> {
    day.years_since(born)
}

/// A gender in the victim's own words, as the return groups it.
fn gender_group(text: Option<&str>) -> (&'static str, &'static str) {
    let Some(text) = text.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) else { return NOT_RECORDED };
    match text.as_str() {
        "female" | "woman" | "f" | "girl" | "trans woman" | "transgender woman" => ("female", "Female or woman"),
        "male" | "man" | "m" | "boy" | "trans man" | "transgender man" => ("male", "Male or man"),
        _ => ("another", "In another term (for example, non-binary)"),
    }
}

/// Counts by key, in the order the breakdown lists its keys.
struct Tally {
    rows: Vec<(String, String, u32)>,
}

impl Tally {
    fn new(keys: impl IntoIterator<Item = (String, String)>) -> Self {
        Tally { rows: keys.into_iter().map(|(k, l)| (k, l, 0)).collect() }
    }

    fn add(&mut self, key: &str, label: &str) {
        match self.rows.iter_mut().find(|(k, _, _)| k == key) {
            Some(row) => row.2 += 1,
            None => self.rows.push((key.to_owned(), label.to_owned(), 1)),
        }
    }

    fn rows(self) -> Vec<Row> {
        self.rows
            .into_iter()
            .map(|(key, label, n)| Row { key, label, value: Cell::Count { n }, shown: String::new() })
            .collect()
    }
}

fn keys_of<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    items.into_iter().map(|(k, l)| (k.to_owned(), l.to_owned())).collect()
}

fn count(n: usize) -> Cell {
    Cell::Count { n: u32::try_from(n).unwrap_or(u32::MAX) }
}

fn figure(key: FigureKey, value: Cell, breakdown: Vec<Row>) -> Figure {
    Figure { key, section: key.section(), label: key.label().to_owned(), value, shown: String::new(), breakdown }
}

fn held_at_clinic(key: FigureKey) -> Figure {
    figure(key, Cell::HeldAtClinic, Vec::new())
}

fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] as f64 } else { (values[mid - 1] + values[mid]) as f64 / 2.0 })
}

/// An outcome asked at closure: yes of those who answered.
fn outcome(key: FigureKey, closed: &[&Case], answer: impl Fn(&crate::records::Closure) -> Option<bool>) -> Figure {
    let answers: Vec<bool> = closed.iter().filter_map(|c| c.closure.as_ref().and_then(&answer)).collect();
    let yes = answers.iter().filter(|a| **a).count();
    figure(key, Cell::Share { n: yes as u32, of: answers.len() as u32 }, Vec::new())
}

/// A victim's name as sorted folded words, and their date of birth.
type PersonKey = (Vec<String>, NaiveDate);

/// The key a repeat referral is matched on: the victim's name as a set of
/// folded words, and their date of birth. Both must be known.
fn person_key(victim: &Victim) -> Option<PersonKey> {
    let mut name = words(&victim.name);
    name.sort();
    name.dedup();
    (name.len() >= 2).then_some(())?;
    Some((name, victim.date_of_birth?))
}

/// The return for `quarter`, made on `made_on`. Suppression is applied last
/// (`suppress`), so the counts above are the records' own.
pub fn quarterly_return(
    facts: &ReturnFacts,
    quarter: Quarter,
    made_on: NaiveDate,
    rules: &ReportRules,
) -> QuarterlyReturn {
    let scope = if facts.clinic.is_some() { ReturnScope::Service } else { ReturnScope::Caseload };
    let last = quarter.last_day();
    let victims: HashMap<CaseId, &Victim> = facts.victims.iter().map(|v| (v.case_id, v)).collect();
    let received: Vec<&Case> = facts.cases.iter().filter(|c| quarter.contains(c.referral.received_on)).collect();
    let opened: Vec<&Case> = facts.cases.iter().filter(|c| quarter.contains(c.opened_on)).collect();
    let closed: Vec<&Case> =
        facts.cases.iter().filter(|c| c.closure.as_ref().is_some_and(|x| quarter.contains(x.closed_on))).collect();
    let closed_for = |reason: ClosureReason| {
        closed.iter().filter(|c| c.closure.as_ref().is_some_and(|x| x.reason == reason)).count()
    };
    let declined_for = |reasons: &[DeclineReason]| -> Vec<DeclineReason> {
        facts
            .clinic
            .iter()
            .flat_map(|c| &c.unaccepted)
            .filter_map(|u| u.declined)
            .filter(|(on, why)| quarter.contains(*on) && reasons.contains(why))
            .map(|(_, why)| why)
            .collect()
    };
    let mut figures = Vec::new();

    // Referrals.
    let mut sources = Tally::new(ReferralSource::KNOWN.iter().map(|s| (s.wire().to_owned(), s.label().to_owned())));
    let unaccepted_received: Vec<&UnacceptedReferral> =
        facts.clinic.iter().flat_map(|c| &c.unaccepted).filter(|u| quarter.contains(u.received_on)).collect();
    for source in received.iter().map(|c| &c.referral.source).chain(unaccepted_received.iter().map(|u| &u.source)) {
        // A service's own source is counted under "Other", never by its words.
        let (key, label) = match source {
            ReferralSource::Other(_) => ("other", "Other"),
            known => (known.wire(), known.label()),
        };
        sources.add(key, label);
    }
    figures.push(figure(
        FigureKey::ReferralsReceived,
        count(received.len() + unaccepted_received.len()),
        sources.rows(),
    ));
    figures.push(figure(FigureKey::ReferralsAccepted, count(opened.len()), Vec::new()));
    let screening_reasons = [DeclineReason::OutsideCriteria, DeclineReason::OutsideArea, DeclineReason::ExistingCase];
    if facts.clinic.is_some() {
        let declined = declined_for(&screening_reasons);
        let mut by_reason = Tally::new(screening_reasons.iter().map(|r| (r.wire().to_owned(), r.label().to_owned())));
        declined.iter().for_each(|r| by_reason.add(r.wire(), r.label()));
        figures.push(figure(FigureKey::ReferralsDeclined, count(declined.len()), by_reason.rows()));
    } else {
        figures.push(held_at_clinic(FigureKey::ReferralsDeclined));
    }
    for (key, at_screening, after) in [
        (FigureKey::ReferralsNotContactable, DeclineReason::NotContactable, ClosureReason::NoContactEstablished),
        (FigureKey::ReferralsSupportDeclined, DeclineReason::SupportDeclined, ClosureReason::VictimDeclined),
    ] {
        let after_opening = closed_for(after);
        let screening = facts.clinic.is_some().then(|| declined_for(&[at_screening]).len());
        let rows = vec![
            Row {
                key: "at_screening".into(),
                label: "At the clinic's screening".into(),
                value: screening.map_or(Cell::HeldAtClinic, count),
                shown: String::new(),
            },
            Row {
                key: "after_opening".into(),
                label: "After the case opened (its closure)".into(),
                value: count(after_opening),
                shown: String::new(),
            },
        ];
        figures.push(figure(key, count(after_opening + screening.unwrap_or(0)), rows));
    }

    // Victims supported.
    figures.push(figure(FigureKey::VictimsNew, count(opened.len()), Vec::new()));
    let open_at_end = facts
        .cases
        .iter()
        .filter(|c| c.opened_on <= last && c.closure.as_ref().is_none_or(|x| x.closed_on > last))
        .count();
    figures.push(figure(FigureKey::VictimsOpenAtEnd, count(open_at_end), Vec::new()));
    let mut reasons = Tally::new(ClosureReason::KNOWN.iter().map(|r| (r.wire().to_owned(), r.label().to_owned())));
    for case in &closed {
        match case.closure.as_ref().map(|x| &x.reason) {
            Some(ClosureReason::Other(_)) | None => reasons.add("other", "Other"),
            Some(known) => reasons.add(known.wire(), known.label()),
        }
    }
    figures.push(figure(FigureKey::VictimsClosed, count(closed.len()), reasons.rows()));

    // First contact, for the referrals received this quarter.
    let waits: Vec<i64> = received
        .iter()
        .filter_map(|c| facts.first_contacts.get(&c.id).map(|on| (*on - c.referral.received_on).num_days().max(0)))
        .collect();
    figures.push(figure(
        FigureKey::FirstContactMedianDays,
        median(waits.clone()).map_or(Cell::NotApplicable, |days| Cell::Days { days, over: waits.len() as u32 }),
        Vec::new(),
    ));
    let within = waits.iter().filter(|d| **d <= i64::from(rules.first_contact_target_days)).count();
    figures.push(figure(
        FigureKey::FirstContactWithinTarget,
        Cell::Share { n: within as u32, of: received.len() as u32 },
        Vec::new(),
    ));
    figures.push(figure(FigureKey::FirstContactAwaited, count(received.len() - waits.len()), Vec::new()));

    // Risk at intake: each new case's first assessment.
    let mut first_assessment: HashMap<CaseId, &RiskAssessment> = HashMap::new();
    for a in &facts.assessments {
        let slot = first_assessment.entry(a.case_id).or_insert(a);
        if (a.assessed_on, a.id.as_uuid()) < (slot.assessed_on, slot.id.as_uuid()) {
            *slot = a;
        }
    }
    let mut levels = Tally::new(
        RiskLevel::ALL
            .iter()
            .map(|l| (l.wire().to_owned(), l.label().to_owned()))
            .chain([("not_assessed".into(), "Not assessed".into())]),
    );
    let mut instruments =
        Tally::new(keys_of([("dash", "DASH"), ("s-dash", "S-DASH"), ("other", "Another instrument")]));
    for case in &opened {
        match first_assessment.get(&case.id) {
            Some(a) => {
                levels.add(a.judged_level.wire(), a.judged_level.label());
                match a.instrument.as_str() {
                    "dash" => instruments.add("dash", "DASH"),
                    "s-dash" => instruments.add("s-dash", "S-DASH"),
                    _ => instruments.add("other", "Another instrument"),
                }
            }
            None => levels.add("not_assessed", "Not assessed"),
        }
    }
    figures.push(figure(FigureKey::RiskAtIntake, count(opened.len()), levels.rows()));
    let assessed = opened.iter().filter(|c| first_assessment.contains_key(&c.id)).count();
    figures.push(figure(FigureKey::IntakeInstrument, count(assessed), instruments.rows()));

    // Repeat referrals: an earlier case of the same victim within the window.
    let mut earlier: HashMap<PersonKey, Vec<(NaiveDate, CaseId)>> = HashMap::new();
    for case in &facts.cases {
        if let Some(key) = victims.get(&case.id).and_then(|v| person_key(v)) {
            earlier.entry(key).or_default().push((case.referral.received_on, case.id));
        }
    }
    let repeats = received
        .iter()
        .filter(|case| {
            let Some(key) = victims.get(&case.id).and_then(|v| person_key(v)) else { return false };
            let from = case
                .referral
                .received_on
                .checked_sub_months(Months::new(rules.repeat_within_months))
                .unwrap_or(NaiveDate::MIN);
            earlier.get(&key).is_some_and(|list| {
                list.iter().any(|(on, id)| *id != case.id && *on >= from && *on < case.referral.received_on)
            })
        })
        .count();
    figures.push(figure(FigureKey::RepeatReferrals, count(repeats), Vec::new()));

    // Protected characteristics of the victims newly supported.
    let new_victims: Vec<Option<&&Victim>> = opened.iter().map(|c| victims.get(&c.id)).collect();
    let total = count(opened.len());
    let mut genders = Tally::new(keys_of([
        ("female", "Female or woman"),
        ("male", "Male or man"),
        ("another", "In another term (for example, non-binary)"),
        NOT_RECORDED,
    ]));
    let mut ages = Tally::new(
        AGE_BANDS.iter().map(|(_, k, l)| (*k, *l)).chain([NOT_RECORDED]).map(|(k, l)| (k.to_owned(), l.to_owned())),
    );
    let mut ethnicities = Tally::new(
        Ethnicity::ALL
            .iter()
            .map(|e| (e.wire(), e.label()))
            .chain([NOT_RECORDED])
            .map(|(k, l)| (k.to_owned(), l.to_owned())),
    );
    let mut disability =
        Tally::new(keys_of([("recorded", "Disability or support need recorded"), ("none_recorded", "None recorded")]));
    let mut lgbt = Tally::new(keys_of([
        ("lgbt_plus", "Gay, lesbian, bisexual or another sexual orientation"),
        ("heterosexual", "Straight or heterosexual"),
        ("prefer_not_to_say", "Prefers not to say"),
        NOT_RECORDED,
    ]));
    let mut children =
        Tally::new(keys_of([("with_children", "With children under 18"), ("none_recorded", "None recorded")]));
    for (case, victim) in opened.iter().zip(&new_victims) {
        let (key, label) = gender_group(victim.and_then(|v| v.gender.as_deref()));
        genders.add(key, label);
        match victim.and_then(|v| v.date_of_birth).and_then(|born| age_on(born, case.referral.received_on)) {
            Some(age) => {
                let (_, key, label) =
                    AGE_BANDS.iter().find(|(below, _, _)| age < *below).copied().unwrap_or(AGE_BANDS[7]);
                ages.add(key, label);
            }
            None => ages.add(NOT_RECORDED.0, NOT_RECORDED.1),
        }
        match victim.and_then(|v| v.ethnicity) {
            Some(e) => ethnicities.add(e.wire(), e.label()),
            None => ethnicities.add(NOT_RECORDED.0, NOT_RECORDED.1),
        }
        match victim.and_then(|v| v.disabilities.as_deref()).filter(|d| !d.trim().is_empty()) {
            Some(_) => disability.add("recorded", "Disability or support need recorded"),
            None => disability.add("none_recorded", "None recorded"),
        }
        match victim.and_then(|v| v.sexual_orientation) {
            Some(o) => match o.lgbt_plus() {
                // Each key is one the tally was made with, so its label is already there.
                Some(true) => lgbt.add("lgbt_plus", ""),
                Some(false) => lgbt.add("heterosexual", ""),
                None => lgbt.add("prefer_not_to_say", ""),
            },
            None => lgbt.add(NOT_RECORDED.0, NOT_RECORDED.1),
        }
        // A dependant with no date of birth is taken to be a child: that is what the list is for.
        let has_child = victim.is_some_and(|v| {
            v.dependants
                .iter()
                .any(|d| d.date_of_birth.is_none_or(|born| age_on(born, last).is_none_or(|age| age < 18)))
        });
        children.add(if has_child { "with_children" } else { "none_recorded" }, "");
    }
    for (key, tally) in [
        (FigureKey::Gender, genders),
        (FigureKey::AgeBand, ages),
        (FigureKey::EthnicGroup, ethnicities),
        (FigureKey::Disability, disability),
        (FigureKey::LgbtPlus, lgbt),
        (FigureKey::ChildrenInHousehold, children),
    ] {
        figures.push(figure(key, total, tally.rows()));
    }

    // The panel.
    let reviewed: HashSet<CaseId> =
        facts.reviews.iter().filter(|r| quarter.contains(r.meeting_on)).map(|r| r.case_id).collect();
    figures.push(figure(FigureKey::PanelCasesReviewed, count(reviewed.len()), Vec::new()));
    match &facts.clinic {
        Some(clinic) => {
            let set: Vec<&ActionFacts> = clinic.actions.iter().filter(|a| quarter.contains(a.set_on)).collect();
            figures.push(figure(FigureKey::PanelActionsSet, count(set.len()), Vec::new()));
            let on_time = set.iter().filter(|a| a.status == ActionStatus::Done && !a.closed_late).count();
            figures.push(figure(FigureKey::PanelActionsOnTime, count(on_time), Vec::new()));
            let overdue = set.iter().filter(|a| a.status == ActionStatus::Open && a.due_on < made_on).count();
            figures.push(figure(FigureKey::PanelActionsOverdue, count(overdue), Vec::new()));
        }
        None => {
            // The review on the laptop lists the actions and how they stand,
            // but not when one closed: whether on time is the clinic's to say.
            let set: Vec<_> =
                facts.reviews.iter().filter(|r| quarter.contains(r.meeting_on)).flat_map(|r| &r.actions).collect();
            figures.push(figure(FigureKey::PanelActionsSet, count(set.len()), Vec::new()));
            figures.push(held_at_clinic(FigureKey::PanelActionsOnTime));
            let overdue = set.iter().filter(|a| a.status == ActionStatus::Open && a.due_on < made_on).count();
            figures.push(figure(FigureKey::PanelActionsOverdue, count(overdue), Vec::new()));
        }
    }

    // Perpetrator pathways, kept at the clinic.
    for (key, kind, stage) in [
        (FigureKey::MentalHealthStarted, Some(PathwayKind::MentalHealth), PathwayStage::Started),
        (FigureKey::MentalHealthCompleted, Some(PathwayKind::MentalHealth), PathwayStage::Completed),
        (FigureKey::MappaReferrals, Some(PathwayKind::Mappa), PathwayStage::Referred),
        (FigureKey::PathwayReoffended, None, PathwayStage::Reoffended),
    ] {
        figures.push(match &facts.clinic {
            Some(clinic) => {
                let n = clinic
                    .pathway_steps
                    .iter()
                    .filter(|s| kind.is_none_or(|k| s.kind == k) && s.stage == stage && quarter.contains(s.on))
                    .count();
                figure(key, count(n), Vec::new())
            }
            None => held_at_clinic(key),
        });
    }

    // Orders.
    let is_spo = |t: &OrderType| matches!(t, OrderType::Spo | OrderType::InterimSpo);
    let spos: Vec<&ProtectiveOrder> = facts.orders.iter().filter(|o| is_spo(&o.order_type)).collect();
    let in_quarter = |day: Option<NaiveDate>| day.is_some_and(|d| quarter.contains(d));
    figures.push(figure(
        FigureKey::SpoApplied,
        count(spos.iter().filter(|o| in_quarter(o.applied_on)).count()),
        Vec::new(),
    ));
    figures.push(figure(
        FigureKey::SpoGranted,
        count(spos.iter().filter(|o| in_quarter(o.made_on)).count()),
        Vec::new(),
    ));
    let spo_ids: HashSet<_> = spos.iter().map(|o| o.id).collect();
    let breached =
        facts.breaches.iter().filter(|b| spo_ids.contains(&b.order_id) && quarter.contains(b.occurred_on)).count();
    figures.push(figure(FigureKey::SpoBreached, count(breached), Vec::new()));
    let mut others =
        Tally::new(OrderType::KNOWN.iter().filter(|t| !is_spo(t)).map(|t| (t.wire().to_owned(), t.label().to_owned())));
    let mut other_total = 0;
    for order in facts.orders.iter().filter(|o| !is_spo(&o.order_type) && in_quarter(o.made_on.or(o.served_on))) {
        other_total += 1;
        match &order.order_type {
            OrderType::Other(_) => others.add("other", "Other"),
            known => others.add(known.wire(), known.label()),
        }
    }
    figures.push(figure(FigureKey::OtherOrders, count(other_total), others.rows()));

    // Outcomes at closure.
    figures.push(outcome(FigureKey::FeelsSafer, &closed, |c| c.feels_safer));
    figures.push(outcome(FigureKey::BetterAbleToCope, &closed, |c| c.better_able_to_cope));
    figures.push(outcome(FigureKey::QualityOfLifeImproved, &closed, |c| c.quality_of_life_improved));
    figures.push(outcome(FigureKey::BehaviourStopped, &closed, |c| c.behaviour_stopped));

    let mut report = QuarterlyReturn {
        quarter,
        period: quarter.label(),
        scope,
        made_on,
        first_contact_target_days: rules.first_contact_target_days,
        suppress_below: rules.suppress_below,
        figures,
    };
    suppress(&mut report, rules.suppress_below);
    for figure in &mut report.figures {
        figure.shown = figure.value.shown();
        for row in &mut figure.breakdown {
            row.shown = row.value.shown();
        }
    }
    report
}

/// Hides what could identify someone in figures that count people by
/// something about them (`FigureKey::suppressed`). A breakdown's total may be
/// published by another figure (every characteristic's is the new victims),
/// so it is taken as known:
/// - a total of 1 to `below - 1` hides the figure and every row, zeros too
///   (with the total known, the one non-zero row would say who);
/// - a row of 1 to `below - 1` is hidden, and then the smallest other
///   non-zero row as well, so neither one nor several hidden rows can be
///   worked out by subtraction; when there is no other to hide, every row is;
/// - a share is hidden when its whole (`of`), its part (`n`) or the rest
///   (`of - n`) is such a count; a median over fewer than `below` cases is.
///
/// Zero is shown otherwise: it says nobody was counted, which identifies no one.
pub fn suppress(report: &mut QuarterlyReturn, below: u32) {
    let small = |n: u32| n > 0 && n < below;
    for figure in report.figures.iter_mut().filter(|f| f.key.suppressed()) {
        figure.value = match figure.value {
            Cell::Count { n } if small(n) => Cell::Suppressed,
            Cell::Share { n, of } if small(n) || small(of.saturating_sub(n)) || of < below => Cell::Suppressed,
            Cell::Days { over, .. } if over < below => Cell::Suppressed,
            other => other,
        };
        if figure.breakdown.is_empty() {
            continue;
        }
        if figure.value == Cell::Suppressed {
            figure.breakdown.iter_mut().for_each(|r| r.value = Cell::Suppressed);
            continue;
        }
        let mut hidden = false;
        for row in &mut figure.breakdown {
            if matches!(row.value, Cell::Count { n } if small(n)) {
                row.value = Cell::Suppressed;
                hidden = true;
            }
        }
        if hidden {
            let next = figure
                .breakdown
                .iter_mut()
                .filter(|r| matches!(r.value, Cell::Count { n } if n > 0))
                .min_by_key(|r| r.value.count().unwrap_or(u32::MAX));
            match next {
                Some(row) => row.value = Cell::Suppressed,
                None => figure.breakdown.iter_mut().for_each(|r| r.value = Cell::Suppressed),
            }
        }
    }
}

/// The return as rows for a spreadsheet or a CSV file: section, figure,
/// breakdown and the cell, the figure's own line first.
pub fn table(report: &QuarterlyReturn) -> Vec<(Section, &Figure, Option<&Row>)> {
    let mut out = Vec::new();
    for figure in &report.figures {
        out.push((figure.section, figure, None));
        out.extend(figure.breakdown.iter().map(|row| (figure.section, figure, Some(row))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn id(n: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128(n)
    }

    fn rules() -> ReportRules {
        crate::rules::Rules::shipped().report
    }

    /// A case referred on `received` and opened the same day, closed when `closed` says.
    fn case(n: u128, received: NaiveDate, closed: Option<(NaiveDate, &str)>) -> Case {
        let mut doc = json!({
            "id": id(n), "reference": format!("T-{n}"), "status": "open", "advocate": "ADV1",
            "opened_on": received, "referral": {"received_on": received, "source": "police", "reason": "r", "consent_recorded": true}
        });
        if let Some((on, reason)) = closed {
            doc["status"] = json!("closed");
            doc["closure"] = json!({"closed_on": on, "reason": reason, "feels_safer": true});
        }
        serde_json::from_value(doc).unwrap()
    }

    fn victim(case: u128, name: &str, born: Option<NaiveDate>) -> Victim {
        serde_json::from_value(json!({"id": id(1000 + case), "case_id": id(case), "name": name, "date_of_birth": born}))
            .unwrap()
    }

    const Q3: Quarter = Quarter { year: 2026, number: 3 };

    #[test]
    fn quarters_follow_the_financial_year() {
        // The commissioner's year starts in April: January to March is Q4 of the year before.
        assert_eq!(Quarter::containing(d(2027, 2, 1)), Quarter::new(2026, 4).unwrap());
        assert_eq!(Q3.first_day(), d(2026, 10, 1));
        assert_eq!(Q3.last_day(), d(2026, 12, 31));
        assert_eq!(Quarter::new(2026, 4).unwrap().last_day(), d(2027, 3, 31));
        assert_eq!(Quarter::new(2026, 1).unwrap().previous(), Quarter::new(2025, 4).unwrap());
        assert_eq!(Q3.wire(), "2026-27-Q3");
        assert_eq!(Quarter::from_wire("2026-27-Q3"), Some(Q3));
        assert_eq!(Quarter::from_wire("2026-28-Q3"), None, "the second year must follow the first");
        assert_eq!(Quarter::from_wire("2026-27-Q5"), None);
        assert_eq!(Quarter::new(2099, 4).unwrap().wire(), "2099-00-Q4");
        assert_eq!(Q3.label(), "Q3 2026/27 (1 October to 31 December 2026)");
    }

    #[test]
    fn a_case_counts_in_the_quarter_its_dates_fall_in() {
        let facts = ReturnFacts {
            cases: vec![
                case(1, d(2026, 9, 30), None), // before: open at the end only
                case(2, d(2026, 10, 1), Some((d(2027, 1, 2), "support_complete"))), // new; closed after: open at the end
                case(3, d(2026, 12, 31), Some((d(2026, 12, 31), "no_contact_established"))),
                case(4, d(2027, 1, 1), None), // after: nothing
            ],
            ..ReturnFacts::default()
        };
        let r = quarterly_return(&facts, Q3, d(2027, 1, 10), &ReportRules { suppress_below: 1, ..rules() });
        assert_eq!(r.scope, ReturnScope::Caseload);
        assert_eq!(r.figure(FigureKey::VictimsNew).value, Cell::Count { n: 2 });
        assert_eq!(r.figure(FigureKey::VictimsOpenAtEnd).value, Cell::Count { n: 2 });
        assert_eq!(r.figure(FigureKey::VictimsClosed).value, Cell::Count { n: 1 });
        let not_contactable = r.figure(FigureKey::ReferralsNotContactable);
        assert_eq!(not_contactable.value, Cell::Count { n: 1 });
        assert_eq!(not_contactable.breakdown[0].value, Cell::HeldAtClinic, "screening is the clinic's");
        assert_eq!(r.figure(FigureKey::ReferralsDeclined).value, Cell::HeldAtClinic);
        assert_eq!(r.figure(FigureKey::MappaReferrals).value, Cell::HeldAtClinic);
    }

    #[test]
    fn the_median_wait_and_the_target_read_the_first_contact() {
        let cases: Vec<Case> = (1..=4).map(|n| case(n, d(2026, 10, 5), None)).collect();
        let first_contacts = [(1, 5), (2, 6), (3, 9)] // waits of 0, 1 and 4 days; case 4 awaited
            .into_iter()
            .map(|(n, day)| (CaseId(id(n)), d(2026, 10, day)))
            .collect();
        let facts = ReturnFacts { cases, first_contacts, ..ReturnFacts::default() };
        let r = quarterly_return(&facts, Q3, d(2027, 1, 10), &ReportRules { suppress_below: 1, ..rules() });
        assert_eq!(r.figure(FigureKey::FirstContactMedianDays).value, Cell::Days { days: 1.0, over: 3 });
        // The target is 2 days; the awaited referral counts against it.
        assert_eq!(r.figure(FigureKey::FirstContactWithinTarget).value, Cell::Share { n: 2, of: 4 });
        assert_eq!(r.figure(FigureKey::FirstContactAwaited).value, Cell::Count { n: 1 });
        assert_eq!(median(vec![4, 1, 2, 9]), Some(3.0));
    }

    #[test]
    fn a_repeat_is_the_same_name_and_birth_within_the_window() {
        let born = Some(d(1990, 3, 3));
        let facts = ReturnFacts {
            cases: vec![
                case(1, d(2025, 11, 1), Some((d(2026, 1, 1), "support_complete"))),
                case(2, d(2026, 10, 20), None), // 11 months after case 1: a repeat
                case(3, d(2024, 1, 1), None),
                case(4, d(2026, 11, 1), None), // 34 months after case 3: not
                case(5, d(2026, 11, 2), None), // same name, another birth: not
            ],
            victims: vec![
                victim(1, "Jane Smith", born),
                victim(2, "SMITH, Jane", born),
                victim(3, "Ann Jones", born),
                victim(4, "Ann Jones", born),
                victim(5, "Jane Smith", Some(d(1991, 3, 3))),
            ],
            ..ReturnFacts::default()
        };
        let r = quarterly_return(&facts, Q3, d(2027, 1, 10), &ReportRules { suppress_below: 1, ..rules() });
        assert_eq!(r.figure(FigureKey::RepeatReferrals).value, Cell::Count { n: 1 });
    }

    #[test]
    fn age_bands_keep_sixteen_and_seventeen_apart() {
        let facts = ReturnFacts {
            cases: vec![case(1, d(2026, 10, 1), None), case(2, d(2026, 10, 1), None), case(3, d(2026, 10, 1), None)],
            // 16 on the day of referral; 18 the day after it; not recorded.
            victims: vec![
                victim(1, "A B", Some(d(2010, 10, 1))),
                victim(2, "C D", Some(d(2008, 10, 2))),
                victim(3, "E F", None),
            ],
            ..ReturnFacts::default()
        };
        let r = quarterly_return(&facts, Q3, d(2027, 1, 10), &ReportRules { suppress_below: 1, ..rules() });
        let band = |key: &str| r.figure(FigureKey::AgeBand).breakdown.iter().find(|row| row.key == key).unwrap().value;
        assert_eq!(band("16_17"), Cell::Count { n: 2 }, "17 until the eighteenth birthday");
        assert_eq!(band("not_recorded"), Cell::Count { n: 1 });
        assert_eq!(band("18_24"), Cell::Count { n: 0 });
    }

    fn report_with(value: Cell, rows: &[u32]) -> QuarterlyReturn {
        let breakdown = rows
            .iter()
            .enumerate()
            .map(|(i, n)| Row {
                key: i.to_string(),
                label: i.to_string(),
                value: Cell::Count { n: *n },
                shown: String::new(),
            })
            .collect();
        QuarterlyReturn {
            quarter: Q3,
            period: Q3.label(),
            scope: ReturnScope::Service,
            made_on: d(2027, 1, 1),
            first_contact_target_days: 2,
            suppress_below: 5,
            figures: vec![
                figure(FigureKey::EthnicGroup, value, breakdown),
                figure(FigureKey::VictimsNew, Cell::Count { n: 3 }, Vec::new()),
            ],
        }
    }

    fn shown_cells(r: &QuarterlyReturn) -> Vec<Cell> {
        r.figures[0].breakdown.iter().map(|row| row.value).collect()
    }

    #[test]
    fn small_cells_are_hidden_and_cannot_be_worked_back() {
        const C: Cell = Cell::Suppressed;
        let n = |n| Cell::Count { n };
        // One row of 3 alone hidden would be the total less the others: the next smallest goes too.
        let mut r = report_with(n(40), &[3, 0, 12, 25]);
        suppress(&mut r, 5);
        assert_eq!(shown_cells(&r), vec![C, n(0), C, n(25)]);
        // Two small rows hidden alone would share what the total leaves (2 = 1 + 1): a large one goes with them.
        let mut r = report_with(n(20), &[1, 1, 18]);
        suppress(&mut r, 5);
        assert_eq!(shown_cells(&r), vec![C, C, C], "with nothing else to hide, every row is");
        let mut r = report_with(n(30), &[1, 1, 10, 18]);
        suppress(&mut r, 5);
        assert_eq!(shown_cells(&r), vec![C, C, C, n(18)]);
        // A small total is known from elsewhere (the new victims): every row goes, zeros too,
        // or the one non-zero row would say who.
        let mut r = report_with(n(1), &[1, 0, 0]);
        suppress(&mut r, 5);
        assert_eq!(r.figures[0].value, C);
        assert_eq!(shown_cells(&r), vec![C, C, C]);
        // One row small among zeros and a total of 7: its only neighbour is 6, which goes too.
        let mut r = report_with(n(7), &[0, 1, 6, 0]);
        suppress(&mut r, 5);
        assert_eq!(shown_cells(&r), vec![n(0), C, C, n(0)]);
        // Nothing small, nothing hidden.
        let mut r = report_with(n(11), &[5, 0, 6]);
        suppress(&mut r, 5);
        assert_eq!(shown_cells(&r), vec![n(5), n(0), n(6)]);
        // A count of activity is published as counted.
        assert_eq!(r.figures[1].value, Cell::Count { n: 3 });
        // Five is shown; a share over fewer than five answers is not.
        let mut r = report_with(Cell::Count { n: 5 }, &[5, 0]);
        r.figures[0].key = FigureKey::FeelsSafer;
        r.figures.push(figure(FigureKey::BehaviourStopped, Cell::Share { n: 4, of: 4 }, Vec::new()));
        r.figures.push(figure(FigureKey::FirstContactMedianDays, Cell::Days { days: 2.0, over: 4 }, Vec::new()));
        suppress(&mut r, 5);
        assert_eq!(r.figures[0].breakdown[0].value, Cell::Count { n: 5 });
        assert_eq!(r.figures[2].value, Cell::Suppressed);
        assert_eq!(r.figures[3].value, Cell::Suppressed);
        // "9 of 10 feel safer" says one does not: the rest is a count of people too.
        let mut r = report_with(Cell::Count { n: 5 }, &[]);
        r.figures.push(figure(FigureKey::FeelsSafer, Cell::Share { n: 9, of: 10 }, Vec::new()));
        r.figures.push(figure(FigureKey::BehaviourStopped, Cell::Share { n: 5, of: 10 }, Vec::new()));
        suppress(&mut r, 5);
        assert_eq!((r.figures[2].value, r.figures[3].value), (Cell::Suppressed, Cell::Share { n: 5, of: 10 }));
    }

    #[test]
    fn a_birth_after_the_referral_is_not_recorded_and_a_repeat_comes_strictly_before() {
        let born = Some(d(1990, 3, 3));
        let facts = ReturnFacts {
            cases: vec![case(1, d(2026, 10, 5), None), case(2, d(2026, 10, 5), None)],
            victims: vec![victim(1, "Jane Smith", born), victim(2, "Jane Smith", Some(d(2027, 1, 1)))],
            ..ReturnFacts::default()
        };
        let r = quarterly_return(&facts, Q3, d(2027, 1, 10), &ReportRules { suppress_below: 1, ..rules() });
        let band = |key: &str| r.figure(FigureKey::AgeBand).breakdown.iter().find(|row| row.key == key).unwrap().value;
        assert_eq!((band("not_recorded"), band("under_16")), (Cell::Count { n: 1 }, Cell::Count { n: 0 }));
        let twins = ReturnFacts {
            cases: vec![case(1, d(2026, 10, 5), None), case(2, d(2026, 10, 5), None)],
            victims: vec![victim(1, "Jane Smith", born), victim(2, "Jane Smith", born)],
            ..ReturnFacts::default()
        };
        let r = quarterly_return(&twins, Q3, d(2027, 1, 10), &ReportRules { suppress_below: 1, ..rules() });
        assert_eq!(r.figure(FigureKey::RepeatReferrals).value, Cell::Count { n: 0 }, "one day, no before");
    }

    #[test]
    fn every_figure_is_made_and_the_shipped_rules_read() {
        let r = quarterly_return(&ReturnFacts::default(), Q3, d(2027, 1, 10), &rules());
        let keys: Vec<FigureKey> = r.figures.iter().map(|f| f.key).collect();
        assert_eq!(keys, FigureKey::ALL, "in the declared order, once each");
        let worded =
            |f: &Figure| f.shown == f.value.shown() && f.breakdown.iter().all(|row| row.shown == row.value.shown());
        assert!(r.figures.iter().all(worded), "each cell carries the words every output uses");
        assert!(r
            .figures
            .iter()
            .all(|f| f.shown == f.value.shown() && f.breakdown.iter().all(|row| row.shown == row.value.shown())));
        assert_eq!(rules().suppress_below, 5);
        assert!(ReportRules { suppress_below: 0, ..rules() }.check().is_err());
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(1, 8), 13, "12.5 rounds half up");
        assert_eq!(Cell::Share { n: 7, of: 9 }.shown(), "7 of 9 (78%)");
        assert_eq!(Cell::Days { days: 2.5, over: 6 }.shown(), "2.5 days");
    }

    #[test]
    fn the_return_names_no_one() {
        // A service's own source or closure reason is counted under "Other",
        // never by its words (they may name a person or a place).
        let mut c = case(1, d(2026, 10, 1), Some((d(2026, 10, 2), "support_complete")));
        c.referral.source = ReferralSource::Other("Refuge at 4 Mill Lane".into());
        c.closure.as_mut().unwrap().reason = ClosureReason::Other("Moved to Jane's sister".into());
        let facts =
            ReturnFacts { cases: vec![c], victims: vec![victim(1, "Jane Smith", None)], ..ReturnFacts::default() };
        let text = serde_json::to_string(&quarterly_return(&facts, Q3, d(2027, 1, 10), &rules())).unwrap();
        for word in ["Mill", "Jane", "Smith", "T-1"] {
            assert!(!text.contains(word), "{word}");
        }
    }
}

#[cfg(test)]
mod documented {
    use super::FigureKey;

    const DOC: &str = include_str!("../../../docs/reports.md");

    /// Each figure's definition in `docs/reports.md`: the text under its heading.
    fn definition(key: FigureKey) -> Option<&'static str> {
        let heading = format!("### `{}`\n", key.wire());
        let start = DOC.find(&heading)? + heading.len();
        let end = DOC[start..].find("\n#").map_or(DOC.len(), |e| start + e);
        Some(&DOC[start..end])
    }

    #[test]
    fn every_figure_is_defined_in_the_docs_and_the_docs_define_no_other() {
        // Why: the commissioner reads the definitions, the code counts; a
        // figure added, renamed or made suppressible in one place only fails here.
        for key in FigureKey::ALL {
            let text = definition(*key).unwrap_or_else(|| panic!("docs/reports.md has no ### `{}`", key.wire()));
            assert_eq!(text.contains("*Suppressed"), key.suppressed(), "{}: suppression differs", key.wire());
        }
        let documented = DOC.lines().filter(|l| l.starts_with("### `")).count();
        assert_eq!(documented, FigureKey::ALL.len(), "a heading for a figure the return does not make");
    }
}

use super::*;
use crate::records::AnswerEntry;
use crate::rules::Rules;
use crate::*;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;
use uuid::Uuid;

fn rules() -> EscalationRules {
    Rules::shipped().escalation
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Noon on a London day.
fn noon(date: NaiveDate) -> DateTime<Utc> {
    crate::time::from_london(date.and_hms_opt(12, 0, 0).unwrap()).unwrap()
}

fn case_id() -> CaseId {
    CaseId(Uuid::from_bytes([1; 16]))
}

fn incident(n: u32, at: DateTime<Utc>, behaviours: &[Behaviour], channel: Channel) -> Incident {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    id[15] = 7;
    Incident {
        id: IncidentId(Uuid::from_bytes(id)),
        case_id: case_id(),
        occurred_at: at,
        location: Some("Canary Street".into()),
        account: "Canary Person said something".into(),
        channel,
        behaviours: behaviours.to_vec(),
        witnesses: vec![],
        evidence: vec![],
        reported_to_police: false,
        crime_reference: None,
        officer: None,
        police_force: None,
        impact: None,
        breaches_order: None,
        recorded_at: at,
        recorded_by: "ADV1".into(),
    }
}

fn texts(at: &[NaiveDate]) -> Vec<Incident> {
    texts_from(0, at)
}

/// Texts at noon on each day, numbered from `first` so two lists can be joined.
fn texts_from(first: u32, at: &[NaiveDate]) -> Vec<Incident> {
    (first..).zip(at).map(|(n, day)| incident(n, noon(*day), &[Behaviour::UnwantedContact], Channel::Text)).collect()
}

/// One text a week for `weeks` weeks up to `until` (exclusive), then the given recent days.
fn weekly_then(until: NaiveDate, weeks: u32, recent: &[NaiveDate]) -> Vec<Incident> {
    let mut days: Vec<NaiveDate> = (1..=weeks).map(|w| days_before(until, w * 7)).collect();
    days.extend_from_slice(recent);
    days.sort();
    texts(&days)
}

fn facts(incidents: &[Incident]) -> Vec<IncidentFacts> {
    incidents.iter().map(IncidentFacts::from).collect()
}

fn run(incidents: &[Incident], opened_on: NaiveDate, now: DateTime<Utc>) -> Escalation {
    let incidents = &facts(incidents);
    analyse(
        &CourseOfConduct { opened_on, incidents, orders: &[], breaches: &[], assessments: &[], reviews: &[] },
        now,
        &rules(),
    )
}

fn signs(e: &Escalation) -> Vec<EscalationSign> {
    e.signs()
}

#[test]
fn the_shipped_scale_places_every_known_behaviour_once() {
    // A behaviour left off the scale would silently count as mere contact.
    let rules = rules();
    for b in Behaviour::KNOWN {
        let steps = rules.severity.iter().filter(|s| s.behaviours.contains(b)).count();
        assert_eq!(steps, 1, "{} sits on {steps} steps", b.wire());
    }
    assert_eq!(rules.step_of(&[Behaviour::Violence]), rules.severity.len() - 1, "violence is the top step");
    assert_eq!(rules.step_of(&[Behaviour::Other("own".into())]), 0);
}

#[test]
fn a_rules_file_with_a_behaviour_on_two_steps_is_refused() {
    let text = include_str!("../../../../assets/rules.toml")
        .replace(r#"behaviours = ["violence"]"#, r#"behaviours = ["violence", "following"]"#);
    assert!(Rules::from_toml(&text).is_err());
}

#[test]
fn an_empty_or_one_incident_diary_flags_nothing() {
    let today = d(2026, 11, 20);
    assert!(!run(&[], d(2026, 1, 1), noon(today)).escalating());
    let one = texts(&[today]);
    assert!(!run(&one, d(2026, 1, 1), noon(today)).escalating(), "one incident is no trend and no change");
}

#[test]
fn exactly_double_the_earlier_rate_is_flagged_and_just_under_is_not() {
    // Earlier: 12 texts over the 84 days before the 28-day window, 1 a week.
    // The 28-day window at exactly 2 a week (8) is double; 7 is not.
    let today = d(2026, 11, 20);
    let window_start = days_before(today, 27);
    let opened = days_before(window_start, 84);
    let earlier: Vec<NaiveDate> = (0..12).map(|w| days_before(window_start, 7 * w + 3)).collect();
    // Spread so no 7-day run holds 3 (the 7-day rule stays quiet).
    let recent8: Vec<NaiveDate> = [0, 3, 7, 10, 14, 17, 21, 24].iter().map(|&k| days_before(today, k)).collect();
    let mut at_double = earlier.clone();
    at_double.extend(&recent8);
    at_double.sort();
    let found = run(&texts(&at_double), opened, noon(today));
    let freq = found.findings.iter().find(|f| f.sign == EscalationSign::MoreFrequent).expect("exactly double");
    assert_eq!(freq.text, "8 incidents in the last 28 days, against about 1 a week before");
    assert_eq!(freq.since, days_before(today, 24));

    let mut under = earlier;
    under.extend(&recent8[1..]);
    under.sort();
    assert!(!signs(&run(&texts(&under), opened, noon(today))).contains(&EscalationSign::MoreFrequent));
}

#[test]
fn the_minimum_count_holds_however_large_the_ratio() {
    // No earlier incidents at all: the ratio is infinite, yet two texts in a
    // week are not a trend and three are.
    let today = d(2026, 11, 20);
    let opened = d(2026, 6, 1);
    let two = texts(&[days_before(today, 1), today]);
    assert!(run(&two, opened, noon(today)).findings.is_empty());
    let three = texts(&[days_before(today, 2), days_before(today, 1), today]);
    let found = run(&three, opened, noon(today));
    assert_eq!(found.findings[0].sign, EscalationSign::MoreFrequent);
    assert!(found.findings[0].text.starts_with("3 incidents in the last 7 days, against none recorded in the"));
}

#[test]
fn a_case_too_young_for_an_earlier_rate_is_not_judged_on_frequency() {
    let today = d(2026, 11, 20);
    let burst = texts(&[days_before(today, 3), days_before(today, 2), days_before(today, 1), today]);
    let young = run(&burst, days_before(today, 40), noon(today));
    assert!(!signs(&young).contains(&EscalationSign::MoreFrequent), "40 days leaves 12 before the window");
    let older = run(&burst, days_before(today, 27 + 28), noon(today));
    assert!(signs(&older).contains(&EscalationSign::MoreFrequent), "28 days before the window is enough");
}

#[test]
fn windows_are_london_days_across_the_autumn_clock_change() {
    // Clocks go back at 02:00 BST on Sunday 25 October 2026. An incident at
    // 00:30 BST on 24 October is 23:30 UTC on 23 October: by London day it
    // is inside a 7-day window that starts on 24 October, by UTC it is not.
    let today = d(2026, 10, 30);
    let first = crate::time::from_london(d(2026, 10, 24).and_hms_opt(0, 30, 0).unwrap()).unwrap();
    assert_eq!(first.date_naive(), d(2026, 10, 23));
    let mut diary = texts(&[d(2026, 10, 27), d(2026, 10, 30)]);
    diary.push(incident(99, first, &[Behaviour::UnwantedContact], Channel::Text));
    let found = run(&diary, d(2026, 1, 1), noon(today));
    let freq = found.findings.iter().find(|f| f.sign == EscalationSign::MoreFrequent).expect("three in the week");
    assert_eq!(freq.since, d(2026, 10, 24));
    // One day later the early incident has left the window.
    assert!(!signs(&run(&diary, d(2026, 1, 1), noon(d(2026, 10, 31)))).contains(&EscalationSign::MoreFrequent));
}

#[test]
fn windows_are_london_days_across_the_spring_clock_change() {
    // Clocks go forward at 01:00 GMT on Sunday 29 March 2026. 23:30 UTC on
    // 4 April is 00:30 BST on 5 April: the London day decides.
    let late = Utc.with_ymd_and_hms(2026, 4, 4, 23, 30, 0).unwrap();
    assert_eq!(london_date(late), d(2026, 4, 5));
    let mut diary = texts(&[d(2026, 4, 7), d(2026, 4, 11)]);
    diary.push(incident(99, late, &[Behaviour::UnwantedContact], Channel::Text));
    let found = run(&diary, d(2026, 1, 1), noon(d(2026, 4, 11)));
    assert!(signs(&found).contains(&EscalationSign::MoreFrequent), "5 April is inside 5 to 11 April");
}

#[test]
fn a_first_threat_is_flagged_with_its_date_and_the_step_before() {
    let today = d(2026, 11, 20);
    let mut diary = weekly_then(days_before(today, 10), 6, &[]);
    diary.push(incident(50, noon(d(2026, 11, 14)), &[Behaviour::ThreatToKill], Channel::Phone));
    let found = run(&diary, d(2026, 1, 1), noon(today));
    let serious = found.findings.iter().find(|f| f.sign == EscalationSign::MoreSerious).unwrap();
    assert_eq!(serious.text, "first threats on 14 November (the most serious before: contact)");
    // The same threat 29 days ago is old news.
    let old = run(&diary, d(2026, 1, 1), noon(d(2026, 12, 13)));
    assert!(!signs(&old).contains(&EscalationSign::MoreSerious));
}

#[test]
fn an_approach_after_remote_only_contact_is_flagged_and_not_after_earlier_approaches() {
    let today = d(2026, 11, 20);
    let remote = texts(&[d(2026, 11, 1), d(2026, 11, 8), d(2026, 11, 15)]);
    let mut diary = remote.clone();
    diary.push(incident(60, noon(d(2026, 11, 18)), &[Behaviour::UnwantedContact], Channel::InPerson));
    let found = run(&diary, d(2026, 1, 1), noon(today));
    let approach = found.findings.iter().find(|f| f.sign == EscalationSign::ApproachAfterRemote).unwrap();
    assert_eq!(
        approach.text,
        "an approach on 18 November after 3 incidents of remote contact only in the 28 days before"
    );

    let mut earlier_visit = diary.clone();
    earlier_visit.push(incident(61, noon(d(2026, 11, 4)), &[Behaviour::TurningUp], Channel::InPerson));
    assert!(!signs(&run(&earlier_visit, d(2026, 1, 1), noon(today))).contains(&EscalationSign::ApproachAfterRemote));
}

fn order(served: NaiveDate) -> ProtectiveOrder {
    ProtectiveOrder {
        id: OrderId(Uuid::from_bytes([9; 16])),
        case_id: case_id(),
        order_type: OrderType::Spo,
        issued_by: "Court".into(),
        applied_on: None,
        made_on: Some(served),
        served_on: Some(served),
        expiry: Expiry::UntilFurtherOrder,
        protected_persons: vec![],
        conditions: vec![],
        bail_authority: None,
    }
}

#[test]
fn breaches_and_contact_after_a_new_order_are_flagged_per_order() {
    let today = d(2026, 11, 20);
    let spo = order(d(2026, 11, 3));
    let mut breach = incident(70, noon(d(2026, 11, 10)), &[Behaviour::UnwantedContact], Channel::Text);
    breach.breaches_order = Some(spo.id);
    let contact = incident(71, noon(d(2026, 11, 12)), &[Behaviour::UnwantedContact], Channel::Text);
    let incidents = [breach, contact];
    let orders = [spo];
    let course = CourseOfConduct {
        opened_on: d(2026, 1, 1),
        incidents: &facts(&incidents),
        orders: &orders,
        breaches: &[],
        assessments: &[],
        reviews: &[],
    };
    let found = analyse(&course, noon(today), &rules());
    let texts: Vec<&str> = found.findings.iter().map(|f| f.text.as_str()).collect();
    assert!(texts.contains(&"a breach of the Stalking Protection Order on 10 November"), "{texts:?}");
    assert!(texts.contains(
        &"1 incident since the Stalking Protection Order was served on 3 November, not recorded as a breach"
    ));
    assert_eq!(found.findings[0].sign, EscalationSign::Breach, "a breach leads");
}

fn four(n: u8, on: NaiveDate, yes: &[&str]) -> RiskAssessment {
    RiskAssessment {
        id: RiskAssessmentId(Uuid::from_bytes([n; 16])),
        case_id: case_id(),
        instrument: FOUR_INSTRUMENT.into(),
        instrument_version: "v".into(),
        assessed_on: on,
        assessor: "ADV1".into(),
        answers: ["fixated", "obsessive", "unwanted", "repeated"]
            .iter()
            .map(|id| {
                let answer = if yes.contains(id) { Answer::Yes } else { Answer::No };
                (id.to_string(), AnswerEntry { answer, comment: None })
            })
            .collect(),
        judged_level: RiskLevel::Standard,
        rationale: None,
        next_review_on: on,
    }
}

#[test]
fn four_markers_newly_present_are_named_and_a_first_screening_flags_nothing() {
    let today = d(2026, 11, 20);
    let first = [four(1, d(2026, 10, 1), &["unwanted", "repeated"])];
    let course =
        |a: &[RiskAssessment]| analyse(&CourseOfConduct { assessments: a, ..empty_course() }, noon(today), &rules());
    assert!(!course(&first).escalating());
    let both = [first[0].clone(), four(2, d(2026, 11, 16), &["fixated", "unwanted", "repeated", "obsessive"])];
    let found = course(&both);
    let markers = found.findings.iter().find(|f| f.sign == EscalationSign::FourMarkers).unwrap();
    assert_eq!(
        markers.text,
        "fixated, obsessive newly present at the FOUR screening on 16 November (not at the one on 1 October)"
    );
    assert!(signs(&found).contains(&EscalationSign::RiskReviewDue), "no risk assessment is recorded");
}

fn empty_course() -> CourseOfConduct<'static> {
    CourseOfConduct {
        opened_on: d(2026, 1, 1),
        incidents: &[],
        orders: &[],
        breaches: &[],
        assessments: &[],
        reviews: &[],
    }
}

fn sdash(on: NaiveDate) -> RiskAssessment {
    RiskAssessment { instrument: "s-dash".into(), ..four(5, on, &[]) }
}

fn review(at: DateTime<Utc>) -> EscalationReview {
    EscalationReview {
        id: EscalationReviewId(Uuid::from_bytes([3; 16])),
        case_id: case_id(),
        reviewed_at: at,
        reviewed_by: "ADV1".into(),
        signs: vec![EscalationSign::MoreFrequent],
        note: "Spoke to her".into(),
        risk_assessment_id: None,
    }
}

#[test]
fn a_risk_review_is_due_until_an_assessment_postdates_the_change() {
    let today = d(2026, 11, 20);
    let burst = texts(&[d(2026, 11, 18), d(2026, 11, 19), d(2026, 11, 20)]);
    let before = [sdash(d(2026, 10, 3))];
    let course = CourseOfConduct { incidents: &facts(&burst), assessments: &before, ..empty_course() };
    let found = analyse(&course, noon(today), &rules());
    let due = found.findings.iter().find(|f| f.sign == EscalationSign::RiskReviewDue).unwrap();
    assert_eq!(due.text, "re-assess risk: the last assessment was on 3 October, before this");
    let after = [sdash(d(2026, 11, 20))];
    let found = analyse(&CourseOfConduct { assessments: &after, ..course }, noon(today), &rules());
    assert_eq!(signs(&found), vec![EscalationSign::MoreFrequent], "re-assessed today; the finding awaits review");
}

#[test]
fn a_review_covers_what_it_saw_and_new_incidents_are_flagged_afresh() {
    let today = d(2026, 11, 20);
    let mut diary = texts(&[d(2026, 11, 16), d(2026, 11, 17), d(2026, 11, 18)]);
    let reviews = [review(noon(d(2026, 11, 18)) + Duration::hours(1))];
    let course = CourseOfConduct { incidents: &facts(&diary), reviews: &reviews, ..empty_course() };
    let found = analyse(&course, noon(today), &rules());
    assert!(found.findings.is_empty(), "all three came before the review: {:?}", found.findings);
    assert_eq!(found.last_review, Some(reviews[0].reviewed_at));
    // Two more after it: five in the week, but only two since the review.
    diary.extend(texts_from(100, &[d(2026, 11, 19), d(2026, 11, 20)]));
    let course = CourseOfConduct { incidents: &facts(&diary), reviews: &reviews, ..empty_course() };
    assert!(!analyse(&course, noon(today), &rules()).escalating());
    diary.push(incident(200, noon(today) - Duration::hours(1), &[Behaviour::UnwantedContact], Channel::Text));
    let course = CourseOfConduct { incidents: &facts(&diary), reviews: &reviews, ..empty_course() };
    let found = analyse(&course, noon(today), &rules());
    assert!(signs(&found).contains(&EscalationSign::MoreFrequent), "three since the review");
    assert!(found.findings[0].text.starts_with("6 incidents in the last 7 days"));
}

#[test]
fn an_order_of_the_services_own_kind_is_not_named_in_a_finding() {
    // A service's own order kind is words an advocate typed: it may name a
    // person or a place, so a finding (which reaches the clinic and the
    // printout) says only that it is an order.
    let today = d(2026, 11, 20);
    let own =
        ProtectiveOrder { order_type: OrderType::Other("Canary Street injunction".into()), ..order(d(2026, 11, 3)) };
    let mut breach = incident(70, noon(d(2026, 11, 10)), &[Behaviour::UnwantedContact], Channel::Text);
    breach.breaches_order = Some(own.id);
    let contact = incident(71, noon(d(2026, 11, 12)), &[Behaviour::UnwantedContact], Channel::Text);
    let incidents = facts(&[breach, contact]);
    let orders = [own];
    let found =
        analyse(&CourseOfConduct { incidents: &incidents, orders: &orders, ..empty_course() }, noon(today), &rules());
    assert_eq!(signs(&found)[..2], [EscalationSign::Breach, EscalationSign::ContactAfterOrder]);
    for f in &found.findings {
        assert!(!f.text.contains("Canary"), "{}", f.text);
    }
}

#[test]
fn a_review_dated_ahead_covers_nothing_and_an_assessment_dated_ahead_is_not_yet_made() {
    // A forged or mistyped date must not silence a case for ever.
    let today = d(2026, 11, 20);
    let burst = facts(&texts(&[d(2026, 11, 18), d(2026, 11, 19), d(2026, 11, 20)]));
    let mut ahead = review(Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap());
    ahead.signs = EscalationSign::ALL.to_vec();
    let reviews = [ahead];
    let later = [sdash(d(2062, 11, 20))];
    let course = CourseOfConduct { incidents: &burst, reviews: &reviews, assessments: &later, ..empty_course() };
    let found = analyse(&course, noon(today), &rules());
    assert_eq!(signs(&found), vec![EscalationSign::MoreFrequent, EscalationSign::RiskReviewDue]);
    assert_eq!(found.last_review, None);
}

#[test]
fn something_recorded_after_a_review_is_news_even_when_it_happened_before_it() {
    // The victim tells the advocate on Tuesday about a threat on Sunday; a
    // review made on Monday did not see it.
    let today = d(2026, 11, 20);
    let mut diary = texts(&[d(2026, 11, 1), d(2026, 11, 8)]);
    let mut threat = incident(50, noon(d(2026, 11, 15)), &[Behaviour::ThreatToKill], Channel::Phone);
    threat.recorded_at = noon(d(2026, 11, 17));
    diary.push(threat);
    let mut monday = review(noon(d(2026, 11, 16)));
    monday.signs = EscalationSign::ALL.to_vec();
    let reviews = [monday];
    let course = CourseOfConduct { incidents: &facts(&diary), reviews: &reviews, ..empty_course() };
    let found = analyse(&course, noon(today), &rules());
    assert!(signs(&found).contains(&EscalationSign::MoreSerious), "{:?}", found.findings);
}

#[test]
fn a_review_covers_only_the_signs_it_saw() {
    let today = d(2026, 11, 20);
    let mut diary = texts(&[d(2026, 11, 1), d(2026, 11, 8)]);
    diary.push(incident(50, noon(d(2026, 11, 15)), &[Behaviour::ThreatToKill], Channel::Phone));
    let reviews = [review(noon(d(2026, 11, 16)))];
    assert_eq!(reviews[0].signs, [EscalationSign::MoreFrequent]);
    let course = CourseOfConduct { incidents: &facts(&diary), reviews: &reviews, ..empty_course() };
    assert!(signs(&analyse(&course, noon(today), &rules())).contains(&EscalationSign::MoreSerious));
}

#[test]
fn contact_after_an_order_needs_its_service_and_an_order_with_conditions() {
    let today = d(2026, 11, 20);
    let contact = facts(&[incident(71, noon(d(2026, 11, 12)), &[Behaviour::UnwantedContact], Channel::Text)]);
    let unserved = ProtectiveOrder { served_on: None, ..order(d(2026, 11, 3)) };
    let rui = ProtectiveOrder { order_type: OrderType::ReleasedUnderInvestigation, ..order(d(2026, 11, 3)) };
    for quiet in [unserved, rui] {
        let orders = [quiet];
        let course = CourseOfConduct { incidents: &contact, orders: &orders, ..empty_course() };
        assert!(!signs(&analyse(&course, noon(today), &rules())).contains(&EscalationSign::ContactAfterOrder));
    }
}

#[test]
fn a_breach_outranks_more_frequent_contact_with_a_review_due() {
    // The caseload sorts by the most telling sign, not by how many signs:
    // every escalation brings a risk review due, which must not tip the order.
    let today = d(2026, 11, 20);
    let spo = order(d(2026, 9, 1));
    let mut breach = incident(70, noon(d(2026, 11, 10)), &[Behaviour::UnwantedContact], Channel::Text);
    breach.breaches_order = Some(spo.id);
    let breaching = facts(&[breach]);
    let orders = [spo];
    let with_breach =
        analyse(&CourseOfConduct { incidents: &breaching, orders: &orders, ..empty_course() }, noon(today), &rules());
    let busy = facts(&texts(&[d(2026, 11, 18), d(2026, 11, 19), d(2026, 11, 20)]));
    let more_often = analyse(&CourseOfConduct { incidents: &busy, ..empty_course() }, noon(today), &rules());
    assert_eq!(more_often.signs(), [EscalationSign::MoreFrequent, EscalationSign::RiskReviewDue]);
    assert!(with_breach.rank > more_often.rank, "{} against {}", with_breach.rank, more_often.rank);
    assert_eq!(Escalation::urgency_order(&with_breach, &more_often), std::cmp::Ordering::Less);
    assert_eq!(Escalation::default().rank, 0);
}

fn arb_diary() -> impl Strategy<Value = Vec<(i64, usize, bool)>> {
    proptest::collection::vec((0i64..200 * 24, 0usize..Behaviour::KNOWN.len(), any::<bool>()), 0..60)
}

proptest! {
    #[test]
    fn the_analysis_never_panics_and_a_review_now_covers_everything(diary in arb_diary()) {
        // Whatever the diary, a review made now leaves nothing flagged, and
        // every finding's evidence lies no later than now.
        let now = noon(d(2026, 11, 20));
        let incidents: Vec<Incident> = diary
            .iter()
            .enumerate()
            .map(|(n, (hours_ago, b, in_person))| {
                let channel = if *in_person { Channel::InPerson } else { Channel::Text };
                incident(n as u32, now - Duration::hours(*hours_ago), &[Behaviour::KNOWN[*b].clone()], channel)
            })
            .collect();
        let course = CourseOfConduct { incidents: &facts(&incidents), ..empty_course() };
        let found = analyse(&course, now, &rules());
        for f in &found.findings {
            prop_assert!(f.evidence_at <= now);
            prop_assert!(f.since <= london_date(now));
        }
        let mut everything = review(now);
        everything.signs = EscalationSign::ALL.to_vec();
        let reviews = [everything];
        let reviewed = analyse(&CourseOfConduct { reviews: &reviews, ..course }, now, &rules());
        prop_assert!(reviewed.findings.is_empty());
    }

    #[test]
    fn adding_earlier_history_never_creates_a_frequency_finding(extra in 0usize..30) {
        // More incidents before the window raise the earlier rate, so they
        // can only take a frequency finding away.
        let today = d(2026, 11, 20);
        let recent = [d(2026, 11, 18), d(2026, 11, 19), d(2026, 11, 20)];
        let base = weekly_then(days_before(today, 28), 4, &recent);
        let mut more = base.clone();
        for k in 0..extra {
            more.push(incident(500 + k as u32, noon(days_before(today, 30 + k as u32)), &[Behaviour::UnwantedContact], Channel::Text));
        }
        let had = signs(&run(&base, d(2026, 1, 1), noon(today))).contains(&EscalationSign::MoreFrequent);
        let has = signs(&run(&more, d(2026, 1, 1), noon(today))).contains(&EscalationSign::MoreFrequent);
        prop_assert!(had || !has);
    }
}

//! A clearly fictional demo caseload, generated from a seed. Every name is
//! marked as a demo, phone numbers come from Ofcom's drama range (07700 900xxx)
//! and postcodes from the non-geographic ZZ99 range, so nothing here can
//! point at a real person. Used by `waymark demo`, the run command and the
//! benchmarks. Pure: time, seed and advocate are passed in.

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use waymark_domain::instruments::Instruments;
use waymark_domain::time::london_date;
use waymark_domain::*;

const FIRST: [&str; 16] = [
    "Alex", "Sam", "Jordan", "Robin", "Casey", "Morgan", "Jamie", "Charlie", "Rowan", "Avery", "Quinn", "Taylor",
    "Riley", "Frankie", "Sasha", "Kit",
];
const LAST: [&str; 12] = [
    "Example",
    "Sample",
    "Placeholder",
    "Testwood",
    "Mockford",
    "Demoby",
    "Fictionley",
    "Madeup",
    "Pretendale",
    "Notreal",
    "Specimen",
    "Dummett",
];
const STREETS: [&str; 6] =
    ["Example Road", "Sample Street", "Demo Lane", "Fictional Close", "Placeholder Way", "Test Avenue"];
const COURTS: [&str; 3] = ["Demo Magistrates' Court", "Sample Crown Court", "Example Family Court"];

/// How a demo incident reads, keyed by the behaviour it shows.
fn incident_text(b: &Behaviour) -> (&'static str, Channel, &'static str) {
    match b {
        Behaviour::UnwantedContact => (
            "Received repeated texts late at night asking to meet and saying 'you owe me a conversation'.",
            Channel::Text,
            "I couldn't sleep and kept checking the door.",
        ),
        Behaviour::SocialMedia => (
            "New account sent messages and commented on a friend's photo mentioning where I was that day.",
            Channel::SocialMedia,
            "I feel watched every time I go online.",
        ),
        Behaviour::Loitering => (
            "Seen standing across the road from the house for about twenty minutes.",
            Channel::InPerson,
            "I was too frightened to leave the house.",
        ),
        Behaviour::TurningUp => (
            "Turned up at the workplace reception asking for me by name.",
            Channel::InPerson,
            "My manager had to walk me to the car.",
        ),
        Behaviour::Following => (
            "Car followed the bus route home and parked at the end of the road.",
            Channel::InPerson,
            "I now change my route every day.",
        ),
        Behaviour::ThirdParties => {
            ("Contacted my sister asking where I was living now.", Channel::ThirdParty, "My family are scared too.")
        }
        Behaviour::UnwantedGifts => (
            "Flowers left on the doorstep with an unsigned card.",
            Channel::InPerson,
            "It means they know where I live.",
        ),
        Behaviour::Tracking => (
            "Found an unknown tracking tag in the coat pocket.",
            Channel::DeviceTracking,
            "I don't know how long they have been tracking me.",
        ),
        Behaviour::ThreatViolence => (
            "Voicemail saying 'you'll regret ignoring me'.",
            Channel::Phone,
            "I am terrified of what will happen next.",
        ),
        Behaviour::PropertyDamage => (
            "Car tyres found slashed in the morning.",
            Channel::InPerson,
            "I can't afford this and I feel unsafe at home.",
        ),
        _ => ("Unwanted contact.", Channel::Text, "I feel anxious."),
    }
}

/// Remote behaviours a course of conduct starts with.
const REMOTE: [Behaviour; 4] =
    [Behaviour::UnwantedContact, Behaviour::SocialMedia, Behaviour::ThirdParties, Behaviour::UnwantedGifts];
/// What an escalating course moves on to, least serious first.
const SERIOUS: [Behaviour; 6] = [
    Behaviour::Tracking,
    Behaviour::Loitering,
    Behaviour::TurningUp,
    Behaviour::Following,
    Behaviour::PropertyDamage,
    Behaviour::ThreatViolence,
];

/// How the generator drew a case's course of conduct: the ground truth the
/// escalation analysis is measured against (`cargo xtask bench-escalation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Course {
    /// The same mix of behaviours at about the same rate throughout, no
    /// recent breach and no order served in the last 100 days.
    Steady,
    /// A steady run, then in the last ten days a burst of incidents and a
    /// behaviour more serious than any before.
    Escalating,
}

/// The share of demo cases drawn as escalating.
const ESCALATING_SHARE: f64 = 0.3;
/// A steady case has no order served in this many days (the analysis flags
/// contact after an order served in the last 90).
const STEADY_ORDER_AGE_DAYS: i64 = 100;
/// Nor a breach in this many (the analysis flags those of the last 28).
const STEADY_BREACH_AGE_DAYS: i64 = 35;
/// An escalating case's burst: this many days back, at least this many incidents.
const BURST_DAYS: i64 = 10;
const BURST_MIN: u32 = 4;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub cases: u32,
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// Staff code recorded as the advocate.
    pub advocate: String,
    /// A fixed number of incidents per case, or a realistic spread (4 to 60) when `None`.
    pub incidents_per_case: Option<u32>,
    /// Panel reviews for the high-risk cases, as a clinic would have sent
    /// them. A vault that syncs gets its reviews from its clinic, which
    /// refuses one a laptop made.
    pub clinic_reviews: bool,
}

/// The records of one demo case, in an order the store accepts (referenced records first).
pub fn generate(options: &DemoOptions) -> Vec<Vec<Record>> {
    generate_labelled(options).into_iter().map(|(_, records)| records).collect()
}

/// Each demo case with how its course of conduct was drawn.
pub fn generate_labelled(options: &DemoOptions) -> Vec<(Course, Vec<Record>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    (0..options.cases).map(|index| generate_case(&mut rng, index, options)).collect()
}

fn phone(rng: &mut ChaCha8Rng) -> String {
    format!("07700 900{:03}", rng.gen_range(0..1000))
}

fn date_before(now: DateTime<Utc>, days: u64) -> NaiveDate {
    london_date(now).checked_sub_days(Days::new(days)).unwrap_or(NaiveDate::MIN)
}

pub fn generate_case(rng: &mut ChaCha8Rng, index: u32, options: &DemoOptions) -> (Course, Vec<Record>) {
    let now = options.now;
    let advocate = options.advocate.as_str();
    let mut ids = ChaCha8Rng::seed_from_u64(rng.next_u64());
    let case_id = CaseId::new(now, &mut ids);
    let opened_days_ago = rng.gen_range(20..400u64);
    let opened_on = date_before(now, opened_days_ago);
    let first = *FIRST.choose(rng).unwrap_or(&"Alex");
    let last = *LAST.choose(rng).unwrap_or(&"Example");
    let relationship = *Relationship::ALL.choose(rng).unwrap_or(&Relationship::ExIntimatePartner);
    let incident_count = options.incidents_per_case.unwrap_or_else(|| rng.gen_range(4..=60));
    let high = incident_count > 35;
    let course = if rng.gen_bool(ESCALATING_SHARE) { Course::Escalating } else { Course::Steady };
    let mut out = Vec::new();

    let mut d = Draws { rng, ids, now, advocate, case_id, opened_on, index };
    let mut case = case_record(&mut d, options.seed, high);
    let victim = victim(&mut d, first, last);
    let perpetrator = perpetrator(&mut d, relationship, high);
    let order = order(&mut d, &victim.name).filter(|o| {
        course == Course::Escalating
            || o.served_on.is_some_and(|s| (london_date(now) - s).num_days() > STEADY_ORDER_AGE_DAYS)
    });
    let (incidents, start) = incidents(&mut d, course, incident_count, opened_days_ago, order.as_ref());
    let (assessment, four) = assessments(&mut d, high, &mut case);
    let assessed_on = assessment.assessed_on;
    let plan = plan(&mut d, assessed_on);

    out.push(Record::Case(case));
    out.push(Record::Victim(victim));
    out.push(Record::Perpetrator(perpetrator));
    if let Some(order) = &order {
        out.push(Record::ProtectiveOrder(order.clone()));
    }
    for incident in &incidents {
        if let (Some(order_id), Some(order)) = (incident.breaches_order, &order) {
            out.push(Record::Incident(incident.clone()));
            out.push(Record::Breach(Breach {
                id: BreachId::new(d.now, &mut d.ids),
                case_id: d.case_id,
                order_id,
                occurred_on: london_date(incident.occurred_at),
                incident_id: Some(incident.id),
                reported_to_police: incident.reported_to_police,
                crime_reference: incident.crime_reference.clone(),
                outcome: None,
            }));
            debug_assert_eq!(order.id, order_id);
        } else {
            out.push(Record::Incident(incident.clone()));
        }
    }
    out.push(Record::RiskAssessment(assessment));
    out.push(Record::RiskAssessment(four));
    out.push(Record::SafetyPlan(plan));
    follow_up(&mut d, &mut out, high, assessed_on, start);
    if !options.clinic_reviews {
        out.retain(|r| !matches!(r, Record::ClinicReview(_)));
    }
    (course, out)
}

/// What one demo case's records are drawn from, in a fixed order: the
/// content's random source, a second one for ids, and the case's facts.
struct Draws<'a> {
    rng: &'a mut ChaCha8Rng,
    ids: ChaCha8Rng,
    now: DateTime<Utc>,
    advocate: &'a str,
    case_id: CaseId,
    opened_on: NaiveDate,
    index: u32,
}

fn case_record(d: &mut Draws<'_>, seed: u64, high: bool) -> Case {
    Case {
        id: d.case_id,
        reference: format!("DEMO-{}-{:04}", seed, d.index + 1),
        status: CaseStatus::Open,
        closure: None,
        referral: IntakeReferral {
            referrer: Some("Demo referrer (fictional)".into()),
            ..IntakeReferral::new(
                d.opened_on,
                ReferralSource::KNOWN.choose(d.rng).cloned().unwrap_or(ReferralSource::Police),
                "Fictional demo referral: repeated unwanted contact after the relationship ended.",
                true,
            )
        },
        advocate: d.advocate.to_owned(),
        opened_on: d.opened_on,
        risk_level: None,
        risk_review_on: None,
        police_references: vec![PoliceReference {
            crime_reference: format!("DEMO/{:05}/26", d.index + 1),
            force: Some("Demo Constabulary".into()),
        }],
        court_cases: vec![],
        persistently_targeted: high,
        legal_hold: None,
    }
}

fn victim(d: &mut Draws<'_>, first: &str, last: &str) -> Victim {
    Victim {
        id: VictimId::new(d.now, &mut d.ids),
        case_id: d.case_id,
        name: format!("{first} {last} (DEMO)"),
        preferred_name: Some(first.to_owned()),
        date_of_birth: NaiveDate::from_ymd_opt(
            d.rng.gen_range(1960..2004),
            d.rng.gen_range(1..=12),
            d.rng.gen_range(1..=28),
        ),
        gender: None,
        language: Some("English".into()),
        interpreter_needed: false,
        disabilities: None,
        ethnicity: None,
        sexual_orientation: None,
        dependants: if d.rng.gen_bool(0.4) {
            vec![Dependant {
                id: None,
                name: "Demo Child".into(),
                date_of_birth: None,
                relationship: None,
                school: None,
                notes: None,
            }]
        } else {
            vec![]
        },
        address: Some(Address {
            lines: vec![
                format!("{} {}", d.rng.gen_range(1..120), STREETS.choose(d.rng).unwrap_or(&"Example Road")),
                "Nowhere-on-Sea".into(),
            ],
            postcode: Some(format!(
                "ZZ99 {}{}{}",
                d.rng.gen_range(1..9),
                ['A', 'B', 'D'][d.rng.gen_range(0..3)],
                ['X', 'Y', 'Z'][d.rng.gen_range(0..3)]
            )),
            do_not_disclose: true,
        }),
        safe_contact: SafeContact {
            phones: vec![SafePhone {
                number: phone(d.rng),
                label: Some("mobile".into()),
                voicemail_ok: d.rng.gen_bool(0.3),
                text_ok: true,
                safe_times: Some("weekdays 10:00-14:00".into()),
            }],
            email: None,
            email_safe: false,
            safe_times: Some("weekdays 10:00-14:00".into()),
            notes: Some("Do not call in the evening: the perpetrator may be nearby.".into()),
        },
        consents: vec![Consent {
            id: None,
            with: "Stalking clinic".into(),
            agency: None,
            given_on: d.opened_on,
            withdrawn_on: None,
            scope: None,
        }],
        sharing_without_consent: vec![],
    }
}

fn perpetrator(d: &mut Draws<'_>, relationship: Relationship, high: bool) -> Perpetrator {
    Perpetrator {
        id: PerpetratorId::new(d.now, &mut d.ids),
        case_id: d.case_id,
        names: vec![format!(
            "{} {} (DEMO)",
            FIRST.choose(d.rng).unwrap_or(&"Sam"),
            LAST.choose(d.rng).unwrap_or(&"Sample")
        )],
        aliases: vec![],
        date_of_birth: None,
        addresses: vec![],
        vehicles: vec![Vehicle {
            id: None,
            make: Some("Hatchback".into()),
            colour: Some("Grey".into()),
            registration: Some(format!("DE{:02} MOK", d.rng.gen_range(10..75))),
        }],
        phones: vec![phone(d.rng)],
        online_accounts: vec![],
        relationship,
        typology: None,
        weapons_access: if high { Some(d.rng.gen_bool(0.3)) } else { None },
        weapons_notes: None,
        probation_status: None,
        mappa_status: None,
        mental_health: None,
    }
}

/// An order for some cases, so incidents and breaches can refer to it.
fn order(d: &mut Draws<'_>, protected: &str) -> Option<ProtectiveOrder> {
    (d.rng.gen_bool(0.5)).then(|| {
        let made = d.opened_on.checked_add_days(Days::new(d.rng.gen_range(5..20))).unwrap_or(d.opened_on);
        if d.rng.gen_bool(0.5) {
            ProtectiveOrder {
                id: OrderId::new(d.now, &mut d.ids),
                case_id: d.case_id,
                order_type: OrderType::Spo,
                issued_by: COURTS[0].into(),
                applied_on: Some(made),
                made_on: Some(made),
                served_on: Some(made),
                expiry: Expiry::On(made.checked_add_months(chrono::Months::new(24)).unwrap_or(made)),
                protected_persons: vec![protected.to_owned()],
                conditions: vec![
                    Condition {
                        kind: ConditionKind::NoContact,
                        text: "No contact with the protected person by any means.".into(),
                    },
                    Condition {
                        kind: ConditionKind::ExclusionZone,
                        text: "Not to enter Example Road (demo map).".into(),
                    },
                ],
                bail_authority: None,
            }
        } else {
            ProtectiveOrder {
                id: OrderId::new(d.now, &mut d.ids),
                case_id: d.case_id,
                order_type: OrderType::PreChargeBail,
                issued_by: "Demo Constabulary".into(),
                applied_on: None,
                made_on: Some(made),
                served_on: Some(made),
                expiry: Expiry::On(made.checked_add_months(chrono::Months::new(3)).unwrap_or(made)),
                protected_persons: vec![],
                conditions: vec![Condition {
                    kind: ConditionKind::NoContact,
                    text: "Not to contact the complainant directly or indirectly.".into(),
                }],
                bail_authority: Some(BailAuthority::FirstGrant),
            }
        }
    })
}

/// The diary. A steady course keeps one mix of behaviours at an even rate
/// (its most serious behaviour comes first, so nothing is new later); an
/// escalating one runs the same way until ten days ago, then bursts with a
/// behaviour more serious than any before. Returns the incidents and when the
/// course of conduct began.
fn incidents(
    d: &mut Draws<'_>,
    course: Course,
    incident_count: u32,
    opened_days_ago: u64,
    order: Option<&ProtectiveOrder>,
) -> (Vec<Incident>, DateTime<Utc>) {
    let span_secs = i64::try_from(opened_days_ago).unwrap_or(30) * 86_400;
    let burst = match course {
        Course::Steady => 0,
        Course::Escalating => (incident_count / 4).max(BURST_MIN).min(incident_count),
    };
    let burst_secs = BURST_DAYS * 86_400;
    // The steady run ends before the 28-day window when a burst follows it.
    let run_secs = if burst > 0 { (span_secs - 28 * 86_400).max(86_400) } else { span_secs };
    let mut times: Vec<i64> = (0..incident_count - burst).map(|_| d.rng.gen_range(0..run_secs)).collect();
    times.sort_unstable();
    let mut recent: Vec<i64> = (0..burst).map(|_| span_secs - d.rng.gen_range(600..burst_secs)).collect();
    recent.sort_unstable();
    times.extend(recent);
    let start = d.now - Duration::seconds(span_secs);
    // The steady mix: remote behaviours, and for some cases one serious one.
    let reach = d.rng.gen_range(0..3usize);
    let mut mix: Vec<Behaviour> = REMOTE.to_vec();
    mix.extend(SERIOUS[..reach].iter().cloned());
    // "More serious" as the shipped scale orders behaviours: the steady mix's
    // most serious comes first, and the news is a step above all of it.
    let scale = waymark_domain::rules::Rules::shipped().escalation;
    let worst_steady = mix.iter().max_by_key(|b| scale.step_of(std::slice::from_ref(*b))).cloned();
    let worst_steady = worst_steady.unwrap_or(Behaviour::UnwantedContact);
    let above: Vec<&Behaviour> = SERIOUS
        .iter()
        .filter(|b| scale.step_of(std::slice::from_ref(*b)) > scale.step_of(std::slice::from_ref(&worst_steady)))
        .collect();
    let news = above.choose(d.rng).map_or(Behaviour::ThreatViolence, |b| (*b).clone());
    let mut incidents = Vec::new();
    for (n, offset) in times.iter().enumerate() {
        let in_burst = n as u32 >= incident_count - burst;
        let primary = if n == 0 {
            worst_steady.clone()
        } else if in_burst && (n as u32 == incident_count - burst || d.rng.gen_bool(0.5)) {
            news.clone()
        } else {
            mix.choose(d.rng).cloned().unwrap_or(Behaviour::UnwantedContact)
        };
        let mut behaviours = vec![primary.clone()];
        if d.rng.gen_bool(0.25) {
            let extra = REMOTE.choose(d.rng).cloned().unwrap_or(Behaviour::UnwantedContact);
            if extra != primary {
                behaviours.push(extra);
            }
        }
        let (account, channel, impact) = incident_text(&primary);
        let occurred_at = (start + Duration::seconds(*offset)).min(d.now - Duration::minutes(5));
        let reported = d.rng.gen_bool(0.6);
        let old_enough = (d.now - occurred_at).num_days() > STEADY_BREACH_AGE_DAYS;
        let breaches = order
            .filter(|o| o.made_on.is_some_and(|m| london_date(occurred_at) > m) && d.rng.gen_bool(0.2))
            .filter(|_| course == Course::Escalating || old_enough)
            .map(|o| o.id);
        // Built as a document, as the app builds one, so a field added to
        // incidents needs no change here: what is not named takes its default.
        let evidence = if reported {
            vec![Evidence { description: "Screenshots of messages".into(), kept_at: Some("Victim's phone".into()) }]
        } else {
            vec![]
        };
        let doc = serde_json::json!({
            "id": IncidentId::new(d.now, &mut d.ids),
            "case_id": d.case_id,
            "occurred_at": occurred_at.to_rfc3339(),
            "location": if channel == Channel::InPerson { "Outside home (demo)" } else { "Online / phone" },
            "account": account,
            "channel": channel,
            "behaviours": behaviours,
            "evidence": evidence,
            "reported_to_police": reported,
            "crime_reference": reported.then(|| format!("DEMO/{:05}/{:03}", d.index + 1, n + 1)),
            "police_force": reported.then_some("Demo Constabulary"),
            "impact": impact,
            "breaches_order": breaches,
            "recorded_at": d.now.to_rfc3339(),
            "recorded_by": d.advocate,
        });
        // Every value above is of its field's type, so it always reads.
        incidents.push(waymark_domain::record::parse::<Incident>(doc).unwrap_or_else(|e| panic!("demo incident: {e}")));
    }

    (incidents, start)
}

/// The S-DASH at intake (which sets the case's risk) and a FOUR screening.
fn assessments(d: &mut Draws<'_>, high: bool, case: &mut Case) -> (RiskAssessment, RiskAssessment) {
    let instruments = Instruments::shipped();
    let sdash = instruments.get("s-dash");
    let yes_share = if high { 0.7 } else { 0.3 };
    let answers: BTreeMap<String, AnswerEntry> = sdash
        .map(|i| {
            i.questions
                .iter()
                .map(|q| {
                    (
                        q.id.clone(),
                        AnswerEntry {
                            answer: if d.rng.gen_bool(yes_share) { Answer::Yes } else { Answer::No },
                            comment: None,
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let assessed_on = d.opened_on.checked_add_days(Days::new(3)).unwrap_or(d.opened_on);
    let assessment = RiskAssessment {
        id: RiskAssessmentId::new(d.now, &mut d.ids),
        case_id: d.case_id,
        instrument: "s-dash".into(),
        instrument_version: sdash.map(|i| i.version.clone()).unwrap_or_default(),
        assessed_on,
        assessor: d.advocate.to_owned(),
        answers,
        judged_level: if high {
            RiskLevel::High
        } else {
            *[RiskLevel::Standard, RiskLevel::Medium].choose(d.rng).unwrap_or(&RiskLevel::Medium)
        },
        rationale: None,
        next_review_on: london_date(d.now).checked_add_days(Days::new(d.rng.gen_range(1..60))).unwrap_or(assessed_on),
    };
    case.apply_assessment(&assessment);
    // A FOUR screening on the same day, for the chronology. It draws nothing
    // from `d.rng`, so the rest of the demo caseload stays as it was.
    let four = RiskAssessment {
        id: RiskAssessmentId::new(d.now, &mut d.ids),
        instrument: "four".into(),
        instrument_version: instruments.get("four").map(|i| i.version.clone()).unwrap_or_default(),
        answers: [
            ("fixated", "The same person, whatever the victim does (demo)"),
            ("obsessive", "Contact continues at all hours (demo)"),
            ("unwanted", "The victim has asked for no contact (demo)"),
            ("repeated", "Recorded incidents over several weeks (demo)"),
        ]
        .into_iter()
        .map(|(id, comment)| (id.to_owned(), AnswerEntry { answer: Answer::Yes, comment: Some(comment.to_owned()) }))
        .collect(),
        rationale: None,
        ..assessment.clone()
    };

    (assessment, four)
}

fn plan(d: &mut Draws<'_>, assessed_on: NaiveDate) -> SafetyPlan {
    SafetyPlan {
        id: SafetyPlanId::new(d.now, &mut d.ids),
        case_id: d.case_id,
        version: 1,
        made_on: assessed_on,
        review_on: london_date(d.now).checked_add_days(Days::new(d.rng.gen_range(3..45))).unwrap_or(assessed_on),
        made_by: d.advocate.to_owned(),
        code_word: Some("pineapple".into()),
        safe_places: vec!["Demo Library, High Street".into(), "Neighbour at number 14 (demo)".into()],
        sections: vec![
            PlanSectionEntry {
                section: PlanSection::Emergency,
                actions: vec![PlanAction {
                    action: "Call 999; if you cannot speak, press 55 when asked (Silent Solution).".into(),
                    who: "me".into(),
                    review_on: None,
                }],
                notes: None,
            },
            PlanSectionEntry {
                section: PlanSection::Home,
                actions: vec![PlanAction {
                    action: "Doorbell camera fitted; police marker requested on the address.".into(),
                    who: "advocate".into(),
                    review_on: None,
                }],
                notes: None,
            },
            PlanSectionEntry {
                section: PlanSection::PhoneAndOnline,
                actions: vec![PlanAction {
                    action: "Turn off location sharing and check the phone for tracking apps.".into(),
                    who: "me".into(),
                    review_on: None,
                }],
                notes: None,
            },
            PlanSectionEntry {
                section: PlanSection::EvidenceAndDiary,
                actions: vec![PlanAction {
                    action: "Keep the diary and save every message.".into(),
                    who: "me".into(),
                    review_on: None,
                }],
                notes: None,
            },
        ],
        support_network: vec![Supporter {
            name: "Demo Sister".into(),
            phone: Some(phone(d.rng)),
            knows: Some("Knows the code word".into()),
            neutral_label: "Family".into(),
        }],
    }
}

/// What follows intake: a hearing, the clinic referral, contacts, a panel
/// review for a high-risk case, and a task.
fn follow_up(d: &mut Draws<'_>, out: &mut Vec<Record>, high: bool, assessed_on: NaiveDate, start: DateTime<Utc>) {
    let hearing_at = court_time(london_date(d.now), d.rng.gen_range(1..40), d.rng.gen_range(0..4));
    out.push(Record::Hearing(Hearing {
        id: HearingId::new(d.now, &mut d.ids),
        case_id: d.case_id,
        court: COURTS.choose(d.rng).unwrap_or(&COURTS[0]).to_string(),
        hearing_type: HearingType::KNOWN.choose(d.rng).cloned().unwrap_or(HearingType::Trial),
        starts_at: hearing_at,
        court_reference: None,
        outcome: None,
        next_date: None,
        special_measures: vec!["Screens".into()],
        victim_attends: Some(true),
        vps_read: None,
        witness_care_contact: Some("Demo Witness Care Unit".into()),
    }));
    out.push(Record::Referral(Referral {
        id: ReferralId::new(d.now, &mut d.ids),
        case_id: d.case_id,
        target: ReferralTarget::ClinicPanel,
        made_on: assessed_on,
        status: if high { ReferralStatus::Accepted } else { ReferralStatus::Sent },
        outcome: None,
        outcome_on: None,
    }));
    // First contact soon after referral, then regular contact up to the last few weeks.
    let first_contact = start + Duration::hours(d.rng.gen_range(2..72));
    let last_contact =
        (d.now - Duration::days(d.rng.gen_range(0..21)) - Duration::hours(d.rng.gen_range(1..8))).max(first_contact);
    let contacts = 4i32;
    for k in 0..contacts {
        let at = first_contact + (last_contact - first_contact) * k / (contacts - 1);
        out.push(Record::Contact(Contact {
            id: ContactId::new(d.now, &mut d.ids),
            case_id: d.case_id,
            at,
            method: if k == 0 {
                ContactMethod::Phone
            } else {
                [ContactMethod::Phone, ContactMethod::InPerson, ContactMethod::Text]
                    .choose(d.rng)
                    .cloned()
                    .unwrap_or(ContactMethod::Phone)
            },
            with_victim: true,
            party: None,
            summary: "Demo contact: checked in, updated the diary, reviewed the plan.".into(),
            victims_code_update: k > 0,
        }));
    }
    if high {
        out.push(Record::ClinicReview(ClinicReview {
            id: ClinicReviewId::new(d.now, &mut d.ids),
            case_id: d.case_id,
            meeting_on: assessed_on,
            agencies_present: vec![
                Agency::Police,
                Agency::Cps,
                Agency::Probation,
                Agency::MentalHealth,
                Agency::VictimsCharity,
            ],
            typology: Some(Typology::Rejected),
            srp: BTreeMap::from([(
                "persistence".to_owned(),
                SrpJudgement {
                    rating: SrpRating::High,
                    rationale: "Demo: contact continued after police warning.".into(),
                },
            )]),
            actions: vec![AgreedAction {
                action: "Police to apply for an SPO (demo).".into(),
                owner: Agency::Police,
                named_owner: None,
                due_on: assessed_on,
                status: ActionStatus::Open,
            }],
            decisions: vec![PanelDecision::SpoApplication],
        }));
    }
    out.push(Record::Task(Task {
        id: TaskId::new(d.now, &mut d.ids),
        case_id: Some(d.case_id),
        due_on: london_date(d.now).checked_add_days(Days::new(d.rng.gen_range(0..14))).unwrap_or(d.opened_on),
        what: "Call to review the safety plan (demo).".into(),
        linked: None,
        status: TaskStatus::Open,
        done_on: None,
    }));
}

/// A court sitting: a weekday `days_ahead` of `today` (a weekend moves to
/// the Monday), at 10:00, 10:30, 11:00 or 14:00 London time.
fn court_time(today: NaiveDate, days_ahead: u64, slot: usize) -> DateTime<Utc> {
    use chrono::{Datelike, Weekday};
    let mut day = today.checked_add_days(Days::new(days_ahead)).unwrap_or(today);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().unwrap_or(day);
    }
    let (hour, minute) = [(10, 0), (10, 30), (11, 0), (14, 0)][slot % 4];
    let local = day.and_hms_opt(hour, minute, 0).unwrap_or_default();
    // Court hours never fall in a clock change's missing hour.
    waymark_domain::time::from_london(local).unwrap_or_else(|_| local.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use waymark_domain::records::Ctx;
    use waymark_domain::rules::Rules;

    pub(super) fn options() -> DemoOptions {
        DemoOptions {
            cases: 5,
            seed: 7,
            now: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
            clinic_reviews: true,
            advocate: "DEMO-ADV".into(),
            incidents_per_case: None,
        }
    }

    #[test]
    fn demo_records_pass_the_same_validation_as_real_ones() {
        // The demo must never rely on a back door: every record validates.
        let rules = Rules::shipped();
        let instruments = Instruments::shipped();
        let ctx = Ctx { rules: &rules, instruments: &instruments };
        for case in generate(&options()) {
            for record in case {
                record.validate(&ctx).unwrap_or_else(|e| panic!("{:?}: {e}", record.kind()));
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_caseload_and_another_seed_does_not() {
        let a = generate(&options());
        let b = generate(&options());
        assert_eq!(a, b);
        let c = generate(&DemoOptions { seed: 8, ..options() });
        assert_ne!(a, c);
    }

    #[test]
    fn every_demo_person_is_marked_fictional() {
        for case in generate(&options()) {
            for record in case {
                match record {
                    Record::Victim(v) => {
                        assert!(v.name.ends_with("(DEMO)"));
                        assert!(v.address.unwrap().postcode.unwrap().starts_with("ZZ99"));
                        assert!(v.safe_contact.phones.iter().all(|p| p.number.starts_with("07700 900")));
                    }
                    Record::Perpetrator(p) => assert!(p.names[0].ends_with("(DEMO)")),
                    Record::Case(c) => assert!(c.reference.starts_with("DEMO-")),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn demo_hearings_sit_at_court_hours_on_weekdays() {
        // A hearing at 02:29 or on a Sunday tells a viewer the data is fake
        // in the wrong way, and puts odd times into screenshots and printouts.
        use chrono::{Datelike, Timelike, Weekday};
        let opts = DemoOptions { cases: 40, ..options() };
        for record in generate(&opts).iter().flatten() {
            if let Record::Hearing(h) = record {
                let local = h.starts_at.with_timezone(&chrono_tz::Europe::London);
                assert!((10..=14).contains(&local.hour()), "{local}");
                assert!(!matches!(local.weekday(), Weekday::Sat | Weekday::Sun), "{local}");
            }
        }
    }

    #[test]
    fn an_escalating_demo_case_bursts_in_its_last_ten_days_and_a_steady_one_does_not() {
        // The labels are the ground truth the analysis is measured against,
        // so they must describe what was drawn.
        let opts = DemoOptions { cases: 60, ..options() };
        let recent = |records: &[Record]| {
            records
                .iter()
                .filter(|r| matches!(r, Record::Incident(i) if (opts.now - i.occurred_at).num_days() < BURST_DAYS))
                .count()
        };
        let labelled = generate_labelled(&opts);
        assert!(labelled.iter().any(|(c, _)| *c == Course::Escalating));
        assert!(labelled.iter().any(|(c, _)| *c == Course::Steady));
        for (course, records) in &labelled {
            if *course == Course::Escalating {
                assert!(recent(records) >= BURST_MIN as usize);
            }
            let breaches_lately = records.iter().any(|r| {
                matches!(r, Record::Breach(b) if (london_date(opts.now) - b.occurred_on).num_days() <= STEADY_BREACH_AGE_DAYS)
            });
            assert!(*course == Course::Escalating || !breaches_lately, "a steady case breached lately");
        }
    }

    #[test]
    fn a_fixed_incident_count_is_honoured() {
        let opts = DemoOptions { cases: 1, incidents_per_case: Some(200), ..options() };
        let incidents = generate(&opts)[0].iter().filter(|r| matches!(r, Record::Incident(_))).count();
        assert_eq!(incidents, 200);
    }
}

#[cfg(test)]
mod pinned {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_demo_caseload_is_exactly_what_it_was() {
        // Screenshots, benchmarks and the e2e test read this caseload. A change
        // to how it is drawn (even a reordering of random draws) must be on
        // purpose: update the digest below when it is.
        let options = DemoOptions {
            cases: 3,
            seed: 42,
            now: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
            advocate: "DEMO-ADV".into(),
            incidents_per_case: None,
            clinic_reviews: true,
        };
        let text = serde_json::to_string(&generate(&options)).unwrap();
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        // Last changed on purpose when cases gained the legal hold, written
        // empty by the demo (issue 18, record schema 11): no draw moved.
        assert_eq!(digest, "b562e080d67311a20cfc56ae2ff50060e59bbe4bdc11fa3c8ac4082f2b563140");
    }

    #[test]
    fn a_vault_that_syncs_gets_no_panel_reviews_of_its_own_and_nothing_else_changes() {
        // Why: the clinic refuses a review a laptop made, so an enrolled demo
        // vault would start with a problem for every high-risk case.
        let options = DemoOptions { cases: 12, ..super::tests::options() };
        let with = generate(&options);
        let without = generate(&DemoOptions { clinic_reviews: false, ..options });
        let reviews =
            |cases: &[Vec<Record>]| cases.iter().flatten().filter(|r| matches!(r, Record::ClinicReview(_))).count();
        assert!(reviews(&with) > 0, "the seed has high-risk cases with reviews");
        assert_eq!(reviews(&without), 0);
        let others = |cases: Vec<Vec<Record>>| -> Vec<Record> {
            cases.into_iter().flatten().filter(|r| !matches!(r, Record::ClinicReview(_))).collect()
        };
        assert_eq!(
            serde_json::to_value(others(with)).unwrap(),
            serde_json::to_value(others(without)).unwrap(),
            "the same caseload otherwise"
        );
    }
}

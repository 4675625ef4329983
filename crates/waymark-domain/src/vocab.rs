//! The enumerations of `shared/domain.md`. Closed lists come from law or
//! published research; open lists (ones a service extends) carry an
//! `Other(String)` variant so a service never needs a new build.

use serde::{Deserialize, Serialize};

/// One value of an enumeration as a form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A value read through a vocabulary: a list item by item, anything unknown as stored.
pub(crate) fn show_through(value: &serde_json::Value, label: &dyn Fn(serde_json::Value) -> Option<String>) -> String {
    match value {
        serde_json::Value::Array(items) => {
            items.iter().map(|item| show_through(item, label)).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(", ")
        }
        other => label(other.clone()).unwrap_or_else(|| crate::record::display_value(other)),
    }
}

/// Defines an enumeration with a stable snake_case wire name and a label for people.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal => $label:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        $(#[$meta])*
        pub enum $name { $(#[serde(rename = $wire)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn choices() -> Vec<Choice> {
                Self::ALL.iter().map(|v| Choice { value: v.wire().to_owned(), label: v.label().to_owned() }).collect()
            }
            pub fn label(&self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            /// A stored value (or a list of them) as its label; what does not read as one, as stored.
            pub fn show(value: &serde_json::Value) -> String {
                crate::vocab::show_through(value, &|v| serde_json::from_value::<$name>(v).ok().map(|x| x.label().to_owned()))
            }
            pub fn wire(&self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
            /// A stored name back as its value; `None` for a name this build does not know.
            pub fn from_wire(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.wire() == text)
            }
        }
    };
    ($(#[$meta:meta])* open $name:ident { $($variant:ident = $wire:literal => $label:literal),+ $(,)? }) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        $(#[$meta])*
        pub enum $name {
            $(#[serde(rename = $wire)] $variant,)+
            /// A value the service added; described in its own words.
            #[serde(rename = "other")]
            Other(String),
        }

        impl $name {
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];
            /// The known values; a form offers "Other" with free text beside them.
            pub fn choices() -> Vec<Choice> {
                Self::KNOWN.iter().map(|v| Choice { value: v.wire().to_owned(), label: v.label().to_owned() }).collect()
            }
            pub fn label(&self) -> &str {
                match self { $($name::$variant => $label,)+ $name::Other(text) => text.as_str() }
            }
            /// A stored value (or a list of them) as its label; what does not read as one, as stored.
            pub fn show(value: &serde_json::Value) -> String {
                crate::vocab::show_through(value, &|v| serde_json::from_value::<$name>(v).ok().map(|x| x.label().to_owned()))
            }
            pub fn wire(&self) -> &'static str {
                match self { $($name::$variant => $wire,)+ $name::Other(_) => "other" }
            }
        }
    };
}

vocabulary!(
    /// Where a referral came from (domain.md, "Referral source").
    open ReferralSource {
        Police = "police" => "Police",
        SelfReferral = "self" => "Self-referral",
        NationalStalkingHelpline = "national_stalking_helpline" => "National Stalking Helpline",
        IdvaOrDomesticAbuse = "idva_or_domestic_abuse_service" => "IDVA or domestic abuse service",
        Marac = "marac" => "MARAC",
        Health = "gp_health_or_mental_health" => "GP, health or mental health",
        Probation = "probation" => "Probation",
        CpsOrWitnessCare = "cps_or_witness_care" => "CPS or Witness Care",
        SocialCare = "social_care" => "Children's or adult social care",
        Housing = "housing" => "Housing",
        Employer = "employer" => "Employer",
        Education = "education" => "Education",
    }
);

vocabulary!(
    /// Relationship of perpetrator to victim (Mullen, Pathé and Purcell).
    Relationship {
        ExIntimatePartner = "ex_intimate_partner" => "Ex-intimate partner",
        AcquaintanceOrFriend = "acquaintance_or_friend" => "Acquaintance or friend",
        FamilyMember = "family_member" => "Family member",
        WorkplaceContact = "workplace_contact" => "Workplace contact",
        ProfessionalContact = "professional_contact" => "Professional contact",
        Stranger = "stranger" => "Stranger",
        UnknownOnline = "unknown_or_anonymous_online" => "Unknown or anonymous online",
    }
);

vocabulary!(
    /// Stalker typology (Mullen et al., 1999), set by the clinic.
    Typology {
        Rejected = "rejected" => "Rejected",
        IntimacySeeking = "intimacy_seeking" => "Intimacy seeking",
        IncompetentSuitor = "incompetent_suitor" => "Incompetent suitor",
        Resentful = "resentful" => "Resentful",
        Predatory = "predatory" => "Predatory",
    }
);

vocabulary!(
    /// What the escalation analysis saw change in a course of conduct
    /// (`escalation`), most telling first.
    EscalationSign {
        Breach = "breach" => "Breach of an order or condition",
        ContactAfterOrder = "contact_after_order" => "Contact after a new order was served",
        MoreSerious = "more_serious" => "A more serious behaviour",
        ApproachAfterRemote = "approach_after_remote" => "Approach after remote-only contact",
        MoreFrequent = "more_frequent" => "More frequent incidents",
        FourMarkers = "four_markers" => "FOUR markers newly present",
        RiskReviewDue = "risk_review_due" => "Risk review due",
    }
);

vocabulary!(
    /// Stalking behaviours recorded against an incident.
    open Behaviour {
        Following = "following" => "Following",
        Loitering = "loitering" => "Loitering or watching near home, work or school",
        TurningUp = "turning_up_unannounced" => "Turning up unannounced",
        UnwantedContact = "unwanted_contact" => "Unwanted contact by phone, text, email or letter",
        SocialMedia = "social_media_contact" => "Contact through social media",
        MonitoringOnline = "monitoring_online" => "Monitoring online activity or accounts",
        Tracking = "tracking_device_or_app" => "Tracking device or app",
        PublishingOrImpersonating = "publishing_or_impersonating" => "Publishing material about the victim or pretending to be them",
        UnwantedGifts = "unwanted_gifts" => "Unwanted gifts",
        OrderingGoods = "ordering_or_cancelling_goods" => "Ordering or cancelling goods and services",
        ThirdParties = "contacting_third_parties" => "Contacting family, friends or colleagues",
        UsingOthers = "using_others" => "Using others to help",
        PropertyDamage = "property_damage" => "Damaging or interfering with property",
        ThreatViolence = "threat_of_violence" => "Threat of violence",
        ThreatSexualViolence = "threat_of_sexual_violence" => "Threat of sexual violence",
        ThreatToKill = "threat_to_kill" => "Threat to kill",
        ThreatSuicide = "threat_of_suicide" => "Threat of suicide",
        Violence = "violence" => "Violence",
        Vexatious = "vexatious_complaints" => "Vexatious complaints or legal actions",
    }
);

vocabulary!(
    /// How the incident reached the victim.
    // "Channel" is taken in the generated TypeScript by Tauri's IPC channel.
    // A container rename changes no JSON; it names the TypeScript type only.
    #[serde(rename = "IncidentChannel")]
    open Channel {
        InPerson = "in_person" => "In person",
        Phone = "phone" => "Phone",
        Text = "text" => "Text",
        Email = "email" => "Email",
        Letter = "letter" => "Letter",
        SocialMedia = "social_media" => "Social media",
        ThirdParty = "via_third_party" => "Via a third party",
        DeviceTracking = "device_tracking" => "Device tracking",
    }
);

vocabulary!(
    /// Offences (Protection from Harassment Act 1997 and order breaches).
    open Offence {
        Harassment = "pha_s2_harassment" => "s2 harassment",
        Stalking = "pha_s2a_stalking" => "s2A stalking",
        FearOfViolence = "pha_s4_fear_of_violence" => "s4 putting people in fear of violence",
        StalkingSeriousAlarm = "pha_s4a_stalking_fear_or_alarm" => "s4A stalking involving fear of violence or serious alarm or distress",
        BreachRestrainingOrder = "breach_restraining_order" => "Breach of a restraining order",
        BreachSpo = "breach_spo" => "Breach of a Stalking Protection Order",
        FailureToNotify = "failure_to_notify" => "Failure to notify",
        BreachNonMolestation = "breach_non_molestation_order" => "Breach of a non-molestation order",
    }
);

vocabulary!(
    /// Protective orders and conditions.
    open OrderType {
        Spo = "spo" => "Stalking Protection Order",
        InterimSpo = "interim_spo" => "Interim Stalking Protection Order",
        RestrainingOnConviction = "restraining_order_conviction" => "Restraining order on conviction",
        RestrainingOnAcquittal = "restraining_order_acquittal" => "Restraining order on acquittal",
        NonMolestation = "non_molestation_order" => "Non-molestation order",
        Dapn = "dapn" => "Domestic Abuse Protection Notice",
        Dapo = "dapo" => "Domestic Abuse Protection Order",
        PreChargeBail = "pre_charge_bail" => "Pre-charge bail",
        ReleasedUnderInvestigation = "released_under_investigation" => "Released under investigation (no conditions)",
        CourtBail = "court_bail" => "Court bail",
        Licence = "licence_conditions" => "Licence conditions",
        PoliceInformationNotice = "police_information_notice" => "Police Information Notice (historic)",
    }
);

vocabulary!(
    /// Court hearing types.
    open HearingType {
        FirstAppearance = "first_appearance" => "First appearance",
        PleaAndAllocation = "plea_and_allocation" => "Plea and allocation",
        Ptph = "ptph" => "Plea and trial preparation hearing",
        Trial = "trial" => "Trial",
        Verdict = "verdict" => "Verdict",
        Sentencing = "sentencing" => "Sentencing",
        SpoApplication = "spo_application" => "SPO application",
        InterimSpo = "interim_spo" => "Interim SPO",
        Variation = "order_variation" => "Order variation, renewal or discharge",
        Breach = "breach_hearing" => "Breach hearing",
        Appeal = "appeal" => "Appeal",
        FamilyCourt = "family_court" => "Family court (non-molestation)",
    }
);

vocabulary!(
    /// DASH risk levels. Ordered: a judgement below the suggested level needs a rationale.
    RiskLevel {
        Standard = "standard" => "Standard",
        Medium = "medium" => "Medium",
        High = "high" => "High",
    }
);

vocabulary!(
    /// Stalking Risk Profile ratings used by the clinic.
    SrpRating {
        Low = "low" => "Low",
        Moderate = "moderate" => "Moderate",
        High = "high" => "High",
    }
);

vocabulary!(
    /// One answer on a risk instrument. Yes/no instruments use the first three,
    /// rating instruments (the SRP record) the last three.
    Answer {
        Yes = "yes" => "Yes",
        No = "no" => "No",
        NotKnown = "not_known" => "Not known",
        Low = "low" => "Low",
        Moderate = "moderate" => "Moderate",
        High = "high" => "High",
    }
);

vocabulary!(
    /// A victim's ethnic group as the commissioner's return counts it: the
    /// five high-level groups of the 2021 Census for England and Wales.
    Ethnicity {
        Asian = "asian" => "Asian or Asian British",
        Black = "black" => "Black, Black British, Caribbean or African",
        Mixed = "mixed" => "Mixed or multiple ethnic groups",
        White = "white" => "White",
        Other = "other_ethnic_group" => "Other ethnic group",
        PreferNotToSay = "prefer_not_to_say" => "Prefers not to say",
    }
);

vocabulary!(
    /// A victim's sexual orientation (the 2021 Census question's answers).
    SexualOrientation {
        Heterosexual = "heterosexual" => "Straight or heterosexual",
        GayOrLesbian = "gay_or_lesbian" => "Gay or lesbian",
        Bisexual = "bisexual" => "Bisexual",
        Other = "other_sexual_orientation" => "Another sexual orientation",
        PreferNotToSay = "prefer_not_to_say" => "Prefers not to say",
    }
);

impl SexualOrientation {
    /// Counted as LGBT+ in the commissioner's return.
    pub fn lgbt_plus(self) -> Option<bool> {
        match self {
            SexualOrientation::Heterosexual => Some(false),
            SexualOrientation::GayOrLesbian | SexualOrientation::Bisexual | SexualOrientation::Other => Some(true),
            SexualOrientation::PreferNotToSay => None,
        }
    }
}

vocabulary!(
    CaseStatus {
        Open = "open" => "Open",
        Closed = "closed" => "Closed",
    }
);

vocabulary!(
    /// Why a case closed; reported to the commissioner quarterly.
    open ClosureReason {
        SupportComplete = "support_complete" => "Support complete",
        RiskReduced = "risk_reduced" => "Risk reduced",
        VictimDisengaged = "victim_disengaged" => "Victim disengaged",
        NoContactEstablished = "no_contact_established" => "No contact established",
        MovedOutOfArea = "moved_out_of_area" => "Moved out of area",
        TransferredToOtherService = "transferred" => "Transferred to another service",
        VictimDeclined = "victim_declined" => "Victim declined support",
    }
);

vocabulary!(
    /// Outgoing referral destinations.
    open ReferralTarget {
        ClinicPanel = "clinic_panel" => "Stalking clinic panel",
        Marac = "marac" => "MARAC",
        Mappa = "mappa" => "MAPPA",
        MentalHealth = "mental_health" => "Mental health",
        Idva = "idva" => "IDVA",
        Housing = "housing" => "Housing",
        ChildrensServices = "childrens_services" => "Children's services",
    }
);

vocabulary!(
    ReferralStatus {
        Draft = "draft" => "Draft",
        Sent = "sent" => "Sent",
        Accepted = "accepted" => "Accepted",
        Declined = "declined" => "Declined",
        Completed = "completed" => "Completed",
    }
);

vocabulary!(
    /// Why a referral comes to the clinic: the MARAC-style criteria
    /// (clinic.md, "The flow of a case", steps 1 and 3).
    ReferralCriterion {
        ProfessionalJudgement = "professional_judgement" => "The referrer's professional judgement",
        VisibleHighRisk = "visible_high_risk" => "Visible high risk (14 or more \"yes\" on DASH)",
        Escalation = "escalation" => "Escalation (3 or more incidents in 12 months)",
        Repeat = "repeat" => "A repeat (another incident within 12 months of the last referral)",
        StalkingCoordinator = "stalking_coordinator" => "Flagged by the force stalking coordinator",
    }
);

vocabulary!(
    /// Why the clinic's screening declined a referral; counted in the
    /// commissioner's return (clinic.md, "What the commissioner asks for").
    DeclineReason {
        OutsideCriteria = "outside_criteria" => "Does not meet the clinic's criteria",
        OutsideArea = "outside_area" => "Outside the clinic's area",
        ExistingCase = "existing_case" => "Already a case at the clinic",
        NotContactable = "not_contactable" => "Not contactable (wrong details, unsafe to leave a message)",
        SupportDeclined = "support_declined" => "The victim declined support",
    }
);

vocabulary!(
    /// Why a closed case must be kept past its retention schedule (a legal
    /// hold). Recorded with the date it began; the case cannot be erased while held.
    HoldReason {
        OngoingProceedings = "ongoing_proceedings" => "Ongoing criminal or civil proceedings",
        PoliceOrCourtRequest = "police_or_court_request" => "The police or a court asked for it to be kept",
        Review = "review" => "A domestic homicide or safeguarding review",
        ComplaintOrClaim = "complaint_or_claim" => "A complaint or legal claim",
        InformationRequest = "information_request" => "An open subject access or other information request",
    }
);

vocabulary!(
    /// Which part of the retention schedule keeps a closed case (`[retention]` in the rules).
    RetentionBasis {
        NoServiceTakenUp = "no_service_taken_up" => "No service taken up",
        NotContactable = "not_contactable" => "Could not be contacted",
        AfterLastContact = "after_last_contact" => "After last contact",
    }
);

vocabulary!(
    /// Whose request a subject access export answers.
    AccessSubject {
        Victim = "victim" => "The victim",
        Perpetrator = "perpetrator" => "The perpetrator",
    }
);

vocabulary!(
    /// Why an item of an export is withheld until the advocate releases it.
    WithheldBecause {
        AboutThePerpetrator = "about_the_perpetrator" => "It is the perpetrator's information",
        AboutTheVictim = "about_the_victim" => "It is also the victim's information",
        AboutSomeoneElse = "about_someone_else" => "It is someone else's information (a witness, an officer, a referrer, an agency, a child)",
        ShowsWhereTheVictimLives = "shows_where_the_victim_lives" => "It could show where the victim is or how to reach her, which is never released to the perpetrator",
        CameFromOthers = "came_from_others" => "It is about the perpetrator but came from someone else, who could be identified",
        Exempt = "exempt" => "An exemption in the Data Protection Act 2018 applies",
        FromAnAgency = "from_an_agency" => "Another agency shared it with the clinic's panel, and answers for it from its own files",
        InTheAdvocatesAnswer = "in_the_advocates_answer" => "The clinic's staff never see it; the advocate's own answer gives it from the case records",
    }
);

vocabulary!(
    /// Which of the clinic panel's own documents an item of a subject access
    /// export comes from (the clinic holds these beside its copy of the records).
    PanelPart {
        Selection = "selection" => "Why the clinic put the case to its panel",
        Research = "research" => "An agency's research before a panel meeting",
        SharedAtMeeting = "shared_at_meeting" => "What an agency shared at a panel meeting",
        Action = "action" => "An action the panel agreed",
        Decision = "decision" => "What the panel noted of its decision",
        Pathway = "pathway" => "A pathway the panel referred the perpetrator to",
    }
);

vocabulary!(
    /// Why the advocate withholds one of the requester's own items
    /// (Data Protection Act 2018, schedules 2 to 4).
    ExemptionReason {
        Crime = "crime" => "Giving it would be likely to prejudice the prevention or detection of crime",
        SeriousHarm = "serious_harm" => "Giving it would be likely to cause serious harm to someone's physical or mental health",
        IdentifiesSomeone = "identifies_someone" => "It would identify someone else, who has not agreed",
        LegalPrivilege = "legal_privilege" => "It is covered by legal professional privilege",
    }
);

vocabulary!(
    /// Why a case was erased. Kept in the clinic's audit with the case id only.
    ErasureReason {
        RetentionDue = "retention_due" => "Due for deletion under the retention schedule",
        ErasureRequest = "erasure_request" => "The person asked for their data to be erased",
    }
);

vocabulary!(
    /// The agencies around the clinic table.
    open Agency {
        Police = "police" => "Police",
        Cps = "cps" => "CPS",
        Probation = "probation" => "Probation",
        MentalHealth = "mental_health" => "NHS forensic mental health",
        VictimsCharity = "victims_charity" => "Victims' charity",
    }
);

vocabulary!(
    ActionStatus {
        Open = "open" => "Open",
        Done = "done" => "Done",
        Cancelled = "cancelled" => "Cancelled",
    }
);

vocabulary!(
    /// What the panel decided for a case (clinic.md, "The flow of a case", step 5).
    open PanelDecision {
        SpoApplication = "spo_application" => "Stalking Protection Order application",
        MappaReferral = "mappa_referral" => "MAPPA referral",
        MentalHealthAssessment = "mental_health_assessment" => "Mental-health assessment",
        Intervention = "intervention" => "Intervention",
        SafetyMeasures = "safety_measures" => "Extra safety measures",
    }
);

vocabulary!(
    /// A member's place at a meeting.
    Attendance {
        Present = "present" => "Present",
        Apologies = "apologies" => "Apologies",
    }
);

vocabulary!(
    /// Why an action closed after its due date (clinic.md, "Follow-up").
    OverdueClosure {
        CircumstancesChanged = "circumstances_changed" => "Circumstances changed",
        NotDoneByAgency = "not_done_by_agency" => "Not done by the agency",
    }
);

vocabulary!(
    /// A perpetrator's pathway the panel tracks (clinic.md, "The flow of a case", step 6).
    PathwayKind {
        MentalHealth = "mental_health" => "Mental-health pathway",
        Mappa = "mappa" => "MAPPA referral",
    }
);

vocabulary!(
    /// A step on a pathway, in the order they come; declined ends it.
    PathwayStage {
        Referred = "referred" => "Referred",
        Accepted = "accepted" => "Accepted",
        Declined = "declined" => "Declined",
        Started = "started" => "Started",
        Completed = "completed" => "Completed",
        Reoffended = "reoffended" => "Reoffended",
    }
);

impl PathwayStage {
    /// The stage a pathway must have reached before this one can be recorded.
    pub fn needs(self) -> Option<PathwayStage> {
        match self {
            PathwayStage::Referred => None,
            PathwayStage::Accepted | PathwayStage::Declined | PathwayStage::Reoffended => Some(PathwayStage::Referred),
            PathwayStage::Started => Some(PathwayStage::Accepted),
            PathwayStage::Completed => Some(PathwayStage::Started),
        }
    }
}

vocabulary!(
    /// Where the panel's selection found a criterion met.
    SelectionBasis {
        Referral = "referral" => "Ticked on the referral",
        Records = "records" => "Found in the case's records",
        Coordinator = "coordinator" => "Added by the coordinator",
    }
);

vocabulary!(
    open ContactMethod {
        InPerson = "in_person" => "In person",
        Phone = "phone" => "Phone",
        Text = "text" => "Text",
        Email = "email" => "Email",
        Video = "video" => "Video call",
        Letter = "letter" => "Letter",
    }
);

vocabulary!(
    /// Lawful basis recorded when information is shared without consent
    /// (UK GDPR Art. 6 and DPA 2018 Sch. 1 conditions).
    open LawfulBasis {
        Consent = "consent" => "Consent",
        VitalInterests = "vital_interests" => "Vital interests",
        PublicTask = "public_task" => "Public task",
        LegalObligation = "legal_obligation" => "Legal obligation",
        Safeguarding = "safeguarding" => "Safeguarding of children and individuals at risk (DPA 2018 Sch. 1 para 18)",
        PreventingCrime = "preventing_or_detecting_crime" => "Preventing or detecting unlawful acts (DPA 2018 Sch. 1 para 10)",
    }
);

vocabulary!(
    /// Kinds of order condition.
    open ConditionKind {
        ExclusionZone = "exclusion_zone" => "Exclusion zone",
        NoContact = "no_contact" => "No contact by any means",
        Positive = "positive_requirement" => "Positive requirement",
    }
);

vocabulary!(
    /// Who authorised pre-charge bail beyond the first grant (Bail Act rules, 2022).
    BailAuthority {
        FirstGrant = "first_grant" => "First grant",
        Inspector = "inspector" => "Inspector",
        Superintendent = "superintendent" => "Superintendent",
        Court = "court" => "Court",
    }
);

vocabulary!(
    TaskStatus {
        Open = "open" => "Open",
        Done = "done" => "Done",
    }
);

vocabulary!(
    /// Safety plan sections, in the order domain.md gives them.
    PlanSection {
        Emergency = "emergency" => "Emergency",
        Home = "home" => "Home",
        TravelAndRoutine = "travel_and_routine" => "Travel and routine",
        WorkAndStudy = "work_and_study" => "Work and study",
        ChildrenAndSchool = "children_and_school" => "Children and school",
        PhoneAndOnline = "phone_and_online" => "Phone and online",
        EvidenceAndDiary = "evidence_and_diary" => "Evidence and diary",
        SupportNetwork = "support_network" => "Support network",
        CourtAndOrders = "court_and_orders" => "Court and orders",
        Wellbeing = "wellbeing" => "Wellbeing",
        Review = "review" => "Review date",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_lists_accept_a_service_value_without_a_build() {
        // A service that adds "school nurse" as a referral source must not need a release.
        let parsed: ReferralSource = serde_json::from_str(r#"{"other":"School nurse"}"#).unwrap();
        assert_eq!(parsed, ReferralSource::Other("School nurse".into()));
        assert_eq!(parsed.label(), "School nurse");
        let known: ReferralSource = serde_json::from_str(r#""national_stalking_helpline""#).unwrap();
        assert_eq!(known, ReferralSource::NationalStalkingHelpline);
    }

    #[test]
    fn wire_names_are_unique_within_each_list() {
        // Two variants sharing a wire name would make stored records ambiguous.
        fn unique(names: Vec<&str>) {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{names:?}");
        }
        unique(Behaviour::KNOWN.iter().map(|b| b.wire()).collect());
        unique(OrderType::KNOWN.iter().map(|b| b.wire()).collect());
        unique(HearingType::KNOWN.iter().map(|b| b.wire()).collect());
        unique(PlanSection::ALL.iter().map(|b| b.wire()).collect());
        assert_eq!(PlanSection::ALL.len(), 11);
    }

    #[test]
    fn risk_levels_are_ordered_for_the_rationale_rule() {
        assert!(RiskLevel::Standard < RiskLevel::Medium && RiskLevel::Medium < RiskLevel::High);
    }

    #[test]
    fn unknown_wire_value_is_refused() {
        assert!(serde_json::from_str::<RiskLevel>(r#""severe""#).is_err());
    }
}

/// The values every form chooses from.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Vocabularies {
    pub behaviours: Vec<Choice>,
    pub channels: Vec<Choice>,
    pub case_statuses: Vec<Choice>,
    pub risk_levels: Vec<Choice>,
    pub referral_sources: Vec<Choice>,
    pub relationships: Vec<Choice>,
    pub hearing_types: Vec<Choice>,
    pub order_types: Vec<Choice>,
    pub condition_kinds: Vec<Choice>,
    pub contact_methods: Vec<Choice>,
    pub plan_sections: Vec<Choice>,
    pub answers: Vec<Choice>,
    pub task_statuses: Vec<Choice>,
    pub closure_reasons: Vec<Choice>,
    pub ethnicities: Vec<Choice>,
    pub sexual_orientations: Vec<Choice>,
    pub referral_targets: Vec<Choice>,
    pub referral_statuses: Vec<Choice>,
    pub referral_criteria: Vec<Choice>,
    pub lawful_bases: Vec<Choice>,
    pub decline_reasons: Vec<Choice>,
    /// The clinic panel's agencies: a consent or a decision to share names one.
    pub agencies: Vec<Choice>,
    pub panel_decisions: Vec<Choice>,
    pub attendance: Vec<Choice>,
    pub overdue_closures: Vec<Choice>,
    pub action_statuses: Vec<Choice>,
    pub typologies: Vec<Choice>,
    pub srp_ratings: Vec<Choice>,
    pub selection_bases: Vec<Choice>,
    pub pathway_kinds: Vec<Choice>,
    pub pathway_stages: Vec<Choice>,
    pub escalation_signs: Vec<Choice>,
    pub hold_reasons: Vec<Choice>,
    pub retention_bases: Vec<Choice>,
    pub erasure_reasons: Vec<Choice>,
    pub access_subjects: Vec<Choice>,
    pub withheld_reasons: Vec<Choice>,
    pub exemption_reasons: Vec<Choice>,
    pub panel_parts: Vec<Choice>,
    /// The fields each kind presents, with their labels (`KindRules::presented`):
    /// the forms take labels and fields from here instead of repeating them.
    pub presented: Vec<KindFields>,
}

/// A kind's presented fields, and which of them the core sets (never in a form).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KindFields {
    pub kind: crate::RecordKind,
    pub fields: Vec<crate::record::Presented>,
    pub set_by_core: Vec<&'static str>,
}

impl Vocabularies {
    pub fn all() -> Self {
        Self {
            behaviours: crate::Behaviour::choices(),
            channels: Channel::choices(),
            case_statuses: CaseStatus::choices(),
            risk_levels: RiskLevel::choices(),
            referral_sources: ReferralSource::choices(),
            relationships: Relationship::choices(),
            hearing_types: HearingType::choices(),
            order_types: OrderType::choices(),
            condition_kinds: ConditionKind::choices(),
            contact_methods: ContactMethod::choices(),
            plan_sections: PlanSection::choices(),
            answers: Answer::choices(),
            task_statuses: TaskStatus::choices(),
            closure_reasons: ClosureReason::choices(),
            ethnicities: Ethnicity::choices(),
            sexual_orientations: SexualOrientation::choices(),
            referral_targets: ReferralTarget::choices(),
            referral_statuses: ReferralStatus::choices(),
            referral_criteria: ReferralCriterion::choices(),
            lawful_bases: LawfulBasis::choices(),
            decline_reasons: DeclineReason::choices(),
            agencies: Agency::choices(),
            panel_decisions: PanelDecision::choices(),
            attendance: Attendance::choices(),
            overdue_closures: OverdueClosure::choices(),
            action_statuses: ActionStatus::choices(),
            typologies: Typology::choices(),
            srp_ratings: SrpRating::choices(),
            selection_bases: SelectionBasis::choices(),
            pathway_kinds: PathwayKind::choices(),
            pathway_stages: PathwayStage::choices(),
            escalation_signs: EscalationSign::choices(),
            hold_reasons: HoldReason::choices(),
            retention_bases: RetentionBasis::choices(),
            erasure_reasons: ErasureReason::choices(),
            access_subjects: AccessSubject::choices(),
            withheld_reasons: WithheldBecause::choices(),
            exemption_reasons: ExemptionReason::choices(),
            panel_parts: PanelPart::choices(),
            presented: crate::RecordKind::ALL
                .iter()
                .map(|&kind| KindFields {
                    kind,
                    fields: kind.rules().presented.to_vec(),
                    set_by_core: kind.rules().protected.to_vec(),
                })
                .collect(),
        }
    }
}

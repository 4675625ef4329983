// What the UI receives: the serialised shape of each Rust type, by its plain name.
import type * as B from "./bindings";

export type VaultState = B.VaultState_Serialize;
export type Strength = B.Strength;
export type CaseloadRow = B.CaseloadRow_Serialize;
export type CaseStatus = B.CaseStatus;
export type RiskLevel = B.RiskLevel;
export type SortBy = B.SortBy;
export type Vocabularies = B.Vocabularies;
export type Choice = B.Choice;
export type CaseView = B.CaseView_Serialize;
export type IncidentEntry = B.IncidentEntry_Serialize;
export type Expiry = B.Expiry;
export type Instrument = B.Instrument_Serialize;
export type PlanSection = B.PlanSection;
export type PlanSectionEntry = B.PlanSectionEntry_Serialize;
export type AuditEvent = B.AuditEvent_Serialize;
export type Timeline = B.Timeline;
export type DeskError = B.DeskError_Serialize;
export type DocumentKind = B.DocumentKind;
export type PrintPreview = B.PrintPreview;
export type PrintDone = B.PrintDone;
export type SyncView = B.SyncView_Serialize;
export type Conflict = B.Conflict_Serialize;
export type Problem = B.Problem_Serialize;

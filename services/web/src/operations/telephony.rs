//! The PCN review page's operations: practices' months of telephony, the PCN's own notes, the
//! upload of a month's figures and the note the clinical director records.

use crate::contract::{Day, Instant, schema};

/// What every reader of the page sees: the practices' last six months.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct TelephonyQuery {
    #[arguments(months: 6)]
    pub telephony_metrics: Vec<PracticeTelephony>,
}

/// What a PCN's clinical director sees: the same, and the PCN's notes of the last year.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Query")]
pub struct PcnReviewQuery {
    #[arguments(months: 6)]
    pub telephony_metrics: Vec<PracticeTelephony>,
    #[arguments(months: 12)]
    pub pcn_review_notes: Vec<PcnReviewNote>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct PracticeTelephony {
    pub ods_code: String,
    pub name: Option<String>,
    pub months: Vec<TelephonyMonth>,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct TelephonyMonth {
    pub month: Day,
    pub inbound_calls: i32,
    pub average_wait_seconds: i32,
    pub abandonment_rate: f64,
    pub average_call_seconds: i32,
    pub callbacks: i32,
}

#[derive(cynic::QueryFragment, Debug, Clone)]
pub struct PcnReviewNote {
    pub id: cynic::Id,
    pub month: Day,
    pub note: Option<String>,
    pub noted_by: String,
    pub noted_at: Instant,
    pub erased_at: Option<Instant>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct TelephonyImportVariables {
    pub csv: String,
}

/// The ICB's or the clinical director's upload of practices' months of telephony.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "TelephonyImportVariables")]
pub struct ImportTelephonyMetrics {
    #[arguments(csv: $csv)]
    pub import_telephony_metrics: crate::operations::dhu::DhuExtractReport,
}

#[derive(cynic::InputObject, Debug)]
pub struct RecordPcnReviewNoteInput {
    pub month: Day,
    pub note: String,
    pub command_id: Option<cynic::Id>,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct NoteVariables {
    pub input: RecordPcnReviewNoteInput,
}

/// The clinical director records what the PCN agreed.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "NoteVariables")]
pub struct RecordPcnReviewNote {
    #[arguments(input: $input)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub record_pcn_review_note: NoteId,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "PcnReviewNote")]
pub struct NoteId {
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub id: cynic::Id,
}

#[derive(cynic::QueryVariables, Debug)]
pub struct EraseNoteVariables {
    pub note_id: cynic::Id,
}

/// The clinical director erases the words of one of the PCN's notes.
#[derive(cynic::QueryFragment, Debug)]
#[cynic(graphql_type = "Mutation", variables = "EraseNoteVariables")]
pub struct ErasePcnReviewNote {
    #[arguments(noteId: $note_id)]
    #[expect(
        dead_code,
        reason = "a mutation selects something; the page needs only that it succeeded"
    )]
    pub erase_pcn_review_note: cynic::Id,
}

//! The scopes of the vault's data keys: whose personal data a key seals, so that destroying it
//! erases exactly that.

use uuid::Uuid;

/// A case's own key: its personal fields, erased with the case.
pub fn case_scope(case_id: Uuid) -> String {
    case_id.to_string()
}

/// A DHU report's key: its detail and the ICB's reason for dismissing it, erased with the case
/// opened from it, or on its own.
pub fn report_scope(report_id: Uuid) -> String {
    format!("dhu-report-{report_id}")
}

/// A diversion notice's key: the practice's words about it, erased on their own.
pub fn diversion_scope(diversion_id: Uuid) -> String {
    format!("diversion-{diversion_id}")
}

/// A PCN's review note's key: the PCN's words, erased on their own.
pub fn pcn_note_scope(note_id: Uuid) -> String {
    format!("pcn-note-{note_id}")
}

/// A Directory of Services gap's key: the words about it, erased on their own.
pub fn dos_gap_scope(gap_id: Uuid) -> String {
    format!("dos-gap-{gap_id}")
}

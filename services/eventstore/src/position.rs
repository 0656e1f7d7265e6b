//! A place in the global order: the appending transaction, then the row's sequence number.

use std::fmt;

/// `(tx_id, position)`, ordered lexicographically; the checkpoint of a `$all` or category reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub tx_id: u64,
    pub position: u64,
}

impl Position {
    /// Before every event.
    pub const START: Position = Position { tx_id: 0, position: 0 };

    pub(crate) fn tx_id_text(&self) -> String {
        self.tx_id.to_string()
    }

    pub(crate) fn position_i64(&self) -> i64 {
        i64::try_from(self.position).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tx_id, self.position)
    }
}

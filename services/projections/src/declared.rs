//! What each projection declares of itself, beside its handler, for the registry to read.

use caseledger_eventstore::EventHandler;

/// A projection's own declaration: its name (its subscriber's) and the tables it keeps (a
/// rebuild makes them all anew and swaps them in together).
pub trait Registered: EventHandler + Default + 'static {
    const NAME: &'static str;
    const TABLES: &'static [&'static str];
}

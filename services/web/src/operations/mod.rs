//! Each page's operations: typed fragments checked against the schema at compile time (see
//! [`crate::contract`]), one module per page.

pub mod case;
pub mod champion;
pub mod commands;
pub mod dhu;
pub mod diversions;
pub mod dos;
pub mod gpconnect;
pub mod icb;
pub mod live;
pub mod lmc;
pub mod own_cases;
pub mod people;
pub mod practices;
pub mod register;
pub mod reports;
pub mod telephony;
pub mod visit;

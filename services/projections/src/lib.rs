//! Read models of the event log, one module each, kept by named subscribers whose checkpoints
//! commit with their rows; the runner that keeps them; and the per-role lens over a case's history.

pub mod case_view;
pub mod dhu_report_view;
pub mod lens;
pub mod live;
pub mod practice_view;
pub mod rebuild;
pub mod registry;
pub mod runner;

pub use rebuild::{RebuildError, Rebuilt, rebuild};
pub use registry::{NAMES, Projection};
pub use runner::{Projections, wait_for_projections};

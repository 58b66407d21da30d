//! Quality control: agreement and accuracy metrics ([`metrics`]), pure
//! functions checked against published reference values; the review
//! workflow and the quality report build on them in the controller.

pub mod metrics;

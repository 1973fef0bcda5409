//! Pure SLA evaluation and escalations for Vamp.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

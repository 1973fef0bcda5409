//! Pure routing decisions for Vamp gateways.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod matching;
pub mod request;

//! Gateways rendered to proxy configurations.
//!
//! [`haproxy`] renders a complete `haproxy.cfg`.

pub mod haproxy;

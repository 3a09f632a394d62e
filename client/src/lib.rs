//! placeholder

pub mod dns;
pub mod proto;
pub mod tls;

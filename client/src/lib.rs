//! placeholder

pub mod dns;
pub mod proto;

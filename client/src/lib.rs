//! placeholder

pub mod connect;
pub mod dns;
pub mod proto;

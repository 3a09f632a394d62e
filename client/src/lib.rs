//! placeholder

pub mod proto;

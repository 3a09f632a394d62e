//! The DNS message format (RFC 1035, RFC 3596, EDNS0 per RFC 6891), sans-IO: bytes in, values
//! out. Nothing here owns a socket or reads a clock, so every rule is tested with byte slices.
//!
//! * [`name`]: [`Name`], a domain name in lowercase wire form, so comparisons are case-insensitive.
//! * [`query`]: type codes, the header, and query encoding.
//! * [`response`]: response decoding; `compression` decodes compressed names without loops.
//! * [`framing`]: the 2-byte length prefix DNS uses over TCP.
//! * [`answer`]: checks a response answers the query (id, QR bit, question: anti-spoofing) and
//!   interprets it as addresses, NODATA, NXDOMAIN or a server failure, following CNAME chains.

pub mod answer;
mod compression;
pub mod framing;
pub mod name;
pub mod query;
pub mod response;

#[cfg(test)]
mod answer_tests;
#[cfg(test)]
mod response_tests;
#[cfg(test)]
mod testmsg;

pub use answer::{interpret, read_response, validate, Answer, Mismatch, Rejected, MAX_CNAME_HOPS};
pub use framing::{encode_tcp_frame, split_tcp_frame};
pub use name::{Name, NameError};
pub use query::{Query, QueryType, WireError};
pub use response::{parse_response, Rcode, Record, RecordData, Response};

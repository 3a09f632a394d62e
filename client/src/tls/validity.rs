//! The validity dates of an X.509 certificate, read with a minimal DER walk: just far enough into
//! `TBSCertificate` (RFC 5280 §4.1) to reach `validity { notBefore, notAfter }`.
//!
//! Used only for certificates the caller configured as trusted (see `pinned.rs`), never for
//! what a server sends; webpki does all other parsing.

use std::time::Duration;

use rustls::pki_types::UnixTime;

use super::utc::days_from_civil;

/// `notBefore` and `notAfter` of the DER certificate `der`, or `None` if it is not shaped like
/// one.
pub(super) fn validity(der: &[u8]) -> Option<(UnixTime, UnixTime)> {
    let (certificate, _) = element(der, SEQUENCE)?;
    let (mut tbs, _) = element(certificate, SEQUENCE)?;
    // version [0] EXPLICIT, optional.
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs, 0xa0)?.1;
    }
    for tag in [INTEGER, SEQUENCE, SEQUENCE] {
        // serialNumber, signature algorithm, issuer.
        tbs = element(tbs, tag)?.1;
    }
    let (validity, _) = element(tbs, SEQUENCE)?;
    let (not_before, rest) = time(validity)?;
    let (not_after, _) = time(rest)?;
    Some((not_before, not_after))
}

const INTEGER: u8 = 0x02;
const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// The contents of the element with `tag` at the start of `input`, and what follows it.
fn element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len0, mut rest) = rest.split_first()?;
    let len = if len0 < 0x80 {
        usize::from(len0)
    } else {
        let count = usize::from(len0 & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
        rest = &rest[count..];
        len
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A `Time` (UTCTime or GeneralizedTime, both in UTC with seconds, as RFC 5280 §4.1.2.5 asks).
fn time(input: &[u8]) -> Option<(UnixTime, &[u8])> {
    let (tag, text, after) = match *input.first()? {
        UTC_TIME => {
            let (text, rest) = element(input, UTC_TIME)?;
            (UTC_TIME, text, rest)
        }
        GENERALIZED_TIME => {
            let (text, rest) = element(input, GENERALIZED_TIME)?;
            (GENERALIZED_TIME, text, rest)
        }
        _ => return None,
    };
    let (digits, zulu) = text.split_at(text.len().checked_sub(1)?);
    if zulu != b"Z" || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| {
        s.iter()
            .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'))
    };
    let (year, md) = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy = num(&digits[..2]);
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (GENERALIZED_TIME, 14) => (num(&digits[..4]), &digits[4..]),
        _ => return None,
    };
    let (month, day) = (num(&md[0..2]), num(&md[2..4]));
    let (hour, minute, second) = (num(&md[4..6]), num(&md[6..8]), num(&md[8..10]));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let secs = days_from_civil(year, month as u32, day as u32) * 86_400
        + hour * 3600
        + minute * 60
        + second.min(60);
    // Dates before 1970 are clamped to the epoch: only ever compared with "now".
    let secs = u64::try_from(secs).unwrap_or(0);
    Some((UnixTime::since_unix_epoch(Duration::from_secs(secs)), after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: UnixTime) -> u64 {
        t.as_secs()
    }

    #[test]
    fn reads_both_time_forms() {
        let utc = b"\x17\x0d991231235959Z";
        assert_eq!(secs(time(utc).unwrap().0), 946_684_799);
        let generalized = b"\x18\x0f20500101000000Z";
        assert_eq!(secs(time(generalized).unwrap().0), 2_524_608_000);
        assert!(time(b"\x17\x0d991331235959Z").is_none(), "month 13");
        assert!(time(b"\x17\x0b9912312359Z").is_none(), "no seconds");
    }

    #[test]
    fn junk_is_none() {
        assert!(validity(b"").is_none());
        assert!(validity(b"\x30\x84\xff\xff\xff\xff").is_none());
        assert!(validity(b"\x30\x03\x30\x01\x02").is_none());
    }
}

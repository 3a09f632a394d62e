//! [`redact_url`]: a URL with its password replaced by `***`, for anything a person or a log
//! will read (errors, `fetch`'s JSON lines, progress), as curl does in its verbose output.
//!
//! Only the password is hidden: the user name stays, so "which account" is still visible.
//! The rule is the URL grammar's (RFC 3986 §3.2): the authority runs from `//` to the first
//! `/`, `?` or `#`; the userinfo is what precedes its **last** `@`; the password is what follows
//! the userinfo's first `:`. A string without `//` is treated as starting with its authority
//! (`user:pw@host/x`), so a URL that failed to parse is redacted too.

use std::borrow::Cow;

/// `url` with the password of its userinfo replaced by `***`; borrowed unchanged when there is
/// none.
///
/// ```
/// use spool_client::redact_url;
/// assert_eq!(redact_url("https://ann:s3cret@example.com/x?y#z"), "https://ann:***@example.com/x?y#z");
/// assert_eq!(redact_url("http://ann@example.com/"), "http://ann@example.com/");
/// assert_eq!(redact_url("http://example.com/a@b"), "http://example.com/a@b");
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let start = url.find("//").map_or(0, |i| i + 2);
    let authority_len = url[start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - start);
    let authority = &url[start..start + authority_len];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let Some(colon) = authority[..at].find(':') else {
        return Cow::Borrowed(url);
    };
    let password = start + colon + 1..start + at;
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..password.start]);
    out.push_str("***");
    out.push_str(&url[password.end..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn hides_the_password_only() {
        let cases = [
            ("http://u:p@h/", "http://u:***@h/"),
            ("http://u:@h/", "http://u:***@h/"),
            ("http://:p@h:8080", "http://:***@h:8080"),
            // The last '@' ends the userinfo (a raw '@' in a password).
            ("http://u:p@ss@h/", "http://u:***@h/"),
            // ':' in the password: everything after the first ':' is the password.
            ("http://u:a:b@h/", "http://u:***@h/"),
            ("u:p@h/x", "u:***@h/x"),
            ("http://h/?a=u:p@x", "http://h/?a=u:p@x"),
            ("http://h#u:p@x", "http://h#u:p@x"),
            ("http://u@h/", "http://u@h/"),
            ("", ""),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }
}

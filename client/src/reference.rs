//! Resolving a redirect's `Location` against the URL that answered, per RFC 3986 §5.2.
//!
//! `Location` may be absolute (`http://b/x`), scheme-relative (`//b/x`), absolute-path (`/x`),
//! relative-path (`x`, `../x`) or query-only (`?q`) (RFC 9110 §10.2.2). The result is a string that
//! still goes through the URL checks in `url.rs`.

use http::Uri;

/// Resolves `reference` against `base` (an absolute http(s) URL) into an absolute URL string.
///
/// The fragment of `reference` is dropped (a client never sends one).
pub(crate) fn resolve(base: &Uri, reference: &str) -> String {
    let reference = reference.split('#').next().unwrap_or("");
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map_or("", |a| a.as_str());

    if has_scheme(reference) {
        // Absolute: only its path needs dot-segment removal.
        return match reference.find("://") {
            Some(i) => {
                let after = &reference[i + 3..];
                let path_at = after.find(['/', '?']).unwrap_or(after.len());
                let (path, query) = split_query(&after[path_at..]);
                let mut out = reference[..i + 3 + path_at].to_string();
                out.push_str(&remove_dot_segments(path));
                push_query(&mut out, query);
                out
            }
            None => reference.to_string(),
        };
    }
    if let Some(rest) = reference.strip_prefix("//") {
        let path_at = rest.find(['/', '?']).unwrap_or(rest.len());
        let (path, query) = split_query(&rest[path_at..]);
        let mut out = format!("{scheme}://{}", &rest[..path_at]);
        out.push_str(&remove_dot_segments(path));
        push_query(&mut out, query);
        return out;
    }

    let (ref_path, ref_query) = split_query(reference);
    let mut out = format!("{scheme}://{authority}");
    if ref_path.is_empty() {
        out.push_str(if base.path().is_empty() {
            "/"
        } else {
            base.path()
        });
        match ref_query {
            Some(q) => push_query(&mut out, Some(q)),
            None => push_query(&mut out, base.query()),
        }
        return out;
    }
    let path = if ref_path.starts_with('/') {
        remove_dot_segments(ref_path)
    } else {
        remove_dot_segments(&merge(base.path(), ref_path))
    };
    out.push_str(&path);
    push_query(&mut out, ref_query);
    out
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"` at the start.
fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (s, None),
    }
}

fn push_query(out: &mut String, query: Option<&str>) {
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
}

/// RFC 3986 §5.2.3: the reference path replaces the last segment of the base path.
fn merge(base_path: &str, reference: &str) -> String {
    match base_path.rfind('/') {
        Some(slash) => format!("{}{}", &base_path[..=slash], reference),
        None => format!("/{reference}"),
    }
}

/// RFC 3986 §5.2.4: interprets `.` and `..` segments.
fn remove_dot_segments(path: &str) -> String {
    if !path.contains('.') {
        return path.to_string();
    }
    let mut out: Vec<&str> = Vec::new();
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len() - 1;
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        if i == 0 && absolute {
            continue; // the empty segment before the leading '/'
        }
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut result = String::with_capacity(path.len());
    if absolute {
        result.push('/');
    }
    result.push_str(&out.join("/"));
    if trailing_slash && !result.ends_with('/') {
        result.push('/');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normal examples of RFC 3986 §5.4.1 (base `http://a/b/c/d;p?q`).
    #[test]
    fn rfc3986_normal_examples() {
        let base: Uri = "http://a/b/c/d;p?q".parse().unwrap();
        let cases = [
            ("g:h", "g:h"),
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            ("g?y#s", "http://a/b/c/g?y"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("", "http://a/b/c/d;p?q"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
        ];
        for (reference, want) in cases {
            assert_eq!(resolve(&base, reference), want, "reference {reference:?}");
        }
    }

    /// The abnormal examples of RFC 3986 §5.4.2.
    #[test]
    fn rfc3986_abnormal_examples() {
        let base: Uri = "http://a/b/c/d;p?q".parse().unwrap();
        let cases = [
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("g?y/../x", "http://a/b/c/g?y/../x"),
            ("http://a/b/../c", "http://a/c"),
        ];
        for (reference, want) in cases {
            assert_eq!(resolve(&base, reference), want, "reference {reference:?}");
        }
    }

    #[test]
    fn keeps_the_port_and_switches_scheme_for_absolute_references() {
        let base: Uri = "http://127.0.0.1:8080/a/b".parse().unwrap();
        assert_eq!(resolve(&base, "/x"), "http://127.0.0.1:8080/x");
        assert_eq!(resolve(&base, "https://h:1/y"), "https://h:1/y");
        assert_eq!(resolve(&base, "//h:2"), "http://h:2");
    }
}

//! fetch's URL-list reader (`examples/fetch/src/lines.rs`: bytes cut into trimmed lines, blank lines and
//! `#` comments skipped, over-long or non-UTF-8 lines reported), then each line through the URL
//! checks, as fetch hands it to the client.
//!
//! `fetch` is a binary with no library, so its source file is compiled into this target by path: the
//! one line below to re-point when the file moves (or when fetch exposes a library).
//!
//! Input: byte 0 = expansion (bit 7 set: the rest is repeated to past 64 KiB, so over-long lines
//! and lines that cross the reader's 64 KiB refills are reached), then the list's bytes.
//! Checked: no panic, and the lines (text and problem) equal a whole-buffer reference split.
#![no_main]

#[allow(dead_code)]
#[path = "../../examples/fetch/src/lines.rs"]
mod lines;

use std::io::{Seek, Write};
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use spool_client::IntoUrl;

use lines::{LineReader, Source, MAX_LINE};

thread_local! {
    /// One scratch file, rewritten for every input: the reader reads regular files directly.
    static FILE: std::fs::File = tempfile();
}

fn tempfile() -> std::fs::File {
    let path = std::env::temp_dir().join(format!("spool-fuzz-lines-{}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("a scratch file in the temp dir");
    let _ = std::fs::remove_file(&path); // the open handle keeps it
    file
}

fuzz_target!(|data: &[u8]| {
    let Some((&expand, rest)) = data.split_first() else {
        return;
    };
    let mut input = rest.to_vec();
    if expand & 0x80 != 0 && !rest.is_empty() {
        let want = MAX_LINE + 100 + usize::from(expand & 0x7f) * 1000;
        while input.len() < want {
            input.extend_from_slice(rest);
        }
    }
    let got = read_all(&input);
    let want = reference(&input);
    assert_eq!(
        got, want,
        "the line reader disagrees with the reference split"
    );
    for (text, problem) in &got {
        if problem.is_none() {
            let _ = text.as_str().into_url();
        }
    }
});

fn read_all(input: &[u8]) -> Vec<(String, Option<&'static str>)> {
    let file = FILE.with(|f| f.try_clone().expect("clone the scratch file"));
    let mut writer = &file;
    file.set_len(0).unwrap();
    writer.rewind().unwrap();
    writer.write_all(input).unwrap();
    writer.rewind().unwrap();
    let mut reader = LineReader::new(Source::File(file.try_clone().unwrap()));
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match reader.poll_line(&mut cx) {
            Poll::Ready(Some(Ok(line))) => out.push((line.text.to_string(), line.problem)),
            Poll::Ready(Some(Err(e))) => panic!("reading a regular file failed: {e}"),
            Poll::Ready(None) => return out,
            Poll::Pending => panic!("a regular file's reader returned Pending"),
        }
    }
}

/// The rules as the module docs state them, on the whole input at once.
fn reference(input: &[u8]) -> Vec<(String, Option<&'static str>)> {
    let mut out = Vec::new();
    let mut segments: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if segments.last().is_some_and(|s| s.is_empty()) {
        segments.pop(); // the text after the final newline, when there is none
    }
    for raw in segments {
        if raw.len() > MAX_LINE {
            let shown = String::from_utf8_lossy(&raw[..80]) + "…";
            out.push((
                shown.into_owned(),
                Some("input line longer than 65536 bytes"),
            ));
            continue;
        }
        let text = raw.trim_ascii();
        if text.is_empty() || text[0] == b'#' {
            continue;
        }
        out.push(match std::str::from_utf8(text) {
            Ok(s) => (s.to_owned(), None),
            Err(_) => (
                String::from_utf8_lossy(text).into_owned(),
                Some("input line is not valid UTF-8"),
            ),
        });
    }
    out
}

//! The stream of URLs: positional URLs first, then the lines of `--input` (a file, or `-` for stdin), or the
//! demo's generated URLs; each numbered with its input position.
//!
//! Nothing here holds more than one read buffer: a file of ten million lines is read 64 KiB at a time, as
//! the scheduler asks for the next URL, so memory follows the scheduler's look-ahead window, not the
//! file's size.
//!
//! Regular files (and stdin redirected from one) are read directly on the loop's thread: a read from the
//! page cache does not wait on anyone. A pipe or terminal on stdin may wait for its writer indefinitely
//! (`tail -f log | fetch -i -`), so each of its reads runs on a helper thread ([`spool_runtime::spawn_blocking`])
//! and the loop keeps serving requests meanwhile; that is why reading is poll-based ([`Input::poll_next`]).

use crate::lines::{Line, LineReader, Source};
use std::fs::File;
use std::io;
use std::path::Path;
use std::rc::Rc;
use std::task::{Context, Poll};

/// One URL to fetch, with its input position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 0-based position among the input's URLs (skipped lines do not count).
    pub index: u64,
    /// The URL as given, whitespace around it removed. Shared: the request task, the scheduler and the
    /// result line all hold it, and a clone of an `Rc` costs no allocation.
    pub url: Rc<str>,
    /// Set when the line cannot be a URL at all (too long, not UTF-8): the entry is reported as failed
    /// with this message, and `url` holds what could be shown of it.
    pub problem: Option<&'static str>,
}

/// The URLs of one run, produced in input order.
pub struct Input {
    positional: std::vec::IntoIter<String>,
    lines: Option<LineReader>,
    generated: Option<Generated>,
    /// Entries handed in by someone else (the queue worker), see [`Input::fed`].
    fed: Option<Rc<Feed>>,
    /// `--shard` / `--threads`: keep only the URLs routed here (indices stay the input's positions).
    route: Option<Route>,
    next_index: u64,
    finished: bool,
}

/// Which URLs of the input this loop takes: those whose origin hash is in `shard` and routed to loop
/// `lane` of `lanes` ([`crate::shard`]).
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub shard: crate::shard::Shard,
    pub lane: usize,
    pub lanes: usize,
}

/// Entries pushed in from outside the scheduler (the queue worker), in order; closed at the end.
#[derive(Default)]
pub struct Feed {
    entries: std::cell::RefCell<std::collections::VecDeque<(Rc<str>, Option<&'static str>)>>,
    closed: std::cell::Cell<bool>,
    waker: std::cell::RefCell<Option<std::task::Waker>>,
}

impl Feed {
    /// Add one URL (with the reason it cannot be fetched, if it cannot).
    pub fn push(&self, url: Rc<str>, problem: Option<&'static str>) {
        self.entries.borrow_mut().push_back((url, problem));
        self.wake();
    }

    /// No more entries will come.
    pub fn close(&self) {
        self.closed.set(true);
        self.wake();
    }

    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// The demo's URLs: `count` of them, made on demand.
struct Generated {
    count: u64,
    make: Box<dyn FnMut(u64) -> String>,
}

impl Input {
    /// Positional URLs, then the lines of `file` (`-` = stdin) if given.
    ///
    /// Fails (before anything is fetched) when the file cannot be opened.
    pub fn new(urls: Vec<String>, file: Option<&Path>) -> io::Result<Input> {
        let lines = match file {
            None => None,
            Some(p) if p.as_os_str() == "-" => Some(LineReader::stdin()?),
            Some(p) => Some(LineReader::new(Source::File(File::open(p)?))),
        };
        Ok(Input {
            positional: urls.into_iter(),
            lines,
            generated: None,
            fed: None,
            route: None,
            next_index: 0,
            finished: false,
        })
    }

    /// The entries of `feed`, numbered in the order pushed.
    pub fn fed(feed: Rc<Feed>) -> Input {
        Input {
            positional: Vec::new().into_iter(),
            lines: None,
            generated: None,
            fed: Some(feed),
            route: None,
            next_index: 0,
            finished: false,
        }
    }

    /// Keep only the URLs `route` sends to this loop (the others are skipped, but still numbered).
    pub fn routed(mut self, route: Route) -> Input {
        self.route = Some(route);
        self
    }

    /// `count` URLs made by `make(i)`, for the demo.
    pub fn generated(count: u64, make: impl FnMut(u64) -> String + 'static) -> Input {
        Input {
            positional: Vec::new().into_iter(),
            lines: None,
            generated: Some(Generated {
                count,
                make: Box::new(make),
            }),
            fed: None,
            route: None,
            next_index: 0,
            finished: false,
        }
    }

    /// The number of URLs, once known: from the start for positional and demo URLs, at the end of the
    /// file for `--input`.
    pub fn known_total(&self) -> Option<u64> {
        if self.route.is_some() {
            // Positions count every URL of the input, this loop's share is unknown.
            None
        } else if self.finished {
            Some(self.next_index)
        } else if self.fed.is_some() {
            None
        } else if self.lines.is_none() {
            let generated = self
                .generated
                .as_ref()
                .map_or(0, |g| g.count - self.next_index);
            Some(self.next_index + self.positional.len() as u64 + generated)
        } else {
            None
        }
    }

    /// The next URL; `Ready(None)` at the end; `Ready(Some(Err))` when reading the input failed (the
    /// input is then finished). `Pending` only while a pipe's reader thread is waiting for data.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Entry>>> {
        let Some(route) = self.route else {
            return self.poll_any(cx);
        };
        let mut scratch = String::new();
        loop {
            match self.poll_any(cx) {
                Poll::Ready(Some(Ok(e))) => {
                    let h = crate::shard::url_hash(&e.url, &mut scratch);
                    if route.shard.takes(h)
                        && crate::shard::loop_for(h, route.shard, route.lanes) == route.lane
                    {
                        return Poll::Ready(Some(Ok(e)));
                    }
                }
                other => return other,
            }
        }
    }

    fn poll_any(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Entry>>> {
        if let Some(feed) = &self.fed {
            let next = feed.entries.borrow_mut().pop_front();
            return match next {
                Some((url, problem)) => Poll::Ready(Some(Ok(self.entry(url, problem)))),
                None if feed.closed.get() => {
                    self.finished = true;
                    Poll::Ready(None)
                }
                None => {
                    *feed.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            };
        }
        if self.finished {
            return Poll::Ready(None);
        }
        if let Some(url) = self.positional.next() {
            return Poll::Ready(Some(Ok(self.entry(url.into(), None))));
        }
        if let Some(g) = &mut self.generated {
            if self.next_index < g.count {
                let url = (g.make)(self.next_index);
                return Poll::Ready(Some(Ok(self.entry(url.into(), None))));
            }
        }
        let next = match &mut self.lines {
            Some(lines) => match lines.poll_line(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(next) => next,
            },
            None => None,
        };
        match next {
            Some(Ok(Line { text, problem })) => Poll::Ready(Some(Ok(self.entry(text, problem)))),
            Some(Err(e)) => {
                self.finished = true;
                Poll::Ready(Some(Err(e)))
            }
            None => {
                self.finished = true;
                Poll::Ready(None)
            }
        }
    }

    fn entry(&mut self, url: Rc<str>, problem: Option<&'static str>) -> Entry {
        let index = self.next_index;
        self.next_index += 1;
        Entry {
            index,
            url,
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::MAX_LINE;
    use std::io::Write;
    use std::task::Waker;

    fn drain(mut input: Input) -> Vec<Entry> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        loop {
            match input.poll_next(&mut cx) {
                Poll::Ready(Some(Ok(e))) => out.push(e),
                Poll::Ready(None) => return out,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn file_with(bytes: &[u8]) -> (std::path::PathBuf, impl Drop) {
        struct Rm(std::path::PathBuf);
        impl Drop for Rm {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("fetch-input-test-{}-{n}", std::process::id()));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(bytes)
            .unwrap();
        (path.clone(), Rm(path))
    }

    #[test]
    fn positional_then_file_lines_skipping_blanks_and_comments() {
        let (path, _rm) = file_with(b"# list\n\nhttp://b/\r\n   \n  http://c/  \n#x\nhttp://d/");
        let input = Input::new(vec!["http://a/".into()], Some(&path)).unwrap();
        let got = drain(input);
        let urls: Vec<_> = got.iter().map(|e| (e.index, &*e.url)).collect();
        assert_eq!(
            urls,
            [
                (0, "http://a/"),
                (1, "http://b/"),
                (2, "http://c/"),
                (3, "http://d/")
            ]
        );
        assert!(got.iter().all(|e| e.problem.is_none()));
    }

    #[test]
    fn total_is_known_at_the_end_of_the_file() {
        let (path, _rm) = file_with(b"http://a/\nhttp://b/\n");
        let mut input = Input::new(vec![], Some(&path)).unwrap();
        assert_eq!(input.known_total(), None);
        let mut cx = Context::from_waker(Waker::noop());
        while let Poll::Ready(Some(_)) = input.poll_next(&mut cx) {}
        assert_eq!(input.known_total(), Some(2));
        assert_eq!(
            Input::new(vec!["x".into(), "y".into()], None)
                .unwrap()
                .known_total(),
            Some(2)
        );
    }

    #[test]
    fn long_and_non_utf8_lines_become_problem_entries_and_reading_goes_on() {
        let mut bytes = b"http://a/\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_LINE * 3 + 17));
        bytes.extend(b"\nhttp://\xff/\nhttp://z/\n");
        let (path, _rm) = file_with(&bytes);
        let got = drain(Input::new(vec![], Some(&path)).unwrap());
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(&*got[0].url, "http://a/");
        assert_eq!(got[1].problem, Some("input line longer than 65536 bytes"));
        assert_eq!(got[2].problem, Some("input line is not valid UTF-8"));
        assert_eq!(
            (got[3].index, &*got[3].url, got[3].problem),
            (3, "http://z/", None)
        );
    }

    #[test]
    fn many_lines_across_chunk_boundaries() {
        let mut bytes = Vec::new();
        for i in 0..50_000 {
            writeln!(bytes, "http://h/{i}").unwrap();
        }
        let (path, _rm) = file_with(&bytes);
        let got = drain(Input::new(vec![], Some(&path)).unwrap());
        assert_eq!(got.len(), 50_000);
        assert!(got
            .iter()
            .enumerate()
            .all(|(i, e)| *e.url == format!("http://h/{i}") && e.index == i as u64));
    }

    #[test]
    fn generated() {
        let got = drain(Input::generated(3, |i| format!("u{i}")));
        assert_eq!(
            got.iter().map(|e| &*e.url).collect::<Vec<_>>(),
            ["u0", "u1", "u2"]
        );
    }
}

//! Request bodies streamed from a reader instead of held in memory: [`Upload`], set with
//! [`RequestBuilder::body_reader`](crate::RequestBuilder::body_reader) or
//! [`body_file`](crate::RequestBuilder::body_file).
//!
//! With a length given up front (`body_reader`, `body_file`) the body goes with `Content-Length`:
//! a reader that ends before `len` bytes fails the request (a short body is never sent as if it
//! were whole), and bytes past `len` are not read. Without one
//! ([`body_stream`](crate::RequestBuilder::body_stream)) it goes chunked (`Transfer-Encoding:
//! chunked`), one chunk per read, and ends when the reader does. Either way the server knows
//! where the body ends, so the connection can carry another request afterwards; a reader that
//! fails fails the request and closes its connection.
//!
//! A reader can be read once. The request keeps it until the head is written, so a connect
//! failure can still be retried; after that, nothing resends it: no retry on a stale keep-alive
//! connection or by the retry policy, and a 307/308 redirect (which must resend the body) is
//! returned as the response instead of followed, as reqwest does with a body it cannot clone.
//!
//! Files are read on the runtime's blocking pool (`spawn_blocking`), 64 KiB at a time, so a slow
//! disk never stalls the loop.

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::future::Future;
use std::io::{self, Read};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use futures_io::AsyncRead;
use spool_runtime::{spawn_blocking, BlockingTask};

/// How much of the body is read (and written) at a time.
pub(crate) const CHUNK: usize = 64 * 1024;

/// The reader a streamed body comes from.
pub(crate) type Source = Pin<Box<dyn AsyncRead>>;

/// A body still to be read from a source, of `len` bytes (`None`: until the source ends); clones
/// share the one source.
#[derive(Clone)]
pub(crate) struct Upload {
    len: Option<u64>,
    source: Rc<RefCell<Option<Source>>>,
}

impl Upload {
    pub(crate) fn new(source: Source, len: Option<u64>) -> Upload {
        Upload {
            len,
            source: Rc::new(RefCell::new(Some(source))),
        }
    }

    /// The body's length, sent as `Content-Length`; `None` for a chunked body.
    pub(crate) fn len(&self) -> Option<u64> {
        self.len
    }

    /// The source, for the one exchange that writes it; `None` once an exchange took it.
    pub(crate) fn take(&self) -> Option<Source> {
        self.source.borrow_mut().take()
    }

    /// Whether an exchange already took the source, so the body cannot be sent again.
    pub(crate) fn is_spent(&self) -> bool {
        self.source.borrow().is_none()
    }
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("len", &self.len)
            .field("spent", &self.is_spent())
            .finish()
    }
}

/// A file as an [`AsyncRead`]: each read runs on the blocking pool and fills a buffer that the
/// following `poll_read`s copy out of.
pub(crate) struct FileSource {
    state: FileState,
}

enum FileState {
    /// Between reads: the file, and the buffer with `pos..` still to hand out.
    Idle {
        file: File,
        buf: Vec<u8>,
        pos: usize,
    },
    /// A read is running on the blocking pool; file and buffer come back with its result.
    Reading(BlockingTask<(File, Vec<u8>, io::Result<usize>)>),
    /// The file failed or ended; reads return 0 (or the error, once).
    Done(Option<io::Error>),
}

impl FileSource {
    pub(crate) fn new(file: File) -> FileSource {
        FileSource {
            state: FileState::Idle {
                file,
                buf: Vec::new(),
                pos: 0,
            },
        }
    }
}

impl AsyncRead for FileSource {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match &mut self.state {
                FileState::Idle { buf, pos, .. } if *pos < buf.len() => {
                    let n = out.len().min(buf.len() - *pos);
                    out[..n].copy_from_slice(&buf[*pos..*pos + n]);
                    *pos += n;
                    return Poll::Ready(Ok(n));
                }
                FileState::Idle { .. } => {
                    let FileState::Idle {
                        mut file, mut buf, ..
                    } = std::mem::replace(&mut self.state, FileState::Done(None))
                    else {
                        unreachable!("matched Idle above")
                    };
                    self.state = FileState::Reading(spawn_blocking(move || {
                        buf.resize(CHUNK, 0);
                        let result = file.read(&mut buf);
                        (file, buf, result)
                    }));
                }
                FileState::Reading(task) => {
                    let (file, mut buf, result) = ready!(Pin::new(task).poll(cx));
                    self.state = match result {
                        Ok(0) => FileState::Done(None),
                        Ok(n) => {
                            buf.truncate(n);
                            FileState::Idle { file, buf, pos: 0 }
                        }
                        Err(e) => FileState::Done(Some(e)),
                    };
                }
                FileState::Done(error) => {
                    return Poll::Ready(error.take().map_or(Ok(0), Err));
                }
            }
        }
    }
}

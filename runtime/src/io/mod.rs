//! Buffered I/O for any `futures_io` stream: [`BufReader`] (with [`read_line`](BufReader::read_line)
//! and [`lines`](BufReader::lines)) and [`BufWriter`].
//!
//! They work over anything implementing `futures_io::AsyncRead` / `AsyncWrite` and `Unpin`: the
//! runtime's [`TcpStream`](crate::net::TcpStream), and `&TcpStream`, so one connection can have a
//! reader and a writer at the same time (see `examples/chat`).
//!
//! # Idle buffers cost nothing
//! A server with 10,000 quiet connections should not hold 10,000 buffers. So both types allocate
//! their buffer on first use and **release it when it is empty**: the reader when it has handed out
//! every byte and the stream has nothing more (`Pending`), the writer when a flush has written
//! everything. A busy stream keeps its buffer; an idle one holds only the struct itself.
//!
//! # Layout
//! - `buf_reader` — [`BufReader`]: `AsyncBufRead`, `read_line`, `read_until`.
//! - `lines` — [`Lines`]: one line at a time, cancel-safe, with an optional length limit.
//! - `buf_writer` — [`BufWriter`]: gathers small writes, writes them in one system call on flush.

mod buf_reader;
mod buf_writer;
mod lines;

pub use buf_reader::BufReader;
pub use buf_writer::BufWriter;
pub use lines::Lines;

/// The buffer size of [`BufReader::new`] and [`BufWriter::new`], as std's.
pub const DEFAULT_BUF_SIZE: usize = 8 * 1024;

#[cfg(test)]
mod tests;

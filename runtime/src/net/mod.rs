//! Networking: TCP and UDP sockets whose operations wait on the reactor instead of blocking the thread.
//!
//! Each type owns a plain socket (created with `std`/`socket2`, never with the driver's types) wrapped in
//! an `IoSource` (`net/source.rs`), which registers it with the runtime's driver once and checks, on every
//! use, that it is used in the runtime it registered with. Every operation has one file in `op` with its
//! epoll (readiness) and io_uring (completion) halves side by side; the public API is the same on both
//! drivers.

mod op;
mod source;
mod tcp_listener;
mod tcp_stream;
mod udp;

pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;

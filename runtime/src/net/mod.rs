//! Networking: TCP and UDP sockets whose operations wait on the reactor instead of blocking the thread.
//!
//! Each type owns a plain non-blocking socket (created with `std`/`socket2`, never with the driver's types)
//! wrapped in an `IoSource` (`net/source.rs`), which registers it with the reactor once and runs the
//! "wait for readiness → try → clear on `WouldBlock`" loop.

mod source;
mod tcp_listener;
mod tcp_stream;
mod udp;

pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;

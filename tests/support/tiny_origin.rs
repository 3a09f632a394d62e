//! A tiny in-process HTTP/1.1 origin on std threads: it answers every request on a keep-alive
//! connection with the same prepared response bytes. The fault suite puts it behind the fault proxy
//! for a framing nginx does not send for static files (a chunked body).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;

/// The running origin; its accept thread lives as long as the test process.
pub struct TinyOrigin {
    addr: SocketAddr,
}

impl TinyOrigin {
    /// Serves `response` (a whole response: head and framed body) to every request.
    pub fn start(response: Vec<u8>) -> TinyOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the tiny origin");
        let addr = listener.local_addr().unwrap();
        let response = Arc::new(response);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let response = response.clone();
                thread::spawn(move || {
                    let mut writer = stream.try_clone().expect("clone a stream");
                    let mut reader = BufReader::new(stream);
                    // One request = lines up to the blank one (GET only, no request bodies).
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" || line == "\n" => {
                                if writer.write_all(&response).is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                        }
                    }
                });
            }
        });
        TinyOrigin { addr }
    }

    /// The origin's address (give it to the fault proxy).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A `200 OK` with `body` in chunks of `chunk` bytes.
pub fn chunked_response(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

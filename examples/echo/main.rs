//! The smallest server: echo every byte back to its sender, one task per connection.
//!
//! ```text
//! cargo run --release --example echo -- 127.0.0.1:7001
//! nc 127.0.0.1 7001
//! ```

use spool_runtime::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:7001".into());
    let addr = addr.parse().expect("an address such as 127.0.0.1:7001");
    spool_runtime::block_on(async {
        let listener = TcpListener::bind(addr)?;
        loop {
            let (stream, _) = listener.accept().await?;
            spool_runtime::spawn(async move {
                let mut buf = vec![0; 4096];
                // Until the peer closes (0) or the connection fails: send back what came in.
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}

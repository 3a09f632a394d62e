//! The tokio current_thread peer of `examples/chat`, same design: one task per client, one
//! broadcast ring (1024 lines) for the room, every waiting line written in one batch, a lagging
//! client told how many lines it lost, TCP_NODELAY on. One difference is tokio's own: its
//! `BufReader` allocates its buffer up front and keeps it (1 KiB here), where spool's releases it
//! while idle. The listen backlog is set to spool's (4096): tokio's `TcpListener::bind` uses 1024,
//! and with the load tool's 10,000 connects at once the overflow left ~100 users connected on the
//! client's side but never accepted (2026-12-04), which is a property of the backlog, not of tokio.

use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

struct Message {
    from: u64,
    text: Box<str>,
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:7002".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let addr: std::net::SocketAddr = addr
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(4096)?;
        eprintln!("chat-tokio: listening on {addr}");
        let (room, _) = broadcast::channel::<Arc<Message>>(1024);
        for id in 0.. {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("chat-tokio: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            stream.set_nodelay(true)?;
            let (room, inbox) = (room.clone(), room.subscribe());
            tokio::task::spawn(async move {
                let _ = client(id, stream, room, inbox).await;
            });
        }
        Ok(())
    })
}

async fn client(
    id: u64,
    stream: TcpStream,
    room: broadcast::Sender<Arc<Message>>,
    mut inbox: broadcast::Receiver<Arc<Message>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::with_capacity(1024, read).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => {
                    let text = format!("user{id}: {line}\n").into_boxed_str();
                    let _ = room.send(Arc::new(Message { from: id, text }));
                }
                None => return Ok(()),
            },
            first = inbox.recv() => {
                let mut batch = Vec::new();
                let mut next = match first {
                    Ok(msg) => Ok(msg),
                    Err(RecvError::Lagged(n)) => Err(TryRecvError::Lagged(n)),
                    Err(RecvError::Closed) => return Ok(()),
                };
                loop {
                    match next {
                        Ok(msg) if msg.from == id => {}
                        Ok(msg) => batch.extend_from_slice(msg.text.as_bytes()),
                        Err(TryRecvError::Lagged(n)) => batch
                            .extend_from_slice(format!("*** {n} lines dropped (you read too slowly)\n").as_bytes()),
                        Err(_) => break,
                    }
                    next = inbox.try_recv();
                }
                write.write_all(&batch).await?;
            }
        }
    }
}

//! Fetch many URLs at once, errors as values — asyncio's `gather` in Rust.
//!
//! ```text
//! cargo run --release --example gather -- https://example.com/ http://127.0.0.1:1/
//! cargo run --release --example gather      # no URLs: 100 from a tiny server inside this process
//! ```
//!
//! The Python it mirrors (asyncio + aiohttp), line for line:
//!
//! ```python
//! async def fetch(session, url):
//!     async with session.get(url) as response:
//!         return response.status, len(await response.read())
//!
//! async def main(urls):
//!     async with aiohttp.ClientSession() as session:
//!         results = await asyncio.gather(*(fetch(session, u) for u in urls), return_exceptions=True)
//!     for url, result in zip(urls, results):
//!         print(url, result)
//! ```
//!
//! The futures given to [`join_all`] are not spawned tasks, so they can borrow `client` and `url`;
//! each result, success or error, comes back in the place of its URL.

use spool_client::{Client, Error, StatusCode};
use spool_runtime::io::BufReader;
use spool_runtime::join_all;
use spool_runtime::net::{TcpListener, TcpStream};

async fn fetch(client: &Client, url: &str) -> Result<(StatusCode, usize), Error> {
    let response = client.get(url).send().await?;
    Ok((response.status(), response.bytes().await?.len()))
}

async fn gather(urls: &[String]) -> Vec<Result<(StatusCode, usize), Error>> {
    let client = Client::new();
    join_all(urls.iter().map(|url| fetch(&client, url))).await
}

fn main() {
    let mut urls: Vec<String> = std::env::args().skip(1).collect();
    spool_runtime::block_on(async {
        if urls.is_empty() {
            urls = demo_urls(serve_demo().await);
        }
        let results = gather(&urls).await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        for (url, result) in urls.iter().zip(&results) {
            match result {
                Ok((status, bytes)) => println!("{url} {status} {bytes} bytes"),
                Err(e) => println!("{url} error ({}): {e}", e.kind().as_str()),
            }
        }
        eprintln!("gather: {ok} of {} fetched", urls.len());
    });
}

/// 98 URLs on the demo server, and two that fail: a refused connection and a malformed URL.
fn demo_urls(port: u16) -> Vec<String> {
    let mut urls: Vec<String> = (0..98)
        .map(|i| format!("http://127.0.0.1:{port}/{i}"))
        .collect();
    urls.push("http://127.0.0.1:1/".into()); // nothing listens on port 1
    urls.push("http://bad host/".into());
    urls
}

/// Starts a minimal HTTP/1.1 server on a free loopback port: `/N` answers N bytes.
async fn serve_demo() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    spool_runtime::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            spool_runtime::spawn(answer(stream));
        }
    });
    port
}

/// Answers requests on one keep-alive connection until the client closes it.
async fn answer(stream: TcpStream) {
    let mut lines = BufReader::new(&stream).lines();
    let mut size = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(path) = line.strip_prefix("GET /") {
            size = path.split(' ').next().unwrap_or("").parse().unwrap_or(0);
        } else if line.is_empty() {
            // End of the request head: answer it.
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n");
            let body = "x".repeat(size);
            if stream.write_all((head + &body).as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spool_client::ErrorKind;

    #[test]
    fn the_demo_gets_98_answers_and_two_errors_in_input_order() {
        spool_runtime::block_on(async {
            let urls = demo_urls(serve_demo().await);
            let results = gather(&urls).await;
            assert_eq!(results.len(), 100);
            for (i, result) in results[..98].iter().enumerate() {
                assert_eq!(result.as_ref().unwrap(), &(StatusCode::OK, i), "URL {i}");
            }
            assert_eq!(results[98].as_ref().unwrap_err().kind(), ErrorKind::Connect);
            assert_eq!(
                results[99].as_ref().unwrap_err().kind(),
                ErrorKind::InvalidUrl
            );
        });
    }
}

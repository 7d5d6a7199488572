//! The server's limits on its connections: a client that sends no request, or never ends its
//! headers, is disconnected.

use super::*;

/// Reads until the server closes the connection (whatever it sends first); `false` if it is
/// still open after `PATIENCE`.
async fn closed_by_server(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 1024];
    let until_closed = async { while matches!(stream.read(&mut buffer).await, Ok(1..)) {} };
    tokio::time::timeout(PATIENCE, until_closed).await.is_ok()
}

/// A client that connects and sends no request, or never ends its headers, is disconnected
/// after a few seconds rather than held for ever (each would hold a file descriptor, which the
/// process's Kafka connections and store need too), and others are served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_no_request_is_disconnected() {
    use tokio::io::AsyncWriteExt;
    let server = chalk_streams::observe::bind("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("bind")
        .serve(ObservedStreams::starting());
    let addr = server.local_addr();
    let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .expect("part of a request");
    assert_eq!(get(addr, "/health/live").await.0, 200);
    assert!(
        closed_by_server(&mut silent).await,
        "a silent client is disconnected"
    );
    assert!(
        closed_by_server(&mut slow).await,
        "a slow client is disconnected"
    );
    assert_eq!(get(addr, "/health/live").await.0, 200);
    server.shutdown().await.expect("stops");
}

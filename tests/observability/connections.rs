//! The server's limits on its connections: a client that sends no request, never ends its
//! headers, or stops reading its answers, is disconnected.

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

/// Opens a connection that asks for `/metrics` over and over without reading the answers, from
/// a socket with a small receive buffer, until the server can write no more to it. Returns the
/// task that keeps writing requests (it ends when the server closes the connection).
async fn connect_without_reading(addr: std::net::SocketAddr) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stream = socket.connect(addr).await.expect("connect");
    tokio::spawn(async move {
        let request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        while stream.write_all(request).await.is_ok() {}
    })
}

/// Clients that stop reading their answers (a stuck scraper that pipelines its requests) hold a
/// connection each only until the server has waited a few seconds to write to them: with every
/// connection the server serves at once taken by such clients, a probe is still answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_stop_reading_do_not_keep_probes_out() {
    let server = chalk_streams::observe::bind("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("bind")
        .serve(ObservedStreams::starting());
    let addr = server.local_addr();
    // The server serves 64 connections at once.
    let mut stuck = Vec::new();
    for _ in 0..64 {
        stuck.push(connect_without_reading(addr).await);
    }
    let probe = tokio::time::timeout(PATIENCE, get(addr, "/health/live")).await;
    assert_eq!(
        probe.map(|(status, _)| status).ok(),
        Some(200),
        "a probe is answered within {PATIENCE:?}"
    );
    for writer in stuck {
        let ended = tokio::time::timeout(PATIENCE, writer).await;
        assert!(ended.is_ok(), "the server closed every stuck connection");
    }
    server.shutdown().await.expect("stops");
}

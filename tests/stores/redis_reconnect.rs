//! The Redis store after failures its client keeps to the connection it has: the store's next
//! commands go on a new connection.

use super::*;

/// A password refused as the store connects again (it was being changed when the server
/// dropped the store's connection): once the password is back, writes go through. The client
/// alone would return that refusal for every later command, for as long as the process ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_connects_again_after_a_refused_password() {
    let server = suite::RedisServer::start();
    // Connected before the password is set, which it keeps needing none.
    let admin = redis::Client::open(server.url()).expect("client");
    let mut admin = admin
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let set_password = |password: &'static str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg(password)
            .to_owned()
    };
    let _: () = set_password("first")
        .query_async(&mut admin)
        .await
        .expect("password set");
    let url = server.url().replace("redis://", "redis://:first@");
    let store = RedisStore::open(&url).expect("open");
    let color = |time, name| row("u1", time, vec![("color", text(name))]);
    store.write(&[color(1, "red")]).await.expect("written");

    let _: () = set_password("second")
        .query_async(&mut admin)
        .await
        .expect("password changed");
    // Every other client's connection (the store's), not this one.
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .query_async(&mut admin)
        .await
        .expect("clients killed");
    // The dropped connection, then the refused password.
    for _ in 0..2 {
        let error = store
            .write(&[color(2, "blue")])
            .await
            .expect_err("the store's password is refused");
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }

    let _: () = set_password("first")
        .query_async(&mut admin)
        .await
        .expect("password back");
    store
        .write(&[color(2, "blue")])
        .await
        .expect("written once the password is back");
    assert_eq!(value(&store, "u1", "color").await, Some((text("blue"), 2)));
}

/// A failover behind one address (a managed service's endpoint): the primary the store is
/// connected to becomes a replica and keeps its clients, answering writes with `READONLY`,
/// while new connections reach the new primary. The store's next write goes there; the client
/// alone would have kept the old connection, refused, for ever. The new primary's limits on a
/// request are its own (here a value of at most 1 MB), and are read again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_follows_a_failover_behind_one_address() {
    let old_primary = suite::RedisServer::start();
    let new_primary = suite::RedisServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let endpoint = Endpoint::to(port_of(&old_primary)).await;
    let store = RedisStore::open(&format!("redis://{}", endpoint.address)).expect("open");
    let color = |time, name| row("u1", time, vec![("color", text(name))]);
    store.write(&[color(1, "red")]).await.expect("written");

    // New connections reach the new primary; the old one becomes a replica (of a server that
    // is not there, so that it stays one).
    endpoint.point_to(port_of(&new_primary));
    let nowhere = suite::server::closed_port();
    let mut old = redis::Client::open(old_primary.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let _: () = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(nowhere.to_string())
        .query_async(&mut old)
        .await
        .expect("demoted");

    let error = store
        .write(&[color(2, "blue")])
        .await
        .expect_err("the old primary refuses writes");
    assert!(
        matches!(&error, StoreError::Unavailable(text) if text.contains("read only replica")),
        "{error:?}"
    );
    store
        .write(&[color(2, "blue")])
        .await
        .expect("written to the new primary");
    let written = RedisStore::open(&new_primary.url()).expect("open");
    assert_eq!(
        value(&written, "u1", "color").await,
        Some((text("blue"), 2))
    );

    let large = "x".repeat(2 << 20);
    let error = store
        .write(&[color(3, &large)])
        .await
        .expect_err("over the new primary's limit");
    assert!(
        matches!(&error, StoreError::Rejected(text)
            if text.contains("more than the server's proto-max-bulk-len (1048576 bytes)")),
        "{error:?}"
    );
}

fn port_of(server: &suite::RedisServer) -> u16 {
    server
        .url()
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port")
}

/// A loopback address that forwards each new connection to the port it points to then.
struct Endpoint {
    address: std::net::SocketAddr,
    target: Arc<std::sync::atomic::AtomicU16>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    async fn to(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bound");
        let address = listener.local_addr().expect("an address");
        let target = Arc::new(std::sync::atomic::AtomicU16::new(port));
        let to = Arc::clone(&target);
        let accepting = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let port = to.load(std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut server) =
                        tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            address,
            target,
            accepting,
        }
    }

    fn point_to(&self, port: u16) {
        self.target.store(port, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

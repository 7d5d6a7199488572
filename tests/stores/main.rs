//! One behaviour suite (`behaviour`), run against every feature store: memory and Redis here,
//! SQLite with its own cases in `sqlite`.

use std::sync::Arc;

use chalk_streams::features::FromFeatureValue;
use chalk_streams::store::{FeatureStore, MemoryStore, RedisStore, SqliteStore, StoreError};
use chalk_streams::{FeatureRow, FeatureValue, Timestamp};
use serde_json::json;

fn row(key: &str, time: i64, values: Vec<(&'static str, FeatureValue)>) -> FeatureRow {
    FeatureRow {
        namespace: "user",
        primary_key: key.to_owned(),
        values,
        time: Timestamp::from_millis(time),
    }
}

fn text(s: &str) -> FeatureValue {
    FeatureValue::String(s.to_owned())
}

async fn value(store: &dyn FeatureStore, key: &str, feature: &str) -> Option<(FeatureValue, i64)> {
    store
        .entity("user", key)
        .await
        .expect("read")
        .and_then(|e| e.features.get(feature).cloned())
        .map(|f| (f.value, f.time.as_millis()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store() {
    behaviour_suite(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store() {
    let mut server = suite::RedisServer::start();
    let store = RedisStore::open(&server.url()).expect("open");
    behaviour_suite(Arc::new(store.clone())).await;

    // A feature time that is not a number (another writer's, or a hand edit) neither stops the
    // writes to that entity nor is kept: the next write replaces it.
    let client = redis::Client::open(server.url()).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let _: () = redis::AsyncCommands::hset_multiple(
        &mut connection,
        "chalk:user:u9",
        &[
            ("color", "old"),
            ("color@type", "string"),
            ("color@time", "noon"),
        ],
    )
    .await
    .expect("HSET");
    assert!(
        store.entity("user", "u9").await.is_err(),
        "unreadable as written"
    );
    store
        .write(&[row("u9", 10, vec![("color", text("new"))])])
        .await
        .expect("a write over an unreadable feature time");
    assert_eq!(value(&store, "u9", "color").await, Some((text("new"), 10)));
    // Names that would share a hash's fields or a key with others (rows built by hand) are
    // refused, and nothing of the batch is written.
    for (namespace, feature) in [
        ("user", "color@time"),
        ("user", "color@type"),
        ("a:b", "color"),
    ] {
        let refused = store
            .write(&[
                row("u12", 10, vec![("color", text("red"))]),
                FeatureRow {
                    namespace,
                    values: vec![(feature, text("x"))],
                    ..row("u13", 10, Vec::new())
                },
            ])
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Rejected(why)) if why.contains(namespace) || why.contains(feature)),
            "{namespace} {feature}: {refused:?}"
        );
        assert_eq!(value(&store, "u12", "color").await, None, "nothing written");
    }
    // A value that is not UTF-8 (another program's) is unreadable data, not an outage.
    let _: () = redis::AsyncCommands::hset_multiple(
        &mut connection,
        "chalk:user:u11",
        &[
            ("color", b"\xffred".as_slice()),
            ("color@type", b"string".as_slice()),
            ("color@time", b"10".as_slice()),
        ],
    )
    .await
    .expect("HSET");
    let read = store.entity("user", "u11").await;
    assert!(matches!(read, Err(StoreError::Unreadable(_))), "{read:?}");
    let _: () = redis::AsyncCommands::del(&mut connection, "chalk:user:u11")
        .await
        .expect("DEL");
    // A batch with a key that holds no hash is refused whole: Redis would keep what the
    // script wrote before the error.
    let _: () = redis::AsyncCommands::set(&mut connection, "chalk:user:not_a_hash", "x")
        .await
        .expect("SET");
    let refused = store
        .write(&[
            row("u10", 10, vec![("color", text("red"))]),
            row("not_a_hash", 10, vec![("color", text("blue"))]),
        ])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );
    assert_eq!(value(&store, "u10", "color").await, None, "nothing written");
    // Nor does it stop a listing of the entities: it is not one.
    let listed = store
        .scan()
        .await
        .expect("a key that holds no hash is passed over");
    assert!(listed.iter().any(|entity| entity.key == "u9"), "{listed:?}");
    assert!(
        listed.iter().all(|entity| entity.key != "not_a_hash"),
        "{listed:?}"
    );

    // A large batch (all of a partition's windows that end at once) is written in script runs
    // of a bounded size, so that none blocks the server for long or outlasts the client's wait
    // for its answer; every feature of it is written.
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut connection)
        .await
        .expect("CONFIG RESETSTAT");
    let large: Vec<FeatureRow> = (0..10_000)
        .map(|i| {
            row(
                &format!("bulk{i}"),
                10,
                vec![("count", FeatureValue::Int(i))],
            )
        })
        .collect();
    store.write(&large).await.expect("a large batch");
    for i in [0, 4_095, 4_096, 9_999] {
        assert_eq!(
            value(&store, &format!("bulk{i}"), "count").await,
            Some((FeatureValue::Int(i), 10)),
            "bulk{i}"
        );
    }
    assert_eq!(
        script_runs(&mut connection).await,
        Some(3),
        "10,000 features in runs of 4,096"
    );
    // Parts end between rows, so that no reader sees half of a row's new values: 4,096 rows of
    // three features take four runs of at most 1,365 rows, where cutting every 4,096 features
    // would take three.
    let wide: Vec<FeatureRow> = (0..4_096)
        .map(|i| {
            let features = vec![
                ("a", FeatureValue::Int(i)),
                ("b", FeatureValue::Int(i)),
                ("c", FeatureValue::Int(i)),
            ];
            row(&format!("wide{i}"), 10, features)
        })
        .collect();
    store.write(&wide).await.expect("a batch of wide rows");
    assert_eq!(script_runs(&mut connection).await, Some(3 + 4));
    assert_eq!(
        value(&store, "wide4095", "c").await,
        Some((FeatureValue::Int(4_095), 10))
    );

    // Feature times compared exactly, beyond the 2^53 a Lua number holds, and below zero.
    let far = 9_007_199_254_740_993;
    store
        .write(&[row("u11", far, vec![("color", text("newer"))])])
        .await
        .expect("write");
    store
        .write(&[row("u11", far - 1, vec![("color", text("older"))])])
        .await
        .expect("write");
    assert_eq!(
        value(&store, "u11", "color").await,
        Some((text("newer"), far))
    );
    for (time, color) in [(-5, "at -5"), (-50, "at -50"), (3, "at 3"), (-1, "at -1")] {
        store
            .write(&[row("u12", time, vec![("color", text(color))])])
            .await
            .expect("write");
    }
    assert_eq!(value(&store, "u12", "color").await, Some((text("at 3"), 3)));

    // A namespace with the `:` that ends it in the key names no entity (none is written):
    // `user:u12` and key `x` would read the hash of `user` and key `u12:x`.
    let row_u12_x = row("u12:x", 1, vec![("color", text("x"))]);
    store.write(&[row_u12_x]).await.expect("write");
    let other = store.entity("user:u12", "x").await.expect("read");
    assert!(other.is_none(), "{other:?}");

    // Durable across a server crash: the append-only file is synced on every write.
    server.kill();
    server.restart();
    let reopened = RedisStore::open(&server.url()).expect("reopen");
    assert_eq!(
        value(&reopened, "u3", "color").await,
        Some((text("recomputed"), 40))
    );
}

/// A server's limits on a request: a value longer than one argument may be (here 1 MB) makes
/// Redis close the connection, so it is refused for good before it is sent, naming it, where it
/// would be retried for ever as an outage; and a batch of large values is sent in several runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_within_the_servers_request_limits() {
    let server = suite::RedisServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let store = RedisStore::open(&server.url()).expect("open");
    let too_long = "x".repeat(2 << 20);
    let refused = store
        .write(&[row("u1", 10, vec![("bio", text(&too_long))])])
        .await;
    let Err(StoreError::Rejected(reason)) = refused else {
        panic!("{refused:?}");
    };
    assert!(
        reason.contains("`bio` of `chalk:user:u1` is 2097152 bytes"),
        "{reason}"
    );
    assert!(
        reason.contains("proto-max-bulk-len (1048576 bytes)"),
        "{reason}"
    );
    store
        .write(&[row("u1", 10, vec![("bio", text("short"))])])
        .await
        .expect("a write after the refusal");
    assert_eq!(value(&store, "u1", "bio").await, Some((text("short"), 10)));

    let mut connection = counting_commands(&server.url()).await;
    let large = "y".repeat(900 << 10);
    let rows: Vec<FeatureRow> = (0..100)
        .map(|i| row(&format!("large{i}"), 10, vec![("bio", text(&large))]))
        .collect();
    store.write(&rows).await.expect("90 MB of values");
    assert_eq!(
        script_runs(&mut connection).await,
        Some(2),
        "runs of at most 64 MiB"
    );
    assert_eq!(
        value(&store, "large99", "bio").await,
        Some((text(&large), 10))
    );
}

/// A batch refused for one of its rows writes none of them, also when it is more than one
/// script run (here 5,000 features, more than the 4,096 of a run): the row over the server's
/// limit comes last, after a run's worth of rows that would have been sent before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_refuses_a_batch_whole_across_script_runs() {
    let server = suite::RedisServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let store = RedisStore::open(&server.url()).expect("open");
    let mut rows: Vec<FeatureRow> = (0..5_000)
        .map(|i| row(&format!("e{i}"), 10, vec![("color", text("red"))]))
        .collect();
    rows.push(row("big", 10, vec![("bio", text(&"x".repeat(2 << 20)))]));
    let refused = store.write(&rows).await;
    assert!(
        matches!(refused, Err(StoreError::Rejected(_))),
        "{refused:?}"
    );
    assert_eq!(
        value(&store, "e0", "color").await,
        None,
        "no part of a refused batch is written"
    );
}

/// The limits are read over RESP3 too (`?protocol=resp3`), where `CONFIG GET` answers a map
/// rather than a list: a value over the server's limit is refused naming it, and other writes
/// go through, where the store had counted as unavailable for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_reads_the_servers_limits_over_resp3() {
    let server = suite::RedisServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let store = RedisStore::open(&format!("{}/0?protocol=resp3", server.url())).expect("open");
    let refused = store
        .write(&[row("u1", 10, vec![("bio", text(&"x".repeat(2 << 20)))])])
        .await;
    let Err(StoreError::Rejected(reason)) = refused else {
        panic!("{refused:?}");
    };
    assert!(
        reason.contains("proto-max-bulk-len (1048576 bytes)"),
        "{reason}"
    );
    store
        .write(&[row("u1", 11, vec![("bio", text("short"))])])
        .await
        .expect("a write within the limits");
    assert_eq!(value(&store, "u1", "bio").await, Some((text("short"), 11)));
}

/// A connection to the server at `url`, whose command statistics it has just reset.
async fn counting_commands(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut connection)
        .await
        .expect("CONFIG RESETSTAT");
    connection
}

/// How many script runs (`EVALSHA`) the server has served since its statistics were reset.
async fn script_runs(connection: &mut redis::aio::MultiplexedConnection) -> Option<u32> {
    command_calls(connection, "evalsha").await
}

/// How many times the server has run `command` (scripts' calls included) since its statistics
/// were reset.
async fn command_calls(
    connection: &mut redis::aio::MultiplexedConnection,
    command: &str,
) -> Option<u32> {
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(connection)
        .await
        .expect("INFO");
    let prefix = format!("cmdstat_{command}:calls=");
    stats
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split(',').next())
        .and_then(|calls| calls.parse().ok())
}

/// A hot entity's feature written a hundred times in one batch costs the server one `HSET`,
/// of the write that running them all would leave: the newest by feature time, the later of
/// equals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_writes_a_hot_entitys_feature_once_per_batch() {
    let server = suite::RedisServer::start();
    let store = RedisStore::open(&server.url()).expect("open");
    let mut connection = counting_commands(&server.url()).await;
    let mut rows: Vec<FeatureRow> = (0..100)
        .map(|i| {
            row(
                "hot",
                1_000 + i % 7,
                vec![("color", text(&format!("c{i}")))],
            )
        })
        .collect();
    rows.insert(50, row("cold", 5, vec![("color", text("blue"))]));
    store.write(&rows).await.expect("write");
    // The newest time is 1,006 (i % 7 == 6); the last write with it, i = 97.
    assert_eq!(
        value(&store, "hot", "color").await,
        Some((text("c97"), 1_006))
    );
    assert_eq!(
        value(&store, "cold", "color").await,
        Some((text("blue"), 5))
    );
    assert_eq!(command_calls(&mut connection, "hset").await, Some(2));
}

mod behaviour;
mod redis_reconnect;
mod sqlite;
mod write_behind;

use behaviour::behaviour_suite;

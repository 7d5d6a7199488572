//! `dlq replay` while the stream still fails: a replayed message comes back as a new letter
//! during the replay.

use std::collections::BTreeMap;

use chalk_streams::testing::Record;

use super::*;

/// A stream process that is killed when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads `orders_dlq` until it holds `count` letters; panics past [`COMMAND_BOUND`].
async fn wait_for_letters(kafka: &MockKafka, partitions: i32, count: usize) -> Vec<OwnedMessage> {
    let deadline = Instant::now() + COMMAND_BOUND;
    loop {
        let letters = read_to_end(kafka, "orders_dlq", partitions).await;
        if letters.len() >= count {
            return letters;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} letters in `orders_dlq`",
            letters.len()
        );
    }
}

/// While the stream still fails, each replayed order comes back as a new letter during the
/// replay. The replay reads to where the topic ended when it started: each letter is sent once,
/// and the new ones are left for the next replay.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_while_the_stream_still_fails_sends_each_letter_once() {
    const BAD_ORDERS: usize = 20;
    const PARTITIONS: i32 = 3;
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], PARTITIONS);
    for i in 0..BAD_ORDERS {
        let order = Record::bytes("orders", format!(r#"{{"id": "b{i}", "quantity": -1}}"#))
            .key(format!("b{i}"));
        kafka.produce(&order).await.expect("order produced");
    }
    let _stream = Running(
        example("orders_dlq")
            .arg("run")
            .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the stream starts"),
    );
    wait_for_letters(&kafka, PARTITIONS, BAD_ORDERS).await;

    // Small fetches, a few letters ahead of the replay, as with large letters: letters written
    // meanwhile are on the topic by the time the replay reaches where it ended at the start.
    let small_fetches = || {
        let mut command = example("orders_dlq");
        command
            .args(["dlq", "replay", "--stream", "orders"])
            .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers())
            .env(
                "KAFKA_ADDITIONAL_KAFKA_ARGS",
                r#"{"fetch.message.max.bytes": "1024", "queued.min.messages": "1",
                    "queued.max.messages.kbytes": "1", "fetch.queue.backoff.ms": "1"}"#,
            );
        let out = run(&mut command);
        out.assert_success();
        out
    };
    let out = small_fetches();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "replayed {BAD_ORDERS} letters of stream `orders` from `orders_dlq` (orders: {BAD_ORDERS})"
        )]
    );
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for (key, _) in keys_and_payloads(&read_to_end(&kafka, "orders", PARTITIONS).await) {
        *sent.entry(key.unwrap_or_default()).or_default() += 1;
    }
    assert_eq!(sent.len(), BAD_ORDERS);
    assert!(
        sent.values().all(|&copies| copies == 2),
        "each order once as produced and once replayed: {sent:?}"
    );

    // The letters written during the first replay are all the second one sends.
    wait_for_letters(&kafka, PARTITIONS, 2 * BAD_ORDERS).await;
    let out = small_fetches();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "replayed {BAD_ORDERS} letters of stream `orders` from `orders_dlq` (orders: {BAD_ORDERS})"
        )]
    );
}

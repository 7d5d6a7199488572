//! `dlq replay` and partitions: each letter back to the partition its original was read from,
//! however large, or where its key takes it when that partition is gone.

use super::*;

/// A letter goes back to the partition its original was read from, whatever this producer's
/// partitioner would choose for its key (a Java producer's hashes keys otherwise), and one
/// larger than librdkafka's default limit goes back whole.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_sends_each_letter_to_its_own_partition_however_large() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 2);
    let large = format!(r#"{{"id": "o2", "note": "{}"}}"#, "x".repeat(2_000_000));
    let letters = [
        letter_from("orders", 0, 1, &Record::bytes("orders", "first").key("k")),
        letter_from("orders", 1, 1, &Record::bytes("orders", "second").key("k")),
        letter_from(
            "orders",
            1,
            2,
            &Record::bytes("orders", large.clone()).key("k"),
        ),
    ];
    produce_on_partition_0(&kafka, &letters).await;
    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 3 letters of stream `orders` from `orders_dlq` (orders: 3)"]
    );
    let mut placed: Vec<(i32, String)> = read_to_end(&kafka, "orders", 2)
        .await
        .iter()
        .map(|message| {
            let payload = String::from_utf8_lossy(message.payload().unwrap_or_default());
            (message.partition(), payload.chars().take(10).collect())
        })
        .collect();
    placed.sort();
    let mut expected = [
        (0, "first".to_owned()),
        (1, "second".to_owned()),
        (1, large.chars().take(10).collect()),
    ];
    expected.sort();
    assert_eq!(placed, expected);
}

/// A letter whose partition the topic no longer has (made anew with fewer) goes where its key
/// takes it, rather than stopping the replay.
#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_of_a_letter_from_a_partition_gone_sends_it_by_its_key() {
    let kafka = kafka_with_topics(&["orders", "orders_dlq"], 1);
    let original = Record::bytes("orders", "from partition 3").key("k");
    kafka
        .produce(&letter_from("orders", 3, 1, &original).partition(0))
        .await
        .expect("letter produced");
    let out = replay(&kafka, &[]);
    assert_eq!(
        out.stdout_lines(),
        ["replayed 1 letter of stream `orders` from `orders_dlq` (orders: 1)"]
    );
    let sent = read_to_end(&kafka, "orders", 1).await;
    assert_eq!(
        keys_and_payloads(&sent),
        [(Some("k".to_owned()), "from partition 3".to_owned())]
    );
}

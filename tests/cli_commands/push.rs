//! `push`: each line of a file or of standard input produced, or the failure reported.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn push_produces_each_line_of_a_file_with_the_source_brokers() {
    let kafka = kafka_with_topics(&[COLOR_TOPIC], 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("updates.jsonl");
    std::fs::write(
        &file,
        "{\"user_id\": \"u1\", \"favorite_color\": \"red\"}\n\n   \n\
         {\"user_id\": \"u2\", \"favorite_color\": \"teal\"}\r\n\
         {\"user_id\": \"u1\", \"favorite_color\": \"blue\"}",
    )
    .expect("file written");
    // No --bootstrap: the brokers are those of the stream that reads the topic.
    let out = run(example("favorite_color")
        .args(["push", "--topic", COLOR_TOPIC, "--key", "users", "--file"])
        .arg(&file)
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "3 of 3 messages acknowledged by topic `{COLOR_TOPIC}`"
        )]
    );
    let messages = kafka.read(COLOR_TOPIC, 4, QUIET).await.expect("topic read");
    let key = Some("users".to_owned());
    assert_eq!(
        keys_and_payloads(&messages),
        [
            (
                key.clone(),
                r#"{"user_id": "u1", "favorite_color": "red"}"#.to_owned()
            ),
            (
                key.clone(),
                r#"{"user_id": "u2", "favorite_color": "teal"}"#.to_owned()
            ),
            (
                key,
                r#"{"user_id": "u1", "favorite_color": "blue"}"#.to_owned()
            ),
        ],
        "one message per non-empty line, in order, whitespace trimmed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn push_produces_standard_input_to_the_bootstrap_brokers() {
    // With no brokers at all, the stream's missing setting is named, and so is --bootstrap.
    let out = run(example("favorite_color").args(["push", "--topic", "scratch", "-"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr
            .contains("option `bootstrap_server`: no bootstrap server is set")
            && out
                .stderr
                .ends_with("\nor give `push` the brokers itself: --bootstrap HOST:PORT\n"),
        "{}",
        out.stderr
    );

    let kafka = kafka_with_topics(&["scratch"], 1);
    // No stream reads `scratch`: without --bootstrap there is no broker to use.
    let out = run(example("favorite_color")
        .args(["push", "--topic", "scratch", "-"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        "error: no broker known for topic `scratch`: no registered stream reads it; \
         pass --bootstrap HOST:PORT\n"
    );

    let out = run_within(
        example("favorite_color").args([
            "push",
            "--topic",
            "scratch",
            "--bootstrap",
            kafka.bootstrap_servers(),
            "-",
        ]),
        b"{\"n\": 1}\n{\"n\": 2}\n",
        COMMAND_BOUND,
    );
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        ["2 of 2 messages acknowledged by topic `scratch`"]
    );
    let messages = kafka.read("scratch", 3, QUIET).await.expect("topic read");
    assert_eq!(
        keys_and_payloads(&messages),
        [
            (None, r#"{"n": 1}"#.to_owned()),
            (None, r#"{"n": 2}"#.to_owned())
        ]
    );
}

#[test]
fn push_to_brokers_that_do_not_answer_fails_before_sending() {
    let closed = closed_port();
    let broker = format!("127.0.0.1:{closed}");
    let out = run_within(
        example("favorite_color").args([
            "push",
            "--topic",
            "scratch",
            "--bootstrap",
            &broker,
            "--timeout",
            "1s",
        ]),
        b"{\"n\": 1}\n{\"n\": 2}\n",
        COMMAND_BOUND,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout_lines().is_empty(), "nothing sent");
    assert_eq!(
        out.stderr,
        format!(
            "error: nothing sent to `scratch`: cannot connect to {broker}: connection refused\n"
        )
    );
}

/// A producer waits for a missing topic until its messages time out, and says only that:
/// `push` says why.
#[test]
fn push_to_a_missing_topic_says_it_does_not_exist() {
    let tansu = suite::tansu::Tansu::start();
    let bootstrap = tansu.bootstrap_servers();
    let out = run_within(
        example("favorite_color").args([
            "push",
            "--topic",
            "nowhere",
            "--bootstrap",
            &bootstrap,
            "--timeout",
            "2s",
        ]),
        b"{\"n\": 1}\n",
        COMMAND_BOUND,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.ends_with(&format!(
            "; topic `nowhere` does not exist on {bootstrap}: create it first\n"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn push_refuses_a_topic_name_kafka_does_not_allow_before_connecting() {
    for (topic, says) in [
        ("", "a topic name cannot be empty"),
        (
            "bad topic!",
            "topic `bad topic!` has ' ', which Kafka does not allow",
        ),
    ] {
        // Nothing listens at the brokers: the name is refused before any connection.
        let closed = closed_port();
        let out = run(example("favorite_color")
            .args(["push", "--topic", topic, "--bootstrap"])
            .arg(format!("127.0.0.1:{closed}")));
        assert_eq!(out.status.code(), Some(2), "a usage error: {}", out.stderr);
        assert!(out.stderr.contains(says), "{}", out.stderr);
    }
}

//! `check`: each stream reported ok, or the first problem found, fast.

use super::*;

/// A `check` deadline longer than the bound its run is given: a check that ends within the
/// bound recognised the problem rather than waited it out (and the problem's text says which).
const CHECK_DEADLINE: &str = "120s";

/// Runs `check` and asserts it fails with exactly `problem` on stderr.
fn assert_check_fails(command: &mut Command, problem: &str) {
    let out = run_within(
        command.args(["check", "--timeout", CHECK_DEADLINE]),
        b"",
        COMMAND_BOUND,
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert_eq!(out.stderr, format!("error: {problem}\n"));
    assert_eq!(out.stdout, "");
    eprintln!("check failed in {:?}: {problem}", out.elapsed);
}

#[test]
fn check_reports_each_stream_ok_when_its_topics_exist() {
    let kafka = kafka_with_topics(&[COLOR_TOPIC], 3);
    let out = run(example("favorite_color")
        .arg("check")
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "ok: stream `{FAVORITE_COLOR}`: {COLOR_TOPIC} (3 partitions) on {}",
            kafka.bootstrap_servers()
        )]
    );
    assert_eq!(out.stderr, "", "no librdkafka log lines");

    // The dead-letter topic is checked too.
    let kafka = kafka_with_topics(&["orders"], 1);
    let out = run_within(
        example("orders_dlq")
            .args(["check", "--timeout", CHECK_DEADLINE])
            .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()),
        b"",
        COMMAND_BOUND,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        out.stderr,
        format!(
            "error: stream `orders`: dead-letter topic `orders_dlq` does not exist on {}\n",
            kafka.bootstrap_servers()
        )
    );
    kafka.create_topic("orders_dlq", 2).expect("topic created");
    let out = run(example("orders_dlq")
        .args(["check", "--only", "orders"])
        .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()));
    out.assert_success();
    assert_eq!(
        out.stdout_lines(),
        [format!(
            "ok: stream `orders`: orders (1 partition), orders_dlq (2 partitions) on {}",
            kafka.bootstrap_servers()
        )]
    );
}

#[test]
fn check_lists_configuration_problems_as_run_does() {
    let check = run(example("favorite_color").arg("check"));
    let start = run(example("favorite_color").arg("run"));
    assert_eq!(check.status.code(), Some(1));
    assert!(
        check
            .stderr
            .starts_with("error: configuration problem: stream `"),
        "{}",
        check.stderr
    );
    assert_eq!(check.stderr, start.stderr);
}

#[test]
fn check_fails_fast_when_no_broker_listens() {
    let closed = closed_port();
    let broker = format!("127.0.0.1:{closed}");
    assert_check_fails(
        example("favorite_color").env("KAFKA_BOOTSTRAP_SERVER", &broker),
        &format!("stream `{FAVORITE_COLOR}`: cannot connect to {broker}: connection refused"),
    );
}

#[test]
fn check_fails_fast_when_a_topic_is_missing() {
    let kafka = kafka_with_topics(&["some_other_topic"], 1);
    assert_check_fails(
        example("favorite_color").env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers()),
        &format!(
            "stream `{FAVORITE_COLOR}`: topic `{COLOR_TOPIC}` does not exist on {}",
            kafka.bootstrap_servers()
        ),
    );
}

/// The mock cluster speaks no SASL: its ApiVersions answer lists no SaslHandshake, so a client
/// configured for SASL_PLAINTEXT connects, then fails at the start of the SASL exchange, before
/// any credential is sent. A real broker's answer to a wrong password (`SaslAuthenticate`
/// failing) is exercised on tansu: tests/sasl.rs (`run`) and tests/tls.rs (`check`).
#[test]
fn check_fails_fast_when_the_sasl_login_fails() {
    let kafka = kafka_with_topics(&[COLOR_TOPIC], 1);
    let password = "not-her-password";
    assert_check_fails(
        example("favorite_color")
            .env("KAFKA_BOOTSTRAP_SERVER", kafka.bootstrap_servers())
            .env("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
            .env("KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
            .env("KAFKA_SASL_USERNAME", "alice")
            .env("KAFKA_SASL_PASSWORD", password),
        &format!(
            "stream `{FAVORITE_COLOR}`: authentication failed at {} as `alice` \
             (SASL_PLAINTEXT, SCRAM-SHA-256): Failed to initialize SASL authentication: \
             SASL Handshake not supported by broker (required by mechanism SCRAM-SHA-256)",
            kafka.bootstrap_servers()
        ),
    );
}

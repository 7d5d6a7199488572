//! What `list` and `run` say the Kafka client would refuse.

use crate::{example, run, text};

/// What librdkafka would refuse when the client is made is said by `list` already, and `run`
/// and `list` name a key file that is not there, rather than pass on librdkafka's TLS error.
#[test]
fn list_and_run_say_what_the_kafka_client_would_refuse() {
    let out = run(example()
        .arg("list")
        .env("KAFKA_ADDITIONAL_KAFKA_ARGS", r#"{"foo.bar": "1"}"#));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "option `additional_kafka_args`: librdkafka refuses `foo.bar`: No such \
             configuration property: \"foo.bar\""
        ),
        "{}",
        text(&out.stderr)
    );

    // A key file that is not there: `run` refuses it, and `list` says so.
    let missing = tempfile::tempdir().expect("temp dir").path().join("ca.pem");
    for command in ["run", "list"] {
        let out = run(example()
            .arg(command)
            .env("KAFKA_BOOTSTRAP_SERVER", "127.0.0.1:1")
            .env("KAFKA_SECURITY_PROTOCOL", "SSL")
            .env("KAFKA_SSL_CA_FILE", &missing));
        let expected = if command == "run" { Some(1) } else { Some(0) };
        assert_eq!(out.status.code(), expected, "{command}");
        assert!(
            text(&out.stderr).contains(&format!(
                "option `ssl_ca_file`: nothing at `{}`",
                missing.display()
            )),
            "{command}: {}",
            text(&out.stderr)
        );
    }
}

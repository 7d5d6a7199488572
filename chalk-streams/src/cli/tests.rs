//! The command line's parsing: durations, addresses, versions.

use std::time::Duration;

#[test]
fn durations_need_a_unit_and_cannot_be_zero() {
    assert_eq!(
        super::values::parse_duration("1m30s"),
        Ok(Duration::from_secs(90))
    );
    let zero = super::values::parse_duration("0s").expect_err("zero");
    assert!(zero.starts_with("`0s` is zero"), "{zero}");
    let bogus = super::values::parse_duration("10").expect_err("no unit");
    assert!(bogus.ends_with("such as 10s, 500ms or 1h30m"), "{bogus}");
    assert_eq!(
        super::values::parse_duration("1h 30m"),
        Ok(Duration::from_secs(5400))
    );
    for other_grammar in ["1M", "2sec", "1y", "infinity"] {
        let error = super::values::parse_duration(other_grammar).expect_err(other_grammar);
        assert!(error.contains("is not a duration"), "{error}");
    }
}

#[test]
fn a_timeout_is_at_most_what_the_kafka_client_can_wait() {
    assert_eq!(
        super::values::parse_timeout("24d"),
        Ok(Duration::from_secs(24 * 86_400))
    );
    let error = super::values::parse_timeout("25d").expect_err("wraps in librdkafka");
    assert_eq!(
        error,
        "`25d` is longer than the Kafka client can wait, 24days 20h 31m 23s"
    );
    assert!(super::values::parse_timeout("0s").is_err());
    // The window retention is not a client's wait: it may be longer.
    assert!(super::values::parse_window_retention("30d").is_ok());
}

#[test]
fn run_takes_the_window_retention() {
    use clap::Parser as _;
    let run = |args: &[&str]| match super::Cli::try_parse_from(args) {
        Ok(super::Cli {
            command: super::Command::Run(run),
        }) => run.window_retention,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        run(&["app", "run", "--window-retention", "3d"]),
        Some(Duration::from_secs(3 * 24 * 3600))
    );
    assert_eq!(run(&["app", "run"]), None);
}

#[test]
fn asyncapi_describes_the_applications_version_unless_told_another() {
    use clap::Parser as _;
    let args = |line: &[&str]| match super::Cli::try_parse_from(line) {
        Ok(super::Cli {
            command: super::Command::Asyncapi(args),
        }) => args,
        other => panic!("{other:?}"),
    };
    let plain = args(&["app", "asyncapi"]);
    assert_eq!(plain.version(Some("2.3.0")), "2.3.0");
    assert_eq!(plain.version(None), "1.0.0");
    let told = args(&["app", "asyncapi", "--app-version", "9.9"]);
    assert_eq!(told.version(Some("2.3.0")), "9.9");
}

#[test]
fn a_metrics_host_name_binds_its_ipv4_address() {
    // As `localhost` resolves on many hosts: `::1` first.
    let address = |text: &str| -> std::net::SocketAddr { text.parse().expect("address") };
    let resolved = [address("[::1]:9090"), address("127.0.0.1:9090")];
    assert_eq!(
        super::values::first_ipv4_else_first(resolved),
        Some(address("127.0.0.1:9090"))
    );
    assert_eq!(
        super::values::first_ipv4_else_first([address("[::1]:9090")]),
        Some(address("[::1]:9090"))
    );
    let local = super::values::parse_socket_addr("localhost:9090").expect("localhost");
    assert!(local.ip().is_loopback(), "{local}");
    let v6 = super::values::parse_socket_addr("[::1]:9090").expect("an IPv6 address");
    assert!(v6.is_ipv6(), "{v6}");
    let error = super::values::parse_socket_addr("9090").expect_err("no host");
    assert!(error.starts_with("`9090` is not HOST:PORT"), "{error}");
}

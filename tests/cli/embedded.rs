//! `run --embedded`: what it prints, what it stores, and what `get` and `sqlite3` read back.

use std::process::Command;

use crate::{example, run, text};

#[test]
fn embedded_run_prints_the_features_of_the_samples() {
    let out = run(example().args(["run", "--embedded"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("5 sample messages produced"), "{stdout}");
    assert!(
        stdout.contains("stream favorite_color::favorite_color: 5 processed, 0 skipped as late, 0 failed, 5 feature rows written"),
        "{stdout}"
    );
    let features: Vec<(String, String)> = printed_features(&stdout)
        .into_iter()
        .map(|[_, key, _, value]| (key, value))
        .collect();
    let expected = [
        ("u1", "purple"),
        ("u2", "green"),
        ("u3", "blue"),
        ("u4", "orange"),
    ];
    assert_eq!(
        features,
        expected.map(|(k, v)| (k.to_owned(), v.to_owned())),
        "the later update of u1 wins"
    );
}

/// A source on the `consumer` group protocol runs embedded too: the demo's short session
/// timeout is for the classic protocol, and librdkafka refuses a client that sets one with it.
#[test]
fn embedded_run_on_the_consumer_group_protocol() {
    let out = run(example().args(["run", "--embedded"]).env(
        "KAFKA_ADDITIONAL_KAFKA_ARGS",
        r#"{"group.protocol": "consumer"}"#,
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("5 processed, 0 skipped as late, 0 failed, 5 feature rows written"),
        "{stdout}"
    );
}

/// The rows of the table `run --embedded` prints: entity, key, feature, value.
fn printed_features(stdout: &str) -> Vec<[String; 4]> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("ENTITY"))
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            [0, 1, 2, 3].map(|i| cells[i].to_owned())
        })
        .collect()
}

/// A store that already holds another application's entities: the demo shows this run's.
#[test]
fn embedded_run_prints_only_what_it_wrote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = format!("sqlite://{}", dir.path().join("features.sqlite").display());
    let mut orders = Command::new(suite::example_named("orders_dlq"));
    let out = run(orders
        .args(["run", "--embedded"])
        .env("CHALK_STORE", &store)
        .env("RUST_LOG", "error"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(printed_features(&text(&out.stdout))
        .iter()
        .all(|row| row[0] == "order"));

    let out = run(example()
        .args(["run", "--embedded"])
        .env("CHALK_STORE", &store));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let keys: Vec<String> = printed_features(&text(&out.stdout))
        .into_iter()
        .map(|[entity, key, _, _]| format!("{entity} {key}"))
        .collect();
    assert_eq!(keys, ["user u1", "user u2", "user u3", "user u4"]);
}

#[test]
fn features_survive_a_restart_and_read_with_get_and_sqlite3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("features.sqlite");
    let store = format!("sqlite://{}", file.display());
    for run_number in 1..=2 {
        let out = run(example()
            .args(["run", "--embedded"])
            .env("CHALK_STORE", &store));
        assert!(
            out.status.success(),
            "run {run_number}: {}",
            text(&out.stderr)
        );
    }
    let out = run(example()
        .args(["get", "user", "u2"])
        .env("CHALK_STORE", &store));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.lines().any(|l| l.split_whitespace().take(4).eq([
            "user",
            "u2",
            "favorite_color",
            "green"
        ])),
        "{table}"
    );

    let out = run(example().args(["get", "user", "u1", "--json", "--store", &store]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["features"]["favorite_color"]["value"], "purple");
    assert_eq!(json["features"]["favorite_color"]["type"], "string");

    let out = run(example()
        .args(["get", "user", "nobody"])
        .env("CHALK_STORE", &store));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no features stored for user `nobody`"));
    assert!(!text(&out.stderr).contains("no stream writes"));

    // The entity is the struct's name in snake case: `users` is a likely typo of `user`.
    let out = run(example()
        .args(["get", "users", "u1"])
        .env("CHALK_STORE", &store));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no stream writes entity `users`: did you mean `user`?"),
        "{}",
        text(&out.stderr)
    );

    // A mistyped path is not an empty store: it is an error, and no file appears.
    let missing = dir.path().join("featurs.sqlite");
    let out = run(example().args([
        "get",
        "user",
        "u1",
        "--store",
        &format!("sqlite://{}", missing.display()),
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("no store file at {}", missing.display())),
        "{}",
        text(&out.stderr)
    );
    assert!(!missing.exists());

    let sqlite3 = Command::new("sqlite3")
        .arg(&file)
        .arg("SELECT entity_key, feature, value, value_type FROM features WHERE namespace = 'user' ORDER BY entity_key;")
        .output()
        .expect("the sqlite3 tool runs (scripts/setup.sh installs it)");
    assert!(sqlite3.status.success(), "{}", text(&sqlite3.stderr));
    assert_eq!(
        text(&sqlite3.stdout),
        "u1|favorite_color|purple|string\nu2|favorite_color|green|string\nu3|favorite_color|blue|string\nu4|favorite_color|orange|string\n"
    );
}

/// A Redis store that does not answer stops an embedded run at once, naming the server (not
/// its password), rather than leaving the samples to wait for it.
#[test]
fn embedded_run_with_a_store_that_does_not_answer_says_so_at_once() {
    // Port 1 on loopback: nothing listens there.
    let out = run(example()
        .args([
            "run",
            "--embedded",
            "--store",
            "redis://:secret@127.0.0.1:1",
        ])
        .env("RUST_LOG", "error"));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("feature store unavailable: redis 127.0.0.1:1: ")
            && stderr.contains("start it, or choose another store with --store"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
    assert!(
        !text(&out.stdout).contains("sample messages produced"),
        "stopped before the samples"
    );
}

#[test]
fn a_store_url_without_a_path_says_what_it_needs() {
    let out = run(example().args(["run", "--embedded", "--store", "sqlite://"]));
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`sqlite://` needs the file's path: `sqlite://PATH`"),
        "{stderr}"
    );
}

/// An embedded run writes its samples' features, stamped with the current time, to its store:
/// `CHALK_STORE` left set to a Redis server (production, say, or a tunnel to it on this
/// machine) is refused before anything is sent there; `--store` names such a store on purpose.
#[test]
fn embedded_run_refuses_a_redis_store_named_by_the_environment() {
    // A name that never resolves (RFC 6761), and a loopback port nothing listens on, in case
    // the check were lost.
    let nowhere = suite::server::closed_port();
    for url in [
        "redis://cache.invalid:6379".to_owned(),
        format!("redis://127.0.0.1:{nowhere}"),
    ] {
        let out = run(example()
            .args(["run", "--embedded"])
            .env("CHALK_STORE", &url));
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "CHALK_STORE names {url}, a server that other programs may use: an embedded run \
                 would write its sample messages' features there"
            )),
            "{stderr}"
        );
        assert!(
            !stderr.contains("feature store store="),
            "refused before the store is opened: {stderr}"
        );
    }
}

/// `get` on an SQLite file that is not a store (another program's database, named by mistake,
/// even one with a `features` table of its own) says so, and leaves the file as it was, where
/// opening it as a store added its table and switched the file to WAL.
#[test]
fn get_leaves_a_file_that_is_not_a_store_as_it_was() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, table) in [
        ("accounts", "CREATE TABLE accounts (id INTEGER PRIMARY KEY)"),
        ("tags", "CREATE TABLE features (name TEXT)"),
    ] {
        let file = dir.path().join(format!("{name}.sqlite"));
        let state = || -> (Vec<String>, String) {
            let connection = rusqlite::Connection::open(&file).expect("open");
            let mut statement = connection
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .expect("prepared");
            let tables = statement
                .query_map([], |row| row.get(0))
                .expect("listed")
                .collect::<Result<_, _>>()
                .expect("names");
            let journal = connection
                .query_row("PRAGMA journal_mode", [], |row| row.get(0))
                .expect("journal mode");
            (tables, journal)
        };
        rusqlite::Connection::open(&file)
            .expect("created")
            .execute_batch(table)
            .expect("table");
        let before = state();
        let out = run(example()
            .args(["get", "user", "u1", "--store"])
            .arg(format!("sqlite://{}", file.display())));
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(
            text(&out.stderr).contains(
                "is not a feature store (it has no `features` table of the store's columns)"
            ),
            "{name}: {}",
            text(&out.stderr)
        );
        assert_eq!(state(), before, "{name}");
    }
}

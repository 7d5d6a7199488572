//! Throughput benchmark: chalk-streams against a hand-written rdkafka consumer loop, then its
//! end-to-end latency at a fixed rate and its memory under a backlog.
//!
//! ```text
//! cargo bench --bench throughput -- [--messages N] [--partitions P] [--bootstrap HOST:PORT]
//!     [--rate R] [--latency-seconds S] [--backlog-seconds S] [--runs K]
//!     [--consumer-property NAME=VALUE ...] [--keys K]
//! ```
//!
//! One run produces N JSON messages (~60 bytes, the seed's shape; N defaults to 1,000,000 on a real
//! broker and 200,000 on the mock cluster, which keeps at most 5 MiB per partition) into a topic
//! of P partitions on the mock cluster, hosted in a child process so that its CPU is not counted
//! (or on a real broker with `--bootstrap`), then consumes them with each of three consumers, each
//! run in a process of its own: (a) a hand-written loop (poll, serde_json into the same struct, a
//! `HashMap`, an offset stored per message); (b) chalk-streams with the in-memory store; (c)
//! chalk-streams with the SQLite store. Each consumer runs K times (default 3), interleaved with
//! the others, because CPU time varies by 10-30% between identical runs here; it prints, from
//! each consumer's median run by CPU, messages and MB per second, CPU seconds per million
//! messages (with the range over the runs) and peak resident memory. Then (d) produces R messages
//! a second (default 10,000) for S seconds (default 10) to a stream with the in-memory store and
//! prints the p50, p99 and p99.9 of the time from handing a message to the producer to writing
//! its row; and (e) lets a resolver that takes 1 ms per message work for S seconds (default 5) on
//! a backlog of 10,000 messages, then on one of N, and prints the peak memory of each. Its last
//! line is `efficiency b/a=X.XX c/a=Y.YY`, where efficiency is a's CPU per message (median run)
//! divided by the variant's.
//!
//! The messages of (a), (b) and (c) cycle through K entity keys (`--keys`, default 100,000), so
//! that each key comes again only after K messages: no batch writes a key twice. Fewer keys (hot
//! entities) show what the SQLite store saves by writing a feature once per transaction.
//!
//! `--consumer-property` (repeatable) sets a librdkafka property on every consumer, the
//! hand-written loop's as well as chalk-streams', to see what a setting costs or saves: for
//! example `queued.max.messages.kbytes=512` and `message.max.bytes=524288`, smaller fetches.

mod backlog;
mod consumers;
mod kafka;
mod latency;
mod round_trips;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use chalk_streams::prelude::*;
use serde::Deserialize;

use kafka::{create_topics, produce, serve_mock};

const TOPIC: &str = "bench_user_updates";

#[derive(Deserialize)]
struct UserUpdateBody {
    user_id: String,
    favorite_color: String,
}

#[derive(Features, Default)]
struct User {
    #[primary]
    uid: String,
    favorite_color: Option<String>,
}

static BENCH_SOURCE: KafkaSource = KafkaSource::new().topic(TOPIC);

#[stream(source = BENCH_SOURCE, name = "bench")]
fn bench(body: UserUpdateBody) -> User {
    User {
        uid: body.user_id,
        favorite_color: Some(body.favorite_color),
    }
}

pub(crate) struct Args {
    pub(crate) messages: Option<u64>,
    pub(crate) partitions: i32,
    pub(crate) bootstrap: Option<String>,
    pub(crate) variant: Option<String>,
    pub(crate) serve_mock: bool,
    pub(crate) rate: u64,
    pub(crate) latency_seconds: u64,
    pub(crate) backlog_seconds: u64,
    pub(crate) runs: usize,
    pub(crate) consumer_properties: Vec<(String, String)>,
    pub(crate) keys: u64,
}

/// The `--consumer-property` settings, for every consumer of this process.
static CONSUMER_PROPERTIES: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// What `--consumer-property` set, in order, for the consumers to apply after their own.
pub(crate) fn consumer_properties() -> &'static [(String, String)] {
    CONSUMER_PROPERTIES.get().map_or(&[], Vec::as_slice)
}

/// The small backlog that the large one is compared with.
pub(crate) const SMALL_BACKLOG: u64 = 10_000;

fn parse_args() -> Args {
    let mut args = Args {
        messages: None,
        partitions: 4,
        bootstrap: None,
        variant: None,
        serve_mock: false,
        rate: 10_000,
        latency_seconds: 10,
        backlog_seconds: 5,
        runs: 3,
        consumer_properties: Vec::new(),
        keys: 100_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| fail(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--messages" => {
                args.messages = Some(value().parse().unwrap_or_else(|_| fail("--messages N")))
            }
            "--partitions" => {
                args.partitions = value().parse().unwrap_or_else(|_| fail("--partitions P"))
            }
            "--bootstrap" => args.bootstrap = Some(value()),
            "--variant" => args.variant = Some(value()),
            "--rate" => args.rate = value().parse().unwrap_or_else(|_| fail("--rate R")),
            "--latency-seconds" => {
                args.latency_seconds = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--latency-seconds S"))
            }
            "--backlog-seconds" => {
                args.backlog_seconds = value()
                    .parse()
                    .unwrap_or_else(|_| fail("--backlog-seconds S"))
            }
            "--runs" => {
                args.runs = value()
                    .parse::<usize>()
                    .unwrap_or_else(|_| fail("--runs K"))
                    .max(1)
            }
            "--consumer-property" => {
                let setting = value();
                let Some((name, value)) = setting.split_once('=') else {
                    fail("--consumer-property NAME=VALUE");
                };
                args.consumer_properties
                    .push((name.to_owned(), value.to_owned()));
            }
            "--keys" => {
                args.keys = value()
                    .parse::<u64>()
                    .unwrap_or_else(|_| fail("--keys K"))
                    .max(1)
            }
            "--serve-mock" => args.serve_mock = true,
            // cargo bench passes --bench to harness-less benches.
            "--bench" => {}
            other => fail(&format!("unknown argument {other}")),
        }
    }
    args
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// CPU seconds (user + system) and peak resident memory (KiB) of this process so far.
///
/// The peak is `VmHWM` from `/proc/self/status`, not `ru_maxrss`: Linux keeps `ru_maxrss`
/// across `exec`, so a variant would report the orchestrator's peak (the producer's queue) when
/// that is larger than its own.
fn usage() -> (f64, i64) {
    // SAFETY: getrusage fills the struct it is given; a zeroed rusage is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(usage.ru_maxrss);
    (seconds(usage.ru_utime) + seconds(usage.ru_stime), peak_kib)
}

fn main() {
    let args = parse_args();
    let _ = CONSUMER_PROPERTIES.set(args.consumer_properties.clone());
    if args.serve_mock {
        return serve_mock(args.partitions, args.messages.unwrap_or(0));
    }
    if let Some(variant) = &args.variant {
        let bootstrap = args
            .bootstrap
            .clone()
            .unwrap_or_else(|| fail("--bootstrap"));
        let messages = args.messages.unwrap_or_else(|| fail("--messages"));
        let partitions = u64::try_from(args.partitions).unwrap_or(1);
        return match variant.as_str() {
            "latency" => latency::run(&bootstrap, partitions, args.rate, args.latency_seconds),
            "latency-a" => {
                latency::run_hand_written(&bootstrap, partitions, args.rate, args.latency_seconds)
            }
            "backlog" => backlog::run(&bootstrap, messages, args.backlog_seconds),
            _ => consumers::run_variant(variant, &bootstrap, messages),
        };
    }
    orchestrate(&args);
}

/// The mock cluster keeps at most 5 MiB per partition; more and the oldest messages are gone
/// before they are read.
const MOCK_BYTES_PER_PARTITION: u64 = 4 * 1024 * 1024;
/// Bytes of one benchmark message, key included, rounded up.
const MESSAGE_BYTES: u64 = 72;

fn orchestrate(args: &Args) {
    let on_mock = args.bootstrap.is_none();
    let messages = args
        .messages
        .unwrap_or(if on_mock { 200_000 } else { 1_000_000 });
    let partitions = u64::try_from(args.partitions.max(1)).unwrap_or(1);
    if on_mock && messages * MESSAGE_BYTES / partitions > MOCK_BYTES_PER_PARTITION {
        fail(&format!(
            "the mock cluster keeps at most 5 MiB per partition: {messages} messages need \
             --partitions {} or more, or a real broker with --bootstrap HOST:PORT",
            messages * MESSAGE_BYTES / MOCK_BYTES_PER_PARTITION + 1
        ));
    }
    let self_path = std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string()));
    let mut broker = None;
    let bootstrap = match &args.bootstrap {
        Some(b) => b.clone(),
        None => {
            let mut child = Command::new(&self_path)
                .args(["--serve-mock", "--partitions", &args.partitions.to_string()])
                .args(["--messages", &messages.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| fail(&e.to_string()));
            let mut line = String::new();
            let stdout = child.stdout.take().unwrap_or_else(|| fail("no stdout"));
            BufReader::new(stdout)
                .read_line(&mut line)
                .unwrap_or_else(|e| fail(&e.to_string()));
            broker = Some(child);
            line.trim().to_owned()
        }
    };
    if args.bootstrap.is_some() {
        create_topics(&bootstrap, args.partitions, messages);
    }
    let bytes = produce(&bootstrap, TOPIC, messages, args.keys);
    println!(
        "machine: {} cores; {} messages ({:.1} MB, {} keys) in {} partitions on {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        messages,
        bytes as f64 / 1e6,
        args.keys.min(messages),
        args.partitions,
        if args.bootstrap.is_some() {
            bootstrap.as_str()
        } else {
            "the mock cluster (child process)"
        }
    );
    if !args.consumer_properties.is_empty() {
        let settings: Vec<String> = args
            .consumer_properties
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        println!("every consumer with: {}", settings.join(", "));
    }
    println!(
        "{:<28} {:>12} {:>8} {:>16} {:>14} {:>12}",
        "consumer", "msg/s", "MB/s", "CPU s / M msgs", "(runs: range)", "peak RSS MB"
    );
    let variants = [
        ("a", "(a) hand-written rdkafka loop"),
        ("b", "(b) chalk-streams, memory"),
        ("c", "(c) chalk-streams, SQLite"),
    ];
    // CPU time on these machines varies by 10-30% between identical runs, so each variant
    // runs several times, interleaved with the others, and the median run is reported.
    let mut runs: HashMap<&str, Vec<[f64; 3]>> = HashMap::new();
    for _ in 0..args.runs {
        for (variant, _) in variants {
            let fields = run_self(
                &self_path,
                &[
                    "--variant".into(),
                    variant.into(),
                    "--bootstrap".into(),
                    bootstrap.clone(),
                    "--messages".into(),
                    messages.to_string(),
                ],
            );
            let [wall, cpu, rss_kb] = fields[..] else {
                fail(&format!("variant {variant} printed {fields:?}"));
            };
            runs.entry(variant).or_default().push([wall, cpu, rss_kb]);
        }
    }
    let count = messages as f64;
    let mut cpu_per_message = HashMap::new();
    for (variant, label) in variants {
        let variant_runs = runs.entry(variant).or_default();
        variant_runs.sort_by(|x, y| x[1].total_cmp(&y[1]));
        let [wall, cpu, rss_kb] = variant_runs[variant_runs.len() / 2];
        let per_million = |cpu: f64| cpu / count * 1e6;
        let (low, high) = (variant_runs[0][1], variant_runs[variant_runs.len() - 1][1]);
        println!(
            "{label:<28} {:>12.0} {:>8.1} {:>16.2} {:>14} {:>12.1}",
            count / wall,
            bytes as f64 / 1e6 / wall,
            per_million(cpu),
            format!(
                "{}: {:.2}-{:.2}",
                variant_runs.len(),
                per_million(low),
                per_million(high)
            ),
            rss_kb / 1024.0
        );
        cpu_per_message.insert(variant, cpu / count);
    }
    latency::measure(&self_path, &bootstrap, args);
    backlog::measure(&self_path, &bootstrap, args, messages);
    if let Some(mut child) = broker {
        drop(child.stdin.take());
        let _ = child.wait();
    }
    let a = cpu_per_message["a"];
    println!(
        "efficiency b/a={:.2} c/a={:.2}",
        a / cpu_per_message["b"],
        a / cpu_per_message["c"]
    );
}

/// Runs variant `args` of this program, with this run's consumer properties, and returns the
/// numbers it printed.
pub(crate) fn run_self(self_path: &std::path::Path, args: &[String]) -> Vec<f64> {
    let properties = consumer_properties()
        .iter()
        .flat_map(|(name, value)| ["--consumer-property".to_owned(), format!("{name}={value}")]);
    let output = Command::new(self_path)
        .args(args)
        .args(properties)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| fail(&e.to_string()));
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect()
}

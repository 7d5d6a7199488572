//! (e) Memory under a backlog: a topic holds N messages and a slow resolver works through them
//! for a while. What waits is bounded by librdkafka's prefetch limits, which chalk-streams sets,
//! so peak memory should not grow with N.

use std::path::Path;
use std::time::Duration;

use chalk_streams::prelude::*;
use serde::Deserialize;

use crate::fail;
use crate::kafka::{bench_stream, produce, tokio_runtime};
use crate::{run_self, Args, SMALL_BACKLOG};

/// The topic of a backlog of `messages` messages.
pub fn topic(messages: u64) -> String {
    format!("bench_backlog_{messages}")
}

#[derive(Deserialize)]
struct Update {
    user_id: String,
}

#[derive(Features, Default)]
struct SlowUser {
    #[primary]
    uid: String,
    seen: Option<bool>,
}

/// The topic comes from `backlog_KAFKA_TOPIC`, so one stream serves every backlog size.
static BACKLOG_SOURCE: KafkaSource = KafkaSource::new().name("backlog");

/// The one entity the slow resolver writes. Were it each message's user, the store would grow
/// with the messages handled, and a run over many partitions handles more of them in the same
/// time (36,864 against 10,000 over 18 partitions, 13 MB of the in-memory store): the
/// measurement is of what waits, not of what was done.
const BACKLOG_ENTITY: &str = "backlog";

/// One millisecond per message: a resolver far slower than the broker.
#[stream(source = BACKLOG_SOURCE, name = "bench_backlog")]
async fn bench_backlog(update: Update) -> SlowUser {
    tokio::time::sleep(Duration::from_millis(1)).await;
    SlowUser {
        uid: BACKLOG_ENTITY.to_owned(),
        seen: Some(!update.user_id.is_empty()),
    }
}

/// Runs the slow stream over the backlog of `messages` messages for `seconds`, then prints
/// `handled peak_rss_kib`.
pub fn run(bootstrap: &str, messages: u64, seconds: u64) {
    let topic = topic(messages);
    let handled = tokio_runtime().block_on(async {
        let running = bench_stream("bench_backlog", bootstrap, &[], move |var| {
            (var == "backlog_KAFKA_TOPIC").then(|| topic.clone())
        })
        .start()
        .await
        .unwrap_or_else(|e| fail(&e.to_string()));
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let handled = running
            .stats("bench_backlog")
            .map_or(0, |s| s.snapshot().handled());
        let _ = running.shutdown().await;
        handled
    });
    let (_, rss_kib) = crate::usage();
    println!("{handled} {rss_kib}");
}

/// (e): peak memory over a small and a large backlog.
pub fn measure(self_path: &Path, bootstrap: &str, args: &Args, messages: u64) {
    let mut peaks = Vec::new();
    for backlog in [SMALL_BACKLOG, messages] {
        // With N = SMALL_BACKLOG both runs read the one topic, produced once.
        if peaks.is_empty() || backlog != SMALL_BACKLOG {
            produce(bootstrap, &topic(backlog), backlog, args.keys);
        }
        let fields = run_self(
            self_path,
            &[
                "--variant".into(),
                "backlog".into(),
                "--bootstrap".into(),
                bootstrap.into(),
                "--messages".into(),
                backlog.to_string(),
                "--backlog-seconds".into(),
                args.backlog_seconds.to_string(),
            ],
        );
        let [handled, rss_kib] = fields[..] else {
            fail(&format!("the backlog run printed {fields:?}"));
        };
        println!(
            "(e) backlog of {backlog} messages, resolver at 1 ms/message for {} s: \
             {handled} handled, peak RSS {:.1} MB",
            args.backlog_seconds,
            rss_kib / 1024.0
        );
        peaks.push(rss_kib);
    }
    println!(
        "(e) peak memory, backlog of {messages} over backlog of {SMALL_BACKLOG}: {:.2}x",
        peaks[1] / peaks[0]
    );
}

//! `list`: the registered streams and their resolved sources.

use serde::Serialize;

use crate::error::Result;
use crate::runtime::{Runtime, StreamPlan};

#[derive(Debug, clap::Args)]
pub(super) struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One stream as `list` shows it; secrets never appear.
#[derive(Debug, Serialize)]
struct Row {
    name: &'static str,
    function: &'static str,
    source: Option<String>,
    topics: Vec<String>,
    group_id: String,
    late_arrival_deadline: String,
    windows: Vec<&'static str>,
    dead_letter_queue_topic: Option<String>,
    bootstrap_servers: Vec<String>,
    security_protocol: String,
}

impl Row {
    fn new(plan: &StreamPlan) -> Self {
        Self {
            name: plan.descriptor.name(),
            function: plan.descriptor.function(),
            source: plan.source.name.clone(),
            topics: plan.source.topics.clone(),
            group_id: plan.group_id(),
            late_arrival_deadline: plan.source.late_arrival_deadline.to_string(),
            windows: plan.descriptor.windows().to_vec(),
            dead_letter_queue_topic: plan.source.dead_letter_queue_topic.clone(),
            bootstrap_servers: plan.source.bootstrap_servers.clone(),
            security_protocol: plan.source.security_protocol.to_string(),
        }
    }
}

pub(super) fn run(runtime: &Runtime, args: &ListArgs) -> Result<()> {
    let rows: Vec<Row> = runtime.plan()?.iter().map(Row::new).collect();
    if args.json {
        let json = serde_json::to_string_pretty(&rows)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        println!("{json}");
        return Ok(());
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.name.to_owned(),
                r.source.clone().unwrap_or_else(|| "-".into()),
                r.topics.join(","),
                r.group_id.clone(),
                r.late_arrival_deadline.clone(),
                if r.windows.is_empty() {
                    "-".to_owned()
                } else {
                    r.windows.join(",")
                },
                r.dead_letter_queue_topic
                    .clone()
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print!(
        "{}",
        super::table::render(
            &["STREAM", "SOURCE", "TOPICS", "GROUP", "DEADLINE", "WINDOW", "DLQ"],
            &table
        )
    );
    Ok(())
}

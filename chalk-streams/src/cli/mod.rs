//! The command line every chalk-streams application gets from [`main`](crate::main):
//! `run`, `list`.

mod embedded;
mod list;
mod table;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};

use crate::error::Result;
use crate::runtime::Runtime;

/// An application: the registered streams plus sample data for the embedded demo.
#[derive(Debug, Default, Clone)]
pub struct App {
    samples: Vec<(String, String)>,
}

#[derive(Debug, Parser)]
#[command(
    about = "Run and inspect the Kafka stream resolvers of this program.",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the streams and run until SIGINT/SIGTERM.
    Run(RunArgs),
    /// List the registered streams: name, source, topics, consumer group, deadline.
    List(list::ListArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Run on an in-process Kafka cluster, feed it the application's sample messages, print the
    /// features computed and exit. No broker to install.
    #[arg(long)]
    embedded: bool,
    /// With --embedded, keep running after the samples are processed (until Ctrl-C).
    #[arg(long, requires = "embedded")]
    keep_running: bool,
    /// Run only these streams (repeatable).
    #[arg(long = "only", value_name = "STREAM")]
    only: Vec<String>,
}

impl App {
    /// An application with every registered stream and no samples.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sample messages for `run --embedded`: JSON lines produced to `topic` before the streams
    /// start.
    pub fn samples(mut self, topic: impl Into<String>, json_lines: impl Into<String>) -> Self {
        self.samples.push((topic.into(), json_lines.into()));
        self
    }

    /// Parses the command line and runs the command. Exits the process with status 1 and one
    /// clear message on error.
    pub fn main(self) -> Result<()> {
        init_tracing();
        let cli = Cli::parse();
        let runtime = tokio::runtime::Runtime::new()?;
        let result = runtime.block_on(self.execute(cli.command));
        if let Err(error) = &result {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
        result
    }

    async fn execute(self, command: Command) -> Result<()> {
        match command {
            Command::List(args) => list::run(&Runtime::from_registry()?, &args),
            Command::Run(args) => {
                let runtime = Runtime::from_registry()?.only(&args.only)?;
                if args.embedded {
                    embedded::run(runtime, &self.samples, args.keep_running).await
                } else {
                    runtime.start().await?.run_until_signal().await
                }
            }
        }
    }
}

/// Logs to stderr at `info` (override with `RUST_LOG`), without colours when not a terminal.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

//! The command line every chalk-streams application gets from [`main`](crate::main):
//! `run`, `list`, `get`, `check`, `push`, `dlq replay` and `asyncapi`.

mod check;
mod dlq;
mod embedded;
mod get;
mod kafka;
mod list;
mod push;
mod stdout;
mod table;
mod touched;
mod usage_errors;
mod values;

use std::io::IsTerminal;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::runtime::{Runtime, ShutdownSignal};
use crate::store::StoreConfig;
use crate::testing::Record;
use values::{parse_socket_addr, parse_store, parse_timeout, parse_window_retention};

/// An application: the registered streams plus sample data for the embedded demo.
#[derive(Debug, Default, Clone)]
pub struct App {
    samples: Vec<Record>,
    version: Option<&'static str>,
}

#[derive(Debug, Parser)]
#[command(about = "Run and inspect the Kafka stream resolvers of this program.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the streams and run until SIGINT/SIGTERM.
    Run(RunArgs),
    /// List the registered streams: name, source, topics, consumer group, deadline, windows,
    /// dead-letter topic. Needs no broker.
    List(list::ListArgs),
    /// Read an entity's features from the store.
    Get(get::GetArgs),
    /// Print an AsyncAPI 3.0 document of the registered streams: one channel per topic, one
    /// receive operation per stream and topic, payload schemas from the Rust types (those
    /// deriving `schemars::JsonSchema`; `String` and `Vec<u8>` are strings; others accept any
    /// JSON).
    Asyncapi(AsyncApiArgs),
    /// Check that each stream's brokers answer and its topics exist.
    ///
    /// Resolves every source (configuration problems are listed as `run` lists them), then
    /// connects to each stream's brokers within --timeout and describes its topics and
    /// dead-letter topic. Prints one `ok:` line per healthy stream; otherwise one line per
    /// problem (unreachable brokers, failed authentication, missing topic), naming the stream,
    /// and exits with status 1.
    Check(check::CheckArgs),
    /// Produce each line of a file or standard input as one message to a topic.
    ///
    /// Empty lines are skipped. Waits until every message is acknowledged, prints how many were,
    /// and exits with status 1 if any was not.
    Push(push::PushArgs),
    /// Dead-letter topics: replay a stream's failed messages.
    Dlq {
        #[command(subcommand)]
        command: dlq::DlqCommand,
    },
}

/// Where features are stored: `sqlite://PATH[?flush_interval=DURATION]` (default
/// `sqlite://chalk-features.sqlite`), `redis://HOST:PORT[/DB]` or `memory`.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// The feature store: `sqlite://PATH[?flush_interval=DURATION]`, `redis://HOST:PORT[/DB]`
    /// or `memory` [default: sqlite://chalk-features.sqlite]
    // The variable's value may hold a Redis password: `--help` does not show it.
    #[arg(long = "store", env = "CHALK_STORE", hide_env_values = true, value_name = "URL", value_parser = parse_store)]
    store: Option<StoreConfig>,
}

impl StoreArgs {
    fn config(&self) -> StoreConfig {
        self.store.clone().unwrap_or_default()
    }
}

#[derive(Debug, clap::Args)]
struct AsyncApiArgs {
    /// The document's title [default: the program's name].
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    title: Option<String>,
    /// The application version the document describes [default: the one the application
    /// gives (`App::version`), else 1.0.0].
    #[arg(long = "app-version", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    app_version: Option<String>,
    /// The window retention `run` is given (default 24h), which caps the deadline of window
    /// streams: described as it applies.
    #[arg(long, env = "CHALK_WINDOW_RETENTION", value_name = "DURATION", value_parser = parse_window_retention)]
    window_retention: Option<std::time::Duration>,
}

impl AsyncApiArgs {
    /// The version to describe: `--app-version`, else the application's own, else 1.0.0.
    fn version<'a>(&'a self, application: Option<&'a str>) -> &'a str {
        self.app_version
            .as_deref()
            .or(application)
            .unwrap_or("1.0.0")
    }

    fn run(&self, application_version: Option<&str>) -> Result<()> {
        let title = self.title.clone().unwrap_or_else(|| {
            std::env::args()
                .next()
                .and_then(|p| {
                    std::path::Path::new(&p)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "chalk-streams".into())
        });
        let document = crate::asyncapi::document(
            &crate::registry::Registry::collect()?,
            &title,
            self.version(application_version),
            self.window_retention
                .unwrap_or(crate::runtime::DEFAULT_WINDOW_RETENTION),
        )
        .map_err(Error::Check)?;
        let text = serde_json::to_string_pretty(&document)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        crate::cli::stdout::print(format_args!("{text}\n"))?;
        Ok(())
    }
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
    /// Serve Prometheus metrics, health checks and stream status over HTTP on this address
    /// (`/metrics`, `/health/live`, `/health/ready`, `/streams`). Off by default. A host name
    /// binds the first IPv4 address it resolves to, if it has one (`localhost`: 127.0.0.1).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_socket_addr)]
    metrics_addr: Option<std::net::SocketAddr>,
    /// How long a window stream keeps a window after its end, for late messages: it caps the
    /// late-arrival deadline of window streams (default 24h).
    #[arg(long, env = "CHALK_WINDOW_RETENTION", value_name = "DURATION", value_parser = parse_window_retention)]
    window_retention: Option<std::time::Duration>,
    #[command(flatten)]
    store: StoreArgs,
    /// Whether the store was named by `CHALK_STORE` rather than `--store`.
    #[arg(skip)]
    store_from_env: bool,
}

impl App {
    /// An application with every registered stream and no samples.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sample messages for `run --embedded`: JSON lines produced to `topic` before the streams
    /// start.
    pub fn samples(mut self, topic: impl Into<String>, json_lines: impl AsRef<str>) -> Self {
        let topic = topic.into();
        let lines = json_lines.as_ref().lines().map(str::trim);
        self.samples.extend(
            lines
                .filter(|line| !line.is_empty())
                .map(|line| Record::bytes(topic.as_str(), line.as_bytes())),
        );
        self
    }

    /// Sample records for `run --embedded`, with keys, timestamps or headers of their own.
    pub fn sample_records(mut self, records: impl IntoIterator<Item = Record>) -> Self {
        self.samples.extend(records);
        self
    }

    /// The application's version, which `--version` prints with chalk-streams' own and the
    /// `asyncapi` document describes (unless `--app-version` says otherwise); usually
    /// `env!("CARGO_PKG_VERSION")`.
    pub fn version(mut self, version: &'static str) -> Self {
        self.version = Some(version);
        self
    }

    /// Parses the command line and runs the command. Exits the process with status 1 and one
    /// clear message when the command fails, and with status 2 and the usage when the command
    /// line itself is wrong (clap's convention).
    pub fn main(self) -> Result<()> {
        init_tracing();
        let cli = self.parse_command_line();
        let runtime = tokio::runtime::Runtime::new()?;
        let result = runtime.block_on(self.execute(cli.command));
        if let Err(error) = &result {
            stdout::eprintln(format_args!("error: {error}"));
            std::process::exit(1);
        }
        result
    }

    /// The command line, with `--help` and `--version` naming this program, not the library.
    fn parse_command_line(&self) -> Cli {
        let program = std::env::args_os()
            .next()
            .as_deref()
            .map(std::path::Path::new)
            .and_then(std::path::Path::file_name)
            .map(|name| {
                let name = name.to_string_lossy();
                let suffix = std::env::consts::EXE_SUFFIX;
                name.strip_suffix(suffix)
                    .filter(|_| !suffix.is_empty())
                    .unwrap_or(&name)
                    .to_owned()
            })
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| env!("CARGO_PKG_NAME").to_owned());
        let library = concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"));
        let version = match self.version {
            Some(version) => format!("{version} ({library})"),
            None => format!("({library})"),
        };
        let mut command = Cli::command().name(program).version(version);
        // An argument that is not UTF-8 is refused rather than read with its bytes replaced,
        // which would name another key, file or entity, silently. The program's own path may
        // be any bytes: clap shows it as it can.
        let mut args_os = std::env::args_os();
        let program_path = args_os
            .next()
            .map(|path| path.to_string_lossy().into_owned());
        let args = program_path
            .into_iter()
            .map(Ok)
            .chain(args_os.map(std::ffi::OsString::into_string))
            .collect::<std::result::Result<Vec<String>, _>>()
            .unwrap_or_else(|arg| {
                let shown = arg.to_string_lossy();
                command
                    .error(
                        clap::error::ErrorKind::InvalidUtf8,
                        format!(
                            "argument `{shown}` is not UTF-8 (shown with U+FFFD for what is not)"
                        ),
                    )
                    .exit()
            });
        let matches = command
            .try_get_matches_from_mut(&args)
            .unwrap_or_else(|error| usage_errors::clarified(error, &command, &args).exit());
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
        if let (Command::Run(run), Some(("run", matches))) =
            (&mut cli.command, matches.subcommand())
        {
            run.store_from_env =
                matches.value_source("store") == Some(clap::parser::ValueSource::EnvVariable);
        }
        cli
    }

    async fn execute(self, command: Command) -> Result<()> {
        match command {
            Command::List(args) => list::run(&Runtime::from_registry()?, &args),
            Command::Get(args) => get::run(&args).await,
            Command::Asyncapi(args) => args.run(self.version),
            Command::Check(args) => check::run(&args).await,
            Command::Push(args) => push::run(&args).await,
            Command::Dlq { command } => dlq::run(&command).await,
            Command::Run(args) => {
                let mut runtime = Runtime::from_registry()?.only(&args.only)?;
                if let Some(retention) = args.window_retention {
                    runtime = runtime.window_retention(retention);
                }
                if !args.embedded {
                    // Misconfigured sources are reported before anything is opened.
                    runtime.plan()?;
                }
                // Listen before anything starts, so an early SIGTERM still stops cleanly, and a
                // metrics port in use stops start-up before the store is opened or any consumer
                // joins its group.
                let signal = ShutdownSignal::install()?;
                let metrics = match args.metrics_addr {
                    Some(addr) => Some(crate::observe::bind(addr).await?),
                    None => None,
                };
                // Served from now on, before the store is opened and pinged (which can take
                // seconds): liveness answers, and readiness says the streams are starting. An
                // embedded run serves once its streams have started.
                let observed = crate::observe::ObservedStreams::starting();
                let (metrics, server) = if args.embedded {
                    (metrics, None)
                } else {
                    (
                        None,
                        metrics.map(|listener| listener.serve(observed.clone())),
                    )
                };
                let store = args.store.config();
                if args.embedded && args.store_from_env {
                    embedded::refuse_a_shared_store(&store)?;
                }
                tracing::info!(%store, "feature store");
                let store = store.open()?;
                if let Err(down) = store.ping().await {
                    // An embedded run's samples would wait for it until they time out.
                    if args.embedded {
                        return Err(Error::Embedded(format!(
                            "{down}: start it, or choose another store with --store"
                        )));
                    }
                    tracing::warn!(error = %down, "the feature store does not answer; the streams \
                        start, and each partition waits for it before its first write");
                }
                if args.embedded {
                    let store = touched::TouchedStore::new(store);
                    let embedded = embedded::Embedded {
                        samples: &self.samples,
                        store: store.clone(),
                        keep_running: args.keep_running,
                        metrics,
                    };
                    embedded.run(runtime.store(store), signal).await
                } else {
                    let running = runtime.store(store).start().await?;
                    observed.started(&running);
                    let result = running.run_until(signal).await;
                    drop(server);
                    result
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
        // A log line that cannot be written (standard error closed) is dropped: telling of it
        // with `eprintln!`, as the subscriber would, panics there.
        .log_internal_errors(false)
        .try_init();
}

#[cfg(test)]
mod tests;

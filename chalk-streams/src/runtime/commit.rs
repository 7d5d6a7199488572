//! Offset commits. All are synchronous and made one at a time (the stream context's commit
//! lock), so that no earlier commit can land after a later one and move the group back:
//! - every `auto.commit.interval.ms`, on a thread of their own, what the workers have stored
//!   (and a window stream's offsets with their read marks);
//! - where a partition changes hands (revocation, shutdown), retried while the failure is a
//!   passing one and read back: a commit lost there makes the next owner process again what was
//!   already done here.

use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::log_limit::LogLimiter;
use super::partition::KafkaConsumer;

/// Commits what the partition workers have stored every `every`, until `stop` is dropped or
/// sent to. A failure is logged (rate-limited) and the next commit carries the same offsets.
pub(super) fn spawn_periodic_commits(
    consumer: Arc<KafkaConsumer>,
    every: Duration,
    stop: mpsc::Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    let name = consumer.context().name();
    std::thread::Builder::new()
        .name(format!("chalk:{name}:commit"))
        .spawn(move || {
            let mut failures = LogLimiter::new(Duration::from_secs(60), 5);
            while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
                let result = {
                    let _one_at_a_time = consumer.context().commit_lock();
                    match consumer.commit_consumer_state(CommitMode::Sync) {
                        // Nothing stored since the last commit.
                        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {
                            consumer.context().window_marks().commit(consumer.as_ref())
                        }
                        Err(error) => Err(error),
                    }
                };
                match result {
                    Ok(()) => {}
                    Err(error) => {
                        if let Some(suppressed) = failures.allow() {
                            tracing::warn!(stream = name, %error, suppressed, "offset commit failed; the next one carries the same offsets");
                        }
                    }
                }
            }
        })
}

/// Attempts after the first: with delays of 100 ms doubling to 1 s, about two seconds in all,
/// which a rebalance can afford.
const RETRIES: usize = 4;

/// How long reading the committed offsets back may take.
const READ_BACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a commit was not made.
#[derive(Debug, thiserror::Error)]
pub(super) enum CommitError {
    /// The broker refused it, or could not be reached.
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// It was reported done, but reading the offsets back shows an older one. Seen on the mock
    /// cluster after injected commit errors; retried like a timeout.
    #[error("offset commit reported done, but partition {partition} of `{topic}` reads back {committed:?} instead of {wanted}")]
    NotApplied {
        topic: String,
        partition: i32,
        wanted: i64,
        committed: Offset,
    },
}

/// Commits `offsets` now and reads them back, retrying timeouts, transport failures, a moving
/// coordinator and a commit that did not take. Returns the last error if it could not be made.
pub(super) fn commit_offsets<C, K>(
    consumer: &K,
    offsets: &TopicPartitionList,
    stream: &str,
) -> Result<(), CommitError>
where
    C: ConsumerContext,
    K: Consumer<C>,
{
    if offsets.count() == 0 {
        return Ok(());
    }
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(RETRIES);
    (|| commit_and_read_back(consumer, offsets))
        .retry(backoff)
        .sleep(std::thread::sleep)
        .when(is_passing)
        .notify(|error, retry_in| {
            tracing::info!(stream, %error, ?retry_in, "offset commit failed; retrying");
        })
        .call()
}

fn commit_and_read_back<C, K>(consumer: &K, offsets: &TopicPartitionList) -> Result<(), CommitError>
where
    C: ConsumerContext,
    K: Consumer<C>,
{
    consumer.commit(offsets, CommitMode::Sync)?;
    let committed = consumer.committed_offsets(offsets.clone(), READ_BACK_TIMEOUT)?;
    for wanted in offsets.elements() {
        let Offset::Offset(next) = wanted.offset() else {
            continue;
        };
        let read = committed
            .find_partition(wanted.topic(), wanted.partition())
            .map_or(Offset::Invalid, |e| e.offset());
        if !matches!(read, Offset::Offset(at) if at >= next) {
            return Err(CommitError::NotApplied {
                topic: wanted.topic().to_owned(),
                partition: wanted.partition(),
                wanted: next,
                committed: read,
            });
        }
    }
    Ok(())
}

/// Whether a commit that failed this way may succeed if tried again shortly.
fn is_passing(error: &CommitError) -> bool {
    match error {
        CommitError::NotApplied { .. } => true,
        CommitError::Kafka(KafkaError::ConsumerCommit(code) | KafkaError::MetadataFetch(code)) => {
            matches!(
                code,
                RDKafkaErrorCode::RequestTimedOut
                    | RDKafkaErrorCode::OperationTimedOut
                    | RDKafkaErrorCode::BrokerTransportFailure
                    | RDKafkaErrorCode::AllBrokersDown
                    | RDKafkaErrorCode::NetworkException
                    | RDKafkaErrorCode::NotLeaderForPartition
                    | RDKafkaErrorCode::NotCoordinator
                    | RDKafkaErrorCode::CoordinatorNotAvailable
                    | RDKafkaErrorCode::CoordinatorLoadInProgress
            )
        }
        CommitError::Kafka(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_failures_are_retried_and_lost_membership_is_not() {
        let commit = |code| CommitError::Kafka(KafkaError::ConsumerCommit(code));
        assert!(is_passing(&commit(RDKafkaErrorCode::RequestTimedOut)));
        assert!(is_passing(&commit(
            RDKafkaErrorCode::BrokerTransportFailure
        )));
        assert!(is_passing(&commit(RDKafkaErrorCode::NotCoordinator)));
        assert!(!is_passing(&commit(RDKafkaErrorCode::UnknownMemberId)));
        assert!(!is_passing(&commit(RDKafkaErrorCode::IllegalGeneration)));
        assert!(!is_passing(&commit(RDKafkaErrorCode::RebalanceInProgress)));
        assert!(is_passing(&CommitError::NotApplied {
            topic: "t".into(),
            partition: 0,
            wanted: 10,
            committed: Offset::Offset(5),
        }));
    }
}

//! A partition's queue read many messages at a time. rdkafka's stream hands out one message
//! per poll, and each poll reads the clock twice, allocates the message's event and takes the
//! queue's lock; librdkafka's `rd_kafka_consume_batch_queue` takes every ready message in one
//! call. The worker still awaits the first message of a batch on rdkafka's stream, which is
//! what wakes it; the rest of the batch comes from here.
//!
//! One difference: that call moves the partition's position (where it resumes after a pause)
//! past an error event as past a message, and an error event carries the offset of the next
//! message not yet read. A partition is paused and resumed from its position only by an
//! incremental rebalance, so workers take batches this way only under the eager protocols (the
//! default); with `cooperative-sticky` or the `consumer` group protocol they poll one by one.

use std::marker::PhantomData;
use std::ptr::NonNull;

use futures::FutureExt;
use futures::StreamExt;
use rdkafka::bindings as rd;
use rdkafka::consumer::Consumer as _;
use rdkafka::consumer::MessageStream;
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};

use super::context::StreamContext;
use super::log_limit::LogLimiter;
use super::partition::{KafkaConsumer, PartitionTask, MAX_BATCH};
use super::record::KafkaRecord;
use crate::message::{KafkaHeaders, RawHeaders, Timestamp};

/// A reference of this worker's own to a partition's queue. It does not touch the queue's
/// wake-up, which belongs to rdkafka's handle, and keeps the consumer alive while it lives.
pub(crate) struct PartitionQueue {
    queue: NonNull<rd::rd_kafka_queue_t>,
    // Released after the queue's reference (`drop` runs before the fields are dropped): the
    // queue's client must outlive it. Messages taken borrow this handle, so they go first.
    _consumer: std::sync::Arc<KafkaConsumer>,
}

// SAFETY: librdkafka's queues are thread-safe (every operation takes the queue's lock), and
// this handle is only a reference count on one.
unsafe impl Send for PartitionQueue {}
unsafe impl Sync for PartitionQueue {}

impl PartitionQueue {
    /// The queue of `partition` of `topic`, or `None` if librdkafka hands out none (the worker
    /// then takes every message from rdkafka's stream).
    ///
    /// The queue must not forward to the consumer's: it would then serve the consumer's queue,
    /// other partitions' messages and rebalances included. It does not once rdkafka has split it
    /// off, which librdkafka marks for good, and workers only exist for split queues.
    pub(crate) fn of(
        consumer: &std::sync::Arc<KafkaConsumer>,
        topic: &str,
        partition: i32,
    ) -> Option<Self> {
        let topic = std::ffi::CString::new(topic).ok()?;
        // SAFETY: the client pointer is live for the consumer, which this handle keeps; the
        // call returns a new reference to the queue (destroyed in `drop`) or null.
        let queue = unsafe {
            rd::rd_kafka_queue_get_partition(
                consumer.client().native_ptr(),
                topic.as_ptr(),
                partition,
            )
        };
        Some(Self {
            queue: NonNull::new(queue)?,
            _consumer: std::sync::Arc::clone(consumer),
        })
    }

    /// Appends to `batch` the messages ready now, until it holds [`MAX_BATCH`]; an error event
    /// goes to `error`, with librdkafka's text and the batch's length when it came, instead.
    /// Never waits.
    pub(crate) fn take_ready<'q>(
        &'q self,
        batch: &mut Vec<Queued<'q>>,
        mut error: impl FnMut(KafkaError, String, usize),
    ) {
        let room = MAX_BATCH.saturating_sub(batch.len());
        if room == 0 {
            return;
        }
        let mut taken = [std::ptr::null_mut::<rd::rd_kafka_message_t>(); MAX_BATCH];
        // SAFETY: the queue is live; librdkafka writes at most `room` message pointers into
        // `taken` and returns how many (or -1), each ours to destroy.
        let count = unsafe {
            rd::rd_kafka_consume_batch_queue(self.queue.as_ptr(), 0, taken.as_mut_ptr(), room)
        };
        let Ok(count) = usize::try_from(count) else {
            return;
        };
        for &message in &taken[..count.min(room)] {
            let Some(message) = NonNull::new(message).map(|ptr| TakenMessage {
                ptr,
                _queue: PhantomData,
            }) else {
                continue;
            };
            // SAFETY: the message is live until `message` is dropped.
            let code = unsafe { message.ptr.as_ref().err };
            if code == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                batch.push(Queued::Taken(message));
            } else {
                // SAFETY: the message is live; librdkafka returns its error's text, NUL-terminated
                // (or null, which it does not for an error).
                let reason = unsafe {
                    let text = rd::rd_kafka_message_errstr(message.ptr.as_ptr());
                    (!text.is_null()).then(|| std::ffi::CStr::from_ptr(text).to_string_lossy())
                }
                .unwrap_or_default();
                error(
                    KafkaError::MessageConsumption(code.into()),
                    reason.into_owned(),
                    batch.len(),
                );
            }
        }
    }
}

impl PartitionTask {
    /// This worker's own reference to its partition's queue, to take batches from, unless the
    /// stream's rebalances are incremental.
    pub(super) fn taken_queue(&self) -> Option<PartitionQueue> {
        if !self.shared.take_batches {
            return None;
        }
        PartitionQueue::of(&self.consumer, &self.topic, self.partition)
    }
}

impl Drop for PartitionQueue {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `of`, released once.
        unsafe { rd::rd_kafka_queue_destroy(self.queue.as_ptr()) }
    }
}

/// A message taken from a [`PartitionQueue`]; librdkafka's until dropped.
pub(crate) struct TakenMessage<'q> {
    ptr: NonNull<rd::rd_kafka_message_t>,
    _queue: PhantomData<&'q PartitionQueue>,
}

// SAFETY: as rdkafka's `BorrowedMessage`: a delivered message is not changed by librdkafka, and
// only the worker that took it reads it.
unsafe impl Send for TakenMessage<'_> {}
unsafe impl Sync for TakenMessage<'_> {}

impl Drop for TakenMessage<'_> {
    fn drop(&mut self) {
        // SAFETY: the message was handed to us by `rd_kafka_consume_batch_queue`, destroyed once.
        unsafe { rd::rd_kafka_message_destroy(self.ptr.as_ptr()) }
    }
}

impl TakenMessage<'_> {
    fn message(&self) -> &rd::rd_kafka_message_t {
        // SAFETY: live until dropped.
        unsafe { self.ptr.as_ref() }
    }

    /// `len` bytes at `ptr`, a buffer of the message's, or `None` if `ptr` is null.
    fn bytes(&self, ptr: *const std::ffi::c_void, len: usize) -> Option<&[u8]> {
        // SAFETY: librdkafka gives a buffer of `len` bytes or null, owned by the message, which
        // the returned slice borrows.
        (!ptr.is_null()).then(|| unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
    }
}

/// A message of a batch: the one rdkafka's stream woke the worker with, or one taken after it.
pub(crate) enum Queued<'q> {
    /// Polled from rdkafka's stream.
    Polled(BorrowedMessage<'q>),
    /// Taken from the [`PartitionQueue`].
    Taken(TakenMessage<'q>),
}

impl KafkaRecord for Queued<'_> {
    fn key(&self) -> Option<&[u8]> {
        match self {
            Queued::Polled(message) => Message::key(message),
            Queued::Taken(taken) => {
                let message = taken.message();
                taken.bytes(message.key, message.key_len)
            }
        }
    }

    fn payload(&self) -> Option<&[u8]> {
        match self {
            Queued::Polled(message) => Message::payload(message),
            Queued::Taken(taken) => {
                let message = taken.message();
                taken.bytes(message.payload, message.len)
            }
        }
    }

    fn offset(&self) -> i64 {
        match self {
            Queued::Polled(message) => Message::offset(message),
            Queued::Taken(taken) => taken.message().offset,
        }
    }

    fn timestamp(&self) -> Option<Timestamp> {
        match self {
            Queued::Polled(message) => message.timestamp().to_millis().map(Timestamp::from_millis),
            Queued::Taken(taken) => {
                let mut kind = rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
                // SAFETY: the message is live; librdkafka writes the timestamp's type.
                let millis =
                    unsafe { rd::rd_kafka_message_timestamp(taken.ptr.as_ptr(), &mut kind) };
                let available =
                    kind != rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
                (available && millis != -1).then(|| Timestamp::from_millis(millis))
            }
        }
    }

    fn raw_headers(&self) -> RawHeaders<'_> {
        let message = match self {
            Queued::Polled(message) => message.ptr(),
            Queued::Taken(taken) => taken.ptr.as_ptr(),
        };
        // SAFETY: the message lives as long as the borrow of `self`.
        RawHeaders::Kafka(unsafe { KafkaHeaders::of(message) })
    }
}

/// Appends `first` and every message ready now, up to [`MAX_BATCH`]; logs queue errors. After
/// the first, the messages are taken from `queue` in one call when the worker has it, and
/// otherwise polled from `messages` one by one.
pub(super) fn fill_batch<'a>(
    batch: &mut Vec<Queued<'a>>,
    first: Option<Result<BorrowedMessage<'a>, KafkaError>>,
    messages: &mut MessageStream<'a, StreamContext>,
    queue: Option<&'a PartitionQueue>,
    task: &PartitionTask,
    log: &mut LogLimiter,
) {
    // Where in the batch the last refused fetch was reported: only messages after it show the
    // partition read again (those before it were fetched before the refusal).
    let mut refused_at = None::<usize>;
    let mut report = |error: KafkaError, reason: String, at: usize| {
        if task.fetch_refused(&error, &reason) {
            refused_at = Some(at);
            return;
        }
        if let Some(suppressed) = log.allow() {
            tracing::warn!(stream = task.name(), topic = %task.topic, partition = task.partition, %error, reason, suppressed, "error from the partition queue");
        }
    };
    let mut next = first;
    while let Some(polled) = next {
        match polled {
            Ok(message) => batch.push(Queued::Polled(message)),
            Err(error) => report(error, String::new(), batch.len()),
        }
        if let Some(queue) = queue {
            queue.take_ready(batch, &mut report);
            break;
        }
        if batch.len() >= MAX_BATCH {
            break;
        }
        next = messages.next().now_or_never().flatten();
    }
    if batch.len() > refused_at.unwrap_or(0) {
        task.reading_again();
    }
}

//! Writes accepted now and made durable a little later: how a store that batches its durable
//! writes (SQLite) tells the runtime when a partition's offsets may be committed.

use tokio::sync::watch;

/// Marks a write that a store accepted with [`write_behind`](super::FeatureStore::write_behind).
/// It is durable once the store's [`durable_mark`](super::FeatureStore::durable_mark) has
/// reached it. Tickets grow with every write a store accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteTicket(u64);

impl WriteTicket {
    /// The ticket of a write that was durable when it returned.
    pub const DURABLE: WriteTicket = WriteTicket(0);

    /// The `n`th write a store accepted (from 1).
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// Whether the write is durable once a store's durable mark is `mark`.
    pub fn is_durable_at(self, mark: WriteTicket) -> bool {
        self <= mark
    }
}

/// The newest [`WriteTicket`] whose write is durable, as a store moves it on.
pub type DurableMark = watch::Receiver<WriteTicket>;

//! A mapping stream's offsets whose rows the store accepted but has not made durable yet
//! ([`FeatureStore::write_behind`](crate::store::FeatureStore::write_behind)): each is stored
//! for commit only once the store's durable mark has reached its batch and every batch before.

use std::collections::VecDeque;

use super::partition::PartitionTask;
use crate::store::{DurableMark, WriteTicket};

/// One partition's processed offsets waiting for their rows to be durable, oldest first.
pub(super) struct UnconfirmedOffsets {
    waiting: VecDeque<(i64, WriteTicket)>,
    /// `None` for a store whose writes are durable when they return.
    mark: Option<DurableMark>,
    /// The ticket of the newest batch accepted: a later batch with nothing accepted (no rows,
    /// or rows written durably one by one) waits for it too.
    newest: WriteTicket,
}

impl UnconfirmedOffsets {
    pub(super) fn new(mark: Option<DurableMark>) -> Self {
        Self {
            waiting: VecDeque::new(),
            mark,
            newest: WriteTicket::DURABLE,
        }
    }

    /// Records that a batch's rows were accepted under `ticket` and, with `Some(offset)`, that
    /// everything up to `offset` is processed. Without an offset to store (a batch at or below
    /// the one stored), the ticket still holds back the offsets of later batches.
    pub(super) fn push(&mut self, offset: Option<i64>, ticket: WriteTicket) {
        self.newest = self.newest.max(ticket);
        let Some(offset) = offset else {
            return;
        };
        match self.waiting.back_mut() {
            // Batches under one ticket are confirmed together: the list holds one entry per
            // ticket, however many batches wait for a flush.
            Some((last, ticket)) if *ticket == self.newest => *last = offset,
            _ => self.waiting.push_back((offset, self.newest)),
        }
    }

    /// The newest offset whose rows, and all rows before, are durable, if one is newly so.
    pub(super) fn confirmed(&mut self) -> Option<i64> {
        let mark = match &self.mark {
            Some(mark) => *mark.borrow(),
            None => return self.waiting.drain(..).next_back().map(|(offset, _)| offset),
        };
        let mut confirmed = None;
        while let Some(&(offset, ticket)) = self.waiting.front() {
            if !ticket.is_durable_at(mark) {
                break;
            }
            confirmed = Some(offset);
            self.waiting.pop_front();
        }
        confirmed
    }

    pub(super) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Resolves when the durable mark may have moved; never while nothing waits.
    pub(super) async fn moved(&mut self) {
        match &mut self.mark {
            Some(mark) if !self.waiting.is_empty() => {
                if mark.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            _ => std::future::pending().await,
        }
    }
}

impl PartitionTask {
    /// Stores the newest offset that is newly confirmed, if any; returns whether it did.
    pub(super) fn store_confirmed(&self, unconfirmed: &mut UnconfirmedOffsets) -> bool {
        let confirmed = unconfirmed.confirmed();
        if let Some(offset) = confirmed {
            self.store_offset(offset);
        }
        confirmed.is_some()
    }

    /// Has the store write what it accepted, then stores the offsets that confirms: a worker
    /// that stops leaves its offsets ready for the commit that follows.
    pub(super) async fn confirm_all(&self, unconfirmed: &mut UnconfirmedOffsets) {
        if unconfirmed.is_empty() {
            return;
        }
        if let Err(error) = self.shared.store.flush().await {
            tracing::warn!(stream = self.name(), topic = %self.topic, partition = self.partition, %error, "the store could not write this partition's last batches; their offsets are not committed, and their messages are read again");
        }
        if self.store_confirmed(unconfirmed) {
            self.shared.stats.offsets_confirmed();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;

    #[test]
    fn an_offset_is_confirmed_once_its_batch_and_every_one_before_are_durable() {
        let (durable, mark) = watch::channel(WriteTicket::DURABLE);
        let mut offsets = UnconfirmedOffsets::new(Some(mark));
        offsets.push(Some(9), WriteTicket::new(1));
        offsets.push(Some(19), WriteTicket::DURABLE);
        offsets.push(Some(29), WriteTicket::new(2));
        assert_eq!(offsets.confirmed(), None, "nothing durable yet");
        durable.send_replace(WriteTicket::new(1));
        assert_eq!(
            offsets.confirmed(),
            Some(19),
            "a batch with nothing accepted waits for the batch before it"
        );
        assert_eq!(offsets.confirmed(), None, "each offset is confirmed once");
        durable.send_replace(WriteTicket::new(2));
        assert_eq!(offsets.confirmed(), Some(29));
        assert!(offsets.is_empty());
    }

    #[test]
    fn the_mark_is_awaited_only_while_an_offset_waits() {
        use futures::FutureExt;
        let (durable, mark) = watch::channel(WriteTicket::DURABLE);
        let mut offsets = UnconfirmedOffsets::new(Some(mark));
        durable.send_replace(WriteTicket::new(1));
        assert!(
            offsets.moved().now_or_never().is_none(),
            "nothing waits: a moved mark wakes nobody"
        );
        offsets.push(Some(9), WriteTicket::new(2));
        assert!(
            offsets.moved().now_or_never().is_some(),
            "the mark moved since it was last seen"
        );
        assert!(offsets.moved().now_or_never().is_none(), "and not since");
        durable.send_replace(WriteTicket::new(2));
        assert!(offsets.moved().now_or_never().is_some());
        assert_eq!(offsets.confirmed(), Some(9));
    }

    #[test]
    fn a_ticket_without_an_offset_still_holds_back_later_offsets() {
        let (durable, mark) = watch::channel(WriteTicket::DURABLE);
        let mut offsets = UnconfirmedOffsets::new(Some(mark));
        offsets.push(None, WriteTicket::new(1));
        offsets.push(Some(9), WriteTicket::DURABLE);
        assert_eq!(
            offsets.confirmed(),
            None,
            "waits for the first batch's rows"
        );
        durable.send_replace(WriteTicket::new(1));
        assert_eq!(offsets.confirmed(), Some(9));
    }

    #[test]
    fn batches_under_one_ticket_take_one_entry() {
        let (durable, mark) = watch::channel(WriteTicket::DURABLE);
        let mut offsets = UnconfirmedOffsets::new(Some(mark));
        for offset in 0..1_000 {
            offsets.push(Some(offset), WriteTicket::new(1));
        }
        assert_eq!(offsets.waiting.len(), 1);
        durable.send_replace(WriteTicket::new(1));
        assert_eq!(offsets.confirmed(), Some(999));
    }

    #[test]
    fn without_a_durable_mark_every_offset_is_confirmed_at_once() {
        let mut offsets = UnconfirmedOffsets::new(None);
        offsets.push(Some(9), WriteTicket::DURABLE);
        offsets.push(Some(19), WriteTicket::DURABLE);
        assert_eq!(offsets.confirmed(), Some(19));
        assert!(offsets.is_empty());
    }
}

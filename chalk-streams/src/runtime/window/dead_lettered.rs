//! The messages of a window stream's partition that failed to decode and were dead-lettered
//! since its committed offset, carried in the read mark (`dead=5@1764403380000,...`): a window
//! stream's commit stays at the first message of its earliest kept window, so each restart or
//! rebalance replays them, and without this each replay would dead-letter them again.
//!
//! A message is named by its offset and its timestamp, so that a message now at that offset is
//! passed only if it is the one that was dead-lettered (not one written after the topic was made
//! anew, or after a broker lost the end of the log). A message that fails only now (a payload
//! type since made stricter) is not in the list, and is dead-lettered.

/// At most this many are named: the mark goes into the commit's metadata (Kafka takes 4,096
/// bytes by default). Those beyond are dead-lettered again by a replay, as they were before
/// marks named any.
const MAX_NAMED: usize = 16;

/// Offsets and timestamps (milliseconds, -1 for none) of dead-lettered messages, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeadLettered(Vec<(i64, i64)>);

impl DeadLettered {
    /// Names a message dead-lettered just now, if there is room.
    pub(crate) fn insert(&mut self, offset: i64, timestamp: i64) {
        if self.0.len() < MAX_NAMED {
            if let Err(at) = self.0.binary_search_by_key(&offset, |(named, _)| *named) {
                self.0.insert(at, (offset, timestamp));
            }
        }
    }

    /// Whether the message at `offset` with `timestamp` is one named here.
    pub(crate) fn contains(&self, offset: i64, timestamp: i64) -> bool {
        self.0
            .binary_search_by_key(&offset, |(named, _)| *named)
            .is_ok_and(|at| self.0[at].1 == timestamp)
    }

    /// Without those before `next` (the offset committed): they are not read again.
    pub(crate) fn past(&mut self, next: i64) {
        self.0.retain(|(offset, _)| *offset >= next);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The list as the mark's metadata writes it: `5@1764403380000,9@-1`.
    pub(crate) fn to_metadata(&self) -> String {
        let named: Vec<String> = self
            .0
            .iter()
            .map(|(offset, timestamp)| format!("{offset}@{timestamp}"))
            .collect();
        named.join(",")
    }

    /// The list the metadata writes; `None` if it is not one this module wrote.
    pub(crate) fn from_metadata(text: &str) -> Option<Self> {
        let mut named = Self::default();
        for item in text.split(',') {
            let (offset, timestamp) = item.split_once('@')?;
            let (offset, timestamp) = (offset.parse().ok()?, timestamp.parse().ok()?);
            if named.0.len() == MAX_NAMED || named.0.last().is_some_and(|(last, _)| *last >= offset)
            {
                return None;
            }
            named.0.push((offset, timestamp));
        }
        Some(named)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_named_by_its_offset_and_timestamp() {
        let mut dead = DeadLettered::default();
        dead.insert(5, 1_000);
        dead.insert(9, -1);
        assert!(dead.contains(5, 1_000) && dead.contains(9, -1));
        assert!(!dead.contains(5, 1_001), "another message at that offset");
        assert!(!dead.contains(7, 1_000), "not dead-lettered");
        dead.past(6);
        assert!(!dead.contains(5, 1_000) && dead.contains(9, -1));
    }

    #[test]
    fn at_most_sixteen_are_named_the_first_ones() {
        let mut dead = DeadLettered::default();
        for offset in 0..20 {
            dead.insert(offset, 0);
        }
        assert!(dead.contains(15, 0) && !dead.contains(16, 0));
        dead.past(4);
        dead.insert(30, 0);
        dead.insert(2, 0);
        assert!(
            dead.contains(30, 0) && dead.contains(2, 0),
            "room again past the commit"
        );
        assert_eq!(
            DeadLettered::from_metadata(&dead.to_metadata()),
            Some(dead),
            "in offset order"
        );
    }

    #[test]
    fn the_list_goes_through_metadata() {
        let mut dead = DeadLettered::default();
        dead.insert(5, 1_000);
        dead.insert(9, -1);
        assert_eq!(dead.to_metadata(), "5@1000,9@-1");
        assert_eq!(DeadLettered::from_metadata("5@1000,9@-1"), Some(dead));
        for other in ["", "5", "5@x", "9@1,5@1", "5@1,5@1"] {
            assert_eq!(DeadLettered::from_metadata(other), None, "{other:?}");
        }
    }
}

//! The messages of a window stream's partition that failed as bad input (to decode, or as too far
//! ahead of the clock) and were dead-lettered since its committed offset, carried in the read
//! mark (`dead=5@1764403380000#1a2b3c4d,...`): a window stream's commit stays at the first
//! message of its earliest kept window, so each restart or rebalance replays them, and without
//! this each replay would dead-letter them again.
//!
//! A message is named by its offset, its timestamp and a hash of its key and payload, so that a
//! message now at that offset is passed only if it is the one that was dead-lettered (not one
//! written after the topic was made anew, or after a broker lost the end of the log). A message
//! that fails only now (a payload type since made stricter) is not in the list, and is
//! dead-lettered.

/// At most this many are named: the mark goes into the commit's metadata (Kafka takes 4,096
/// bytes by default). Those beyond are dead-lettered again by a replay, as they were before
/// marks named any.
const MAX_NAMED: usize = 16;

/// What names one message: its offset, its timestamp (milliseconds, -1 for none) and the hash
/// of its key and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageName {
    pub offset: i64,
    pub timestamp: i64,
    pub content: u32,
}

impl MessageName {
    /// The name of the message at `offset`.
    pub(crate) fn of(
        offset: i64,
        timestamp: i64,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
    ) -> Self {
        Self {
            offset,
            timestamp,
            content: content_hash(key, payload),
        }
    }
}

/// 32-bit FNV-1a over the key and the payload, each preceded by whether it is there and its
/// length. Stable across versions and processes, as a name kept in a commit must be.
fn content_hash(key: Option<&[u8]>, payload: Option<&[u8]>) -> u32 {
    let mut hash = FNV_OFFSET_BASIS;
    for part in [key, payload] {
        match part {
            Some(bytes) => {
                hash = fnv1a(hash, &[1]);
                hash = fnv1a(hash, &(bytes.len() as u64).to_le_bytes());
                hash = fnv1a(hash, bytes);
            }
            None => hash = fnv1a(hash, &[0]),
        }
    }
    hash
}

const FNV_OFFSET_BASIS: u32 = 0x811c_9dc5;

/// `hash` carried on over `bytes` (FNV-1a, 32 bits).
fn fnv1a(mut hash: u32, bytes: &[u8]) -> u32 {
    for byte in bytes {
        hash = (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193);
    }
    hash
}

/// The dead-lettered messages named, by ascending offset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeadLettered(Vec<MessageName>);

impl DeadLettered {
    /// Names a message dead-lettered just now, if there is room.
    pub(crate) fn insert(&mut self, name: MessageName) {
        if self.0.len() < MAX_NAMED {
            if let Err(at) = self
                .0
                .binary_search_by_key(&name.offset, |named| named.offset)
            {
                self.0.insert(at, name);
            }
        }
    }

    /// Whether the message `name` names is one named here.
    pub(crate) fn contains(&self, name: &MessageName) -> bool {
        self.0
            .binary_search_by_key(&name.offset, |named| named.offset)
            .is_ok_and(|at| self.0[at] == *name)
    }

    /// Without those before `next` (the offset committed): they are not read again.
    pub(crate) fn past(&mut self, next: i64) {
        self.0.retain(|named| named.offset >= next);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The list as the mark's metadata writes it: `5@1764403380000#1a2b3c4d,9@-1#00ff00ff`.
    pub(crate) fn to_metadata(&self) -> String {
        let named: Vec<String> = self
            .0
            .iter()
            .map(|name| format!("{}@{}#{:08x}", name.offset, name.timestamp, name.content))
            .collect();
        named.join(",")
    }

    /// The list the metadata writes; `None` if it is not one this module wrote.
    pub(crate) fn from_metadata(text: &str) -> Option<Self> {
        let mut named = Self::default();
        for item in text.split(',') {
            let (offset, rest) = item.split_once('@')?;
            let (timestamp, content) = rest.split_once('#')?;
            let name = MessageName {
                offset: offset.parse().ok()?,
                timestamp: timestamp.parse().ok()?,
                content: u32::from_str_radix(content, 16).ok()?,
            };
            let in_order = named.0.last().is_none_or(|last| last.offset < name.offset);
            if named.0.len() == MAX_NAMED || !in_order {
                return None;
            }
            named.0.push(name);
        }
        Some(named)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(offset: i64, timestamp: i64) -> MessageName {
        MessageName::of(offset, timestamp, Some(b"k"), Some(b"not json"))
    }

    #[test]
    fn a_message_is_named_by_its_offset_timestamp_and_content() {
        let mut dead = DeadLettered::default();
        dead.insert(named(5, 1_000));
        dead.insert(named(9, -1));
        assert!(dead.contains(&named(5, 1_000)) && dead.contains(&named(9, -1)));
        assert!(
            !dead.contains(&named(5, 1_001)),
            "another timestamp at that offset"
        );
        let other = MessageName::of(5, 1_000, Some(b"k"), Some(b"not json either"));
        assert!(!dead.contains(&other), "another payload at that offset");
        let keyless = MessageName::of(5, 1_000, None, Some(b"not json"));
        assert!(!dead.contains(&keyless), "no key");
        let moved = MessageName::of(5, 1_000, Some(b"kn"), Some(b"ot json"));
        assert!(!dead.contains(&moved), "the bytes split elsewhere");
        assert!(!dead.contains(&named(7, 1_000)), "not dead-lettered");
        dead.past(6);
        assert!(!dead.contains(&named(5, 1_000)) && dead.contains(&named(9, -1)));
    }

    #[test]
    fn at_most_sixteen_are_named_the_first_ones() {
        let mut dead = DeadLettered::default();
        for offset in 0..20 {
            dead.insert(named(offset, 0));
        }
        assert!(dead.contains(&named(15, 0)) && !dead.contains(&named(16, 0)));
        dead.past(4);
        dead.insert(named(30, 0));
        dead.insert(named(2, 0));
        assert!(
            dead.contains(&named(30, 0)) && dead.contains(&named(2, 0)),
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
        dead.insert(MessageName {
            offset: 5,
            timestamp: 1_000,
            content: 0x1a2b_3c4d,
        });
        dead.insert(named(9, -1));
        let metadata = dead.to_metadata();
        assert!(metadata.starts_with("5@1000#1a2b3c4d,9@-1#"), "{metadata}");
        assert_eq!(DeadLettered::from_metadata(&metadata), Some(dead));
        for other in [
            "",
            "5",
            "5@1",
            "5@x#00",
            "5@1#zz",
            "9@1#0,5@1#0",
            "5@1#0,5@1#0",
        ] {
            assert_eq!(DeadLettered::from_metadata(other), None, "{other:?}");
        }
    }

    #[test]
    fn the_content_hash_is_fnv1a_as_published() {
        // Kept in commits: the same bytes must give the same hash in every version. The FNV
        // reference vectors for "a" and "foobar".
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(FNV_OFFSET_BASIS, b"foobar"), 0xbf9c_f968);
        assert_eq!(content_hash(None, None), fnv1a(FNV_OFFSET_BASIS, &[0, 0]));
    }
}

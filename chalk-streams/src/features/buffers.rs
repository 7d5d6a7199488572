//! Recycled value lists for rows.
//!
//! Every row a resolver returns carries a list of its feature values. Allocating it per message
//! and freeing it per batch was a measurable share of a stream's CPU, so the partition workers
//! hand each written row's list back here and generated code takes lists from here: in a
//! steady stream no row allocates for its values.

use std::cell::RefCell;

use super::{FeatureRow, FeatureValue};

/// A row's feature values by name.
pub(crate) type Values = Vec<(&'static str, FeatureValue)>;

/// Lists kept per thread: a full batch's worth (see the partition worker's batch limit).
const KEPT: usize = 1024;

thread_local! {
    static FREE: RefCell<Vec<Values>> = const { RefCell::new(Vec::new()) };
}

/// An empty list with room for `capacity` values, recycled when one is available.
pub fn values_with_capacity(capacity: usize) -> Values {
    let mut values = FREE
        .try_with(|free| free.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    values.reserve(capacity);
    values
}

/// Empties `rows`, keeping their value lists (emptied) for later rows, unless enough are kept
/// already. One look-up of the thread's list for the whole batch.
pub(crate) fn recycle(rows: &mut Vec<FeatureRow>) {
    let _ = FREE.try_with(|free| {
        let mut free = free.borrow_mut();
        for row in rows.drain(..) {
            let mut values = row.values;
            if values.capacity() > 0 && free.len() < KEPT {
                values.clear();
                free.push(values);
            }
        }
    });
    // Were the thread's list gone (thread ending), the rows are dropped here.
    rows.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Timestamp;

    fn row(values: Values) -> FeatureRow {
        FeatureRow {
            namespace: "user",
            primary_key: "u1".to_owned(),
            values,
            time: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn a_recycled_list_comes_back_empty_with_its_room() {
        let mut values = values_with_capacity(3);
        values.push(("a", FeatureValue::Int(1)));
        let room = values.capacity();
        recycle(&mut vec![row(values)]);
        let again = values_with_capacity(2);
        assert!(again.is_empty());
        assert_eq!(again.capacity(), room);
    }

    #[test]
    fn a_recycled_list_grows_to_the_room_asked_for() {
        recycle(&mut vec![row(Vec::with_capacity(1))]);
        assert!(values_with_capacity(8).capacity() >= 8);
    }
}

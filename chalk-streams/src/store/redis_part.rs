//! One part of a Redis batch: the features one script run writes, atomically. Of several
//! writes of one feature in a part, only the one that running them all would leave is sent:
//! the newest by feature time, the later of equals. A hot entity updated many times in a batch
//! then costs the server one `HSET` in the part, not one per update (Redis runs scripts one at a
//! time, and serves the online reads meanwhile).

use std::collections::HashMap;

use redis::{Script, ScriptInvocation};

use crate::features::FeatureRow;

/// One feature to write.
struct FeatureWrite {
    /// Its hash, in [`Part::keys`].
    key: usize,
    feature: &'static str,
    text: String,
    kind: &'static str,
    time: i64,
}

/// The features of whole rows, for one script run.
#[derive(Default)]
pub(super) struct Part {
    keys: Vec<String>,
    writes: Vec<FeatureWrite>,
    /// The bytes its rows take as a request (see `row_size`).
    bytes: usize,
}

impl Part {
    /// Adds `row`'s features, as texts, under the hash `key`; `size` is the row's request size.
    pub(super) fn add(
        &mut self,
        key: String,
        texts: Vec<(&'static str, String)>,
        row: &FeatureRow,
        size: usize,
    ) {
        let index = self.keys.len();
        self.keys.push(key);
        let time = row.time.as_millis();
        for ((feature, text), (_, value)) in texts.into_iter().zip(&row.values) {
            self.writes.push(FeatureWrite {
                key: index,
                feature,
                text,
                kind: value.type_name(),
                time,
            });
        }
        self.bytes += size;
    }

    /// How many features it holds, repeats included.
    pub(super) fn features(&self) -> usize {
        self.writes.len()
    }

    /// The bytes its rows take as a request.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The script run that writes it.
    pub(super) fn invocation<'s>(&self, script: &'s Script) -> ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        for write in self.newest() {
            invocation
                .key(&self.keys[write.key])
                .arg(write.feature)
                .arg(&write.text)
                .arg(write.kind)
                .arg(write.time);
        }
        invocation
    }

    /// The writes left once those another write of the same feature supersedes are dropped,
    /// in the order they came.
    fn newest(&self) -> impl Iterator<Item = &FeatureWrite> {
        let mut winners: HashMap<(&str, &str), usize> = HashMap::with_capacity(self.writes.len());
        for (index, write) in self.writes.iter().enumerate() {
            let feature = (self.keys[write.key].as_str(), write.feature);
            let winner = winners.entry(feature).or_insert(index);
            if write.time >= self.writes[*winner].time {
                *winner = index;
            }
        }
        self.writes
            .iter()
            .enumerate()
            .filter(move |(index, write)| {
                winners.get(&(self.keys[write.key].as_str(), write.feature)) == Some(index)
            })
            .map(|(_, write)| write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValue;
    use crate::message::Timestamp;

    fn add(part: &mut Part, key: &str, color: &str, millis: i64) {
        let row = FeatureRow {
            namespace: "user",
            primary_key: key.to_owned(),
            values: vec![("color", FeatureValue::String(color.to_owned()))],
            time: Timestamp::from_millis(millis),
        };
        part.add(
            format!("chalk:user:{key}"),
            vec![("color", color.to_owned())],
            &row,
            1,
        );
    }

    #[test]
    fn only_the_write_that_running_them_all_would_leave_is_sent() {
        let mut part = Part::default();
        add(&mut part, "a", "red", 1);
        add(&mut part, "b", "green", 2);
        add(&mut part, "a", "blue", 3);
        add(&mut part, "a", "grey", 2);
        add(&mut part, "a", "pink", 3);
        let sent: Vec<(&str, &str)> = part
            .newest()
            .map(|write| (part.keys[write.key].as_str(), write.text.as_str()))
            .collect();
        assert_eq!(sent, [("chalk:user:b", "green"), ("chalk:user:a", "pink")]);
        assert_eq!((part.features(), part.bytes()), (5, 5));
    }
}

//! Typed reads: `store.get::<User>(key)`.

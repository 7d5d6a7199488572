use chalk_streams::store::StoreError;

// Error enums may grow (they are `#[non_exhaustive]`): a match outside the crate needs a
// wildcard arm, so that a new variant does not break it.
fn retry(error: &StoreError) -> bool {
    match error {
        StoreError::Unavailable(_) => true,
        StoreError::Rejected(_) => false,
        StoreError::Unreadable(_) => false,
    }
}

fn main() {
    let _ = retry(&StoreError::Unavailable("down".into()));
}

//! `get` on every kind of store handle, and a store's failures passed through as they are.

use chalk_streams::store::StoreError;
use futures::future::{self, BoxFuture};

use super::*;

/// `get` reads on every way a store is held, with each kind of key.
#[tokio::test]
async fn get_is_callable_on_every_store_handle() -> Result<(), ReadError> {
    let user = || User {
        uid: "u1".to_owned(),
        favorite_color: Some("red".to_owned()),
        age: 30,
    };
    let memory = MemoryStore::new();
    memory.write(&[user().into_row(T1)]).await?;
    let by_ref: &MemoryStore = &memory;
    assert_eq!(
        by_ref.get::<User>("u1").await?.map(|s| s.value),
        Some(user())
    );

    let uid = String::from("u1");
    assert!(memory.get::<User>(uid.as_str()).await?.is_some());
    assert!(memory.get::<User>(uid.clone()).await?.is_some());

    let shared: Arc<dyn FeatureStore> = Arc::new(memory);
    assert_eq!(
        shared.get::<User>("u1").await?.map(|s| s.value),
        Some(user())
    );
    assert_eq!(
        shared
            .as_ref()
            .get::<User>("u1")
            .await?
            .and_then(|s| s.time("age")),
        Some(T1)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteStore::open(dir.path().join("features.sqlite"))?;
    sqlite.write(&[full(7).into_row(T1)]).await?;
    assert_eq!(
        sqlite.get::<Everything>(7_u64).await?.map(|s| s.value),
        Some(full(7))
    );
    assert_eq!(
        sqlite.get::<Everything>(7_u8).await?.map(|s| s.value.id),
        Some(7)
    );
    assert!(sqlite.get::<Everything>("7").await?.is_some());
    Ok(())
}

/// A store whose every operation fails as unavailable.
struct Down;

fn down<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, StoreError>> {
    Box::pin(future::ready(Err(StoreError::Unavailable(
        "down".to_owned(),
    ))))
}

impl FeatureStore for Down {
    fn write<'s, 'r, 'f>(&'s self, _: &'r [FeatureRow]) -> BoxFuture<'f, Result<(), StoreError>>
    where
        's: 'f,
        'r: 'f,
    {
        down()
    }

    fn entity<'s, 'n, 'k, 'f>(
        &'s self,
        _: &'n str,
        _: &'k str,
    ) -> BoxFuture<'f, Result<Option<Entity>, StoreError>>
    where
        's: 'f,
        'n: 'f,
        'k: 'f,
    {
        down()
    }

    fn scan<'s, 'f>(&'s self) -> BoxFuture<'f, Result<Vec<Entity>, StoreError>>
    where
        's: 'f,
    {
        down()
    }
}

/// A store failure is `ReadError::Store`, with the store's message.
#[tokio::test]
async fn store_failures_pass_through() {
    let error = Down.get::<User>("u1").await.expect_err("store down");
    assert!(matches!(
        error,
        ReadError::Store(StoreError::Unavailable(_))
    ));
    assert_eq!(error.to_string(), "feature store unavailable: down");
}

//! `get ENTITY KEY`: an entity's features, as a table or JSON.

use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub(super) struct GetArgs {
    /// The entity's namespace, e.g. `user` for a `User` Features struct.
    entity: String,
    /// The entity's primary key.
    key: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: super::StoreArgs,
}

pub(super) async fn run(args: &GetArgs) -> Result<()> {
    let store = args.store.config().open_existing()?;
    let Some(entity) = store.entity(&args.entity, &args.key).await? else {
        return Err(Error::NotFound(format!(
            "no features stored for {} `{}` in {}",
            args.entity,
            args.key,
            args.store.config()
        )));
    };
    if args.json {
        let features: serde_json::Map<String, serde_json::Value> = entity
            .features
            .iter()
            .map(|(name, f)| {
                let value = serde_json::json!({
                    "value": f.value.to_json(),
                    "type": f.value.type_name(),
                    "feature_time": f.time.to_string(),
                });
                (name.clone(), value)
            })
            .collect();
        let json = serde_json::json!({
            "entity": entity.namespace,
            "key": entity.key,
            "features": features,
        });
        println!("{json:#}");
    } else {
        print!("{}", super::embedded::render_features(&[entity]));
    }
    Ok(())
}

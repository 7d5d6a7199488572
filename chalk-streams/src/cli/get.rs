//! `get ENTITY KEY`: an entity's features, as a table or JSON.

use crate::error::{Error, Result};
use crate::registry::StreamDescriptor;
use crate::suggest::closest;

#[derive(Debug, clap::Args)]
pub(super) struct GetArgs {
    /// The entity's namespace, e.g. `user` for a `User` Features struct.
    #[arg(value_parser = clap::builder::NonEmptyStringValueParser::new())]
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
            "no features stored for {} `{}` in {}{}",
            args.entity,
            args.key,
            args.store.config(),
            unknown_entity_hint(&args.entity, written_entities())
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
        crate::cli::stdout::print(format_args!("{json:#}\n"))?;
    } else {
        crate::cli::stdout::print(format_args!(
            "{}",
            super::embedded::render_features(&[entity])
        ))?;
    }
    Ok(())
}

/// The entities this program's streams write, sorted, each once.
fn written_entities() -> Vec<&'static str> {
    let mut entities: Vec<&'static str> = inventory::iter::<StreamDescriptor>
        .into_iter()
        .filter_map(|stream| stream.entity().map(|entity| entity.namespace))
        .collect();
    entities.sort_unstable();
    entities.dedup();
    entities
}

/// What to add when `entity` is none of those the streams write (`get users u1` for `User`,
/// whose entity is `user`): the likely one, or the list. Another program may write to the same
/// store, so this is a hint, not an error of its own.
fn unknown_entity_hint(entity: &str, written: Vec<&str>) -> String {
    if written.is_empty() || written.contains(&entity) {
        return String::new();
    }
    match closest(entity, written.iter().copied()) {
        Some(likely) => format!("; no stream writes entity `{entity}`: did you mean `{likely}`?"),
        None => format!(
            "; no stream writes entity `{entity}` (the streams write: {})",
            written.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::unknown_entity_hint;

    #[test]
    fn an_entity_no_stream_writes_gets_the_likely_one_or_the_list() {
        let written = || vec!["login", "user"];
        assert_eq!(
            unknown_entity_hint("users", written()),
            "; no stream writes entity `users`: did you mean `user`?"
        );
        assert_eq!(
            unknown_entity_hint("account", written()),
            "; no stream writes entity `account` (the streams write: login, user)"
        );
        assert_eq!(unknown_entity_hint("user", written()), "");
        assert_eq!(unknown_entity_hint("user", Vec::new()), "");
    }
}

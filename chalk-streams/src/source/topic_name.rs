//! Kafka's rule for topic names, checked before a client is made: a broker would refuse the
//! name only when asked, and some clients then wait out a timeout rather than say why.

/// The longest topic name Kafka allows.
const MAX_LEN: usize = 249;

/// `Ok` for a name Kafka allows: 1 to 249 of ASCII letters, digits, `.`, `_` and `-`, and not
/// `.` or `..`. Otherwise, what is wrong with it.
pub(crate) fn check(name: &str) -> Result<(), String> {
    let allowed = "use ASCII letters, digits, `.`, `_` and `-`";
    if name.is_empty() {
        return Err("a topic name cannot be empty".to_owned());
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not a topic name Kafka allows"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "topic `{name}` has {bad:?}, which Kafka does not allow in a topic name: {allowed}"
        ));
    }
    if name.len() > MAX_LEN {
        return Err(format!(
            "topic `{name}` is {} characters long; Kafka allows {MAX_LEN}",
            name.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_topic_names() {
        for good in [
            "orders",
            "orders.v2",
            "user_favorite-color",
            "a",
            &"t".repeat(249),
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        assert_eq!(check(""), Err("a topic name cannot be empty".to_owned()));
        assert!(check("..").is_err());
        assert_eq!(
            check("bad topic!"),
            Err(
                "topic `bad topic!` has ' ', which Kafka does not allow in a topic name: use \
                 ASCII letters, digits, `.`, `_` and `-`"
                    .to_owned()
            )
        );
        assert!(check("café").is_err());
        assert!(check(&"t".repeat(250)).is_err());
    }
}

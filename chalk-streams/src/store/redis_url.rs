//! Redis URLs as text: redacted for logs.

/// A Redis URL with its password, if any, replaced by `***`: fit for logs. Read as text, not
/// parsed, so that a URL too malformed to parse is redacted too: a password before an `@`, with
/// or without a scheme (`default:pw@host:6379`), and a `pass` or `password` query parameter
/// (`redis+unix:///run/redis.sock?pass=pw`).
pub(crate) fn redacted(url: &str) -> String {
    // The query first: a password in it may hold an `@`, which would pass for the end of the
    // user information.
    let url = redacted_query(url);
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url.as_str()),
    };
    // The user information ends at the last `@`: a Redis path (the database number) has none,
    // and a password written without percent-encoding may hold `/` or `@`.
    match rest.rsplit_once('@') {
        Some((user_info, host_and_path)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}{user}:***@{host_and_path}"),
            None => format!("{scheme}{rest}"),
        },
        None => format!("{scheme}{rest}"),
    }
}

/// `url` with the value of each `pass` or `password` query parameter replaced by `***`.
fn redacted_query(url: &str) -> String {
    let mut redacted = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(at) = rest.find(['?', '&']) {
        redacted.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let name_end = rest.find(['=', '&']).unwrap_or(rest.len());
        let name = &rest[..name_end];
        if rest[name_end..].starts_with('=')
            && (name.eq_ignore_ascii_case("pass") || name.eq_ignore_ascii_case("password"))
        {
            redacted.push_str(name);
            redacted.push_str("=***");
            rest = &rest[name_end..];
            rest = &rest[rest.find('&').unwrap_or(rest.len())..];
        }
    }
    redacted.push_str(rest);
    redacted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;

    #[test]
    fn a_redis_password_is_not_shown() {
        let store: StoreConfig = "redis://app:secret@127.0.0.1:6379/2"
            .parse()
            .expect("parses");
        assert_eq!(store.to_string(), "redis://app:***@127.0.0.1:6379/2");
        let open: StoreConfig = "redis://127.0.0.1:6379".parse().expect("parses");
        assert_eq!(open.to_string(), "redis://127.0.0.1:6379");
        assert_eq!(
            redacted("redis://:p@ss@h:99999/0"),
            "redis://:***@h:99999/0"
        );
        assert_eq!(redacted("redis://user@h:1"), "redis://user@h:1");
        assert_eq!(redacted("redis://u:pa/ss@h:1/0"), "redis://u:***@h:1/0");
        // Forms the store refuses are printed in its error: redacted all the same.
        assert_eq!(redacted("default:pw@cache:6379"), "default:***@cache:6379");
        assert_eq!(redacted("redis:/:pw@cache"), "redis:***@cache");
        assert_eq!(
            redacted("redis+unix:///run/redis.sock?db=1&pass=pw"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(
            redacted("redis://h:1/0?Password=pw"),
            "redis://h:1/0?Password=***"
        );
        assert_eq!(
            redacted("redis://u:pw@h:1/0?password=p@ss&db=2"),
            "redis://u:***@h:1/0?password=***&db=2"
        );
        assert_eq!(redacted("redis://h:1/0?pass"), "redis://h:1/0?pass");
        for refused in ["default:pw@cache:6379", "redis+unix:///s.sock?pass=pw"] {
            let error = refused.parse::<StoreConfig>().expect_err(refused);
            assert!(!error.to_string().contains("pw"), "{error}");
        }
    }
}

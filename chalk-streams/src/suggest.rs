//! Did-you-mean suggestions for names typed by people (edit distance from `strsim`).

/// The candidate closest to `input` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(input, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The stream name `input` most likely meant: the one whose function name (the last `::`
/// segment of a default name such as `app::favorite_color`) is `input` or close to it, else the
/// closest whole name.
pub fn closest_stream<'a>(
    input: &str,
    names: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    let last_segment = |name: &'a str| name.rsplit("::").next().unwrap_or(name);
    // The one name whose function is `segment`; none when two streams share it.
    let only_with = |segment: &str| {
        let mut with = names
            .clone()
            .into_iter()
            .filter(|name| name.contains("::") && last_segment(name) == segment);
        match (with.next(), with.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    };
    only_with(input)
        .or_else(|| closest(input, names.clone()))
        .or_else(|| only_with(closest(input, names.clone().into_iter().map(last_segment))?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names_only() {
        let names = ["favorite_color", "login_count"];
        assert_eq!(
            super::closest("favorit_color", names),
            Some("favorite_color")
        );
        assert_eq!(super::closest("zzz", names), None);
    }

    #[test]
    fn suggests_a_stream_by_its_function_name() {
        let names = ["app::favorite_color", "app::login_count", "orders"];
        assert_eq!(
            super::closest_stream("favorite_color", names),
            Some("app::favorite_color")
        );
        assert_eq!(
            super::closest_stream("login_cont", names),
            Some("app::login_count")
        );
        assert_eq!(super::closest_stream("order", names), Some("orders"));
        assert_eq!(super::closest_stream("zzz", names), None);
        let twice = ["a::count", "b::count"];
        assert_eq!(super::closest_stream("count", twice), None);
    }
}

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
}

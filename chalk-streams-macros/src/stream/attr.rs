//! Parses the attribute's arguments: `source = PATH`, `name = "..."`, `window = "10m"` (or
//! `window = ["10m", "1h"]`) and `timeout = "5s"`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::errors::Errors;
use crate::root::{self, CrateRoot};

/// The arguments `#[stream]` accepts, for did-you-mean suggestions.
const ARGUMENTS: &[&str] = &["source", "name", "window", "timeout", "crate"];

/// The example shown when `source` is missing or malformed.
const SOURCE_EXAMPLE: &str = "`#[stream(source = USER_UPDATES)]` with \
    `static USER_UPDATES: KafkaSource = KafkaSource::new().topic(\"...\");`";

/// `#[stream(...)]`'s arguments, each with the tokens the user wrote so errors can point there.
pub(crate) struct StreamArgs {
    /// The path of the `static` KafkaSource.
    pub(crate) source: syn::ExprPath,
    /// The stream's name, if given.
    pub(crate) name: Option<LitStr>,
    /// The window sizes of a window stream; `None` for a mapping stream.
    pub(crate) window: Option<Vec<LitStr>>,
    /// How long an async resolver may take on one message (or window), with the argument's
    /// name, which errors point at.
    pub(crate) timeout: Option<(syn::Ident, LitStr)>,
    /// Where chalk-streams is.
    pub(crate) root: CrateRoot,
}

/// Parses the arguments, reporting every malformed, unknown or duplicate one.
pub(crate) fn parse(args: TokenStream) -> syn::Result<StreamArgs> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut errors = Errors::default();
    let mut source: Option<syn::ExprPath> = None;
    let mut name: Option<LitStr> = None;
    let mut window: Option<Vec<LitStr>> = None;
    let mut timeout: Option<(syn::Ident, LitStr)> = None;
    let mut crate_root = CrateRoot::default();
    let mut seen: Vec<String> = Vec::new();

    for meta in &metas {
        let Some(ident) = meta.path().get_ident() else {
            errors.spanned(
                meta.path(),
                "expected `source = ...`, `name = \"...\"`, `window = \"...\"`, \
                 `timeout = \"...\"` or `crate = \"...\"` in `#[stream(...)]`",
            );
            continue;
        };
        let key = ident.to_string();
        if !ARGUMENTS.contains(&key.as_str()) {
            errors.spanned(meta.path(), unknown_argument(&key));
            continue;
        }
        if seen.contains(&key) {
            errors.spanned(
                meta.path(),
                format_args!("duplicate `{key}` argument: give `{key}` only once"),
            );
            continue;
        }
        seen.push(key.clone());
        let value = match meta {
            Meta::NameValue(pair) => &pair.value,
            Meta::Path(_) | Meta::List(_) => {
                errors.spanned(meta, expected_value(&key));
                continue;
            }
        };
        match key.as_str() {
            "source" => match parse_source(value) {
                Ok(path) => source = Some(path),
                Err(error) => errors.push(error),
            },
            "window" => match parse_window(value) {
                Ok(sizes) => window = Some(sizes),
                Err(error) => errors.push(error),
            },
            "timeout" => match parse_timeout(value) {
                Ok(lit) => timeout = Some((ident.clone(), lit)),
                Err(error) => errors.push(error),
            },
            "crate" => match root::parse(value) {
                Ok(given) => crate_root = given,
                Err(error) => errors.push(error),
            },
            _ => match parse_name(value) {
                Ok(lit) => name = Some(lit),
                Err(error) => errors.push(error),
            },
        }
    }

    // A missing `source` is only worth reporting once the arguments given are otherwise
    // correct: after `soruce = X` it would repeat what the typo's error already says.
    errors.finish(())?;
    let source = source.ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            format_args!(
                "missing `source`: name the `static` KafkaSource this stream consumes, e.g. {SOURCE_EXAMPLE}"
            ),
        )
    })?;
    Ok(StreamArgs {
        source,
        name,
        window,
        timeout,
        root: crate_root,
    })
}

/// `KafkaSource` options that are sometimes written on the stream instead of the source.
const SOURCE_OPTIONS: &[&str] = &[
    "topic",
    "topics",
    "bootstrap_server",
    "bootstrap_servers",
    "group_id_prefix",
    "client_id_prefix",
    "late_arrival_deadline",
    "dead_letter_queue_topic",
];

fn unknown_argument(key: &str) -> String {
    if SOURCE_OPTIONS.contains(&key) {
        return format!(
            "unknown argument `{key}`: `{key}` is an option of the Kafka source, not of the \
             stream; set it where the source is declared, `KafkaSource::new().{key}(...)`, \
             and pass the source with `source = ...`"
        );
    }
    match closest(key) {
        Some(suggestion) => format!("unknown argument `{key}`: did you mean `{suggestion}`?"),
        None => format!(
            "unknown argument `{key}`: `#[stream]` accepts `source = PATH`, `name = \"...\"`, \
             `window = \"10m\"`, `timeout = \"5s\"` and `crate = \"path\"`"
        ),
    }
}

/// The accepted argument closest to `key`, if it is close enough to be a typo.
fn closest(key: &str) -> Option<&'static str> {
    let limit = (key.chars().count() / 3).max(1);
    ARGUMENTS
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(key, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn expected_value(key: &str) -> String {
    match key {
        "source" => format!("`source` needs a value: {SOURCE_EXAMPLE}"),
        "window" => format!("`window` needs a value: {WINDOW_EXAMPLE}"),
        "crate" => "`crate` needs a value: `crate = \"my_platform::chalk_streams\"`".to_owned(),
        "timeout" => format!("`timeout` needs a value: {TIMEOUT_EXAMPLE}"),
        _ => "`name` needs a value: `name = \"my_stream\"`".to_owned(),
    }
}

const WINDOW_EXAMPLE: &str = "`window = \"10m\"` or `window = [\"10m\", \"1h\"]`";

/// `window` is one size or a list of distinct sizes, each a string literal. Whether each parses
/// as a duration is checked when the generated code is compiled, by the runtime's own parser.
fn parse_window(value: &Expr) -> syn::Result<Vec<LitStr>> {
    let elements: Vec<&Expr> = match value {
        Expr::Array(array) => {
            if array.elems.is_empty() {
                return Err(syn::Error::new_spanned(
                    array,
                    format_args!("`window` needs at least one size: {WINDOW_EXAMPLE}"),
                ));
            }
            array.elems.iter().collect()
        }
        Expr::Group(group) => return parse_window(&group.expr),
        other => vec![other],
    };
    let mut errors = Errors::default();
    let mut sizes: Vec<LitStr> = Vec::new();
    for element in elements {
        match ungrouped(element) {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => {
                if sizes.iter().any(|s| s.value() == lit.value()) {
                    errors.spanned(lit, "duplicate window size: give each size once");
                } else {
                    sizes.push(lit.clone());
                }
            }
            other => errors.spanned(
                other,
                format_args!("a window size is a string literal: {WINDOW_EXAMPLE}"),
            ),
        }
    }
    errors.finish(sizes)
}

/// `expr` without the invisible groups that `macro_rules!` puts around an `$x:expr` it passes on.
fn ungrouped(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}

const TIMEOUT_EXAMPLE: &str = "`timeout = \"5s\"` (a Chalk duration: \"500ms\", \"30s\", \"1m\")";

/// `timeout` is a string literal; whether it parses as a duration is checked when the generated
/// code is compiled, by the runtime's own parser.
fn parse_timeout(value: &Expr) -> syn::Result<LitStr> {
    match ungrouped(value) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format_args!("`timeout` is a string literal: {TIMEOUT_EXAMPLE}"),
        )),
    }
}

/// `source` is the path of a `static` KafkaSource: `USER_UPDATES` or `crate::sources::USERS`.
fn parse_source(value: &Expr) -> syn::Result<syn::ExprPath> {
    match value {
        Expr::Path(path) if path.qself.is_none() => Ok(path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(syn::Error::new(
            lit.span(),
            format_args!(
                "`source` is a `static` KafkaSource, not a string: declare \
                 `static SOURCE: KafkaSource = KafkaSource::new().topic({topic:?});` \
                 and write `source = SOURCE`",
                topic = lit.value()
            ),
        )),
        Expr::Reference(reference) => Err(syn::Error::new_spanned(
            reference.and_token,
            "remove the `&`: `source` takes the path of the `static` KafkaSource itself",
        )),
        Expr::Group(group) => parse_source(&group.expr),
        other => Err(syn::Error::new_spanned(
            other,
            format_args!(
                "`source` must be the path of a `static` KafkaSource, e.g. {SOURCE_EXAMPLE}"
            ),
        )),
    }
}

/// `name` is a non-empty string literal, without the characters a metric label escapes.
fn parse_name(value: &Expr) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => {
            if lit.value().trim().is_empty() {
                Err(syn::Error::new(
                    lit.span(),
                    "`name` must not be empty: it names the stream and its consumer group; \
                     leave `name` out to use the function's path",
                ))
            } else if lit
                .value()
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
            {
                Err(syn::Error::new(
                    lit.span(),
                    "`name` cannot hold `\"`, `\\` or a control character (a line break, a \
                     tab): the name labels the stream's metrics, whose text format these would \
                     break; e.g. `name = \"orders_eu\"`",
                ))
            } else {
                Ok(lit.clone())
            }
        }
        Expr::Group(group) => parse_name(&group.expr),
        other => Err(syn::Error::new_spanned(
            other,
            "`name` must be a string literal, e.g. `name = \"user_favorite_color\"`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_typos_only() {
        assert_eq!(closest("nmae"), Some("name"));
        assert_eq!(closest("soruce"), Some("source"));
        assert_eq!(closest("sources"), Some("source"));
        assert_eq!(closest("topic"), None);
    }
}

//! The path generated code reaches chalk-streams by: `::chalk_streams`, or the one given with
//! `crate = "..."` when the application depends on chalk-streams under another name or through a
//! crate that re-exports it (as serde's `#[serde(crate = "...")]`).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote_spanned, ToTokens};
use syn::{Expr, ExprLit, Lit};

/// Where chalk-streams is, as the user's crate sees it.
#[derive(Default)]
pub(crate) struct CrateRoot(Option<syn::Path>);

impl CrateRoot {
    /// `<root>::__private`, every token at `span` (so an error in code built on it is reported
    /// where the span points, as for the default path).
    pub(crate) fn private_at(&self, span: Span) -> TokenStream {
        match &self.0 {
            None => quote_spanned!(span=> ::chalk_streams::__private),
            Some(path) => {
                let path = respan(path.to_token_stream(), span);
                quote_spanned!(span=> #path::__private)
            }
        }
    }

    /// The path given with `crate = "..."`, if one was.
    pub(crate) fn path(&self) -> Option<&syn::Path> {
        self.0.as_ref()
    }

    /// `<root>::__private` at the macro's call site.
    pub(crate) fn private(&self) -> TokenStream {
        self.private_at(Span::call_site())
    }
}

/// The value of `crate = "..."`: a string literal holding a path, `"my_platform::chalk_streams"`.
pub(crate) fn parse(value: &Expr) -> syn::Result<CrateRoot> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit
            .parse::<syn::Path>()
            .map(|path| CrateRoot(Some(path)))
            .map_err(|_| {
                syn::Error::new(
                    lit.span(),
                    format_args!(
                        "`crate` must be the path chalk-streams is reachable by, e.g. \
                     `crate = \"my_platform::chalk_streams\"`; `{}` is not a path",
                        lit.value()
                    ),
                )
            }),
        Expr::Group(group) => parse(&group.expr),
        other => Err(syn::Error::new_spanned(
            other,
            "`crate` takes a string literal: `crate = \"my_platform::chalk_streams\"`",
        )),
    }
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = TokenTree::Group(respanned);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(source: &str) -> syn::Result<CrateRoot> {
        parse(&syn::parse_str::<Expr>(source).expect("an expression"))
    }

    #[test]
    fn defaults_to_the_crate_name_and_takes_a_path_in_a_string() {
        assert_eq!(
            CrateRoot::default().private().to_string(),
            ":: chalk_streams :: __private"
        );
        let given = root(r#""my_platform::streams""#).expect("a path");
        assert_eq!(
            given.private().to_string(),
            "my_platform :: streams :: __private"
        );
        assert!(root(r#""not a path!""#).is_err());
        assert!(root("my_platform::streams").is_err());
    }
}

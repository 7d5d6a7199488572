//! `#[stream(source = ..., name = "...", window = "...", timeout = "...")]` on a resolver
//! function.

mod attr;
mod expand;
mod validate;

use proc_macro2::TokenStream;
use syn::{Item, ItemFn};

use crate::errors::Errors;

/// Expands `#[stream(args)] item`. On any error the item is emitted unchanged, followed by
/// every error found, so the rest of the crate (and the IDE) keeps working.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item.clone()) {
        Ok(expanded) => expanded,
        Err(error) => {
            let mut output = item;
            output.extend(error.into_compile_error());
            output
        }
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    // The arguments and the signature are both checked before anything is reported.
    let mut errors = Errors::default();
    let args = errors.ok(attr::parse(args));
    let function = errors.ok(parse_function(item));
    // Unknown when the arguments did not parse: the signature is then not judged as a
    // mapping or a window resolver, which would contradict what the arguments meant.
    let windowed = args.as_ref().map(|args| args.window.is_some());
    let resolver = function.as_ref().and_then(|function| {
        let root = args.as_ref().and_then(|args| args.root.path());
        errors.ok(validate::validate(&function.sig, windowed, root))
    });
    if let (Some(args), Some(function)) = (&args, &function) {
        let timeout = args.timeout.as_ref().map(|(key, _)| key);
        validate::timeout(timeout, &function.sig, &mut errors);
    }
    match (args, &function, resolver) {
        (Some(args), Some(function), Some(resolver)) if errors.is_empty() => {
            Ok(expand::expand(function, &args, &resolver))
        }
        _ => Err(errors.into_error()),
    }
}

/// The function `#[stream]` is on; any other item is an error.
fn parse_function(item: TokenStream) -> syn::Result<ItemFn> {
    match syn::parse2::<Item>(item)? {
        Item::Fn(function) => Ok(function),
        // A declaration without a body, as in a trait.
        Item::Verbatim(tokens) if syn::parse2::<syn::TraitItemFn>(tokens.clone()).is_ok() => {
            Err(syn::Error::new_spanned(
                tokens,
                "a `#[stream]` resolver needs a body: write it as a free function, \
                 outside any trait, that the runtime can call",
            ))
        }
        other => Err(syn::Error::new_spanned(
            other,
            "`#[stream]` goes on a function: `fn name(message: Message<T>) -> F`",
        )),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::expand;

    #[test]
    fn generated_code_reaches_chalk_streams_by_the_given_path() {
        let shapes = [
            (
                quote!(source = S, crate = "my_platform::streams"),
                quote!(
                    fn f(uid: String) -> U {
                        U
                    }
                ),
            ),
            (
                quote!(
                    source = S,
                    window = ["10m", "1h"],
                    crate = "my_platform::streams"
                ),
                quote!(
                    async fn f(m: Vec<Message<Body>>) -> Option<U> {
                        None
                    }
                ),
            ),
        ];
        for (args, item) in shapes {
            let text = expand(args, item).to_string();
            assert!(!text.contains("compile_error"), "{text}");
            assert!(!text.contains("chalk_streams"), "{text}");
            assert!(
                text.contains("my_platform :: streams :: __private"),
                "{text}"
            );
        }
    }
}

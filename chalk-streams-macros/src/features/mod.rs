//! `#[derive(Features)]` on a struct with one `#[primary]` field.

mod attr;
mod expand;
mod validate;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::errors::Errors;

/// Expands `#[derive(Features)]`. On error, emits the errors and, where the type can have one,
/// a placeholder impl so each use of the type does not report an error of its own.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    match validate::validate(&input) {
        Ok(entity) => expand::expand(&entity),
        Err(error) => {
            let mut output = error.into_compile_error();
            if input.generics.params.is_empty() {
                // The path's own errors are already among those reported.
                let root = attr::crate_root(&input.attrs, &mut Errors::default());
                output.extend(expand::dummy(&input.ident, &root));
            }
            output
        }
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::derive;

    #[test]
    fn generated_code_reaches_chalk_streams_by_the_given_path() {
        let text = derive(quote! {
            #[features(crate = "my_platform::streams")]
            struct User { #[primary] uid: String, age: Option<i64> }
        })
        .to_string();
        assert!(!text.contains("compile_error"), "{text}");
        assert!(!text.contains("chalk_streams"), "{text}");
        assert!(
            text.contains("my_platform :: streams :: __private"),
            "{text}"
        );
    }
}

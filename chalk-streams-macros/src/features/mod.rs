//! `#[derive(Features)]` on a struct with one `#[primary]` field.

mod attr;
mod expand;
mod validate;

use proc_macro2::TokenStream;
use syn::DeriveInput;

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
                output.extend(expand::dummy(&input.ident));
            }
            output
        }
    }
}

//! Implementation detail of `chalk-streams`.
use proc_macro::TokenStream;

/// Placeholder.
#[proc_macro_attribute]
pub fn stream(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}

/// Placeholder.
#[proc_macro_derive(Features, attributes(primary))]
pub fn derive_features(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

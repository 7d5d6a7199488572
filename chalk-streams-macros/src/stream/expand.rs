//! Generates the registration of a validated resolver.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::ItemFn;

use super::attr::StreamArgs;
use super::validate::{Codec, Resolver};
use crate::root::CrateRoot;
use crate::ty;

/// The function, unchanged, followed by its registration in the stream registry.
pub(crate) fn expand(item: &ItemFn, args: &StreamArgs, resolver: &Resolver<'_>) -> TokenStream {
    let root = &args.root;
    let private = root.private();
    let function_name = resolver.ident.unraw().to_string();
    let path = quote!(::core::concat!(::core::module_path!(), "::", #function_name));
    let name = match &args.name {
        Some(name) => quote!(#name),
        None => path.clone(),
    };
    let source = source_static(&args.source, root);
    let deprecated = item
        .attrs
        .iter()
        .any(|attr| attr.path().is_ident("deprecated"));
    let resolve = resolve_fn(resolver, deprecated, root);
    let variant = match (resolver.windowed, resolver.is_async) {
        (false, false) => quote!(Sync(__chalk_resolve)),
        (false, true) => quote!(Async(__chalk_resolve)),
        (true, false) => quote!(Window {
            check: __chalk_check,
            fire: __chalk_resolve,
        }),
        (true, true) => quote!(WindowAsync {
            check: __chalk_check,
            fire: __chalk_resolve,
        }),
    };
    let windows = window_sizes(args.window.as_deref(), root);
    // Checked at compile time by the runtime's duration parser, as window sizes are: in a
    // constant of its own, so that a malformed one is reported at its literal.
    let timeout = args.timeout.as_ref().map(|(_, lit)| {
        let private = root.private_at(lit.span());
        quote_spanned! {lit.span()=>
            .with_timeout({
                const TIMEOUT: ::core::time::Duration = #private::resolver_timeout(#lit);
                TIMEOUT
            })
        }
    });
    let schema = schema_fn(resolver, root);
    let entity = entity_of(resolver.output, root);
    // The registration is compiled exactly when the function is.
    let cfgs = item.attrs.iter().filter(|attr| attr.path().is_ident("cfg"));
    let lints = item.attrs.iter().filter_map(lint_level);

    quote! {
        // The runtime hands the resolver its input by value, and `#[stream]` refuses `&T`: a
        // resolver that only borrows it cannot follow pedantic clippy's advice.
        #[allow(clippy::needless_pass_by_value)]
        #item

        #(#cfgs)*
        #(#lints)*
        const _: () = {
            #source
            #resolve
            #schema
            #private::inventory::submit! {
                #private::StreamDescriptor::new(
                    #name,
                    #path,
                    __CHALK_SOURCE,
                    #private::Resolver::#variant,
                    ::core::file!(),
                    ::core::line!(),
                )
                #windows
                #timeout
                .with_entity(#entity)
                .with_payload_schema(__chalk_schema)
            }
        };
    }
}

/// `.with_windows(&[...])` for a window stream, with each size checked at compile time by the
/// runtime's duration parser (a malformed size, or one equal to an earlier size, fails constant
/// evaluation at its literal).
fn window_sizes(window: Option<&[syn::LitStr]>, root: &CrateRoot) -> TokenStream {
    let Some(sizes) = window else {
        return TokenStream::new();
    };
    let checks = sizes.iter().map(|size| {
        let private = root.private_at(size.span());
        quote_spanned! {size.span()=>
            const _: () = #private::assert_window_size(#size);
        }
    });
    // Sizes written differently can be the same duration (`"60m"` and `"1h"`); the later one is
    // reported.
    let distinct = sizes.iter().enumerate().flat_map(|(index, later)| {
        sizes[..index].iter().map(move |earlier| {
            let private = root.private_at(later.span());
            quote_spanned! {later.span()=>
                const _: () = #private::assert_distinct_window_sizes(#earlier, #later);
            }
        })
    });
    quote! {
        .with_windows({
            #(#checks)*
            #(#distinct)*
            &[#(#sizes),*]
        })
    }
}

/// The entity the stream writes, from its return type; the same call asserts in the resolver's
/// body that the type is a resolver output, with the same span, so that rustc reports a type
/// that is not one once.
fn entity_of(output: &syn::Type, root: &CrateRoot) -> TokenStream {
    let private = root.private();
    quote_spanned! {bounds(output).0=>
        #private::assert_stream_output::<#output>()
    }
}

/// `fn __chalk_schema`, the payload's JSON Schema for the AsyncAPI document: the type's own if it
/// derives `schemars::JsonSchema`, else any JSON (chosen by method resolution, so deriving it
/// stays optional).
fn schema_fn(resolver: &Resolver<'_>, root: &CrateRoot) -> TokenStream {
    let private = root.private();
    let body = match &resolver.codec {
        Codec::Bytes(_) => quote!(#private::bytes_schema()),
        Codec::Utf8(_) => quote!(#private::text_schema()),
        // A tombstone is decoded as `None`: the payload may be null.
        Codec::OptionalBytes(_) => quote!(#private::optional_bytes_schema()),
        Codec::OptionalUtf8(_) => quote!(#private::optional_text_schema()),
        Codec::Json(ty) => quote! {
            #[allow(unused_imports)]
            use #private::{ViaAny as _, ViaJsonSchema as _};
            (&#private::Probe::<#ty>::new()).payload_schema()
        },
    };
    quote! {
        fn __chalk_schema() -> #private::JsonValue {
            #body
        }
    }
}

/// The source in a typed static of its own, so that a source of the wrong type is reported as a
/// plain type mismatch at the path the user wrote.
fn source_static(source: &syn::ExprPath, root: &CrateRoot) -> TokenStream {
    let span = bounds(source).0;
    let private = root.private_at(span);
    quote_spanned! {span=>
        static __CHALK_SOURCE: &#private::KafkaSource = &#source;
    }
}

/// `fn __chalk_resolve`, the type-erased resolver: decodes the payload, calls the user's
/// function and collects its rows.
///
/// It also asserts that the input is `Deserialize` and the output a `StreamOutput`. The
/// assertions sit in the same body as the call, and the call's tokens carry the spans of the
/// user's types, because rustc drops an error implied by another at the same span: a bad input
/// or output type is then reported once, at the user's type, with the assertion's message.
fn resolve_fn(resolver: &Resolver<'_>, deprecated: bool, root: &CrateRoot) -> TokenStream {
    let private = root.private();
    let function = resolver.ident;

    let (input_start, input_end) = match &resolver.codec {
        Codec::Json(ty) => bounds(ty),
        _ => (Span::call_site(), Span::call_site()),
    };
    let (codec, input_check) = match &resolver.codec {
        Codec::Bytes(ty) => (quote!(#private::Bytes<#ty>), None),
        Codec::Utf8(ty) => (quote!(#private::Utf8<#ty>), None),
        Codec::OptionalBytes(ty) => (quote!(#private::Optional<#private::Bytes<#ty>>), None),
        Codec::OptionalUtf8(ty) => (quote!(#private::Optional<#private::Utf8<#ty>>), None),
        Codec::Json(ty) => {
            let json = root.private_at(input_start);
            let open = quote_spanned!(input_start=> #json::Json<);
            let close = quote_spanned!(input_end=> >);
            // A `String` or `Vec<u8>` under another name warns here, at the user's type.
            let check = quote_spanned! {input_start=>
                #private::assert_json_payload::<#ty>();
                {
                    #[allow(unused_imports)]
                    use #private::DecodedAsJson as _;
                    #private::Probe::<#ty>::new().decoded_as_json();
                }
            };
            (quote!(#open #ty #close), Some(check))
        }
    };
    let output = resolver.output;
    let output_check = entity_of(output, root);
    let error_checks = ty::output_error_types(output).into_iter().map(|error| {
        quote_spanned! {bounds(error).0=>
            #private::assert_output_error::<#error>();
        }
    });
    let output_check = quote!(#output_check; #(#error_checks)*);

    // The envelope is recognised as written: a type of the user's own named like it is not it.
    let envelope_check = resolver.envelope.map(|envelope| {
        quote_spanned! {bounds(envelope).0=>
            #private::assert_envelope::<#envelope>();
        }
    });
    let callee = match (
        resolver.windowed,
        resolver.is_async,
        resolver.envelope.is_some(),
    ) {
        (false, false, false) => quote!(call_with_value),
        (false, false, true) => quote!(call_with_message),
        (false, true, false) => quote!(call_async_with_value),
        (false, true, true) => quote!(call_async_with_message),
        (true, false, false) => quote!(call_window_with_values),
        (true, false, true) => quote!(call_window_with_messages),
        (true, true, false) => quote!(call_window_async_with_values),
        (true, true, true) => quote!(call_window_async_with_messages),
    };
    let callee_path = root.private_at(input_start);
    let callee = quote_spanned!(input_start=> #callee_path::#callee::);
    let input = if resolver.windowed {
        quote!(__chalk_raws, __chalk_window_end)
    } else {
        quote!(__chalk_raw)
    };
    let (generics, arguments) = if resolver.is_async {
        // The future's type: a future that is not `Send` is reported at the function's name.
        let future = quote_spanned!(function.span()=> _);
        (
            quote!(<#codec, #output, #future>),
            quote!(#input, __chalk_function),
        )
    } else {
        (
            quote!(<#codec, #output>),
            quote!(#input, __chalk_rows, __chalk_function),
        )
    };
    let mut arguments = Group::new(Delimiter::Parenthesis, arguments);
    arguments.set_span(input_end);

    // The parameters' names start with `__chalk_` so that they cannot shadow the user's function,
    // which the body calls by name (a resolver may well be called `raw` or `rows`).
    let parameters = if resolver.windowed {
        quote!(__chalk_raws: &[#private::RawMessage<'_>], __chalk_window_end: #private::Timestamp,)
    } else {
        quote!(__chalk_raw: &#private::RawMessage<'_>,)
    };
    let signature = if resolver.is_async {
        quote! {
            fn __chalk_resolve(
                #parameters
            ) -> ::core::result::Result<#private::ResolverFuture, #private::MessageError>
        }
    } else {
        quote! {
            fn __chalk_resolve(
                #parameters
                __chalk_rows: &mut ::std::vec::Vec<#private::FeatureRow>,
            ) -> ::core::result::Result<(), #private::MessageError>
        }
    };
    // A window stream checks each message as it arrives, so that a window never holds one that
    // would fail when it fires.
    let check = resolver.windowed.then(|| {
        quote! {
            fn __chalk_check(
                __chalk_raw: &#private::RawMessage<'_>,
            ) -> ::core::result::Result<(), #private::MessageError> {
                #private::check_payload::<#codec>(__chalk_raw)
            }
        }
    });
    // A resolver may be `#[deprecated]` (a stream being phased out): calling it here is not a
    // use of the user's, so only this statement allows it, not the alias warnings above. Only
    // then: an `allow` under `#![forbid(deprecated)]` is an error of its own.
    let allow = deprecated.then(|| quote!(#[allow(deprecated)]));
    let function = quote! {
        #allow
        let __chalk_function = #function;
    };
    quote! {
        #signature {
            #input_check
            #envelope_check
            #output_check
            #function
            #callee #generics #arguments
        }
        #check
    }
}

/// An `allow` on the function, for its registration too: what is generated repeats the
/// function's tokens (its payload type, say), where the user's `allow` must hold as well. An
/// `expect` becomes an `allow`, since the registration need not meet its lint. Stricter levels
/// are not copied: a `forbid` would refuse the `allow`s the generated code holds.
fn lint_level(attr: &syn::Attribute) -> Option<TokenStream> {
    let path = attr.path();
    if path.is_ident("allow") {
        return Some(attr.to_token_stream());
    }
    match &attr.meta {
        syn::Meta::List(list) if path.is_ident("expect") => {
            let lints = &list.tokens;
            Some(quote!(#[allow(#lints)]))
        }
        _ => None,
    }
}

/// The spans of the first and last tokens of `tokens`. Spans cannot be joined on stable Rust;
/// tokens given these two spans cover exactly what the user wrote.
fn bounds(tokens: &impl ToTokens) -> (Span, Span) {
    let mut tokens = tokens.to_token_stream().into_iter();
    let first = tokens
        .next()
        .map_or_else(Span::call_site, |token| token.span());
    let last = tokens.last().map_or(first, |token| token.span());
    (first, last)
}

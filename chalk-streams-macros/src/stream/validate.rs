//! The signature rules of a stream resolver, and the model expansion works from.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, Ident, ReturnType, Signature, Type};

use crate::errors::Errors;
use crate::ty;

const SHAPE: &str = "`fn name(message: Message<T>) -> F` or `fn name(value: T) -> F`";

/// A validated resolver signature.
pub(crate) struct Resolver<'a> {
    /// The function's name.
    pub(crate) ident: &'a Ident,
    /// Whether it is an `async fn`.
    pub(crate) is_async: bool,
    /// The `Message<T>` it takes, as written (`None`: it takes the bare decoded value), or
    /// takes a `Vec` of, for a window stream.
    pub(crate) envelope: Option<&'a Type>,
    /// Whether it is a window resolver (takes every message of a window as a `Vec`).
    pub(crate) windowed: bool,
    /// How the payload is decoded.
    pub(crate) codec: Codec<'a>,
    /// The declared return type.
    pub(crate) output: &'a Type,
}

/// How the payload is decoded, picked from the input type `T`.
pub(crate) enum Codec<'a> {
    /// `Vec<u8>` (or `Box<[u8]>`, `Arc<[u8]>`, `Rc<[u8]>`, `Cow<[u8]>`, this type): the raw bytes.
    Bytes(&'a Type),
    /// `String` (or `Box<str>`, `Arc<str>`, `Rc<str>`, `Cow<str>`, this type): the payload as
    /// UTF-8 text.
    Utf8(&'a Type),
    /// `Option<T>` of a bytes type: `None` for a tombstone, the raw bytes otherwise.
    OptionalBytes(&'a Type),
    /// `Option<T>` of a text type: `None` for a tombstone, the payload as text otherwise.
    OptionalUtf8(&'a Type),
    /// Any other type: JSON, into this type.
    Json(&'a Type),
}

/// A `timeout` applies to an `async fn` only: a sync resolver runs on the partition's worker,
/// and nothing can interrupt it.
pub(crate) fn timeout(timeout: Option<&Ident>, sig: &Signature, errors: &mut Errors) {
    if let (Some(key), None) = (timeout, sig.asyncness) {
        errors.spanned(
            key,
            format_args!(
                "`timeout` applies to an `async fn` resolver only: a sync resolver cannot be \
                 interrupted; make `{name}` an `async fn` (its slow calls awaited), or remove \
                 `timeout`",
                name = sig.ident
            ),
        );
    }
}

/// Checks `sig` against the rules for a resolver (a window resolver when `windowed`; either,
/// when that is not known), reporting every violation.
pub(crate) fn validate<'a>(
    sig: &'a Signature,
    windowed: Option<bool>,
    root: Option<&syn::Path>,
) -> syn::Result<Resolver<'a>> {
    let mut errors = Errors::default();

    if let Some(constness) = &sig.constness {
        errors.spanned(
            constness,
            "a `#[stream]` resolver cannot be a `const fn`: remove `const`",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety,
            "a `#[stream]` resolver cannot be `unsafe`: remove `unsafe` and keep any unsafe code inside the body",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            "a `#[stream]` resolver cannot declare an ABI: remove the `extern` qualifier",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let generics = sig.generics.to_token_stream();
        let where_clause = sig.generics.where_clause.to_token_stream();
        let tokens = if sig.generics.params.is_empty() {
            where_clause
        } else {
            generics
        };
        let lifetimes_only = sig.generics.where_clause.is_none()
            && sig
                .generics
                .params
                .iter()
                .all(|param| matches!(param, syn::GenericParam::Lifetime(_)));
        let message = if lifetimes_only {
            "a `#[stream]` resolver cannot declare lifetimes: the runtime hands it an owned \
             input; remove them, and write `'_` or `'static` where a type takes one \
             (`Cow<'_, str>`)"
        } else {
            "a `#[stream]` resolver cannot be generic: the runtime calls it with one concrete \
             input type; remove the generic parameters and name the types"
        };
        errors.spanned(tokens, message);
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "a `#[stream]` resolver cannot be variadic");
    }

    let input = input(sig, windowed, root, &mut errors);
    let output = output(sig, &mut errors);

    match (input, output) {
        (Some((envelope, codec)), Some(output)) => errors.finish(Resolver {
            ident: &sig.ident,
            is_async: sig.asyncness.is_some(),
            envelope,
            windowed: windowed.unwrap_or(false),
            codec,
            output,
        }),
        // `input` and `output` record an error whenever they return `None`.
        _ => Err(errors.into_error()),
    }
}

/// The parameter: whether it is `Message<T>`, and the codec for `T`.
fn input<'a>(
    sig: &'a Signature,
    windowed: Option<bool>,
    root: Option<&syn::Path>,
    errors: &mut Errors,
) -> Option<(Option<&'a Type>, Codec<'a>)> {
    let mut typed = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                "a `#[stream]` resolver cannot take `self`: make it a free function \
                 outside the `impl` block",
            ),
            FnArg::Typed(pat_type) => {
                // The registration's call is generated before `#[cfg]` is evaluated, so it
                // would pass the message to a parameter that may not be there.
                if let Some(cfg) = pat_type.attrs.iter().find(|a| a.path().is_ident("cfg")) {
                    errors.spanned(
                        cfg,
                        "a `#[stream]` resolver's parameter cannot be conditional: the runtime \
                         always passes it the message; put the `#[cfg]` on the function, or \
                         write one resolver for each configuration",
                    );
                }
                typed.push(pat_type);
            }
        }
    }
    let receivers = sig.inputs.len() - typed.len();
    match typed.as_slice() {
        [] if receivers > 0 => None,
        [] => {
            errors.at(
                sig.paren_token.span.join(),
                format_args!(
                    "a `#[stream]` resolver takes one parameter, the message it resolves: {SHAPE}"
                ),
            );
            None
        }
        [param] if windowed == Some(true) => window_input_type(&param.ty, root, errors),
        [param] => {
            if ty::vec_inner(&param.ty).is_some_and(|e| ty::message_inner(e, root).is_some()) {
                // Arguments that did not parse may have meant a window stream.
                if windowed.is_none() {
                    return window_input_type(&param.ty, root, errors);
                }
                errors.spanned(
                    &param.ty,
                    "`Vec<Message<T>>` is the input of a window stream: add `window = \"10m\"` \
                     to `#[stream(...)]`, or take one `Message<T>`",
                );
                return None;
            }
            // Raw payloads of a window (as JSON, an array of arrays of numbers): not one
            // message's. A `Vec` of texts stays a JSON array of strings.
            let raw_bytes = |element: &syn::Type| {
                ty::is_bytes(element) || ty::option_inner(element).is_some_and(ty::is_bytes)
            };
            if windowed.is_some() && ty::vec_inner(&param.ty).is_some_and(raw_bytes) {
                errors.spanned(
                    &param.ty,
                    "a `Vec` of raw payloads is the input of a window stream: add `window = \
                     \"10m\"` to `#[stream(...)]`, or take one payload (`Vec<u8>`)",
                );
                return None;
            }
            input_type(&param.ty, root, errors)
        }
        [_, extra @ ..] => {
            let extra: TokenStream = extra.iter().map(ToTokens::to_token_stream).collect();
            errors.spanned(
                extra,
                format_args!(
                    "a `#[stream]` resolver takes exactly one parameter, the message it \
                     resolves: {SHAPE}; to receive the key, headers or timestamp too, take \
                     `Message<T>`"
                ),
            );
            None
        }
    }
}

/// A window resolver takes `Vec<Message<T>>` or `Vec<T>`.
fn window_input_type<'a>(
    ty: &'a Type,
    root: Option<&syn::Path>,
    errors: &mut Errors,
) -> Option<(Option<&'a Type>, Codec<'a>)> {
    if ty::is_byte_vec(ty) {
        errors.spanned(
            ty,
            "a window stream's resolver takes every message of a window: `Vec<u8>` would \
             decode each message as one JSON number; take `Vec<Vec<u8>>` for the raw payloads",
        );
        return None;
    }
    match ty::vec_inner(ty) {
        Some(element) => input_type(element, root, errors),
        None => {
            errors.spanned(
                ty,
                "a window stream's resolver takes every message of a window: \
                 `Vec<Message<T>>` or `Vec<T>`",
            );
            None
        }
    }
}

fn input_type<'a>(
    ty: &'a Type,
    root: Option<&syn::Path>,
    errors: &mut Errors,
) -> Option<(Option<&'a Type>, Codec<'a>)> {
    if let Some(impl_trait) = ty::find_impl_trait(ty) {
        errors.spanned(
            impl_trait,
            "a `#[stream]` resolver cannot take `impl Trait`: name the input type so the \
             payload can be decoded into it",
        );
        return None;
    }
    let (envelope, value) = match ty::message_inner(ty, root) {
        Some(inner) => (Some(ty), inner),
        None => (None, ty),
    };
    if let Type::Reference(reference) = ty::peel(value) {
        errors.spanned(
            reference.and_token,
            "a `#[stream]` resolver takes its input by value: remove the `&`",
        );
        return None;
    }
    let optional = ty::option_inner(value);
    let codec = if ty::is_bytes(value) {
        Codec::Bytes(value)
    } else if ty::is_text(value) {
        Codec::Utf8(value)
    } else if let Some(inner) = optional.filter(|inner| ty::is_bytes(inner)) {
        Codec::OptionalBytes(inner)
    } else if let Some(inner) = optional.filter(|inner| ty::is_text(inner)) {
        Codec::OptionalUtf8(inner)
    } else {
        Codec::Json(value)
    };
    Some((envelope, codec))
}

fn output<'a>(sig: &'a Signature, errors: &mut Errors) -> Option<&'a Type> {
    match &sig.output {
        ReturnType::Type(_, ty) => {
            if let Some(impl_trait) = ty::find_impl_trait(ty) {
                let hint = if sig.asyncness.is_some() {
                    "name the return type"
                } else {
                    "name the return type; for a future, write an `async fn` instead"
                };
                errors.spanned(
                    impl_trait,
                    format_args!("a `#[stream]` resolver cannot return `impl Trait`: {hint}"),
                );
                return None;
            }
            Some(ty)
        }
        ReturnType::Default => {
            // No return type: the signature ends at the parameters, so this underlines
            // `fn name(...)`.
            errors.spanned(
                sig,
                "a `#[stream]` resolver must return the features it computes: add `-> F` where \
                 `F` is a `#[derive(Features)]` struct, or an `Option`, `Vec` or `Result` of one",
            );
            None
        }
    }
}

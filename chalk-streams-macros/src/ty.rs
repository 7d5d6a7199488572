//! Syntactic type classification: the macros see tokens, not resolved types, so `Option<T>`,
//! `Vec<u8>` and `String` are recognised by the last segment of their path, and `Message<T>` also
//! by where the path goes through (see `message_inner`).

use syn::{GenericArgument, PathArguments, Type, TypePath};

/// `ty` without invisible groups and parentheses (a type passed through `macro_rules!` arrives
/// wrapped in a group).
pub(crate) fn peel(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

/// The path of `ty` if it is a plain path type (no `<T as Trait>::` qualifier).
fn plain_path(ty: &Type) -> Option<&syn::Path> {
    match peel(ty) {
        Type::Path(TypePath { qself: None, path }) => Some(path),
        _ => None,
    }
}

/// If `ty`'s path ends in `name<T>` with exactly one type argument (and any lifetimes, as in
/// `Cow<'a, T>`), that argument.
fn single_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let segment = plain_path(ty)?.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    let mut arguments = arguments
        .args
        .iter()
        .filter(|argument| !matches!(argument, GenericArgument::Lifetime(_)));
    match (arguments.next(), arguments.next()) {
        (Some(GenericArgument::Type(inner)), None) => Some(inner),
        _ => None,
    }
}

/// `T` if `ty` is `Option<T>` (or `std::option::Option<T>`, ...).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    single_argument(ty, "Option")
}

/// `T` if `ty` is chalk-streams' envelope: `Message<T>` written alone, or through a path that
/// starts with `chalk_streams` (`chalk_streams::Message<T>`, `chalk_streams::prelude::...`), or
/// is `prelude::Message<T>` (also after `crate::`, `self::` or `super::`), or starts with
/// `root`, the path given with `crate = "..."`
/// (`my_platform::streams::Message<T>`). Another path ending in `Message` (`proto::Message<T>`,
/// `proto::prelude::Message<T>`) is a payload type of the user's own.
pub(crate) fn message_inner<'a>(ty: &'a Type, root: Option<&syn::Path>) -> Option<&'a Type> {
    let path = plain_path(ty)?;
    let through_root = root.is_some_and(|root| {
        root.segments.len() < path.segments.len()
            && root
                .segments
                .iter()
                .zip(&path.segments)
                .all(|(a, b)| a.ident == b.ident)
    });
    // `crate::`, `self::` and `super::` lead to the application's own modules: a `prelude` of
    // its own that re-exports chalk-streams' (`crate::prelude::Message<T>`) is chalk-streams',
    // and so is `crate::Message<T>`, as `Message<T>` is.
    let segments: Vec<&syn::Ident> = path
        .segments
        .iter()
        .map(|s| &s.ident)
        .skip_while(|ident| *ident == "crate" || *ident == "self" || *ident == "super")
        .collect();
    let through_chalk = through_root
        || segments
            .first()
            .is_some_and(|first| *first == "chalk_streams")
        || segments.len() == 1
        || (segments.len() == 2 && segments[0] == "prelude");
    if path.segments.len() > 1 && !through_chalk {
        return None;
    }
    single_argument(ty, "Message")
}

/// `T` and `E` if `ty` is `Result<T, E>` (or `std::result::Result<T, E>`).
fn result_arguments(ty: &Type) -> Option<(&Type, &Type)> {
    let segment = plain_path(ty)?.segments.last()?;
    if segment.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match (
        arguments.args.first(),
        arguments.args.get(1),
        arguments.args.len(),
    ) {
        (Some(GenericArgument::Type(ok)), Some(GenericArgument::Type(error)), 2) => {
            Some((ok, error))
        }
        _ => None,
    }
}

/// The error types of the `Result`s in a resolver's output type, through `Option`, `Vec` and
/// `Result` nestings: `E` in `Result<User, E>` or `Vec<Result<User, E>>`.
pub(crate) fn output_error_types(ty: &Type) -> Vec<&Type> {
    let mut errors = Vec::new();
    let mut ty = ty;
    loop {
        if let Some((ok, error)) = result_arguments(ty) {
            errors.push(error);
            ty = ok;
        } else if let Some(inner) = option_inner(ty).or_else(|| vec_inner(ty)) {
            ty = inner;
        } else {
            return errors;
        }
    }
}

/// `T` if `ty` is `Vec<T>` (or `std::vec::Vec<T>`).
pub(crate) fn vec_inner(ty: &Type) -> Option<&Type> {
    single_argument(ty, "Vec")
}

/// Whether `ty` is `Vec<u8>`.
pub(crate) fn is_byte_vec(ty: &Type) -> bool {
    single_argument(ty, "Vec").is_some_and(|inner| is_bare(inner, "u8"))
}

/// Whether `ty` is `String` (or `std::string::String`).
pub(crate) fn is_string(ty: &Type) -> bool {
    is_bare(ty, "String")
}

/// The pointers a payload can be taken in as well as in `String` or `Vec<u8>`: each is made
/// from one of those (`From<String>`, `From<Vec<u8>>`).
const OWNING_POINTERS: [&str; 4] = ["Box", "Arc", "Rc", "Cow"];

/// Whether `ty` takes the payload as text: `String`, `Box<str>`, `Arc<str>`, `Rc<str>` or
/// `Cow<str>` (any lifetime).
pub(crate) fn is_text(ty: &Type) -> bool {
    let is_str = |inner: &Type| is_bare(inner, "str");
    is_string(ty)
        || OWNING_POINTERS
            .iter()
            .any(|pointer| single_argument(ty, pointer).is_some_and(is_str))
}

/// Whether `ty` takes the raw bytes: `Vec<u8>`, `Box<[u8]>`, `Arc<[u8]>`, `Rc<[u8]>` or
/// `Cow<[u8]>`.
pub(crate) fn is_bytes(ty: &Type) -> bool {
    let is_byte_slice =
        |inner: &Type| matches!(peel(inner), Type::Slice(slice) if is_bare(&slice.elem, "u8"));
    is_byte_vec(ty)
        || OWNING_POINTERS
            .iter()
            .any(|pointer| single_argument(ty, pointer).is_some_and(is_byte_slice))
}

/// Whether `ty`'s path ends in `name` without generic arguments.
fn is_bare(ty: &Type, name: &str) -> bool {
    plain_path(ty)
        .and_then(|path| path.segments.last())
        .is_some_and(|segment| segment.ident == name && segment.arguments.is_none())
}

/// The first `impl Trait` anywhere inside `ty`, if any.
pub(crate) fn find_impl_trait(ty: &Type) -> Option<&syn::TypeImplTrait> {
    match ty {
        Type::ImplTrait(found) => Some(found),
        Type::Group(group) => find_impl_trait(&group.elem),
        Type::Paren(paren) => find_impl_trait(&paren.elem),
        Type::Reference(reference) => find_impl_trait(&reference.elem),
        Type::Ptr(pointer) => find_impl_trait(&pointer.elem),
        Type::Slice(slice) => find_impl_trait(&slice.elem),
        Type::Array(array) => find_impl_trait(&array.elem),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(find_impl_trait),
        Type::Path(path) => path.path.segments.iter().find_map(|segment| {
            let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
                return None;
            };
            arguments.args.iter().find_map(|argument| match argument {
                GenericArgument::Type(inner) => find_impl_trait(inner),
                _ => None,
            })
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_inner_default(ty: &Type) -> Option<&Type> {
        message_inner(ty, None)
    }

    fn ty(source: &str) -> Type {
        match syn::parse_str(source) {
            Ok(ty) => ty,
            Err(error) => panic!("`{source}` is not a type: {error}"),
        }
    }

    #[test]
    fn classifies_by_last_segment() {
        assert!(option_inner(&ty("Option<u8>")).is_some());
        assert!(option_inner(&ty("::std::option::Option<u8>")).is_some());
        assert!(option_inner(&ty("Option")).is_none());
        assert!(option_inner(&ty("Vec<u8>")).is_none());
        assert!(message_inner_default(&ty("chalk_streams::Message<Body>")).is_some());
        assert!(message_inner_default(&ty("<X as Y>::Message<Body>")).is_none());
        assert!(message_inner_default(&ty("Message<Body>")).is_some());
        assert!(message_inner_default(&ty("::chalk_streams::message::Message<Body>")).is_some());
        assert!(message_inner_default(&ty("chalk_streams::prelude::Message<Body>")).is_some());
        assert!(message_inner_default(&ty("prelude::Message<Body>")).is_some());
        assert!(message_inner_default(&ty("proto::Message<Body>")).is_none());
        assert!(message_inner_default(&ty("crate::Message<Body>")).is_some());
        assert!(message_inner_default(&ty("super::Message<Body>")).is_some());
        assert!(message_inner_default(&ty("crate::proto::Message<Body>")).is_none());
        let root: syn::Path = syn::parse_str("my_platform::streams").expect("path");
        let through = ty("my_platform::streams::Message<Body>");
        assert!(message_inner(&through, Some(&root)).is_some());
        assert!(message_inner(&through, None).is_none());
        assert!(message_inner(&ty("my_platform::Message<Body>"), Some(&root)).is_none());
        assert!(is_byte_vec(&ty("Vec<u8>")));
        assert!(is_byte_vec(&ty("std::vec::Vec<u8>")));
        assert!(!is_byte_vec(&ty("Vec<i8>")));
        assert!(is_string(&ty("String")));
        assert!(is_string(&ty("std::string::String")));
        assert!(!is_string(&ty("String<u8>")));
        for text in [
            "String",
            "Box<str>",
            "std::sync::Arc<str>",
            "Rc<str>",
            "Cow<'static, str>",
            "std::borrow::Cow<'_, str>",
            "Cow<str>",
        ] {
            assert!(is_text(&ty(text)), "{text}");
        }
        for other in [
            "Box<String>",
            "Cow<'a, String>",
            "Arc<[u8]>",
            "Cow<'a, [u8]>",
            "&str",
        ] {
            assert!(!is_text(&ty(other)), "{other}");
        }
        for bytes in [
            "Vec<u8>",
            "Box<[u8]>",
            "std::sync::Arc<[u8]>",
            "Rc<[u8]>",
            "Cow<'_, [u8]>",
        ] {
            assert!(is_bytes(&ty(bytes)), "{bytes}");
        }
        for other in ["Box<[i8]>", "Box<Vec<u8>>", "Arc<str>", "[u8; 4]"] {
            assert!(!is_bytes(&ty(other)), "{other}");
        }
    }

    #[test]
    fn finds_nested_impl_trait() {
        assert!(find_impl_trait(&ty("Message<impl Sized>")).is_some());
        assert!(find_impl_trait(&ty("(u8, impl Sized)")).is_some());
        assert!(find_impl_trait(&ty("Message<Body>")).is_none());
    }
}

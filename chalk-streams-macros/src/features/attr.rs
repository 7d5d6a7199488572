//! Parses the `#[primary]` helper attribute.

use syn::{Attribute, Meta};

use crate::errors::Errors;

/// The `#[primary]` attribute among `attrs`, if there is one; a malformed or repeated one is
/// reported.
pub(crate) fn primary<'a>(attrs: &'a [Attribute], errors: &mut Errors) -> Option<&'a Attribute> {
    let mut found = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("primary")) {
        match &attr.meta {
            Meta::Path(_) => {}
            Meta::List(_) | Meta::NameValue(_) => errors.spanned(
                &attr.meta,
                "`#[primary]` takes no arguments: write `#[primary]` on the key field",
            ),
        }
        if found.is_some() {
            errors.spanned(attr, "duplicate `#[primary]` on this field");
        } else {
            found = Some(attr);
        }
    }
    found
}

/// Reports a `#[primary]` on the struct itself rather than on a field.
pub(crate) fn reject_on_container(attrs: &[Attribute], errors: &mut Errors) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("primary")) {
        errors.spanned(
            attr,
            "`#[primary]` goes on a field, the one that identifies the entity, not on the struct",
        );
    }
}

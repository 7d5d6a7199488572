//! Parses the helper attributes: `#[primary]` on the key field, `#[features(crate = "...")]` on
//! the struct.

use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Token};

use crate::errors::Errors;
use crate::root::{self, CrateRoot};

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

/// Reports a `#[features(...)]` on a field: it says where chalk-streams is, and goes on the
/// struct; a field is a feature unless it is `#[primary]`.
pub(crate) fn reject_on_field(attrs: &[Attribute], errors: &mut Errors) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("features")) {
        errors.spanned(
            attr,
            "`#[features(...)]` goes on the struct, where it says where chalk-streams is; every \
             field but the `#[primary]` key is a feature, and a field that is not one belongs \
             in another struct",
        );
    }
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

/// Where chalk-streams is, from `#[features(crate = "...")]` on the struct; the default path if
/// there is none. Anything else in `#[features(...)]` is reported.
pub(crate) fn crate_root(attrs: &[Attribute], errors: &mut Errors) -> CrateRoot {
    let mut found = CrateRoot::default();
    let mut seen_crate = false;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("features")) {
        let Some(metas) =
            errors.ok(attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated))
        else {
            continue;
        };
        for meta in metas {
            match &meta {
                Meta::NameValue(pair) if pair.path.is_ident("crate") => {
                    if seen_crate {
                        errors.spanned(&pair.path, "duplicate `crate` in `#[features(...)]`");
                    }
                    seen_crate = true;
                    if let Some(given) = errors.ok(root::parse(&pair.value)) {
                        found = given;
                    }
                }
                _ => errors.spanned(
                    &meta,
                    "`#[features(...)]` accepts `crate = \"path\"`, where chalk-streams is, e.g. \
                     `#[features(crate = \"my_platform::chalk_streams\")]`",
                ),
            }
        }
    }
    found
}

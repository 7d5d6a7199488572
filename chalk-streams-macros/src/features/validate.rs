//! The rules for a Features struct, and the model expansion works from.

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Field, Fields, Ident, Type};

use super::attr;
use crate::errors::Errors;
use crate::root::CrateRoot;
use crate::ty;

/// A validated Features struct.
pub(crate) struct Entity<'a> {
    /// The struct's name.
    pub(crate) ident: &'a Ident,
    /// The `#[primary]` field.
    pub(crate) primary: Column<'a>,
    /// The other fields, in declaration order.
    pub(crate) features: Vec<Feature<'a>>,
    /// Where chalk-streams is.
    pub(crate) root: CrateRoot,
}

/// A named field.
pub(crate) struct Column<'a> {
    /// The field as written (possibly `r#type`).
    pub(crate) ident: &'a Ident,
    /// Its name in the store, without any `r#`.
    pub(crate) name: String,
    /// Its declared type.
    pub(crate) ty: &'a Type,
}

/// A feature field.
pub(crate) struct Feature<'a> {
    /// The field.
    pub(crate) column: Column<'a>,
    /// `T` if the field is `Option<T>`: written only when it is `Some`.
    pub(crate) optional: Option<&'a Type>,
}

const SHAPE: &str = "`struct User { #[primary] uid: String, favorite_color: Option<String> }`";

/// Checks `input` against the rules for a Features type, reporting every violation.
pub(crate) fn validate(input: &DeriveInput) -> syn::Result<Entity<'_>> {
    let mut errors = Errors::default();
    attr::reject_on_container(&input.attrs, &mut errors);
    let root = attr::crate_root(&input.attrs, &mut errors);
    if !input.generics.params.is_empty() {
        errors.spanned(
            &input.generics,
            "a Features type cannot be generic: it is one entity with one set of features in \
             the store; replace the generic parameters with concrete types",
        );
    } else if let Some(where_clause) = &input.generics.where_clause {
        // `Generics` without parameters prints no tokens, which would put the error on the
        // derive.
        errors.spanned(
            where_clause,
            "a Features type cannot have a `where` clause: it is one entity with one set of \
             features in the store; remove the clause",
        );
    }

    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => Some(fields),
            Fields::Unnamed(fields) => {
                errors.spanned(
                    fields,
                    format_args!(
                        "`#[derive(Features)]` needs named fields, the feature names: {SHAPE}"
                    ),
                );
                None
            }
            Fields::Unit => {
                errors.spanned(
                    &input.ident,
                    format_args!(
                        "`#[derive(Features)]` needs named fields: a `#[primary]` key and the \
                         features, e.g. {SHAPE}"
                    ),
                );
                None
            }
        },
        Data::Enum(data) => {
            errors.spanned(
                data.enum_token,
                format_args!(
                    "`#[derive(Features)]` needs a struct with named fields, not an enum: \
                     declare one struct per entity, e.g. {SHAPE}"
                ),
            );
            None
        }
        Data::Union(data) => {
            errors.spanned(
                data.union_token,
                format_args!(
                    "`#[derive(Features)]` needs a struct with named fields, not a union: {SHAPE}"
                ),
            );
            None
        }
    };
    let Some(fields) = fields else {
        return Err(errors.into_error());
    };

    let mut primary: Option<Column<'_>> = None;
    let mut features = Vec::new();
    for field in &fields.named {
        attr::reject_on_field(&field.attrs, &mut errors);
        let Some(column) = column(field) else {
            continue;
        };
        let Some(primary_attr) = attr::primary(&field.attrs, &mut errors) else {
            features.push(Feature {
                optional: ty::option_inner(column.ty),
                column,
            });
            continue;
        };
        if let Some(first) = &primary {
            errors.spanned(
                primary_attr,
                format_args!(
                    "only one field can be `#[primary]`: `{}` is already the primary key",
                    first.name
                ),
            );
            continue;
        }
        if ty::option_inner(column.ty).is_some() {
            errors.spanned(
                column.ty,
                "the `#[primary]` key cannot be an `Option`: every row needs a key; use the \
                 inner type, and return `Option<Self>` from the resolver to skip messages \
                 without one",
            );
        }
        primary = Some(column);
    }

    match primary {
        Some(primary) => errors.finish(Entity {
            ident: &input.ident,
            primary,
            features,
            root,
        }),
        None => {
            errors.spanned(
                &input.ident,
                "no `#[primary]` field: mark the field that identifies the entity, e.g. \
                 `#[primary] uid: String`",
            );
            Err(errors.into_error())
        }
    }
}

fn column(field: &Field) -> Option<Column<'_>> {
    let ident = field.ident.as_ref()?;
    Some(Column {
        ident,
        name: ident.unraw().to_string(),
        ty: &field.ty,
    })
}

//! Generates the `Features` impl of a validated struct.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::Ident;

use super::validate::Entity;
use crate::root::CrateRoot;

/// `impl Features for Entity`.
pub(crate) fn expand(entity: &Entity<'_>) -> TokenStream {
    let private = entity.root.private();
    let ident = entity.ident;
    let namespace = snake_case(&ident.unraw().to_string());
    let primary_name = &entity.primary.name;
    let primary_ident = entity.primary.ident;
    let primary_ty = entity.primary.ty;
    // Only the conversions take the types' spans (so that a type without one is reported
    // there): `self` keeps the call site's, where it is bound, also when the struct's tokens
    // come from a `macro_rules!` and the derive does not.
    let into_key = quote_spanned! {primary_ty.span()=>
        <#primary_ty as #private::PrimaryKey>::into_key
    };
    let primary_key = quote!(#into_key(self.#primary_ident));
    let names = entity.features.iter().map(|feature| &feature.column.name);
    let count = entity.features.len();
    let pushes = entity.features.iter().map(|feature| {
        let name = &feature.column.name;
        let field = feature.column.ident;
        match feature.optional {
            Some(inner) => {
                let convert = quote_spanned! {inner.span()=>
                    <#inner as #private::IntoFeatureValue>::into_feature_value
                };
                quote! {
                    if let ::core::option::Option::Some(__chalk_value) = self.#field {
                        __chalk_values.push((#name, #convert(__chalk_value)));
                    }
                }
            }
            None => {
                let ty = feature.column.ty;
                let convert = quote_spanned! {ty.span()=>
                    <#ty as #private::IntoFeatureValue>::into_feature_value
                };
                quote!(__chalk_values.push((#name, #convert(self.#field)));)
            }
        }
    });
    let from_features = from_features(entity);

    quote! {
        #[automatically_derived]
        impl #private::Features for #ident {
            const NAMESPACE: &'static ::core::primitive::str = #namespace;
            const PRIMARY_KEY: &'static ::core::primitive::str = #primary_name;
            const FEATURES: &'static [&'static ::core::primitive::str] = &[#(#names),*];

            fn into_row(self, __chalk_time: #private::Timestamp) -> #private::FeatureRow {
                let __chalk_primary_key = #primary_key;
                let mut __chalk_values = #private::values_with_capacity(#count);
                #(#pushes)*
                #private::FeatureRow {
                    namespace: <Self as #private::Features>::NAMESPACE,
                    primary_key: __chalk_primary_key,
                    values: __chalk_values,
                    time: __chalk_time,
                }
            }

            #from_features
        }
    }
}

/// `Features::from_features`: the key parsed into the `#[primary]` field, each feature read
/// from the stored value of its name. Each conversion is spanned at its field's type, so a type
/// that cannot be read back is reported there.
fn from_features(entity: &Entity<'_>) -> TokenStream {
    let private = entity.root.private();
    let primary_name = &entity.primary.name;
    let primary_ident = entity.primary.ident;
    let primary_ty = entity.primary.ty;
    let from_key = quote_spanned! {primary_ty.span()=>
        <#primary_ty as #private::FromPrimaryKey>::from_key
    };
    let fields = entity.features.iter().map(|feature| {
        let name = &feature.column.name;
        let field = feature.column.ident;
        let (ty, absent, present) = match feature.optional {
            Some(inner) => (
                inner,
                quote!(::core::option::Option::None),
                quote!(::core::option::Option::Some(__chalk_value)),
            ),
            None => (
                feature.column.ty,
                quote! {
                    return ::core::result::Result::Err(
                        #private::missing_feature(__chalk_namespace, __chalk_key, #name),
                    )
                },
                quote!(__chalk_value),
            ),
        };
        let read = quote_spanned! {ty.span()=>
            <#ty as #private::FromFeatureValue>::from_feature_value
        };
        quote! {
            #field: match __chalk_features.get(#name) {
                ::core::option::Option::Some(__chalk_stored) => match #read(&__chalk_stored.value) {
                    ::core::result::Result::Ok(__chalk_value) => #present,
                    ::core::result::Result::Err(__chalk_error) => {
                        return ::core::result::Result::Err(#private::invalid_feature(
                            __chalk_namespace,
                            __chalk_key,
                            #name,
                            __chalk_error,
                        ));
                    }
                },
                ::core::option::Option::None => #absent,
            }
        }
    });

    quote! {
        fn from_features(
            __chalk_key: &::core::primitive::str,
            __chalk_features: &#private::BTreeMap<::std::string::String, #private::StoredFeature>,
        ) -> ::core::result::Result<Self, ::std::string::String> {
            let __chalk_namespace = <Self as #private::Features>::NAMESPACE;
            ::core::result::Result::Ok(Self {
                #primary_ident: match #from_key(__chalk_key) {
                    ::core::result::Result::Ok(__chalk_value) => __chalk_value,
                    ::core::result::Result::Err(__chalk_error) => {
                        return ::core::result::Result::Err(#private::invalid_key(
                            __chalk_namespace,
                            __chalk_key,
                            #primary_name,
                            __chalk_error,
                        ));
                    }
                },
                #(#fields,)*
            })
        }
    }
}

/// Stands in for the impl when the struct has errors, so code using the type as a Features
/// type does not report a second error for each use.
pub(crate) fn dummy(ident: &Ident, root: &CrateRoot) -> TokenStream {
    let private = root.private();
    quote! {
        #[automatically_derived]
        impl #private::Features for #ident {
            const NAMESPACE: &'static ::core::primitive::str = "";
            const PRIMARY_KEY: &'static ::core::primitive::str = "";
            const FEATURES: &'static [&'static ::core::primitive::str] = &[];

            fn into_row(self, _: #private::Timestamp) -> #private::FeatureRow {
                ::core::unreachable!()
            }

            fn from_features(
                _: &::core::primitive::str,
                _: &#private::BTreeMap<::std::string::String, #private::StoredFeature>,
            ) -> ::core::result::Result<Self, ::std::string::String> {
                ::core::unreachable!()
            }
        }
    }
}

/// `UserProfile` → `user_profile`, `HTTPRequest` → `http_request`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|next| next.is_lowercase());
            if previous.is_lowercase()
                || previous.is_ascii_digit()
                || (previous.is_uppercase() && next_is_lower)
            {
                snake.push('_');
            }
        }
        snake.extend(c.to_lowercase());
    }
    snake
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_cases_type_names() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("UserProfile"), "user_profile");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("UserV2Stats"), "user_v2_stats");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
        assert_eq!(snake_case("ABC"), "abc");
    }
}

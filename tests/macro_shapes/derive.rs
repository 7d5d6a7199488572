//! `#[derive(Features)]`: the metadata and the rows it produces.

use super::*;

#[test]
fn derived_features_metadata() {
    assert_eq!(User::NAMESPACE, "user");
    assert_eq!(User::PRIMARY_KEY, "uid");
    assert_eq!(User::FEATURES, ["favorite_color", "age"]);
    assert_eq!(UserProfile::NAMESPACE, "user_profile");
    assert_eq!(UserProfile::PRIMARY_KEY, "id");
    assert_eq!(UserProfile::FEATURES, ["type", "tags", "score"]);
}

#[test]
fn derived_into_row_skips_none() {
    let row = User {
        uid: "u".to_owned(),
        favorite_color: None,
        age: 7,
    }
    .into_row(TIME);
    assert_eq!(row, user_row("u", None, 7));

    let row = UserProfile {
        r#id: 9,
        r#type: "admin".to_owned(),
        tags: vec![],
        score: Some(0.5),
    }
    .into_row(TIME);
    assert_eq!(row.namespace, "user_profile");
    assert_eq!(row.primary_key, "9");
    assert_eq!(
        row.values,
        vec![
            ("type", FeatureValue::String("admin".to_owned())),
            ("tags", FeatureValue::List(vec![])),
            ("score", FeatureValue::Float(0.5)),
        ]
    );
}

/// Lower-case constants with the names a derive might bind (`value`, `key`, ...) in scope: the
/// derive's own bindings do not turn into patterns matching them.
mod names_in_scope {
    #![allow(non_upper_case_globals, dead_code)]

    use chalk_streams::prelude::*;
    use chalk_streams::store::StoredFeature;
    use chalk_streams::FeatureValue;

    const value: i64 = 0;
    const values: i64 = 0;
    const key: i64 = 0;
    const time: i64 = 0;
    const namespace: i64 = 0;
    const features: i64 = 0;
    const stored: i64 = 0;
    const error: i64 = 0;
    const primary_key: i64 = 0;

    #[derive(Features)]
    struct Shadowed {
        #[primary]
        id: String,
        count: i64,
        note: Option<String>,
    }

    #[test]
    fn a_derive_beside_constants_of_its_local_names() {
        let row = Shadowed {
            id: "s".to_owned(),
            count: 2,
            note: Some("n".to_owned()),
        }
        .into_row(Timestamp::from_millis(1));
        assert_eq!(row.primary_key, "s");
        assert_eq!(row.values.len(), 2);
        let kept = |v: FeatureValue| StoredFeature {
            value: v,
            time: Timestamp::from_millis(1),
        };
        let read = Shadowed::from_features(
            "s",
            &[("count".to_owned(), kept(FeatureValue::Int(2)))]
                .into_iter()
                .collect(),
        )
        .expect("read back");
        assert_eq!((read.count, read.note), (2, None));
    }
}

/// A type of the user's own named `str` in scope: the derive's signatures name the primitive by
/// its full path, so they still match the trait's.
mod primitive_shadowed {
    #![allow(non_camel_case_types, dead_code)]

    use chalk_streams::prelude::*;

    struct str;

    #[derive(Features)]
    struct Tagged {
        #[primary]
        id: String,
        tag: Option<String>,
    }

    #[test]
    fn a_derive_beside_a_type_named_str() {
        assert_eq!(Tagged::NAMESPACE, "tagged");
        assert_eq!(Tagged::FEATURES, ["tag"]);
        let row = Tagged {
            id: "t".to_owned(),
            tag: Some("x".to_owned()),
        }
        .into_row(Timestamp::from_millis(1));
        assert_eq!(row.primary_key, "t");
        let read = Tagged::from_features("t", &Default::default()).expect("read back");
        assert_eq!((read.id, read.tag), ("t".to_owned(), None));
    }
}

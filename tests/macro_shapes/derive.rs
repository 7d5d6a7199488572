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

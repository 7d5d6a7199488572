//! Rows every store refuses fail in the harness as they do in the runtime.

use super::*;

#[derive(Deserialize)]
struct Document {
    id: String,
    body: serde_json::Value,
}

#[derive(Features)]
struct Stored {
    #[primary]
    id: String,
    body: serde_json::Value,
}

static DOCUMENTS: KafkaSource = KafkaSource::new().topic("documents");

/// Stores the body two levels deeper than it came.
#[stream(source = DOCUMENTS, name = "documents")]
fn documents(document: Document) -> Stored {
    Stored {
        id: document.id,
        body: json!([[document.body]]),
    }
}

/// A value every store refuses (nested deeper than can be read back) fails its message in phase
/// `store`, as the runtime fails it, rather than passing as processed.
#[tokio::test]
async fn rows_every_store_refuses_fail_in_phase_store() {
    let mut tester = StreamTester::new("documents").expect("declared");
    let shallow = json!({"id": "d1", "body": [1, [2]]});
    let status = tester.send(TestMessage::json(&shallow)).await;
    assert!(
        matches!(status, MessageStatus::Processed { .. }),
        "{status:?}"
    );
    // 127 levels in the payload's body: as deep as a payload can be read, and two more stored.
    let deep_body: serde_json::Value = (0..126).fold(json!(1), |inner, _| json!([inner]));
    let deep = json!({"id": "d2", "body": deep_body});
    match tester.send(TestMessage::json(&deep)).await {
        MessageStatus::Failed { phase, error } => {
            assert_eq!(phase, Phase::Store);
            assert!(error.contains("could not be read back"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

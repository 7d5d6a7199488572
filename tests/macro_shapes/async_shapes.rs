//! Each input and output shape of an `async` resolver, called on a hand-built message.

use super::*;

#[tokio::test]
async fn async_message_input() {
    let topic = topic();
    let name = "macro_shapes::async_favorite_color";
    let rows = run_async(name, &raw(BODY, None, &topic)).await;
    assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]));
    assert_parse_error(run_async(name, &raw(b"[]", None, &topic)).await);
}

#[tokio::test]
async fn async_value_input_with_nested_output() {
    let topic = topic();
    let rows = run_async("async_value", &raw(BODY, None, &topic)).await;
    assert_eq!(rows, Ok(vec![user_row("u1", Some("blue"), 30)]));
    let rows = run_async("async_value", &raw(br#"{"user_id":"u0"}"#, None, &topic)).await;
    assert_eq!(rows, Ok(vec![]));
    let error = run_async("async_value", &raw(NEGATIVE, None, &topic))
        .await
        .expect_err("negative age is rejected");
    assert_eq!(error.phase, Phase::Resolver);
    assert_eq!(error.message, "rejected: negative age");
    assert_parse_error(run_async("async_value", &raw(b"nope", None, &topic)).await);
}

#[tokio::test]
async fn async_text_fans_out() {
    let topic = topic();
    let rows = run_async("macro_shapes::async_fan_out", &raw(b"a,b,c", None, &topic)).await;
    assert_eq!(
        rows,
        Ok(vec![
            user_row("a", None, 0),
            user_row("b", None, 0),
            user_row("c", None, 0),
        ])
    );
    assert_parse_error(run_async("macro_shapes::async_fan_out", &raw(&[0xc3], None, &topic)).await);
}

#[tokio::test]
async fn async_message_of_bytes() {
    let topic = topic();
    let rows = run_async("macro_shapes::async_bytes", &raw(b"abcd", None, &topic)).await;
    assert_eq!(rows, Ok(vec![user_row("3", None, 4)]));
}

#[tokio::test]
async fn async_text_in_a_cow() {
    let topic = topic();
    let rows = run_async("macro_shapes::async_cow_text", &raw(b"plain", None, &topic)).await;
    assert_eq!(rows, Ok(vec![user_row("PLAIN", None, 0)]));
}

//! A stream with a dead-letter queue: orders from the topic `orders`, failures to `orders_dlq`.
//!
//! An order the stream cannot use (a payload that is not an order, or a negative quantity) goes
//! to the dead-letter topic `orders_dlq` with its original key, value and headers, plus an
//! envelope of `chalk.*` headers saying which stream failed, in which phase, why, and where the
//! message came from. The embedded demo has one such order among its samples:
//!
//! ```text
//! cargo run --example orders_dlq -- run --embedded
//! ```
//!
//! On a real cluster (`KAFKA_BOOTSTRAP_SERVER=host:port`), once the cause of the failures is
//! fixed, send the letters back to `orders`; a second replay sends nothing again:
//!
//! ```text
//! cargo run --example orders_dlq -- dlq replay --stream orders --dry-run
//! cargo run --example orders_dlq -- dlq replay --stream orders
//! ```

use chalk_streams::prelude::*;
use serde::Deserialize;

/// The JSON body of a message on `orders`.
#[derive(Deserialize)]
struct OrderBody {
    id: String,
    quantity: i64,
}

/// The entity the stream computes features for.
#[derive(Features)]
struct Order {
    #[primary]
    id: String,
    quantity: i64,
}

/// The brokers come from `KAFKA_BOOTSTRAP_SERVER` (or `--embedded`).
static ORDERS: KafkaSource = KafkaSource::new()
    .topic("orders")
    .dead_letter_queue_topic("orders_dlq");

#[stream(source = ORDERS, name = "orders")]
fn orders(message: Message<OrderBody>) -> Result<Order, String> {
    let order = message.value;
    if order.quantity < 0 {
        return Err(format!(
            "order `{}` has a negative quantity ({})",
            order.id, order.quantity
        ));
    }
    Ok(Order {
        id: order.id,
        quantity: order.quantity,
    })
}

fn main() -> chalk_streams::Result<()> {
    chalk_streams::App::new()
        .samples(
            "orders",
            r#"
            {"id": "o1", "quantity": 2}
            {"id": "o2", "quantity": -1}
            {"id": "o3", "quantity": 5}
            "#,
        )
        .main()
}

use chalk_streams::prelude::*;

#[derive(serde::Deserialize)]
struct Order {
    id: String,
}

#[derive(Features)]
struct Orders {
    #[primary]
    id: String,
}

type Envelope = Message<Order>;

static ORDERS: KafkaSource = KafkaSource::new().topic("orders");

#[stream(source = ORDERS)]
fn orders(order: Envelope) -> Orders {
    Orders { id: order.value.id }
}

fn main() {}

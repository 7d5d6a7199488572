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

static ORDERS: KafkaSource = KafkaSource::new().topic("orders");

#[stream(source = ORDERS, timeout = 5)]
async fn seconds(order: Order) -> Orders {
    Orders { id: order.id }
}

#[stream(source = ORDERS, timeout)]
async fn nothing(order: Order) -> Orders {
    Orders { id: order.id }
}

fn main() {}

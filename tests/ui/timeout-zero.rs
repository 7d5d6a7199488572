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

#[stream(source = ORDERS, timeout = "0s")]
async fn orders(order: Order) -> Orders {
    Orders { id: order.id }
}

fn main() {}

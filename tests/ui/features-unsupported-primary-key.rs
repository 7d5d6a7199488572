use chalk_streams::prelude::*;

#[derive(Features)]
struct Reading {
    #[primary]
    sensor: f64,
    value: f64,
}

fn main() {}

//! The wasm entry point of the Zendesk sidebar app.
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {}

//! Keeps the Zendesk iframe as tall as the content (`invoke('resize')` on every size change).

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::ResizeObserver;

/// Observes `element` and calls `resize(height)` whenever its rounded-up height changes.
/// Returns the observer (disconnect it to stop).
pub fn observe(
    element: &web_sys::Element,
    resize: impl Fn(u32) + 'static,
) -> Option<ResizeObserver> {
    let last = Rc::new(Cell::new(0u32));
    let target = element.clone();
    let callback = Closure::<dyn Fn(js_sys::Array)>::new(move |_entries: js_sys::Array| {
        let height = target.get_bounding_client_rect().height().ceil().max(0.0) as u32;
        if height != last.get() {
            last.set(height);
            resize(height);
        }
    });
    let observer = ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
    observer.observe(element);
    // The observer lives as long as the page.
    callback.forget();
    Some(observer)
}

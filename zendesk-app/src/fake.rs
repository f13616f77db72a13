//! A fake ZAF client for tests: canned answers, recorded handlers and resizes.

use app_core::settings::Settings;
use std::cell::{Cell, RefCell};
use std::future::{ready, Future};

use crate::zaf::{CurrentUser, SettingsResult, ZafClient, ZafError};

/// Registered event handlers, by event name.
type Handlers = RefCell<Vec<(String, Box<dyn Fn()>)>>;

pub struct FakeZaf {
    pub location: String,
    pub settings: serde_json::Value,
    pub ticket_id: Cell<Option<u64>>,
    pub user: CurrentUser,
    /// Makes `metadata()` fail.
    pub fail_metadata: bool,
    pub handlers: Handlers,
    pub resizes: RefCell<Vec<u32>>,
    /// `open_modal` calls: (url, width, height).
    pub modals: RefCell<Vec<(String, u32, u32)>>,
    /// `destroy` calls.
    pub destroyed: Cell<u32>,
}

impl FakeZaf {
    pub fn new(
        location: &str,
        settings: serde_json::Value,
        ticket_id: Option<u64>,
        role: &str,
        locale: &str,
    ) -> FakeZaf {
        FakeZaf {
            location: location.into(),
            settings,
            ticket_id: Cell::new(ticket_id),
            user: CurrentUser {
                role: role.into(),
                locale: locale.into(),
            },
            fail_metadata: false,
            handlers: RefCell::new(Vec::new()),
            resizes: RefCell::new(Vec::new()),
            modals: RefCell::new(Vec::new()),
            destroyed: Cell::new(0),
        }
    }

    /// Fires a ZAF event to every handler registered for it.
    pub fn fire(&self, event: &str) {
        for (name, handler) in self.handlers.borrow().iter() {
            if name == event {
                handler();
            }
        }
    }
}

impl ZafClient for FakeZaf {
    fn location(&self) -> impl Future<Output = Result<String, ZafError>> {
        ready(Ok(self.location.clone()))
    }

    fn settings(&self) -> impl Future<Output = Result<SettingsResult, ZafError>> {
        ready(if self.fail_metadata {
            Err(ZafError("metadata() rejected".into()))
        } else {
            Ok(Settings::from_json(&self.settings))
        })
    }

    fn ticket_id(&self) -> impl Future<Output = Result<Option<u64>, ZafError>> {
        ready(Ok(self.ticket_id.get()))
    }

    fn current_user(&self) -> impl Future<Output = Result<CurrentUser, ZafError>> {
        ready(Ok(self.user.clone()))
    }

    fn on(&self, event: &str, handler: Box<dyn Fn()>) {
        self.handlers
            .borrow_mut()
            .push((event.to_string(), handler));
    }

    fn resize(&self, height_px: u32) {
        self.resizes.borrow_mut().push(height_px);
    }

    fn open_modal(&self, url: &str, width_px: u32, height_px: u32) {
        self.modals
            .borrow_mut()
            .push((url.to_string(), width_px, height_px));
    }

    fn destroy(&self) {
        self.destroyed.set(self.destroyed.get() + 1);
    }
}

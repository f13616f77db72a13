//! The middleware: BeyondTrust outbound events in, Zendesk private comments out.

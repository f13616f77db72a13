//! Yew components of the ticket sidebar. They take plain data (settings, ticket, locale) and
//! callbacks, so they run the same under the real Zendesk client, a fake, or a test.

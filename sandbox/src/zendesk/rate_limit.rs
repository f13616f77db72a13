//! Zendesk's per-minute request budget (fixed one-minute windows on tokio time, so tests can
//! run with paused time).

use std::time::Duration;

use tokio::time::Instant;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: u32,
    window_start: Option<Instant>,
    used: u32,
}

/// Outcome of one request against the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed { limit: u32, remaining: u32 },
    Limited { limit: u32, retry_after_secs: u64 },
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            window_start: None,
            used: 0,
        }
    }

    /// Changes the budget and starts a fresh window.
    pub fn set_limit(&mut self, per_minute: u32) {
        self.per_minute = per_minute;
        self.window_start = None;
        self.used = 0;
    }

    pub fn check(&mut self) -> Verdict {
        let now = Instant::now();
        let start = match self.window_start {
            Some(start) if now.duration_since(start) < WINDOW => start,
            _ => {
                self.window_start = Some(now);
                self.used = 0;
                now
            }
        };
        if self.used >= self.per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(start));
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            return Verdict::Limited {
                limit: self.per_minute,
                retry_after_secs: secs.max(1),
            };
        }
        self.used += 1;
        Verdict::Allowed {
            limit: self.per_minute,
            remaining: self.per_minute - self.used,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn budget_is_spent_then_refilled_after_a_minute() {
        let mut limiter = RateLimiter::new(2);
        assert_eq!(
            limiter.check(),
            Verdict::Allowed {
                limit: 2,
                remaining: 1
            }
        );
        assert_eq!(
            limiter.check(),
            Verdict::Allowed {
                limit: 2,
                remaining: 0
            }
        );
        tokio::time::advance(Duration::from_secs(20)).await;
        assert_eq!(
            limiter.check(),
            Verdict::Limited {
                limit: 2,
                retry_after_secs: 40
            }
        );
        tokio::time::advance(Duration::from_secs(40)).await;
        assert_eq!(
            limiter.check(),
            Verdict::Allowed {
                limit: 2,
                remaining: 1
            }
        );
    }
}

/// Zendesk's per-ticket update limit: at most `limit` updates of one ticket by one user in
/// ten minutes (30 by default), sliding window.
#[derive(Debug)]
pub(crate) struct TicketUpdates {
    limit: usize,
    recent: std::collections::HashMap<u64, std::collections::VecDeque<Instant>>,
}

/// Ten minutes.
const TICKET_WINDOW: Duration = Duration::from_secs(600);

impl TicketUpdates {
    pub fn new(limit: usize) -> TicketUpdates {
        TicketUpdates {
            limit,
            recent: Default::default(),
        }
    }

    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
        self.recent.clear();
    }

    /// `Err(seconds to wait)` when the ticket had `limit` updates in the last ten minutes.
    pub fn check(&mut self, ticket: u64) -> Result<(), u64> {
        let now = Instant::now();
        let recent = self.recent.entry(ticket).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= TICKET_WINDOW)
        {
            recent.pop_front();
        }
        match recent.front() {
            Some(oldest) if recent.len() >= self.limit => {
                let left = TICKET_WINDOW.saturating_sub(now.duration_since(*oldest));
                Err((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts one applied update.
    pub fn record(&mut self, ticket: u64) {
        self.recent
            .entry(ticket)
            .or_default()
            .push_back(Instant::now());
    }
}

#[cfg(test)]
mod ticket_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn thirty_updates_per_ticket_per_ten_minutes() {
        let mut updates = TicketUpdates::new(30);
        for _ in 0..30 {
            assert_eq!(updates.check(1), Ok(()));
            updates.record(1);
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert_eq!(updates.check(1), Err(570));
        assert_eq!(updates.check(2), Ok(()), "other tickets are not affected");
        tokio::time::advance(Duration::from_secs(570)).await;
        assert_eq!(updates.check(1), Ok(()));
    }
}

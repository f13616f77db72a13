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

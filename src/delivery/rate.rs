//! The send-rate limit: at most `max_per_second` messages in any one-second window, counted
//! over a sliding log of recent send times (a token bucket that starts full would allow a
//! burst above the rate).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct SendRate {
    /// How many sends may fall inside one `period`.
    per_period: usize,
    period: Duration,
    recent: Mutex<VecDeque<Instant>>,
}

impl SendRate {
    pub fn new(max_per_second: f64) -> Self {
        // Below one per second the rule becomes "one per 1/rate seconds".
        let per_period = (max_per_second.floor() as usize).max(1);
        let period = Duration::from_secs_f64((per_period as f64 / max_per_second).max(1.0));
        Self {
            per_period,
            period,
            recent: Mutex::new(VecDeque::with_capacity(per_period)),
        }
    }

    /// Waits until one more send keeps every window within the limit, and reserves it.
    pub async fn acquire(&self) {
        let mut recent = self.recent.lock().await;
        if recent.len() == self.per_period
            && let Some(&oldest) = recent.front()
        {
            // Holding the lock while waiting keeps senders in order.
            tokio::time::sleep_until(oldest + self.period).await;
            recent.pop_front();
        }
        recent.push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_exceeds_the_rate_in_any_window() {
        let rate = SendRate::new(5.0);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..23 {
            rate.acquire().await;
            times.push(Instant::now() - start);
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .filter(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 5,
                "{in_window} sends in the second after {t:?}"
            );
        }
        // And it is not slower than it must be: 23 sends at 5/s need a little over 4 s.
        assert!(times[22] <= Duration::from_millis(4_001), "{:?}", times[22]);
    }

    #[tokio::test(start_paused = true)]
    async fn slow_rates_space_sends_out() {
        let rate = SendRate::new(0.5);
        let start = Instant::now();
        rate.acquire().await;
        rate.acquire().await;
        assert!(Instant::now() - start >= Duration::from_secs(2));
    }
}

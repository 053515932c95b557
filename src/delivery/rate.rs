//! The send-rate limit, shared by every process on the database: sends are spaced evenly, one
//! slot every `1/rate` seconds on one timeline kept in the `send_rate` row (a virtual-time
//! token bucket without burst). A worker reserves a short block of consecutive slots with one
//! atomic update and spends them locally, so the database sees a few updates a second however
//! fast the provider is. Even spacing, unlike a bucket that starts full, never puts more than
//! `rate` sends in any one-second window, wherever the window starts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::DeliveryResult;
use crate::store;

/// Slots are spaced this much wider than `1/rate`. The provider counts sends when they
/// arrive: `rate + 1` arrivals fit in one second only if jitter (scheduling on a busy host,
/// signing, the network) shifts them by more than `rate × interval − 1 s`, which this makes
/// 60 ms whatever the rate.
const HEADROOM: f64 = 1.06;

/// How late a slot may still be spent. Slots are `HEADROOM` apart, so a one-second window
/// holds at most `floor((1 + LATE) × rate / HEADROOM) + 1` sends, which stays within the rate
/// and leaves room for network jitter.
const LATE: Duration = Duration::from_millis(5);

/// A rate at or above this is no limit: it is far above any provider's quota and above what
/// one database can record, so the shared timeline is not consulted at all (at such rates
/// it would be a write every few milliseconds, and every sender would queue behind it).
pub const UNLIMITED: f64 = 1_000_000.0;

/// A block lasts about this long: long enough that reserving costs little, short enough
/// that a process going idle strands only a moment of the shared rate.
const BLOCK: Duration = Duration::from_millis(250);

/// This process's clock against the database server's, estimated as NTP does: from the
/// reservation with the shortest round trip, so a slow answer does not shift a block.
#[derive(Default)]
struct DbClock {
    /// The server's clock minus ours, in microseconds.
    offset_us: i64,
    /// The round trip the estimate came from, and when (our clock).
    best_rtt_us: Option<i64>,
    taken_at_us: i64,
}

impl DbClock {
    fn sample(&mut self, db_now: i64, before: i64, after: i64) {
        let rtt = after - before;
        // Clocks drift: an estimate older than a minute gives way to any new one.
        let stale = after - self.taken_at_us > 60_000_000;
        if self.best_rtt_us.is_none_or(|best| rtt <= best) || stale {
            self.offset_us = db_now - (before + after) / 2;
            self.best_rtt_us = Some(rtt);
            self.taken_at_us = after;
        }
    }
}

/// Microseconds since the Unix epoch, on this host's clock.
fn wall_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Where slots come from.
enum Timeline {
    /// The `send_rate` row, shared by every process on the database. On PostgreSQL its
    /// timeline is the database server's clock, so hosts whose clocks disagree still agree
    /// on it; on SQLite (one host) it is the host's clock.
    Shared { db: store::Db, clock: DbClock },
    /// This process alone (unit tests).
    #[cfg(test)]
    Local { next: Option<Instant> },
    /// No limit (`UNLIMITED`).
    Unlimited,
}

/// The slots reserved and not yet spent.
struct Block {
    timeline: Timeline,
    /// The next unspent slot.
    next: Instant,
    left: u32,
}

pub struct SendRate {
    /// `UNLIMITED` or more: every send may go at once.
    unlimited: bool,
    interval: Duration,
    /// Slots reserved at once.
    per_block: u32,
    block: Mutex<Block>,
}

impl SendRate {
    /// The limit for everything sent through `db`.
    pub fn shared(max_per_second: f64, db: store::Db) -> Self {
        let timeline = if max_per_second >= UNLIMITED {
            Timeline::Unlimited
        } else {
            Timeline::Shared {
                db,
                clock: DbClock::default(),
            }
        };
        Self::new(max_per_second, timeline)
    }

    fn new(max_per_second: f64, timeline: Timeline) -> Self {
        let interval = Duration::from_secs_f64(HEADROOM / max_per_second.max(1e-6));
        let per_block = (BLOCK.as_secs_f64() / interval.as_secs_f64()).clamp(1.0, 1000.0) as u32;
        Self {
            unlimited: matches!(timeline, Timeline::Unlimited),
            interval,
            per_block,
            block: Mutex::new(Block {
                timeline,
                next: Instant::now(),
                left: 0,
            }),
        }
    }

    /// Waits for the next slot and takes it. Holding the lock while waiting keeps this
    /// process's senders in order.
    pub async fn acquire(&self) -> DeliveryResult<()> {
        if self.unlimited {
            return Ok(());
        }
        let mut block = self.block.lock().await;
        // A slot may be spent a little late (the process was busy), never long after its
        // time: slots left over from a moment of idling or of falling behind would bunch
        // sends together with later slots, this process's or another's.
        let now = Instant::now();
        while block.left > 0 && block.next + LATE < now {
            block.next += self.interval;
            block.left -= 1;
        }
        if block.left == 0 {
            block.next = self.reserve(&mut block.timeline).await?;
            block.left = self.per_block;
        }
        let at = block.next;
        block.next += self.interval;
        block.left -= 1;
        tokio::time::sleep_until(at).await;
        Ok(())
    }

    /// Reserves a block; returns when its first slot is, on this process's clock.
    async fn reserve(&self, timeline: &mut Timeline) -> DeliveryResult<Instant> {
        match timeline {
            Timeline::Shared { db, clock } => {
                let before = wall_us();
                let interval_us = (self.interval.as_micros() as i64).max(1);
                let r =
                    store::send_rate::reserve(db, i64::from(self.per_block), interval_us, before)
                        .await?;
                let after = wall_us();
                if let Some(db_now) = r.db_now_us {
                    clock.sample(db_now, before, after);
                }
                let first_local = r.first_slot_us - clock.offset_us;
                let wait =
                    Duration::from_micros(first_local.saturating_sub(wall_us()).max(0) as u64);
                Ok(Instant::now() + wait)
            }
            #[cfg(test)]
            Timeline::Local { next } => {
                let now = Instant::now();
                let first = next.map_or(now, |n| n.max(now));
                *next = Some(first + self.interval * self.per_block);
                Ok(first)
            }
            Timeline::Unlimited => Ok(Instant::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(rate: f64) -> SendRate {
        SendRate::new(rate, Timeline::Local { next: None })
    }

    #[tokio::test(start_paused = true)]
    async fn never_exceeds_the_rate_in_any_window() {
        let rate = local(5.0);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..23 {
            rate.acquire().await.unwrap();
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
        // And it is not slower than it must be: 23 sends at 5/s, evenly spaced with the
        // headroom, need 22 intervals of 0.212 s.
        assert!(times[22] <= Duration::from_millis(4_670), "{:?}", times[22]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_beyond_any_quota_is_no_limit() {
        let rate = SendRate::new(UNLIMITED, Timeline::Unlimited);
        let start = Instant::now();
        for _ in 0..10_000 {
            rate.acquire().await.unwrap();
        }
        assert_eq!(Instant::now(), start);
    }

    #[tokio::test(start_paused = true)]
    async fn slow_rates_space_sends_out() {
        let rate = local(0.5);
        let start = Instant::now();
        rate.acquire().await.unwrap();
        rate.acquire().await.unwrap();
        assert!(Instant::now() - start >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn slots_left_over_from_an_idle_moment_are_not_spent_late() {
        let rate = local(10.0);
        rate.acquire().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let start = Instant::now();
        rate.acquire().await.unwrap();
        rate.acquire().await.unwrap();
        // Had the stale block been spent, both would have gone at once.
        assert!(Instant::now() - start >= Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_process_slower_than_the_rate_is_not_held_back() {
        // 1,000/s allowed, but each send takes 2 ms: the process sends at its own pace, and
        // skipped slots never make it wait for a later block.
        let rate = local(1_000.0);
        let start = Instant::now();
        for _ in 0..500 {
            rate.acquire().await.unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let took = Instant::now() - start;
        assert!(took < Duration::from_millis(1_100), "{took:?}");
    }
}

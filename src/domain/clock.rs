use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// The source of "now". Expiry, idle timeouts and lockouts read it, so tests can move time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// How times appear to people (mail, the member pages): in the association's time zone, with the zone named, e.g.
/// "6 December 2026, 18:00 CET". Zones without a lettered abbreviation show their offset
/// ("UTC-03").
pub fn human_time(t: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    let local = t.with_timezone(&zone);
    format!(
        "{} {}",
        local.format("%-d %B %Y, %H:%M"),
        zone_label(t, zone)
    )
}

/// The time of day alone, with the zone named ("18:00 CET"), for something later today.
pub fn clock_time(t: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    format!(
        "{} {}",
        t.with_timezone(&zone).format("%H:%M"),
        zone_label(t, zone)
    )
}

/// The zone's lettered abbreviation at `t`, or its offset ("UTC-03") where it has none.
fn zone_label(t: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    let abbreviation = t.with_timezone(&zone).format("%Z").to_string();
    if abbreviation.starts_with(['+', '-']) {
        format!("UTC{abbreviation}")
    } else {
        abbreviation
    }
}

/// A clock that only moves when told to. Cloning shares the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock that stands at `start` until it is advanced.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// Moves the time on by `by`, for this clock and all its clones.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

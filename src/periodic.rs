//! A background task that runs at once and then every period until its stop signal turns
//! true: housekeeping and the scheduler of mass communications. A turn that is still running
//! when the next is due delays it instead of piling turns up.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Spawns `turn` to run now and every `period` until `stop` turns true.
pub fn spawn<F, Fut>(
    period: Duration,
    mut stop: watch::Receiver<bool>,
    mut turn: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
            turn().await;
        }
    })
}

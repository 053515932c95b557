//! An in-memory transport for tests whose subject is not delivery itself.

use std::sync::Mutex;

use tokio::sync::Notify;

use super::{MailTransport, OutgoingEmail, SendError};

#[derive(Default)]
pub struct MemoryTransport {
    sent: Mutex<Vec<OutgoingEmail>>,
    times: Mutex<Vec<std::time::Instant>>,
    arrived: Notify,
}

impl MemoryTransport {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<OutgoingEmail> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// When each message was handed over, in order.
    pub fn times(&self) -> Vec<std::time::Instant> {
        self.times.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until at least `n` messages were sent, or `timeout` passes; returns them all.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<OutgoingEmail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let sent = self.sent();
            if sent.len() >= n || tokio::time::Instant::now() >= deadline {
                return sent;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

#[async_trait::async_trait]
impl MailTransport for MemoryTransport {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, SendError> {
        let id = {
            let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
            sent.push(email.clone());
            self.times
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(std::time::Instant::now());
            format!("memory-{}", sent.len())
        };
        self.arrived.notify_waiters();
        Ok(id)
    }
}

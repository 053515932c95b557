//! The threads that compute password hashes. They run at a lower OS priority (nice 10) than
//! the threads serving requests, so while sign-ins keep every core hashing, a cheap query
//! still gets a core at once: hashing takes the idle time, never the other way round.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::error::{AppError, AppResult};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a hashing thread waits for the next job before it frees the memory it keeps for
/// Argon2 (`hash_memory`): under a stream of sign-ins the next check comes within
/// milliseconds, and an idle server holds none of it.
const KEEP_MEMORY_WHILE_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

pub struct HashPool {
    jobs: mpsc::Sender<Job>,
}

impl HashPool {
    /// Starts `threads` hashing threads; they stop when the pool is dropped.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("memberkey-hash-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is let go at each timeout, so every idle thread gets its
                        // turn to time out.
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv_timeout(KEEP_MEMORY_WHILE_IDLE),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking hash must not take the thread with it.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                            }
                            // Idle a while: the Argon2 memory it kept goes back.
                            Err(mpsc::RecvTimeoutError::Timeout) => super::hash_memory::release(),
                            Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                })?;
        }
        Ok(Self { jobs: tx })
    }

    /// Runs `f` on a hashing thread and waits for its result without blocking the runtime.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs
            .send(job)
            .map_err(|_| AppError::internal("hash pool stopped"))?;
        rx.await
            .map_err(|_| AppError::internal("a hashing job panicked"))
    }
}

/// Linux keeps a nice value per thread, so this lowers only the calling hashing thread.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments; `who = 0` is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

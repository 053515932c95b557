//! Per-client-IP and per-address limits, counted in the database (`store::rate_limits`).

use super::{RequestMeta, Services};
use crate::error::{AppError, AppResult};
use crate::store;

/// What is being limited; each has its own buckets and budget.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Member sign-in attempts (every alias counts) from one client IP.
    LoginFromIp,
    /// Staff sign-in attempts from one client IP.
    StaffLoginFromIp,
    /// Set-password token checks and uses from one client IP: token guessing.
    TokenFromIp,
}

impl Limit {
    fn prefix(self) -> &'static str {
        match self {
            Limit::LoginFromIp => "login-ip",
            Limit::StaffLoginFromIp => "staff-login-ip",
            Limit::TokenFromIp => "token-ip",
        }
    }
}

/// Counts one attempt from the request's client and answers `RATE_LIMITED` once the
/// window's budget is spent. Calls without a client address (the CLI, service tests) are not
/// limited.
pub async fn check(svc: &Services, meta: &RequestMeta, limit: Limit) -> AppResult<()> {
    let Some(ip) = meta.client_ip.as_deref() else {
        return Ok(());
    };
    let budget = match limit {
        Limit::LoginFromIp | Limit::StaffLoginFromIp => svc.config.login_ip_limit,
        Limit::TokenFromIp => svc.config.token_ip_limit,
    };
    let key = format!("{}:{ip}", limit.prefix());
    let hits =
        store::rate_limits::hit(&svc.db, &key, svc.config.login_ip_window, svc.clock.now()).await?;
    if hits > budget {
        tracing::warn!(limit = limit.prefix(), client_ip = ip, "rate limit reached");
        return Err(AppError::RateLimited);
    }
    Ok(())
}

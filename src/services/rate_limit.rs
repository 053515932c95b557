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
    /// "Forgot Login" requests from one client IP.
    ResetFromIp,
}

impl Limit {
    fn prefix(self) -> &'static str {
        match self {
            Limit::LoginFromIp => "login-ip",
            Limit::StaffLoginFromIp => "staff-login-ip",
            Limit::TokenFromIp => "token-ip",
            Limit::ResetFromIp => "reset-ip",
        }
    }
}

/// Counts one attempt from the request's client and answers `RATE_LIMITED` once the
/// window's budget is spent. Calls without a client address (the CLI, service tests) are not
/// limited.
pub async fn check(svc: &Services, meta: &RequestMeta, limit: Limit) -> AppResult<()> {
    if within(svc, meta, limit).await? {
        Ok(())
    } else {
        Err(AppError::RateLimited)
    }
}

/// Counts one attempt like [`check`] and says whether it is within the budget, for callers
/// that must answer the same either way.
pub async fn within(svc: &Services, meta: &RequestMeta, limit: Limit) -> AppResult<bool> {
    let Some(client) = client_key(meta) else {
        return Ok(true);
    };
    let budget = match limit {
        Limit::LoginFromIp | Limit::StaffLoginFromIp => svc.config.login_ip_limit,
        Limit::TokenFromIp => svc.config.token_ip_limit,
        Limit::ResetFromIp => svc.config.reset_ip_limit,
    };
    let key = format!("{}:{client}", limit.prefix());
    let hits =
        store::rate_limits::hit(&svc.db, &key, svc.config.login_ip_window, svc.clock.now()).await?;
    if hits > budget {
        tracing::warn!(limit = limit.prefix(), client = %crate::logsafe::Field(&client), "rate limit reached");
        return Ok(false);
    }
    Ok(true)
}

/// The key a client's limits are counted under: its IPv4 address, or the /64 network of an
/// IPv6 address (one host usually holds a whole /64, so counting single addresses would let
/// it pick a fresh one per request). `None` for calls without a client (CLI, service tests).
pub fn client_key(meta: &RequestMeta) -> Option<String> {
    use std::net::IpAddr;
    let raw = meta.client_ip.as_deref()?;
    Some(match raw.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => raw.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str) -> Option<String> {
        client_key(&RequestMeta {
            client_ip: Some(ip.into()),
            ..Default::default()
        })
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7").as_deref(), Some("192.0.2.7"));
        assert_eq!(key("192.0.2.7").as_deref(), Some("192.0.2.7"));
        assert_eq!(client_key(&RequestMeta::default()), None);
    }
}

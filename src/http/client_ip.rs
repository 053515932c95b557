//! The client's address. Only a configured reverse proxy may name another one through
//! `X-Forwarded-For`; from anyone else the header is ignored, so a client cannot pick the
//! address its rate limits are counted against.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// Walks `X-Forwarded-For` from the right (the hop nearest us) past trusted proxies and
/// returns the first address no trusted proxy vouches for.
pub(super) fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut ip = peer.ip();
    if !trusted.contains(&ip) {
        return ip;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(next) => {
                ip = next;
                if !trusted.contains(&next) {
                    break;
                }
            }
            // A garbled entry: stop at the last address a trusted proxy gave us.
            Err(_) => break,
        }
    }
    ip
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn ignores_the_header_from_an_untrusted_peer() {
        let peer: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        assert_eq!(client_ip(peer, &headers("198.51.100.1"), &[]), peer.ip(),);
    }

    #[test]
    fn takes_the_nearest_untrusted_hop_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer = SocketAddr::new(proxy, 5000);
        // The left-most entry is whatever the client wrote; the proxy appended the real one.
        let ip = client_ip(peer, &headers("1.1.1.1, 198.51.100.7"), &[proxy]);
        assert_eq!(ip, "198.51.100.7".parse::<IpAddr>().unwrap());
    }
}

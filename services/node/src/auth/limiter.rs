//! The in-memory brake on password guessing from one client address: at most `MAX_FAILURES`
//! failed logins per `WINDOW_SECS`, then 429 until the oldest failure leaves the window.
//!
//! Owns only the per-address failure times (IPv6 grouped by /64, one client's usual block).
//! Forgotten on restart, unlike the per-account lock-out, which the store keeps. Must not touch
//! the store or decide anything about accounts.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

/// Failed logins allowed from one client within the window.
pub const MAX_FAILURES: usize = 20;
/// The window, in seconds (10 minutes).
pub const WINDOW_SECS: i64 = 600;
/// Clients remembered at most; past that, expired ones are dropped, then everything.
const MAX_CLIENTS: usize = 65_536;

/// Failure times per client, by the node's clock (Unix seconds).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, VecDeque<i64>>>,
}

/// The address a limit applies to: IPv4 as is (also when mapped into IPv6), IPv6 by /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

impl LoginLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<i64>>> {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the client may try again, if it is over the limit at `now`.
    pub fn blocked_until(&self, ip: IpAddr, now: i64) -> Option<i64> {
        let mut map = self.lock();
        let times = map.get_mut(&client_key(ip))?;
        times.retain(|t| *t > now - WINDOW_SECS);
        (times.len() >= MAX_FAILURES).then(|| times.front().map_or(now, |t| t + WINDOW_SECS))
    }

    /// Records a failed login from the client at `now`.
    pub fn record_failure(&self, ip: IpAddr, now: i64) {
        let mut map = self.lock();
        if map.len() >= MAX_CLIENTS {
            map.retain(|_, times| times.back().is_some_and(|t| *t > now - WINDOW_SECS));
            if map.len() >= MAX_CLIENTS {
                map.clear();
            }
        }
        let times = map.entry(client_key(ip)).or_default();
        times.retain(|t| *t > now - WINDOW_SECS);
        if times.len() < MAX_FAILURES {
            times.push_back(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_after_twenty_failures_for_the_rest_of_the_window() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        let other: IpAddr = "10.1.2.4".parse().unwrap();
        for i in 0..MAX_FAILURES as i64 {
            assert_eq!(limiter.blocked_until(ip, 1000 + i), None);
            limiter.record_failure(ip, 1000 + i);
        }
        assert_eq!(limiter.blocked_until(ip, 1100), Some(1000 + WINDOW_SECS));
        assert_eq!(limiter.blocked_until(other, 1100), None, "another client is not held");
        assert_eq!(limiter.blocked_until(ip, 1000 + WINDOW_SECS), None, "the oldest failure left the window");
    }

    #[test]
    fn ipv6_clients_are_grouped_by_64_and_mapped_ipv4_is_ipv4() {
        let limiter = LoginLimiter::default();
        for i in 0..MAX_FAILURES {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            limiter.record_failure(ip, 50);
        }
        assert!(limiter.blocked_until("2001:db8:1:2:ffff::1".parse().unwrap(), 60).is_some());
        assert!(limiter.blocked_until("2001:db8:1:3::1".parse().unwrap(), 60).is_none());
        assert_eq!(client_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}

//! Login throttling: after `MAX_FAILURES` failed logins for one user name within
//! `WINDOW_S`, further attempts for that name are refused (429) until the window since the
//! first failure has passed — whatever the password. Time comes from the injected clock.

use digest::{Micros, SharedClock};
use parking_lot::Mutex;
use std::collections::HashMap;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW_S: u64 = 300;
const MAX_TRACKED: usize = 10_000;

pub struct LoginThrottle {
    clock: SharedClock,
    /// name → (first failure in the window, failures)
    failures: Mutex<HashMap<String, (Micros, u32)>>,
}

impl LoginThrottle {
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait before `name` may try again, if it is locked out now.
    pub fn locked_for(&self, name: &str) -> Option<u64> {
        let now = self.clock.now_us();
        let m = self.failures.lock();
        let (first, n) = *m.get(name)?;
        let until = first + WINDOW_S * 1_000_000;
        (n >= MAX_FAILURES && now < until).then(|| (until - now).div_ceil(1_000_000))
    }

    pub fn failed(&self, name: &str) {
        let now = self.clock.now_us();
        let mut m = self.failures.lock();
        if m.len() >= MAX_TRACKED {
            m.retain(|_, (first, _)| now < *first + WINDOW_S * 1_000_000);
        }
        let e = m.entry(name.to_string()).or_insert((now, 0));
        if now >= e.0 + WINDOW_S * 1_000_000 {
            *e = (now, 0);
        }
        e.1 += 1;
    }

    pub fn succeeded(&self, name: &str) {
        self.failures.lock().remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digest::ManualClock;
    use std::sync::Arc;

    #[test]
    fn five_failures_lock_a_name_for_the_rest_of_the_window() {
        let clock = ManualClock::new(1_000_000_000);
        let t = LoginThrottle::new(Arc::new(clock.clone()));
        for _ in 0..4 {
            t.failed("ada");
        }
        assert_eq!(t.locked_for("ada"), None);
        t.failed("ada");
        assert_eq!(t.locked_for("ada"), Some(300));
        assert_eq!(t.locked_for("cole"), None, "other names are not affected");
        clock.advance_secs(299);
        assert_eq!(t.locked_for("ada"), Some(1));
        clock.advance_secs(1);
        assert_eq!(t.locked_for("ada"), None);
        t.failed("ada");
        assert_eq!(t.locked_for("ada"), None, "a new window starts");
        t.succeeded("ada");
        assert_eq!(t.locked_for("ada"), None);
    }
}

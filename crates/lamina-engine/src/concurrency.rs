//! The concurrency ledger: in-flight invocations per account and function, against the account limit,
//! reserved concurrency, and the unreserved pool the other functions share (§2.7).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Why an invocation was throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// The function's reserved concurrency is used up (or 0).
    Reserved,
    /// The account's unreserved pool is used up.
    Account,
    /// The function is adding environments faster than the scaling rate allows.
    ScalingRate,
}

impl Throttle {
    /// The `Reason` member of the 429.
    pub fn reason(self) -> &'static str {
        match self {
            Throttle::Reserved => "ReservedFunctionConcurrentInvocationLimitExceeded",
            Throttle::Account => "ConcurrentInvocationLimitExceeded",
            Throttle::ScalingRate => "FunctionInvocationRateLimitExceeded",
        }
    }
}

#[derive(Debug, Default)]
struct Account {
    unreserved: i64,
    functions: HashMap<String, i64>,
}

/// In-flight counts.
#[derive(Debug)]
pub struct Concurrency {
    limit: i64,
    accounts: Arc<Mutex<HashMap<(String, String), Account>>>,
}

/// Holds one unit of concurrency until dropped.
#[derive(Debug)]
pub struct Slot {
    accounts: Arc<Mutex<HashMap<(String, String), Account>>>,
    key: (String, String),
    function: String,
    reserved: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.accounts.lock() {
            if let Some(a) = m.get_mut(&self.key) {
                if let Some(n) = a.functions.get_mut(&self.function) {
                    *n -= 1;
                    if *n <= 0 {
                        a.functions.remove(&self.function);
                    }
                }
                if !self.reserved {
                    a.unreserved -= 1;
                }
            }
        }
    }
}

impl Concurrency {
    /// A ledger with the account limit.
    pub fn new(limit: i64) -> Concurrency {
        Concurrency {
            limit,
            accounts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Take one unit for `function`, or say which limit stops it.
    pub fn acquire(
        &self,
        account: &str,
        region: &str,
        function: &str,
        reserved: Option<i64>,
        account_reserved: i64,
    ) -> Result<Slot, Throttle> {
        let mut m = self.accounts.lock().map_err(|_| Throttle::Account)?;
        let key = (account.to_string(), region.to_string());
        let a = m.entry(key.clone()).or_default();
        let in_flight = a.functions.get(function).copied().unwrap_or(0);
        match reserved {
            Some(r) => {
                if in_flight >= r {
                    return Err(Throttle::Reserved);
                }
            }
            None => {
                if a.unreserved >= self.limit - account_reserved {
                    return Err(Throttle::Account);
                }
                a.unreserved += 1;
            }
        }
        *a.functions.entry(function.to_string()).or_default() += 1;
        Ok(Slot {
            accounts: Arc::clone(&self.accounts),
            key,
            function: function.to_string(),
            reserved: reserved.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_unreserved_pools() {
        let c = Concurrency::new(10);
        assert_eq!(
            c.acquire("a", "r", "f", Some(0), 0).map(|_| ()),
            Err(Throttle::Reserved)
        );
        let s1 = c.acquire("a", "r", "f", Some(2), 2).expect("1");
        let s2 = c.acquire("a", "r", "f", Some(2), 2).expect("2");
        assert_eq!(
            c.acquire("a", "r", "f", Some(2), 2).map(|_| ()),
            Err(Throttle::Reserved)
        );
        drop(s1);
        let _s3 = c.acquire("a", "r", "f", Some(2), 2).expect("freed");
        // Unreserved pool = 10 - 2 reserved = 8.
        let held: Vec<Slot> = (0..8)
            .map(|i| {
                c.acquire("a", "r", &format!("g{i}"), None, 2)
                    .expect("pool")
            })
            .collect();
        assert_eq!(
            c.acquire("a", "r", "h", None, 2).map(|_| ()),
            Err(Throttle::Account)
        );
        // Other accounts are separate.
        assert!(c.acquire("b", "r", "h", None, 0).is_ok());
        drop(held);
        drop(s2);
        assert!(c.acquire("a", "r", "h", None, 2).is_ok());
    }
}

/// A function's bucket: tokens left and when it was last refilled.
type Buckets = HashMap<(String, String, String), (f64, std::time::Instant)>;

/// Lambda's scaling rate per function: a burst of `burst` new environments, refilled at `per_sec`
/// (AWS: 1,000 every 10 seconds).
#[derive(Debug)]
pub struct ScalingRate {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<Buckets>,
}

impl ScalingRate {
    /// A limiter with the given burst and refill rate.
    pub fn new(burst: u32, per_sec: u32) -> ScalingRate {
        ScalingRate {
            burst: f64::from(burst),
            per_sec: f64::from(per_sec),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one new-environment token for a function.
    pub fn take(&self, account: &str, region: &str, function: &str) -> Result<(), Throttle> {
        let mut m = self.buckets.lock().map_err(|_| Throttle::ScalingRate)?;
        let now = std::time::Instant::now();
        let e = m
            .entry((account.into(), region.into(), function.into()))
            .or_insert((self.burst, now));
        e.0 = (e.0 + now.duration_since(e.1).as_secs_f64() * self.per_sec).min(self.burst);
        e.1 = now;
        if e.0 < 1.0 {
            return Err(Throttle::ScalingRate);
        }
        e.0 -= 1.0;
        Ok(())
    }
}

#[cfg(test)]
mod scaling_tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let r = ScalingRate::new(3, 1000);
        for _ in 0..3 {
            assert!(r.take("a", "r", "f").is_ok());
        }
        assert_eq!(r.take("a", "r", "f"), Err(Throttle::ScalingRate));
        assert!(r.take("a", "r", "g").is_ok(), "per function");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(r.take("a", "r", "f").is_ok(), "refilled");
    }
}

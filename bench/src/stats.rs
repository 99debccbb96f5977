//! Latency samples reduced to the figures the report prints: percentiles, maximum and throughput.

use std::time::Duration;

/// What one measured phase produced.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Completed requests (or operations) measured.
    pub n: usize,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
    /// Operations per second of server time: `n / (Σ latency / concurrency)`.
    pub throughput: f64,
}

impl Summary {
    /// Summarise `samples` taken by `concurrency` workers. `None` when there are none.
    pub fn of(mut samples: Vec<Duration>, concurrency: usize) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let total: Duration = samples.iter().sum();
        let busy = total.as_secs_f64() / concurrency.max(1) as f64;
        Some(Summary {
            n: samples.len(),
            p50: percentile(&samples, 0.50),
            p99: percentile(&samples, 0.99),
            max: samples[samples.len() - 1],
            throughput: if busy > 0.0 {
                samples.len() as f64 / busy
            } else {
                0.0
            },
        })
    }
}

/// Nearest-rank percentile of sorted, non-empty samples: the smallest sample with at least a
/// fraction `q` of all samples at or below it.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<Duration> = (1..=100).rev().map(ms).collect();
        let sum = Summary::of(s, 1).expect("samples");
        assert_eq!(sum.p50, ms(50));
        assert_eq!(sum.p99, ms(99));
        assert_eq!(sum.max, ms(100));
        let one = Summary::of(vec![ms(7)], 1).expect("samples");
        assert_eq!((one.p50, one.p99), (ms(7), ms(7)));
    }

    #[test]
    fn throughput_counts_concurrency() {
        // 8 requests of 10 ms each by 2 workers: 40 ms of wall time, 200 per second.
        let sum = Summary::of(vec![ms(10); 8], 2).expect("samples");
        assert!((sum.throughput - 200.0).abs() < 1e-6);
        assert!(Summary::of(Vec::new(), 1).is_none());
    }
}

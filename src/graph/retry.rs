//! The one retry policy for every HTTP request gwb sends (Graph API calls and the token
//! endpoint): which answers are retried (429, 500, 502, 503, 504, resets, cut-off bodies),
//! how long to wait (the server's Retry-After, seconds or HTTP-date, otherwise exponential
//! backoff with jitter), and the bounds (attempts and total time).

use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;

/// Describe a reqwest error without its URL's query (which may carry tokens in other APIs).
pub fn transport_message(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off"
    } else {
        "transport error"
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = src {
        detail = s.to_string();
        src = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}

/// Retry bounds.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub budget: Duration,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            budget: Duration::from_secs(300),
            base: Duration::from_millis(250),
            cap: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with ±50 % jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)))
            .min(self.cap);
        let f: f64 = rand::rng().random_range(0.5..1.5);
        exp.mul_f64(f).min(self.cap)
    }
}

/// Parse Retry-After: delta-seconds or an HTTP-date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let when = time::PrimitiveDateTime::parse(v, &fmt).ok()?.assume_utc();
    let delta = when - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(delta).unwrap_or(Duration::ZERO))
}

pub fn retry_after_of(h: &HeaderMap) -> Option<Duration> {
    h.get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

pub fn retryable_status(s: u16) -> bool {
    matches!(s, 429 | 500 | 502 | 503 | 504)
}

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1`, or `None` when the bounds are reached.
    /// `retry_after` is the server's wish and wins over backoff; `elapsed` is the time spent
    /// since the first attempt.
    pub fn next_delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        elapsed: Duration,
    ) -> Option<Duration> {
        let delay = retry_after.unwrap_or_else(|| self.backoff(attempt));
        if attempt >= self.max_attempts || elapsed + delay > self.budget {
            None
        } else {
            Some(delay)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_and_bounds_hold() {
        let p = RetryPolicy {
            max_attempts: 3,
            budget: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let ra = Some(Duration::from_secs(7));
        assert_eq!(p.next_delay(1, ra, Duration::ZERO), ra);
        assert_eq!(p.next_delay(1, ra, Duration::from_secs(4)), None);
        assert_eq!(p.next_delay(3, None, Duration::ZERO), None);
        let d = p.next_delay(2, None, Duration::ZERO).unwrap();
        assert!(
            d >= Duration::from_millis(250) && d <= Duration::from_millis(750),
            "{d:?}"
        );
        assert_eq!(parse_retry_after(" 5 "), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}

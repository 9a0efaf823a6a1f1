//! How to reach the API: `ApiConfig` (base URL, subscription key, time zone, origin header,
//! retry policy, concurrency, timeout) and its validated parts.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::RequestError;

/// The API's base URL: `http(s)://host[:port][/prefix]`, no credentials, query or fragment.
/// The bearer token is sent only to this origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBaseUrl(Url);

impl ApiBaseUrl {
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The base with no trailing slash, to which a path starting with `/` is appended.
    pub(crate) fn prefix(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }
}

impl FromStr for ApiBaseUrl {
    type Err = RequestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let field = "base_url";
        let url = Url::parse(s.trim())
            .map_err(|e| RequestError::new(field, format!("must be an absolute URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RequestError::new(field, "must use http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(RequestError::new(field, "must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RequestError::new(
                field,
                "must not contain a user name or password",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(RequestError::new(
                field,
                "must not have a query or fragment",
            ));
        }
        Ok(Self(url))
    }
}

impl fmt::Display for ApiBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// The caller's UTC offset for `x-time-zone`, written `+HH:MM` or `-HH:MM`
/// (from -12:00 to +14:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZoneOffset {
    minutes: i32,
}

impl TimeZoneOffset {
    pub const UTC: Self = Self { minutes: 0 };

    /// Minutes east of UTC.
    pub fn minutes(self) -> i32 {
        self.minutes
    }

    pub fn from_minutes(minutes: i32) -> Result<Self, RequestError> {
        if !(-12 * 60..=14 * 60).contains(&minutes) {
            return Err(RequestError::new(
                "time_zone",
                format!("must be between -12:00 and +14:00, got {minutes} minutes"),
            ));
        }
        Ok(Self { minutes })
    }
}

impl FromStr for TimeZoneOffset {
    type Err = RequestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rule = || {
            RequestError::new(
                "time_zone",
                format!(
                    "must look like +05:30 or -08:00 (sign, two-digit hours, colon, two-digit minutes), got {s:?}"
                ),
            )
        };
        let b = s.as_bytes();
        if b.len() != 6 || b[3] != b':' {
            return Err(rule());
        }
        let sign = match b[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(rule()),
        };
        let digits = |i: usize| -> Result<i32, RequestError> {
            let pair = &b[i..i + 2];
            if pair.iter().all(u8::is_ascii_digit) {
                Ok(i32::from(pair[0] - b'0') * 10 + i32::from(pair[1] - b'0'))
            } else {
                Err(rule())
            }
        };
        let (hours, minutes) = (digits(1)?, digits(4)?);
        if minutes > 59 {
            return Err(RequestError::new(
                "time_zone",
                format!("minutes must be 00-59, got {s:?}"),
            ));
        }
        Self::from_minutes(sign * (hours * 60 + minutes))
    }
}

impl fmt::Display for TimeZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minutes < 0 { '-' } else { '+' };
        let m = self.minutes.abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

/// How reads are retried: capped exponential backoff with full jitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total tries of one read, the first included (at least 1).
    pub max_attempts: u32,
    /// The first backoff's upper bound.
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is cut to it.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Everything the client needs except the token.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub base_url: ApiBaseUrl,
    pub subscription_key: SecretString,
    pub time_zone: TimeZoneOffset,
    /// Sent as the `origin` header, like the dashboard's own calls.
    pub origin: Option<String>,
    pub retry: RetryPolicy,
    /// Most requests in flight when fetching a whole fleet (default 8).
    pub concurrency: usize,
    /// Limit for one HTTP exchange.
    pub request_timeout: Duration,
    /// The largest answer body read; a longer one is cut off and is an error (a hostile or
    /// broken server must not fill the memory).
    pub max_response_bytes: usize,
}

impl ApiConfig {
    pub const DEFAULT_CONCURRENCY: usize = 8;
    /// 32 MiB: a page of the largest size the API serves is a small fraction of it.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

    /// A configuration with default retry policy, concurrency and timeout.
    pub fn new(
        base_url: &str,
        subscription_key: SecretString,
        time_zone: &str,
    ) -> Result<Self, RequestError> {
        let config = Self {
            base_url: base_url.parse()?,
            subscription_key,
            time_zone: time_zone.parse()?,
            origin: None,
            retry: RetryPolicy::default(),
            concurrency: Self::DEFAULT_CONCURRENCY,
            request_timeout: Duration::from_secs(30),
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
        };
        config.validate()?;
        Ok(config)
    }

    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Checks the fields that are not validated by their types.
    pub fn validate(&self) -> Result<(), RequestError> {
        let key = self.subscription_key.expose_secret();
        if key.is_empty() {
            return Err(RequestError::new("subscription_key", "must not be empty"));
        }
        if key
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii())
        {
            return Err(RequestError::new(
                "subscription_key",
                "must be printable ASCII without spaces",
            ));
        }
        if let Some(origin) = &self.origin {
            let parsed = Url::parse(origin).map_err(|e| {
                RequestError::new(
                    "origin",
                    format!("must be an origin like https://host ({e})"),
                )
            })?;
            if parsed.origin().ascii_serialization() != origin.trim_end_matches('/') {
                return Err(RequestError::new(
                    "origin",
                    "must be scheme://host[:port] only, without path, query or user",
                ));
            }
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            return Err(RequestError::new("concurrency", "must be between 1 and 64"));
        }
        if self.retry.max_attempts == 0 || self.retry.max_attempts > 20 {
            return Err(RequestError::new(
                "retry.max_attempts",
                "must be between 1 and 20",
            ));
        }
        if self.max_response_bytes < 1024 {
            return Err(RequestError::new(
                "max_response_bytes",
                "must be at least 1024",
            ));
        }
        if self.request_timeout.is_zero() {
            return Err(RequestError::new(
                "request_timeout",
                "must be more than zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_accepts_offsets_and_names_the_rule() {
        for (text, minutes) in [
            ("+05:30", 330),
            ("-08:00", -480),
            ("+00:00", 0),
            ("+14:00", 840),
            ("-12:00", -720),
        ] {
            let tz: TimeZoneOffset = text.parse().unwrap();
            assert_eq!(tz.minutes(), minutes);
            assert_eq!(tz.to_string(), text);
        }
        for bad in [
            "05:30", "+5:30", "+05:60", "+15:00", "-12:30", "UTC", "+05:30 ", "+０5:30", "",
        ] {
            let err = bad.parse::<TimeZoneOffset>().unwrap_err();
            assert_eq!(err.field, "time_zone", "{bad}");
        }
    }

    #[test]
    fn base_url_must_be_a_plain_http_origin() {
        assert!(
            "https://alt-rmm-api.sharpb2bcloud.com"
                .parse::<ApiBaseUrl>()
                .is_ok()
        );
        let with_prefix: ApiBaseUrl = "http://127.0.0.1:8080/api/".parse().unwrap();
        assert_eq!(with_prefix.prefix(), "http://127.0.0.1:8080/api");
        for bad in [
            "ftp://x",
            "https://user:pw@x",
            "https://x/?a=1",
            "not a url",
            "file:///etc",
        ] {
            assert_eq!(
                bad.parse::<ApiBaseUrl>().unwrap_err().field,
                "base_url",
                "{bad}"
            );
        }
    }

    #[test]
    fn config_debug_hides_the_subscription_key() {
        let config = ApiConfig::new(
            "https://api.example",
            SecretString::from("sub-key-123"),
            "+05:30",
        )
        .unwrap()
        .with_origin("https://dash.example");
        let shown = format!("{config:?}");
        assert!(!shown.contains("sub-key-123"), "{shown}");
        assert!(config.validate().is_ok());
    }

    #[test]
    fn config_refuses_bad_fields_by_name() {
        let mut config =
            ApiConfig::new("https://api.example", SecretString::from("k"), "+00:00").unwrap();
        config.origin = Some("https://dash.example/path".into());
        assert_eq!(config.validate().unwrap_err().field, "origin");
        config.origin = None;
        config.concurrency = 0;
        assert_eq!(config.validate().unwrap_err().field, "concurrency");
        let err = ApiConfig::new("https://api.example", SecretString::from("a key"), "+00:00")
            .unwrap_err();
        assert_eq!(err.field, "subscription_key");
        assert!(!err.to_string().contains("a key"));
    }
}

//! Tolerant field readers: the real cloud may send `null`, numbers as strings, or a type we
//! did not expect, and none of that may fail a whole answer.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string field; `null` or a missing field is "", a number or boolean becomes its text.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    })
}

/// An optional string; `null` stays `None`.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// An optional integer; accepts a number or a numeric string, anything else is `None`.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(as_i64(&Value::deserialize(d)?))
}

/// An optional non-negative integer, read like [`opt_i64`].
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(as_i64(&Value::deserialize(d)?).and_then(|n| u64::try_from(n).ok()))
}

/// An optional hour (0-23, or -1 for any time), read like [`opt_i64`].
pub(crate) fn opt_hour<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    Ok(as_i64(&Value::deserialize(d)?).and_then(|n| i32::try_from(n).ok()))
}

fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list; `null` or a non-list is empty.
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Array(items) => Ok(items
            .into_iter()
            .filter_map(|item| match serde_json::from_value(item) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an unreadable list entry in an API answer");
                    None
                }
            })
            .collect()),
        _ => Ok(Vec::new()),
    }
}

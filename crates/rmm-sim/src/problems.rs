//! Refusals of bad input: `common.errorList` entries, collected so that all problems are listed.

use serde::Serialize;
use serde_json::Value;

/// One `common.errorList` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

/// Every problem found in one request.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn add(
        &mut self,
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(Problem {
            code,
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An optional integer field: absent gives `default`, a non-integer is a problem.
    pub fn int(
        &mut self,
        body: &Value,
        field: &str,
        default: i64,
        code: &'static str,
    ) -> Option<i64> {
        match body.get(field) {
            None | Some(Value::Null) => Some(default),
            Some(value) => match value.as_i64() {
                Some(n) => Some(n),
                None => {
                    self.add(code, field, format!("{field} must be a whole number"));
                    None
                }
            },
        }
    }

    /// An optional boolean field (absent = false).
    pub fn flag(&mut self, body: &Value, field: &str) -> bool {
        match body.get(field) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.add(
                    "INVALID_REQUEST",
                    field,
                    format!("{field} must be true or false"),
                );
                false
            }
        }
    }

    /// A required string field.
    pub fn text<'a>(
        &mut self,
        body: &'a Value,
        field: &str,
        code: &'static str,
    ) -> Option<&'a str> {
        match body.get(field) {
            Some(Value::String(s)) => Some(s),
            None | Some(Value::Null) => {
                self.add(code, field, format!("{field} is required"));
                None
            }
            Some(_) => {
                self.add(code, field, format!("{field} must be a string"));
                None
            }
        }
    }
}

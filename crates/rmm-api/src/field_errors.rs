//! Reads the cloud's `common.errorList` into `FieldError`s, accepting the key names a real
//! cloud might use (`code`/`errorCode`, `field`/`errorField`/`key`, `message`/`errorMessage`).

use serde_json::Value;

use crate::error::FieldError;

const CODE_KEYS: &[&str] = &["code", "errorCode", "error_code", "errCode"];
const FIELD_KEYS: &[&str] = &[
    "field",
    "errorField",
    "key",
    "fieldName",
    "parameter",
    "param",
];
const MESSAGE_KEYS: &[&str] = &[
    "message",
    "errorMessage",
    "error_message",
    "msg",
    "description",
    "detail",
];

/// The error entries of an answer: `common.errorList` (or `errorList` at the top).
pub(crate) fn error_list(answer: &Value) -> Vec<FieldError> {
    let list = answer
        .get("common")
        .and_then(|c| c.get("errorList").or_else(|| c.get("error_list")))
        .or_else(|| answer.get("errorList"));
    match list {
        Some(Value::Array(entries)) => entries.iter().map(field_error).collect(),
        _ => Vec::new(),
    }
}

fn field_error(entry: &Value) -> FieldError {
    match entry {
        Value::Object(_) => FieldError {
            field: first_text(entry, FIELD_KEYS),
            code: first_text(entry, CODE_KEYS),
            message: {
                let m = first_text(entry, MESSAGE_KEYS);
                if m.is_empty() { entry.to_string() } else { m }
            },
        },
        Value::String(s) => FieldError {
            message: s.clone(),
            ..FieldError::default()
        },
        other => FieldError {
            message: other.to_string(),
            ..FieldError::default()
        },
    }
}

fn first_text(entry: &Value, keys: &[&str]) -> String {
    keys.iter()
        .filter_map(|k| entry.get(*k))
        .find_map(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .unwrap_or_default()
}

/// A short human message from an error answer (`message`, `error_description`, ...).
pub(crate) fn answer_message(answer: &Value) -> Option<String> {
    [
        "message",
        "errorMessage",
        "error_description",
        "error",
        "title",
    ]
    .iter()
    .find_map(|k| answer.get(*k).and_then(Value::as_str).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_plausible_key_spelling() {
        let answer = json!({"common": {"errorList": [
            {"code": "INVALID_HOUR", "field": "otaStartHour", "message": "must be 0-23"},
            {"errorCode": "E42", "errorField": "fileId", "errorMessage": "unknown file"},
            {"errorCode": 7, "key": "count", "msg": "too many"},
            "plain text problem",
            {"unexpected": true}
        ]}});
        let errors = error_list(&answer);
        assert_eq!(
            errors[0],
            FieldError {
                field: "otaStartHour".into(),
                code: "INVALID_HOUR".into(),
                message: "must be 0-23".into()
            }
        );
        assert_eq!(
            errors[1],
            FieldError {
                field: "fileId".into(),
                code: "E42".into(),
                message: "unknown file".into()
            }
        );
        assert_eq!(
            (errors[2].code.as_str(), errors[2].field.as_str()),
            ("7", "count")
        );
        assert_eq!(errors[3].message, "plain text problem");
        assert!(errors[4].message.contains("unexpected"));
    }

    #[test]
    fn empty_or_missing_lists_are_no_errors() {
        assert!(error_list(&json!({"common": {"errorList": []}})).is_empty());
        assert!(error_list(&json!({"deviceList": []})).is_empty());
        assert!(error_list(&json!({"common": null})).is_empty());
        assert_eq!(
            error_list(&json!({"errorList": [{"message": "top"}]})).len(),
            1
        );
    }
}

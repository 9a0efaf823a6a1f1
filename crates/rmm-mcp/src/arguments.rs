//! Reads a tool call's JSON arguments field by field, collecting every problem (wrong type,
//! missing, unknown parameter) instead of stopping at the first, so that bad input comes back
//! as one tool error listing them all rather than as a protocol error. `finish_with` then adds
//! core's rule findings on the values that could be read (list indices as the caller sent
//! them), so a mix of wrong types and wrong values comes back in one answer.

use rmcp::model::JsonObject;
use rmm_core::Problems;
use serde_json::Value;

pub struct Arguments {
    args: JsonObject,
    known: Vec<&'static str>,
    pub problems: Problems,
    /// Lists read with wrongly typed elements left out: for each kept element, its index in
    /// the caller's list (core's `device_ids[0]` is then named as the caller counted).
    kept_indices: Vec<(&'static str, Vec<usize>)>,
}

impl Arguments {
    pub fn new(args: Option<JsonObject>) -> Self {
        Self {
            args: args.unwrap_or_default(),
            known: Vec::new(),
            problems: Problems::new(),
            kept_indices: Vec::new(),
        }
    }

    fn take(&mut self, name: &'static str) -> Option<Value> {
        self.known.push(name);
        match self.args.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        }
    }

    pub fn opt_string(&mut self, name: &'static str) -> Option<String> {
        match self.take(name)? {
            Value::String(s) => Some(s),
            other => {
                self.problems
                    .push(name, format!("must be a string, got {}", kind(&other)));
                None
            }
        }
    }

    pub fn string(&mut self, name: &'static str) -> String {
        if !self.args.contains_key(name) || self.args.get(name) == Some(&Value::Null) {
            self.known.push(name);
            self.problems.push(name, "is required");
            return String::new();
        }
        self.opt_string(name).unwrap_or_default()
    }

    pub fn opt_int(&mut self, name: &'static str) -> Option<i64> {
        match self.take(name)? {
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            // Some clients send whole numbers as 2.0.
            Value::Number(n)
                if n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15) =>
            {
                n.as_f64().map(|f| f as i64)
            }
            other => {
                self.problems.push(
                    name,
                    format!("must be a whole number, got {}", kind(&other)),
                );
                None
            }
        }
    }

    pub fn int_or(&mut self, name: &'static str, default: i64) -> i64 {
        self.opt_int(name).unwrap_or(default)
    }

    pub fn int(&mut self, name: &'static str) -> i64 {
        if !self.args.contains_key(name) {
            self.known.push(name);
            self.problems.push(name, "is required");
            return 0;
        }
        self.opt_int(name).unwrap_or(0)
    }

    pub fn opt_bool(&mut self, name: &'static str) -> Option<bool> {
        match self.take(name)? {
            Value::Bool(b) => Some(b),
            other => {
                self.problems
                    .push(name, format!("must be true or false, got {}", kind(&other)));
                None
            }
        }
    }

    pub fn strings(&mut self, name: &'static str) -> Vec<String> {
        match self.take(name) {
            None => {
                self.problems.push(
                    name,
                    "is required: a list of device ids (`mn=<base64>:sn=<base64>`)",
                );
                Vec::new()
            }
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                let mut kept = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(s) => {
                            out.push(s);
                            kept.push(i);
                        }
                        other => self.problems.push(
                            format!("{name}[{i}]"),
                            format!("must be a string, got {}", kind(&other)),
                        ),
                    }
                }
                self.kept_indices.push((name, kept));
                out
            }
            // One id given as a plain string is a common slip: accept it.
            Some(Value::String(s)) => vec![s],
            Some(other) => {
                self.problems.push(
                    name,
                    format!("must be a list of strings, got {}", kind(&other)),
                );
                Vec::new()
            }
        }
    }

    pub fn opt_object(&mut self, name: &'static str) -> Option<Value> {
        match self.take(name)? {
            v @ Value::Object(_) => Some(v),
            other => {
                self.problems
                    .push(name, format!("must be a JSON object, got {}", kind(&other)));
                None
            }
        }
    }

    /// Reports parameters the tool does not have, then gives the problems.
    pub fn finish(mut self) -> Problems {
        let mut unknown: Vec<&String> = self
            .args
            .keys()
            .filter(|k| !self.known.contains(&k.as_str()))
            .collect();
        unknown.sort();
        for key in unknown {
            self.problems.push(
                key.clone(),
                format!(
                    "is not a parameter of this tool (it takes: {})",
                    self.known.join(", ")
                ),
            );
        }
        self.problems
    }

    /// `finish`, plus `rules` (core's findings on the request built from what could be read):
    /// each with the caller's own list index, and without those on a field whose value could
    /// not be read (core judged the default put in its place).
    pub fn finish_with(mut self, rules: Problems) -> Problems {
        let kept = std::mem::take(&mut self.kept_indices);
        let mut problems = self.finish();
        let unreadable = problems.clone();
        for rule in rules.0 {
            let (base, index) = split_index(&rule.field);
            let field = match (index, kept.iter().find(|(name, _)| *name == base)) {
                (Some(i), Some((_, original))) => original
                    .get(i)
                    .map_or_else(|| rule.field.clone(), |o| format!("{base}[{o}]")),
                _ => rule.field.clone(),
            };
            let judged_a_default = unreadable.iter().any(|p| p.field == field)
                || (index.is_none() && unreadable.mentions(base));
            if !judged_a_default {
                problems.0.push(rmm_core::Problem { field, ..rule });
            }
        }
        problems
    }
}

/// `device_ids[3]` → (`device_ids`, Some(3)); `start_hour` → (`start_hour`, None).
fn split_index(field: &str) -> (&str, Option<usize>) {
    if let Some((base, rest)) = field.split_once('[')
        && let Some(number) = rest.strip_suffix(']')
        && let Ok(i) = number.parse()
    {
        return (base, Some(i));
    }
    (field, None)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_problem() {
        let args =
            json!({"device_ids": ["a", 3], "start_hour": "two", "confirm": "yes", "extra": 1});
        let mut a = Arguments::new(args.as_object().cloned());
        assert_eq!(a.strings("device_ids"), vec!["a".to_string()]);
        assert_eq!(a.int_or("start_hour", 2), 2);
        assert_eq!(a.opt_bool("confirm"), None);
        let _ = a.string("ota_mode");
        let problems = a.finish();
        for field in [
            "device_ids[1]",
            "start_hour",
            "confirm",
            "ota_mode",
            "extra",
        ] {
            assert!(
                problems.iter().any(|p| p.field == field),
                "{field}: {problems}"
            );
        }
    }

    #[test]
    fn wrong_types_and_wrong_values_come_back_together() {
        let args = json!({"device_ids": [7, "nope", "ok", "also bad"], "ota_mode": 3});
        let mut a = Arguments::new(args.as_object().cloned());
        assert_eq!(a.strings("device_ids"), vec!["nope", "ok", "also bad"]);
        let _ = a.string("ota_mode");
        // What core would say of the request built from the readable values.
        let mut rules = Problems::new();
        rules.push("device_ids[0]", "is not `mn=<base64>:sn=<base64>`");
        rules.push("device_ids[2]", "is not `mn=<base64>:sn=<base64>`");
        rules.push("ota_mode", "must be auto, confirmation or off");
        let problems = a.finish_with(rules);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "device_ids[0]",
                "ota_mode",
                "device_ids[1]",
                "device_ids[3]"
            ],
            "{problems}"
        );
        assert!(
            problems.0[1].rule.contains("must be a string"),
            "{problems}"
        );
    }
}

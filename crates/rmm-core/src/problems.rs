//! `Problems`: every reason a request is refused, field by field, collected so that a caller
//! sees all of them at once instead of fixing one per try. A problem names its field as core
//! names it and may carry a [`Hint`] (where the valid values are listed) as data: each face
//! renders field and hint in its own user's words (a CLI flag and `rmm devices`, an MCP
//! parameter and `list_devices`, a form field and the Fleet tab).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One field breaking one rule, e.g. `device_ids[2]`: "is not `mn=<base64>:sn=<base64>`".
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    /// The parameter as the caller named it (`device_ids[1]`, `start_hour`).
    pub field: String,
    /// What the rule is and what was wrong.
    pub rule: String,
    /// Where the values the field may take are listed, when that helps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Hint>,
}

/// What helps with a problem, as data: a listing that shows the values a field may take, or
/// the switch that allows what the rule refuses.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    /// The fleet's devices and their ids.
    ListDevices,
    /// The staged firmware files and their ids.
    ListStagedFirmware,
    /// Firmware for another model is allowed only when the caller says so.
    AllowOtherModel,
}

/// All the problems of one request (never empty when returned as an error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    /// One problem.
    pub fn from_one(field: impl Into<String>, rule: impl Into<String>) -> Self {
        let mut p = Self::new();
        p.push(field, rule);
        p
    }

    pub fn push(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            rule: rule.into(),
            hint: None,
        });
    }

    /// One problem whose valid values `hint` lists.
    pub fn push_with_hint(
        &mut self,
        field: impl Into<String>,
        rule: impl Into<String>,
        hint: Hint,
    ) {
        self.0.push(Problem {
            field: field.into(),
            rule: rule.into(),
            hint: Some(hint),
        });
    }

    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when some problem is about `field` (exactly, or an element of it: `field[3]`).
    pub fn mentions(&self, field: &str) -> bool {
        self.0.iter().any(|p| {
            p.field == field
                || p.field
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.starts_with('['))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// These problems (fields a face could not even read, so read as defaults) followed by
    /// `core`'s findings, except those on a field already reported here: the one home of
    /// "an unreadable field beats core's finding on it".
    pub fn beside(mut self, core: Problems) -> Problems {
        let unreadable = self.clone();
        for p in core.0 {
            let base = p.field.split('[').next().unwrap_or_default();
            if !unreadable.mentions(base) {
                self.0.push(p);
            }
        }
        self
    }

    /// `Ok(())` when there is nothing to report.
    pub fn into_result(self) -> Result<(), Problems> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// How a face words problems: what its input is called, its names for fields, and for hints.
pub struct ProblemWords<'a> {
    /// "request", "command", "form".
    pub input: &'a str,
    /// A field (core's name, `device_ids[1]`) as the face names it.
    pub field: &'a dyn Fn(&str) -> String,
    /// A rule's text as the face shows it (core's field names in it renamed).
    pub rule: &'a dyn Fn(&str) -> String,
    /// A hint in the face's words, put in parentheses after the rule: ``see `rmm devices` ``,
    /// `or allow it with allow_other_model: true`; empty leaves it out.
    pub hint: &'a dyn Fn(Hint) -> &'static str,
}

impl Problems {
    /// A count, then every problem on its own line, in a face's words: the one layout every
    /// face shares.
    pub fn render(&self, words: &ProblemWords<'_>) -> String {
        let count = self.0.len();
        let mut text = format!(
            "{count} problem{} with the {}:",
            if count == 1 { "" } else { "s" },
            words.input
        );
        for p in &self.0 {
            text.push_str(&format!(
                "\n- {}: {}",
                (words.field)(&p.field),
                (words.rule)(&p.rule)
            ));
            if let Some(hint) = p.hint.map(words.hint).filter(|h| !h.is_empty()) {
                text.push_str(&format!(" ({hint})"));
            }
        }
        text
    }
}

impl fmt::Display for Problems {
    /// Core's own names, hints left out (each face words them: [`Problems::render`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&ProblemWords {
            input: "request",
            field: &str::to_owned,
            rule: &str::to_owned,
            hint: &|_| "",
        }))
    }
}

impl std::error::Error for Problems {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_problem_and_matches_element_fields() {
        let mut problems = Problems::new();
        problems.push("device_ids[1]", "is listed twice");
        problems.push("start_hour", "must be 0-23 or -1");
        let text = problems.to_string();
        assert!(text.starts_with("2 problems"), "{text}");
        assert!(text.contains("device_ids[1]: is listed twice"));
        assert!(problems.mentions("device_ids"));
        assert!(problems.mentions("start_hour"));
        assert!(!problems.mentions("start"));
        assert!(problems.into_result().is_err());
        assert!(Problems::new().into_result().is_ok());
    }

    #[test]
    fn an_unreadable_field_is_reported_once() {
        let mut unreadable = Problems::new();
        unreadable.push("start_hour", "must be a whole number");
        let mut core = Problems::new();
        core.push("start_hour", "must be 0-23");
        core.push("ota_mode", "must be one of auto, confirmation, off");
        let all = unreadable.beside(core);
        let fields: Vec<&str> = all.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["start_hour", "ota_mode"]);
        assert_eq!(all.0[0].rule, "must be a whole number");
    }
}

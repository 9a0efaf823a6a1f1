//! rmm-core's problems in the terminal's words. Core names a field as its requests do
//! (`ota_mode`, `transfer_datetime`, `device_ids[2]`) and gives hints as data; here each field
//! becomes the flag or argument of the command that set it (`--mode`, `--transfer`, the third
//! `DEVICE_ID`), a field named inside a rule is renamed the same way, and a hint names the
//! command that lists the values (`rmm devices`, `rmm firmware`).

use rmm_core::{ChangeKind, Hint, ProblemWords, Problems};

/// Which command's flags to speak in.
#[derive(Debug, Clone, Copy)]
pub enum Command {
    /// `rmm devices`.
    Devices,
    /// `rmm schedule`, `rmm cancel` or `rmm ota`.
    Change(ChangeKind),
    /// `rmm policy set|qualify|unqualify`.
    Policy,
}

impl Command {
    /// Core's field names and the flags that set them, for this command.
    fn flags(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Devices => &[
                ("group_id", "--group"),
                ("needs_update", "--needs-update"),
                ("model", "--model"),
                ("ota_mode", "--ota-mode"),
                ("update_status", "--status"),
                ("text", "--search"),
                ("start_index", "--start"),
                ("page_size", "--page-size"),
            ],
            Self::Change(ChangeKind::ScheduleFirmwareUpdate) => &[
                ("group_id", "--group"),
                ("firmware_file_id", "--file"),
                ("transfer_datetime", "--transfer"),
                ("execute_datetime", "--execute"),
                ("timezone", "--timezone"),
            ],
            Self::Change(ChangeKind::ConfigureOtaMode) => &[
                ("group_id", "--group"),
                ("ota_mode", "--mode"),
                ("start_hour", "--start"),
                ("end_hour", "--end"),
            ],
            Self::Change(ChangeKind::CancelScheduledUpdate) => &[("group_id", "--group")],
            Self::Policy => &[
                ("devices_per_day", "--devices-per-day"),
                ("largest_wave", "--largest-wave"),
                ("hours", "--hours"),
                ("blackout_dates", "--blackout"),
                ("max_failure_share", "--max-failure-share"),
                ("model", "--model"),
                ("file_id", "--file"),
            ],
        }
    }

    /// `field` as the command line names it.
    pub fn name_of(self, field: &str) -> String {
        let (base, index) = match field.split_once('[') {
            Some((base, rest)) => (
                base,
                rest.strip_suffix(']').and_then(|n| n.parse::<usize>().ok()),
            ),
            None => (field, None),
        };
        if base == "device_ids" || base == "device_id" {
            return match index {
                Some(i) => format!("DEVICE_ID {} of the command", ordinal(i + 1)),
                None => "DEVICE_ID".to_owned(),
            };
        }
        self.flags()
            .iter()
            .find(|(core, _)| *core == base)
            .map_or_else(|| field.to_owned(), |(_, flag)| (*flag).to_owned())
    }

    /// A rule with the core field names it mentions renamed to flags.
    fn rule_text(self, rule: &str) -> String {
        let mut text = rule.to_owned();
        for (core, flag) in self.flags() {
            text = replace_word(&text, core, flag);
        }
        text
    }

    /// Every problem, one per line, in this command's words.
    pub fn render(self, problems: &Problems) -> String {
        problems.render(&ProblemWords {
            input: "command",
            field: &|field| self.name_of(field),
            rule: &|rule| self.rule_text(rule),
            hint: &|hint| match hint {
                Hint::ListDevices => "see `rmm devices`",
                Hint::ListStagedFirmware => "see `rmm firmware`",
                Hint::AllowOtherModel => "or allow it with --allow-other-model",
            },
        })
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `text` with each whole-word `word` (not part of a longer identifier) replaced by `by`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(word);
        } else {
            out.push_str(by);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_the_commands_flags_and_hints_its_commands() {
        let mut problems = Problems::new();
        problems.push("ota_mode", "must be one of auto, confirmation, off");
        problems.push("start_hour", "must be 0-23");
        problems.push_with_hint("device_ids[1]", "no device x", Hint::ListDevices);
        let text = Command::Change(ChangeKind::ConfigureOtaMode).render(&problems);
        assert!(text.starts_with("3 problems with the command:"), "{text}");
        assert!(text.contains("\n- --mode: must be one of"), "{text}");
        assert!(text.contains("\n- --start: must be 0-23"), "{text}");
        assert!(
            text.contains("\n- DEVICE_ID 2nd of the command: no device x (see `rmm devices`)"),
            "{text}"
        );
        assert!(
            !text.contains("ota_mode") && !text.contains("list_devices"),
            "{text}"
        );
        // The same field of another command is another flag.
        assert_eq!(Command::Devices.name_of("ota_mode"), "--ota-mode");
    }

    #[test]
    fn a_field_named_in_a_rule_is_renamed_only_as_a_whole_word() {
        let schedule = Command::Change(ChangeKind::ScheduleFirmwareUpdate);
        assert_eq!(
            schedule.rule_text("must not be before transfer_datetime: 2030 in UTC"),
            "must not be before --transfer: 2030 in UTC"
        );
        assert_eq!(schedule.rule_text("my_timezone_x"), "my_timezone_x");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(22), "22nd");
    }
}

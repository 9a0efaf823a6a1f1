//! The app's small JSON files of choices (the MCP endpoint's settings, the profile in use):
//! read, or written, with a warning in the log instead of an error, since losing one only
//! means the app starts from its defaults. They never hold a secret.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The file's value; None when it is missing or unreadable (`what` names it in the warning).
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "ignoring an unreadable {what}");
            None
        }
    }
}

/// Writes `value`, making the folder if needed; a failure is logged (`what` names the file).
pub fn write_json<T: Serialize>(path: &Path, value: &T, what: &str) {
    let written = serde_json::to_string_pretty(value)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            }
            std::fs::write(path, text).map_err(|e| e.to_string())
        });
    if let Err(error) = written {
        tracing::warn!(%error, path = %path.display(), "cannot save the {what}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_comes_back_and_a_broken_or_missing_file_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deeper").join("choice.json");
        assert_eq!(read_json::<Vec<u16>>(&path, "choice"), None);
        write_json(&path, &vec![1u16, 2], "choice");
        assert_eq!(read_json::<Vec<u16>>(&path, "choice"), Some(vec![1, 2]));
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(read_json::<Vec<u16>>(&path, "choice"), None);
    }
}

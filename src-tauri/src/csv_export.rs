//! `save_csv`: writes the grid's current view as a CSV file into the user's Downloads folder
//! (web views drop the browser-style download a grid library offers), never over an existing
//! file, and says where it went.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager as _};

use crate::command_error::{CommandError, ErrorCode};

/// Longest file name accepted.
const MAX_NAME: usize = 100;

/// Checks `name` is a plain file name ending in `.csv` (no folder, nothing hidden).
fn check_name(name: &str) -> Result<(), CommandError> {
    let ok = name.len() <= MAX_NAME
        && name.len() > 4
        && name.ends_with(".csv")
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if ok {
        return Ok(());
    }
    let mut error = CommandError::new(
        ErrorCode::BadInput,
        format!("file_name: {name:?} is not a plain file name ending in .csv"),
    );
    error.problems.push(rmm_core::Problem {
        field: "file_name".into(),
        rule: format!(
            "letters, digits, space, '-', '_' and '.', ending in .csv, at most {MAX_NAME} characters"
        ),
        hint: None,
    });
    Err(error)
}

/// `dir/name`, or `dir/stem (2).csv`, `(3)`, ... for the first name not taken.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let stem = name.trim_end_matches(".csv");
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}).csv")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Writes `contents` to a new file named after `name` in `dir`; returns its path.
fn save_into(dir: &Path, name: &str, contents: &str) -> Result<PathBuf, CommandError> {
    check_name(name)?;
    std::fs::create_dir_all(dir).map_err(|e| {
        CommandError::new(
            ErrorCode::Local,
            format!("cannot make {}: {e}", dir.display()),
        )
    })?;
    let path = free_path(dir, name);
    std::fs::write(&path, contents).map_err(|e| {
        CommandError::new(
            ErrorCode::Local,
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(path)
}

/// Saves the CSV text in the Downloads folder (else the home folder); returns the file's path.
#[tauri::command]
#[tracing::instrument(level = "debug", skip_all, err(Display, level = "warn"))]
#[specta::specta]
pub async fn save_csv(
    app: AppHandle,
    file_name: String,
    contents: String,
) -> Result<String, CommandError> {
    let paths = app.path();
    let dir = paths
        .download_dir()
        .or_else(|_| paths.home_dir())
        .map_err(|e| CommandError::new(ErrorCode::Local, format!("no Downloads folder: {e}")))?;
    let path = tokio::task::spawn_blocking(move || save_into(&dir, &file_name, &contents))
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
    tracing::info!(path = %path.display(), "fleet view saved as CSV");
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let first = save_into(dir.path(), "fleet.csv", "a,b\n1,2\n").unwrap();
        let second = save_into(dir.path(), "fleet.csv", "c\n").unwrap();
        assert_eq!(first, dir.path().join("fleet.csv"));
        assert_eq!(second, dir.path().join("fleet (2).csv"));
        assert_eq!(std::fs::read_to_string(first).unwrap(), "a,b\n1,2\n");
        assert_eq!(std::fs::read_to_string(second).unwrap(), "c\n");
    }

    #[test]
    fn a_name_with_a_folder_or_another_kind_is_refused_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "../fleet.csv",
            "/etc/x.csv",
            "fleet.sh",
            ".csv",
            ".hidden.csv",
            "a\\b.csv",
        ] {
            let error = save_into(dir.path(), bad, "x").unwrap_err();
            assert_eq!(error.code, ErrorCode::BadInput, "{bad}");
            assert_eq!(error.problems[0].field, "file_name", "{bad}");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing written"
        );
    }
}

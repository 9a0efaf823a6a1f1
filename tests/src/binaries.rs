//! Finding the programs an end-to-end test runs: our own binaries in the cargo target folder,
//! and system tools on PATH, each with an error that says how to get it.

use std::path::{Path, PathBuf};

/// The built desktop app (`mcp-rmm`). Cargo does not build another package's binary for this
/// crate's tests, so it must have been built first (`cargo build -p mcp-rmm`; scripts/test-all
/// does). `MCP_RMM_BIN` overrides the search.
pub fn desktop_app() -> Result<PathBuf, String> {
    our_binary("mcp-rmm", "MCP_RMM_BIN", "cargo build -p mcp-rmm")
}

/// The release build of the desktop app, for benchmarks (`cargo build --release -p mcp-rmm`).
pub fn release_desktop_app() -> Result<PathBuf, String> {
    let file = format!("mcp-rmm{}", std::env::consts::EXE_SUFFIX);
    let mut dirs = Vec::new();
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(target).join("release"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release"));
    dirs.into_iter()
        .map(|dir| dir.join(&file))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            "no release build of mcp-rmm: run `cargo build --release -p mcp-rmm`".to_owned()
        })
}

fn our_binary(name: &str, override_var: &str, build_hint: &str) -> Result<PathBuf, String> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    if let Some(path) = std::env::var_os(override_var) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{override_var}={} is not a file", path.display()))
        };
    }
    let candidates = target_dirs()
        .into_iter()
        .map(|dir| dir.join(&file))
        .collect::<Vec<_>>();
    candidates.iter().find(|path| path.is_file()).cloned().ok_or_else(|| {
        let looked = candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        format!("the `{name}` binary was not found (looked at {looked}); build it with `{build_hint}`")
    })
}

/// Folders holding the debug binaries: the one this test runs from (which follows
/// `CARGO_TARGET_DIR` and the profile), then `$CARGO_TARGET_DIR/debug`, then the workspace's.
fn target_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    // A test executable lives in <target>/<profile>/deps/.
    if let Ok(exe) = std::env::current_exe()
        && let Some(profile_dir) = exe.parent().and_then(Path::parent)
    {
        dirs.push(profile_dir.to_path_buf());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(target).join("debug"));
    }
    dirs.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("debug"),
    );
    dirs
}

/// A system tool on PATH (or an absolute path), with the package that provides it in the error.
pub fn system_tool(name: &str, provided_by: &str) -> Result<PathBuf, String> {
    let candidate = Path::new(name);
    if candidate.is_absolute() {
        return if candidate.is_file() {
            Ok(candidate.to_path_buf())
        } else {
            Err(format!(
                "{name} is missing: install {provided_by} (scripts/setup does)"
            ))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!("`{name}` is not on PATH: install {provided_by} (scripts/setup does)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_names_the_package_to_install() {
        let error = system_tool("surely-not-a-real-tool-xyz", "the xyz package").unwrap_err();
        assert!(error.contains("surely-not-a-real-tool-xyz"), "{error}");
        assert!(error.contains("the xyz package"), "{error}");
    }

    #[test]
    fn a_tool_on_path_is_found() {
        let found = system_tool("sh", "a shell").unwrap();
        assert!(found.is_file());
    }

    #[test]
    fn a_binary_not_built_names_the_build_command() {
        let error =
            our_binary("surely-not-built", "RMM_E2E_TEST_UNSET_VAR", "cargo build").unwrap_err();
        assert!(error.contains("surely-not-built"), "{error}");
        assert!(error.contains("cargo build"), "{error}");
    }
}

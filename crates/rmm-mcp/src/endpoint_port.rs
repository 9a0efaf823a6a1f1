//! The HTTP endpoint's port for a profile when none is given: a free loopback port chosen the
//! first time and saved (`<config folder>/mcp-endpoint/<profile>.port`, no secret in it), so
//! that `rmm mcp --http` and `--print-config` agree on it and no fixed, guessable port (such
//! as 8765) can be taken ahead of us by another local user. If the saved port is taken when
//! the endpoint starts, it says so and does not start (`HttpEndpointError::PortTaken`).

use std::path::{Path, PathBuf};

/// The folder of the saved ports, in the config folder that `rmm` and the app share.
pub fn saved_ports_dir() -> Result<PathBuf, String> {
    let dir = rmm_core::settings::config_dir().map_err(|e| e.to_string())?;
    Ok(dir.join("mcp-endpoint"))
}

/// Where `profile`'s port is kept.
pub fn saved_port_path(profile: &str) -> Result<PathBuf, String> {
    Ok(port_path_in(&saved_ports_dir()?, profile))
}

/// Where `profile`'s port is kept inside the folder `dir` of saved ports.
pub fn port_path_in(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("{profile}.port"))
}

/// The port saved at `path`, or a free loopback port chosen now and saved there.
pub fn load_or_choose_port(path: &Path) -> Result<u16, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return text
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| {
                format!(
                    "{} does not hold a port number (1-65535): remove it to choose a new one",
                    path.display()
                )
            });
    }
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    }
    std::fs::write(path, format!("{port}\n"))
        .map_err(|e| format!("cannot save the port in {}: {e}", path.display()))?;
    tracing::info!(port, path = %path.display(), "MCP endpoint port chosen and saved");
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_chosen_once_then_kept() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("mcp-endpoint/demo.port");
        let first = load_or_choose_port(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(first, 0);
        assert_eq!(load_or_choose_port(&path), Ok(first));
        std::fs::write(&path, "nonsense").unwrap_or_else(|e| panic!("{e}"));
        let bad = load_or_choose_port(&path).unwrap_err();
        assert!(bad.contains("does not hold a port"), "{bad}");
    }
}

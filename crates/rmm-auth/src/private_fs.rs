//! Owner-only files and folders for everything the tools write that another local user must
//! not read: the settings file, the audit database, the logs, the token file and the browser
//! profiles (0600 files, 0700 folders on Unix; elsewhere the user profile's own ACL applies).

use std::fs;
use std::io::Write;
use std::path::Path;

/// Creates `dir` (and missing parents, owner-only) and narrows `dir` itself to its owner.
/// Only for the tools' own folders: a folder the user named for something else is left as
/// it is by [`create_private_parents`].
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    create_private_parents(dir)?;
    restrict(dir, 0o700)
}

/// Creates `dir` and its missing parents owner-only; a folder that exists is left as it is.
pub fn create_private_parents(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

/// Narrows an existing file to its owner (0600).
pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    restrict(path, 0o600)
}

/// Writes `bytes` to `path`, created (or narrowed) owner-only first.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = open_private(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Opens `path` for writing (truncated), created owner-only; an older file is narrowed too.
pub fn open_private(path: &Path) -> std::io::Result<fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        // `mode` applies only when the file is created.
        restrict(path, 0o600)?;
        Ok(f)
    }
    #[cfg(not(unix))]
    {
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(current & mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_owner_only() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a").join("b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&base.path().join("a")), 0o700);

        let open = base.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&open).unwrap();
        assert_eq!(mode(&open), 0o700);

        let file = dir.join("f");
        fs::write(&file, b"x").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&file, b"y").unwrap();
        assert_eq!(mode(&file), 0o600);
        let other = dir.join("g");
        fs::write(&other, b"x").unwrap();
        fs::set_permissions(&other, fs::Permissions::from_mode(0o664)).unwrap();
        restrict_to_owner(&other).unwrap();
        assert_eq!(mode(&other), 0o600);
    }
}

//! Support for the end-to-end tests of the real binaries: finding them and the system tools
//! they need, starting a virtual display and a WebDriver, and cleaning up after each test.

pub mod binaries;
pub mod demo_app;
pub mod demo_sign_in;
#[cfg(unix)]
pub mod desktop;
#[cfg(target_os = "linux")]
pub mod process_memory;
#[cfg(unix)]
pub mod processes;
#[cfg(target_os = "linux")]
pub mod tray_host;
pub mod webdriver;
#[cfg(target_os = "linux")]
pub mod x11_windows;

/// Where tests put screenshots and other files for a person to look at (gitignored).
pub fn artifacts_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts")
}

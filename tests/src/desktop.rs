//! A throwaway desktop for the app's end-to-end tests: a virtual X display (Xvfb), a private
//! D-Bus session with XDG folders in a temporary directory (so that nothing is written to the
//! user's home) with an unlocked gnome-keyring, and tauri-driver serving WebDriver for the app
//! on a free port.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::binaries::system_tool;
use crate::processes::ProcessGroup;
use crate::webdriver::WebDriverAddress;

/// The file in the desktop's home that stderr goes to with `stderr_to_file`.
const STDERR_FILE: &str = "stderr.log";

/// The WebDriver of WebKitGTK that tauri-driver drives on Linux.
pub const WEBKIT_WEBDRIVER: &str = "/usr/bin/WebKitWebDriver";

/// A running virtual display, WebDriver and their private folders; all ended on drop.
pub struct Desktop {
    // Field order is drop order: the driver (and the app it started) before the display,
    // the folders last.
    driver: ProcessGroup,
    _display: ProcessGroup,
    display: String,
    webdriver: WebDriverAddress,
    home: tempfile::TempDir,
}

impl Desktop {
    /// The process group of the WebDriver and everything it started, the app among them.
    pub fn process_group(&self) -> u32 {
        self.driver.group_id()
    }

    /// Starts Xvfb and tauri-driver; fails with a clear message when a tool is missing.
    pub fn start() -> Result<Self, String> {
        Self::start_with(&[], false)
    }

    /// [`Desktop::start`] with `env` for the app (tauri-driver's environment is passed on to
    /// the app it starts), and with the stderr of the driver and the app written to
    /// [`Desktop::stderr_path`] instead of the test's when `stderr_to_file`.
    pub fn start_with(env: &[(&str, &str)], stderr_to_file: bool) -> Result<Self, String> {
        let xvfb = system_tool("Xvfb", "the `xvfb` package")?;
        let dbus_run_session = system_tool("dbus-run-session", "the `dbus` package")?;
        let tauri_driver = find_tauri_driver()?;
        let native_driver = system_tool(WEBKIT_WEBDRIVER, "the `webkit2gtk-driver` package")?;

        let home = tempfile::Builder::new()
            .prefix("rmm-e2e-desktop-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary folder: {e}"))?;
        let (display_group, display) = start_xvfb(&xvfb)?;

        let port = free_port()?;
        let native_port = free_port()?;
        let xdg = |name: &str| -> Result<PathBuf, String> {
            let dir = home.path().join(name);
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {name}: {e}"))?;
            Ok(dir)
        };
        let runtime_dir = xdg("runtime")?;
        // The XDG spec wants the runtime folder private to the user.
        set_private(&runtime_dir)?;

        // Inside the private bus: an unlocked gnome-keyring (the app keeps its token there),
        // the bus address written down for the test's own keyring checks, then tauri-driver.
        let keyring = system_tool("gnome-keyring-daemon", "the `gnome-keyring` package")?;
        let bus_file = home.path().join("bus-address");
        let mut command = Command::new(dbus_run_session);
        command
            .arg("--")
            .arg("sh")
            .arg("-c")
            .arg(
                "printf %s \"$DBUS_SESSION_BUS_ADDRESS\" > \"$1\"; \
                 printf %s e2e-pw | \"$2\" --unlock --components=secrets >/dev/null || exit 1; \
                 shift 2; exec \"$@\"",
            )
            .arg("sh")
            .arg(&bus_file)
            .arg(keyring)
            .arg(tauri_driver)
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .arg("--native-driver")
            .arg(native_driver)
            .env("DISPLAY", &display)
            .env("XDG_DATA_HOME", xdg("data")?)
            .env("XDG_CACHE_HOME", xdg("cache")?)
            .env("XDG_CONFIG_HOME", xdg("config")?)
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env_remove("WAYLAND_DISPLAY")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if stderr_to_file {
            let file = std::fs::File::create(home.path().join(STDERR_FILE))
                .map_err(|e| format!("cannot make the stderr file: {e}"))?;
            command.stderr(file);
        } else {
            command.stderr(Stdio::inherit());
        }
        let mut driver = ProcessGroup::spawn("tauri-driver", command)?;
        wait_for_port(&mut driver, port, Duration::from_secs(30))?;
        // tauri-driver listens before its WebKitWebDriver does, and drops a request that it
        // cannot forward: the first new-session would then fail as a reset connection.
        wait_for_port(&mut driver, native_port, Duration::from_secs(30))?;

        Ok(Self {
            driver,
            _display: display_group,
            webdriver: WebDriverAddress {
                url: format!("http://127.0.0.1:{port}"),
                display: Some(display.clone()),
            },
            display,
            home,
        })
    }

    /// Where the driver's and the app's stderr go with [`Desktop::start_with`]'s
    /// `stderr_to_file`.
    pub fn stderr_path(&self) -> PathBuf {
        self.home.path().join(STDERR_FILE)
    }

    /// The desktop's private home: its XDG folders, the keyring's bus address, the stderr file.
    pub fn root(&self) -> &Path {
        self.home.path()
    }

    /// The WebDriver endpoint (tauri-driver).
    pub fn webdriver(&self) -> &WebDriverAddress {
        &self.webdriver
    }

    /// The X display, e.g. `:99`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// `XDG_DATA_HOME` of the app under test (Tauri's app data and log folders are inside).
    pub fn data_home(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// `XDG_RUNTIME_DIR` of the app under test (its MCP socket is inside).
    pub fn runtime_dir(&self) -> PathBuf {
        self.home.path().join("runtime")
    }

    /// The private session bus of the app (where its keyring is), e.g. for `secret-tool`.
    pub fn bus_address(&self) -> Result<String, String> {
        std::fs::read_to_string(self.home.path().join("bus-address"))
            .map_err(|e| format!("the bus address was not written: {e}"))
    }

    /// Runs `command` on the app's session bus and with its XDG folders; returns its stdout.
    pub fn run_in_session(&self, command: &mut Command) -> Result<String, String> {
        let output = command
            .env("DBUS_SESSION_BUS_ADDRESS", self.bus_address()?)
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.home.path().join("runtime"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {command:?}: {e}"))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// What `secret-tool search --all service <service>` finds in the app's keyring (the app
    /// keeps a profile's items under `mcp-rmm:<profile>`): labels and attributes, without the
    /// secrets, so that a failing test can print it.
    pub fn keyring_items(&self, service: &str) -> Result<String, String> {
        let found = self.run_in_session(
            Command::new("secret-tool").args(["search", "--all", "service", service]),
        )?;
        Ok(found
            .lines()
            .filter(|line| !line.starts_with("secret = "))
            .map(|line| format!("{line}\n"))
            .collect())
    }

    /// The secret of the app's keyring item `item` of `service` (`secret-tool lookup`); empty
    /// when there is none. Tests compare it and never print it.
    pub fn keyring_secret(&self, service: &str, item: &str) -> Result<String, String> {
        self.run_in_session(
            Command::new("secret-tool").args(["lookup", "service", service, "username", item]),
        )
    }

    /// Fails if tauri-driver has stopped.
    pub fn ensure_running(&mut self) -> Result<(), String> {
        self.driver.ensure_running()
    }
}

/// tauri-driver is installed by `cargo install`, which may not be on PATH in a test.
fn find_tauri_driver() -> Result<PathBuf, String> {
    system_tool("tauri-driver", "tauri-driver").or_else(|error| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
        home.map(|dir| dir.join("bin").join("tauri-driver"))
            .filter(|p| p.is_file())
            .ok_or_else(|| format!("{error} (`cargo install tauri-driver --locked`)"))
    })
}

/// Starts Xvfb on a display number it picks itself (`-displayfd`), returning `:N`.
/// The virtual display's size: room for the app's window at 1920×1080 (the big screenshots).
pub const SCREEN: (u32, u32) = (1920, 1080);

fn start_xvfb(xvfb: &Path) -> Result<(ProcessGroup, String), String> {
    let mut command = Command::new(xvfb);
    let screen = format!("{}x{}x24", SCREEN.0, SCREEN.1);
    // Xvfb writes the display number it took to fd 1 once it accepts clients.
    command
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            &screen,
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut group = ProcessGroup::spawn("Xvfb", command)?;
    let stdout = group
        .child_mut()
        .stdout
        .take()
        .ok_or("Xvfb has no stdout pipe")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read Xvfb's display number: {e}"))?;
    let number = line.trim();
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        group.ensure_running()?;
        return Err(format!(
            "Xvfb did not report a display number (got {line:?})"
        ));
    }
    Ok((group, format!(":{number}")))
}

/// A TCP port that was free a moment ago on loopback.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

fn wait_for_port(process: &mut ProcessGroup, port: u16, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        process.ensure_running()?;
        if Instant::now() > deadline {
            return Err(format!("nothing listened on port {port} within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn set_private(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot make {} private: {e}", dir.display()))
}

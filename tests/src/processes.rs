//! Child processes that cannot outlive a test: each runs in its own process group, and the
//! whole group (the tool and everything it started) is ended when the guard drops, also when
//! the test fails or panics.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A started process group, ended on drop.
pub struct ProcessGroup {
    name: String,
    child: Child,
}

impl ProcessGroup {
    /// Starts `command` as the leader of a new process group.
    pub fn spawn(name: &str, mut command: Command) -> Result<Self, String> {
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Self {
            name: name.to_string(),
            child,
        })
    }

    /// The group's id (its leader's process id).
    pub fn group_id(&self) -> u32 {
        self.child.id()
    }

    /// The leader's process; its id is the group's id.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Fails if the leader has already exited, with its status in the message.
    pub fn ensure_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited early: {status}", self.name)),
            Err(e) => Err(format!("cannot check on {}: {e}", self.name)),
        }
    }

    fn signal_group(&self, signal: &str) {
        // `kill -SIG -PGID` reaches every process of the group; the std library can only
        // signal the leader, and this crate forbids the unsafe code `libc::killpg` would need.
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

impl ProcessGroup {
    /// Whether any process of the group still exists (`kill -0` to the group).
    fn group_alive(&self) -> bool {
        Command::new("kill")
            .args(["-0", "--", &format!("-{}", self.child.id())])
            .stderr(std::process::Stdio::null())
            .status()
            .map(|status| status.success())
            .unwrap_or(false)
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Stragglers of the group (the leader may have gone first) get no second chance.
        self.signal_group("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A killed process takes a moment to go; wait until the group is gone, so that the
        // next test starts on a quiet machine and finds its ports and displays free.
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.group_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: &str) -> bool {
        Command::new("kill")
            .args(["-0", pid])
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    #[test]
    fn dropping_the_guard_ends_the_grandchildren_too() {
        let mut command = Command::new("sh");
        // The shell starts a grandchild and prints its pid, then waits.
        command
            .args(["-c", "sleep 300 & echo $!; wait"])
            .stdout(std::process::Stdio::piped());
        let mut group = ProcessGroup::spawn("sh", command).unwrap();
        let mut line = String::new();
        let stdout = group.child_mut().stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        let grandchild = line.trim().to_string();
        assert!(alive(&grandchild), "the grandchild should run first");

        drop(group);

        // Drop waits for the group to be gone; a zombie not yet reaped by init is gone too,
        // so ask /proc for the state rather than only whether the pid exists.
        let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let running = alive(&grandchild) && !state.contains(") Z");
        assert!(!running, "the grandchild {grandchild} survived: {state}");
    }

    #[test]
    fn a_process_that_exited_is_reported() {
        let mut group = ProcessGroup::spawn("true", Command::new("true")).unwrap();
        let _ = group.child_mut().wait();
        let error = group.ensure_running().unwrap_err();
        assert!(error.contains("true exited early"), "{error}");
    }
}

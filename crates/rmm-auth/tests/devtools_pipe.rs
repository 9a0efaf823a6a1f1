//! The login browser is driven over `--remote-debugging-pipe`, never a DevTools TCP port:
//! during a real login (real Chromium against the simulator), every process Chromium runs
//! is looked at through /proc — its command line, and the TCP sockets it listens on — while
//! the login goes on, and the login must still capture the token. With a
//! `--remote-debugging-port`, any local user could connect to 127.0.0.1 and read the
//! password field. Linux only: it reads /proc.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common {
    pub mod sim;
}

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use common::sim::{headless, start_sim};

/// What the samples saw, over the whole login.
#[derive(Default, Debug)]
struct Observed {
    samples: usize,
    /// pid → command line, of every process below this test process.
    cmdlines: BTreeMap<u32, Vec<String>>,
    /// "pid: local address" of each TCP socket in LISTEN state owned by one of them.
    listening: BTreeSet<String>,
}

/// The processes below `root` (children, their children, …), from /proc/*/stat.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue; // exited meanwhile
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent_of.insert(pid, ppid);
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (&child, &parent) in &parent_of {
            if parent == p {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

/// The socket inodes `pid` holds open.
fn socket_inodes(pid: u32) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return out;
    };
    for fd in fds.flatten() {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            let t = target.to_string_lossy();
            if let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                out.insert(inode.to_owned());
            }
        }
    }
    out
}

/// inode → local address of each TCP (v4 and v6) socket in LISTEN state (state 0A).
fn listening_tcp() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 9 && cols[3] == "0A" {
                out.insert(cols[9].to_owned(), cols[1].to_owned());
            }
        }
    }
    out
}

fn sample(into: &Mutex<Observed>) {
    let me = std::process::id();
    let listening = listening_tcp();
    let mut seen = into.lock().unwrap();
    seen.samples += 1;
    for pid in descendants(me) {
        if let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            // Chromium rewrites its process title into one space-joined string, so the
            // flags are split on spaces too.
            let args: Vec<String> = raw
                .split(|b| *b == 0)
                .flat_map(|a| {
                    String::from_utf8_lossy(a)
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect();
            if !args.is_empty() {
                seen.cmdlines.insert(pid, args);
            }
        }
        for inode in socket_inodes(pid) {
            if let Some(addr) = listening.get(&inode) {
                seen.listening.insert(format!("{pid}: {addr}"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_browser_has_no_devtools_port_and_still_captures_the_token() {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let login = headless(&sim, dir.path(), Some(&sim.info().password.clone()));
    let observed = Mutex::new(Observed::default());
    let sampler = async {
        loop {
            sample(&observed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let token = tokio::select! {
        token = login.run() => token.unwrap(),
        () = sampler => unreachable!("the sampler never ends"),
    };
    assert_eq!(
        token.claims().email.as_deref(),
        Some(sim.info().username.as_str()),
        "the login over the pipe captures the simulator's token"
    );
    assert_eq!(sim.stats().password_logins, 1);

    let seen = observed.into_inner().unwrap();
    let chromium: Vec<&Vec<String>> = seen
        .cmdlines
        .values()
        .filter(|args| args.iter().any(|a| a.starts_with("--user-data-dir=")))
        .collect();
    assert!(
        !chromium.is_empty(),
        "no Chromium process was seen during the login ({} samples): {seen:?}",
        seen.samples
    );
    assert!(
        chromium
            .iter()
            .any(|args| args.iter().any(|a| a == "--disable-component-update")),
        "rmm-auth's own flags reach Chromium well-formed: {chromium:?}"
    );
    for (pid, args) in &seen.cmdlines {
        assert!(
            !args.iter().any(|a| a.starts_with("----")),
            "process {pid} got a malformed flag Chromium ignores: {args:?}"
        );
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("--remote-debugging-port")),
            "process {pid} was started with a DevTools port: {args:?}"
        );
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("--remote-debugging-address")),
            "process {pid}: {args:?}"
        );
    }
    assert!(
        chromium
            .iter()
            .any(|args| args.iter().any(|a| a == "--remote-debugging-pipe")),
        "the browser process is driven over the pipe: {chromium:?}"
    );
    assert!(
        seen.listening.is_empty(),
        "Chromium listened on TCP during the login: {:?}",
        seen.listening
    );
    sim.shutdown().await;
}

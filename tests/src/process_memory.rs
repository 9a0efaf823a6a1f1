//! The resident memory of the desktop app's process tree (the app and the WebKit processes it
//! starts), read from /proc on Linux, for the benchmarks' memory figures.
//!
//! Two sums: RSS counts each process's resident pages in full, so the pages of the WebKit and
//! GTK libraries that the app and its web process share are counted once per process; PSS
//! (`/proc/PID/smaps_rollup`) splits each shared page between the processes that map it, so
//! its sum is the memory the tree holds.

use std::collections::HashMap;
use std::path::Path;

/// One process of the tree and its resident memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessMemory {
    pub pid: u32,
    pub name: String,
    pub rss_kb: u64,
    /// Proportional set size; 0 where smaps_rollup cannot be read.
    pub pss_kb: u64,
}

/// The processes named `app_name` in process group `group`, and all their descendants.
pub fn app_tree(group: u32, app_name: &str) -> Result<Vec<ProcessMemory>, String> {
    let processes = read_processes(Path::new("/proc"))?;
    Ok(tree_of(&processes, group, app_name))
}

/// RSS kilobytes of all of `tree` (shared pages counted in every process).
pub fn total_rss_kb(tree: &[ProcessMemory]) -> u64 {
    tree.iter().map(|p| p.rss_kb).sum()
}

/// PSS kilobytes of all of `tree` (shared pages split between the processes).
pub fn total_pss_kb(tree: &[ProcessMemory]) -> u64 {
    tree.iter().map(|p| p.pss_kb).sum()
}

#[derive(Debug, Clone)]
struct ProcStatus {
    memory: ProcessMemory,
    ppid: u32,
    pgid: u32,
}

fn read_processes(proc_dir: &Path) -> Result<Vec<ProcStatus>, String> {
    let entries = std::fs::read_dir(proc_dir)
        .map_err(|e| format!("cannot read {}: {e}", proc_dir.display()))?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may end between the listing and the reading: skip it.
        let (Ok(status), Ok(stat)) = (
            std::fs::read_to_string(entry.path().join("status")),
            std::fs::read_to_string(entry.path().join("stat")),
        ) else {
            continue;
        };
        if let Some(mut process) = parse(pid, &status, &stat) {
            process.memory.pss_kb = std::fs::read_to_string(entry.path().join("smaps_rollup"))
                .ok()
                .and_then(|rollup| kilobytes(&rollup, "Pss:"))
                .unwrap_or(0);
            found.push(process);
        }
    }
    Ok(found)
}

/// The value of a `Name:   123 kB` line.
fn kilobytes(text: &str, name: &str) -> Option<u64> {
    field(text, name)?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .map(str::trim)
}

fn parse(pid: u32, status: &str, stat: &str) -> Option<ProcStatus> {
    let name = field(status, "Name:")?.to_owned();
    let ppid = field(status, "PPid:")?.parse().ok()?;
    // Kernel threads have no VmRSS line.
    let rss_kb = kilobytes(status, "VmRSS:").unwrap_or(0);
    // stat: "pid (comm) state ppid pgrp ...": the command may hold spaces or parentheses.
    let after_comm = stat.rsplit_once(')')?.1;
    let pgid = after_comm.split_whitespace().nth(2)?.parse().ok()?;
    Some(ProcStatus {
        memory: ProcessMemory {
            pid,
            name,
            rss_kb,
            pss_kb: 0,
        },
        ppid,
        pgid,
    })
}

fn tree_of(processes: &[ProcStatus], group: u32, app_name: &str) -> Vec<ProcessMemory> {
    let mut children: HashMap<u32, Vec<&ProcStatus>> = HashMap::new();
    for p in processes {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut tree: Vec<&ProcStatus> = processes
        .iter()
        .filter(|p| p.pgid == group && p.memory.name == app_name)
        .collect();
    let mut next = 0;
    while next < tree.len() {
        let pid = tree[next].memory.pid;
        next += 1;
        for child in children.get(&pid).into_iter().flatten() {
            if !tree.iter().any(|p| p.memory.pid == child.memory.pid) {
                tree.push(child);
            }
        }
    }
    tree.into_iter().map(|p| p.memory.clone()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn process(pid: u32, name: &str, ppid: u32, pgid: u32, rss_kb: u64) -> ProcStatus {
        ProcStatus {
            memory: ProcessMemory {
                pid,
                name: name.into(),
                rss_kb,
                pss_kb: rss_kb / 2,
            },
            ppid,
            pgid,
        }
    }

    #[test]
    fn the_tree_is_the_app_of_the_group_and_its_descendants_only() {
        let processes = [
            process(10, "tauri-driver", 1, 10, 5_000),
            process(11, "WebKitWebDriver", 10, 10, 7_000),
            process(12, "mcp-rmm", 11, 10, 100_000),
            process(13, "WebKitWebProces", 12, 10, 200_000),
            process(14, "WebKitNetworkPr", 12, 10, 30_000),
            process(15, "bwrap", 13, 10, 1_000),
            // Another app of the same name, in another group, is not ours.
            process(20, "mcp-rmm", 1, 20, 999_000),
            process(21, "WebKitWebProces", 20, 20, 999_000),
        ];
        let tree = tree_of(&processes, 10, "mcp-rmm");
        let mut pids: Vec<u32> = tree.iter().map(|p| p.pid).collect();
        pids.sort_unstable();
        assert_eq!(pids, [12, 13, 14, 15]);
        assert_eq!(total_rss_kb(&tree), 331_000);
        assert_eq!(total_pss_kb(&tree), 165_500);
    }

    #[test]
    fn status_and_stat_are_read_with_spaces_in_the_command() {
        let status =
            "Name:\tWebKitWebProces\nState:\tS (sleeping)\nPPid:\t12\nVmRSS:\t  204800 kB\n";
        let stat = "13 (Web Content (1)) S 12 10 10 0 -1";
        let p = parse(13, status, stat).unwrap();
        assert_eq!((p.ppid, p.pgid, p.memory.rss_kb), (12, 10, 204_800));
        assert_eq!(p.memory.name, "WebKitWebProces");
    }

    #[test]
    fn this_process_is_found_with_its_memory() {
        let own = std::process::id();
        let processes = read_processes(Path::new("/proc")).unwrap();
        let me = processes.iter().find(|p| p.memory.pid == own).unwrap();
        assert!(me.memory.rss_kb > 0);
        assert!(me.memory.pss_kb > 0 && me.memory.pss_kb <= me.memory.rss_kb);
    }
}

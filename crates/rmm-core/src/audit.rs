//! The audit log: every change sent to the cloud, with its time, who asked, the request, the
//! preview that was confirmed and the cloud's answer, in SQLite in the app's data folder.
//! Queryable by time and by device. Nothing secret is ever written: only the typed request,
//! preview and answer, none of which hold a token or key.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension as _, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::caller::Caller;

/// The audit log could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
#[error("audit log {path}: {message}")]
pub struct AuditError {
    pub path: String,
    pub message: String,
}

/// One recorded change.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub caller: Caller,
    /// `schedule_firmware_update`, `cancel_scheduled_update`, `configure_ota_mode`, `api_request`.
    pub action: String,
    pub group_id: String,
    /// The tenant's name as the preview showed it, when the cloud gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    pub device_ids: Vec<String>,
    pub request: Value,
    pub preview: Value,
    /// What the cloud answered (or the error when it refused).
    pub answer: Value,
    pub succeeded: bool,
    /// The signed-in account the change was made with (the token's email, else its subject),
    /// beside who asked for it (`caller`).
    pub account: Option<String>,
}

/// What to record (the id and time are given by the log).
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub caller: &'a Caller,
    pub action: &'a str,
    pub group_id: &'a str,
    pub device_ids: &'a [String],
    pub request: Value,
    pub preview: Value,
    pub answer: Value,
    pub succeeded: bool,
    /// The signed-in account the change was made with.
    pub account: Option<&'a str>,
}

/// Which entries to read: newest first.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuditQuery {
    /// Only entries at or after this Unix millisecond.
    pub since_ms: Option<i64>,
    /// Only entries before this Unix millisecond.
    pub until_ms: Option<i64>,
    /// Only entries touching this device.
    pub device_id: Option<String>,
    /// At most this many (default 50).
    pub limit: Option<u32>,
    /// Only entries asked for by this caller: a kind (`person`, `cli_user`, `mcp_client`) or
    /// part of a name (an agent's name, case-insensitive).
    #[serde(default)]
    pub caller: Option<String>,
}

/// The SQLite audit log. One connection behind a mutex: writes are few and short.
#[derive(Debug)]
pub struct AuditLog {
    path: String,
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_entry (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    caller TEXT NOT NULL,
    caller_kind TEXT NOT NULL,
    caller_name TEXT NOT NULL,
    session TEXT,
    action TEXT NOT NULL,
    group_id TEXT NOT NULL,
    request TEXT NOT NULL,
    preview TEXT NOT NULL,
    answer TEXT NOT NULL,
    succeeded INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_entry_at ON audit_entry(at_ms);
CREATE TABLE IF NOT EXISTS audit_device (
    entry_id INTEGER NOT NULL REFERENCES audit_entry(id),
    device_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_device_id ON audit_device(device_id, entry_id);
";

/// Brings a log made by an earlier version up to [`SCHEMA`] and its later columns.
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    let has_account = conn
        .prepare("SELECT 1 FROM pragma_table_info('audit_entry') WHERE name = 'account'")?
        .exists([])?;
    if !has_account {
        conn.execute_batch("ALTER TABLE audit_entry ADD COLUMN account TEXT")?;
    }
    Ok(())
}

impl AuditLog {
    /// `<data folder>/audit.sqlite`, the log's usual place.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("com", "mcp-rmm", "MCP-RMM")
            .map(|dirs| dirs.data_dir().join("audit.sqlite"))
    }

    /// Opens (creating folders, file and tables as needed) the log at `path`.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let shown = path.display().to_string();
        let err = |message: String| AuditError {
            path: shown.clone(),
            message,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            rmm_auth::private_fs::create_private_parents(dir)
                .map_err(|e| err(format!("cannot create the folder: {e}")))?;
        }
        let conn = Connection::open(path).map_err(|e| err(e.to_string()))?;
        // WAL lets the app, the CLI and the MCP endpoint share the file.
        let _ = conn.pragma_update(None, "journal_mode", "WAL");
        // Owner-only: who changed which device when, and what the cloud answered.
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                rmm_auth::private_fs::restrict_to_owner(&file)
                    .map_err(|e| err(format!("cannot make the file owner-only: {e}")))?;
            }
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| err(e.to_string()))?;
        migrate(&conn).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            path: shown,
            conn: Mutex::new(conn),
        })
    }

    /// A log kept in memory (tests, `--no-audit-file` style uses).
    pub fn in_memory() -> Result<Self, AuditError> {
        let err = |e: rusqlite::Error| AuditError {
            path: ":memory:".into(),
            message: e.to_string(),
        };
        let conn = Connection::open_in_memory().map_err(err)?;
        migrate(&conn).map_err(err)?;
        Ok(Self {
            path: ":memory:".into(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions): keep going.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, e: impl std::fmt::Display) -> AuditError {
        AuditError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Writes one entry and returns its id.
    pub fn record(&self, entry: NewAuditEntry<'_>, at_ms: i64) -> Result<i64, AuditError> {
        let caller = serde_json::to_string(entry.caller).map_err(|e| self.error(e))?;
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "INSERT INTO audit_entry (at_ms, caller, caller_kind, caller_name, session, action, group_id, request, preview, answer, succeeded, account)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                at_ms,
                caller,
                entry.caller.kind(),
                entry.caller.name(),
                entry.caller.session(),
                entry.action,
                entry.group_id,
                entry.request.to_string(),
                entry.preview.to_string(),
                entry.answer.to_string(),
                entry.succeeded,
                entry.account,
            ],
        )
        .map_err(|e| self.error(e))?;
        let id = tx.last_insert_rowid();
        for device in entry.device_ids {
            tx.execute(
                "INSERT INTO audit_device (entry_id, device_id) VALUES (?1, ?2)",
                params![id, device],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok(id)
    }

    /// Entries matching `query`, newest first.
    pub fn query(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, AuditError> {
        let conn = self.lock();
        let limit = i64::from(query.limit.unwrap_or(50).min(10_000));
        let mut statement = conn
            .prepare(
                "SELECT id, at_ms, caller, action, group_id, request, preview, answer, succeeded, account FROM audit_entry e
                 WHERE (?1 IS NULL OR at_ms >= ?1) AND (?2 IS NULL OR at_ms < ?2)
                   AND (?3 IS NULL OR EXISTS (SELECT 1 FROM audit_device d WHERE d.entry_id = e.id AND d.device_id = ?3))
                   AND (?5 IS NULL OR caller_kind = ?5 OR instr(lower(caller_name), lower(?5)) > 0)
                 ORDER BY at_ms DESC, id DESC LIMIT ?4",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(
                params![
                    query.since_ms,
                    query.until_ms,
                    query.device_id,
                    limit,
                    query
                        .caller
                        .as_deref()
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                ],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, String>(6)?,
                        row.get::<_, String>(7)?,
                        row.get::<_, bool>(8)?,
                        row.get::<_, Option<String>>(9)?,
                    ))
                },
            )
            .map_err(|e| self.error(e))?;
        let mut entries = Vec::new();
        let mut devices = conn
            .prepare("SELECT device_id FROM audit_device WHERE entry_id = ?1 ORDER BY rowid")
            .map_err(|e| self.error(e))?;
        let json = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
        for row in rows {
            let (id, at_ms, caller, action, group_id, request, preview, answer, succeeded, account) =
                row.map_err(|e| self.error(e))?;
            let device_ids = devices
                .query_map(params![id], |r| r.get::<_, String>(0))
                .map_err(|e| self.error(e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.error(e))?;
            let caller = serde_json::from_str(&caller).unwrap_or(Caller::CliUser {
                user: "unknown".into(),
            });
            let preview = json(&preview);
            entries.push(AuditEntry {
                id,
                at_ms,
                caller,
                action,
                group_id,
                // Kept in the preview recorded with the change (no column of its own).
                group_name: preview
                    .get("group_name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                device_ids,
                request: json(&request),
                preview,
                answer: json(&answer),
                succeeded,
                account,
            });
        }
        Ok(entries)
    }

    /// How many entries there are (for status displays).
    pub fn count(&self) -> Result<u64, AuditError> {
        let conn = self.lock();
        let n: Option<i64> = conn
            .query_row("SELECT COUNT(*) FROM audit_entry", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry<'a>(caller: &'a Caller, devices: &'a [String]) -> NewAuditEntry<'a> {
        NewAuditEntry {
            caller,
            action: "configure_ota_mode",
            group_id: "g",
            device_ids: devices,
            request: json!({"ota_mode": "auto"}),
            preview: json!({"devices": 1}),
            answer: json!({"outcome": "confirmed"}),
            succeeded: true,
            account: Some("admin@example.com"),
        }
    }

    #[test]
    fn records_and_queries_by_time_and_device() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&dir.path().join("sub/audit.sqlite")).unwrap();
        let agent = Caller::McpClient {
            name: "claude".into(),
            session: "s-1".into(),
        };
        let person = Caller::Person { name: "ann".into() };
        let a = vec!["dev-a".to_string()];
        let ab = vec!["dev-a".to_string(), "dev-b".to_string()];
        log.record(entry(&agent, &a), 1_000).unwrap();
        log.record(entry(&person, &ab), 2_000).unwrap();
        assert_eq!(log.count().unwrap(), 2);

        let all = log.query(&AuditQuery::default()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].caller, person, "newest first");
        assert_eq!(all[0].account.as_deref(), Some("admin@example.com"));
        assert_eq!(all[1].caller, agent);
        assert_eq!(all[0].device_ids, ab);
        assert_eq!(all[1].answer, json!({"outcome": "confirmed"}));

        let by_device = log
            .query(&AuditQuery {
                device_id: Some("dev-b".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(by_device.len(), 1);
        let by_time = log
            .query(&AuditQuery {
                since_ms: Some(500),
                until_ms: Some(1_500),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(by_time.len(), 1);
        assert_eq!(by_time[0].at_ms, 1_000);

        let by = |caller: &str| {
            log.query(&AuditQuery {
                caller: Some(caller.into()),
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| e.caller)
            .collect::<Vec<_>>()
        };
        assert_eq!(by("person"), std::slice::from_ref(&person), "by kind");
        assert_eq!(by("mcp_client"), std::slice::from_ref(&agent), "by kind");
        assert_eq!(
            by("CLAU"),
            std::slice::from_ref(&agent),
            "by part of the name, any case"
        );
        assert!(by("cursor").is_empty());
        assert_eq!(by(" ").len(), 2, "a blank caller filter filters nothing");

        // Reopening keeps the entries.
        drop(log);
        let again = AuditLog::open(&dir.path().join("sub/audit.sqlite")).unwrap();
        assert_eq!(again.count().unwrap(), 2);
    }

    /// A log written before the signed-in account was recorded opens, keeps its entries (their
    /// account unknown) and records the account from then on.
    #[test]
    fn a_log_of_an_earlier_version_gains_the_account_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sqlite");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(SCHEMA).unwrap();
            old.execute(
                "INSERT INTO audit_entry (at_ms, caller, caller_kind, caller_name, session, action, group_id, request, preview, answer, succeeded)
                 VALUES (1, '{\"kind\":\"cli_user\",\"user\":\"ann\"}', 'cli_user', 'ann', NULL, 'configure_ota_mode', 'g', '{}', '{}', '{}', 1)",
                [],
            )
            .unwrap();
        }
        let log = AuditLog::open(&path).unwrap();
        let person = Caller::Person { name: "ann".into() };
        log.record(entry(&person, &[]), 2).unwrap();
        let all = log.query(&AuditQuery::default()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].account.as_deref(), Some("admin@example.com"));
        assert_eq!(all[1].account, None, "an older entry's account is unknown");
    }
}

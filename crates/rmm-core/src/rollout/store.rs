//! `RolloutStore`: rollouts in SQLite beside the audit log — each rollout (plan, approved
//! preview, state, current wave, why it paused), each device's state in it, every state change
//! as an event (the history), the intent log written before each cloud change (so that a
//! restart reads back instead of sending twice), and the lease that lets one runner at a time
//! work a rollout.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension as _, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::planner::RolloutPreview;
use crate::caller::Caller;

/// The store could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
#[error("rollout store {path}: {message}")]
pub struct StoreError {
    pub path: String,
    pub message: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rollout (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    group_id TEXT NOT NULL,
    preview TEXT NOT NULL,
    digest TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    wave INTEGER NOT NULL DEFAULT 0,
    waves INTEGER NOT NULL,
    wave_passed_ms INTEGER,
    promote INTEGER NOT NULL DEFAULT 0,
    started_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    lease_holder TEXT,
    lease_until_ms INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rollout_device (
    rollout_id INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    wave INTEGER NOT NULL,
    model TEXT NOT NULL,
    site TEXT NOT NULL,
    file_id TEXT NOT NULL,
    target_version TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    ota_start INTEGER,
    ota_end INTEGER,
    ota_auto INTEGER NOT NULL,
    ota_held INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    not_before_ms INTEGER NOT NULL DEFAULT 0,
    execute_ms INTEGER,
    last_status TEXT NOT NULL DEFAULT '',
    last_progress_ms INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    intent_id INTEGER,
    PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX IF NOT EXISTS rollout_device_state ON rollout_device (rollout_id, state);
CREATE TABLE IF NOT EXISTS rollout_event (
    id INTEGER PRIMARY KEY,
    rollout_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    device_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rollout_event_rollout ON rollout_event (rollout_id, id);
CREATE INDEX IF NOT EXISTS rollout_event_kind ON rollout_event (kind, at_ms);
CREATE TABLE IF NOT EXISTS rollout_intent (
    id INTEGER PRIMARY KEY,
    rollout_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    action TEXT NOT NULL,
    file_id TEXT NOT NULL,
    device_ids TEXT NOT NULL,
    open INTEGER NOT NULL DEFAULT 1
);
";

/// Where a rollout is.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    Running,
    /// Paused by a person or by a gate (`reason` says which).
    Paused,
    /// Every wave done; some devices may have failed.
    Finished,
    Aborted,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Finished => "finished",
            Self::Aborted => "aborted",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "running" => Self::Running,
            "paused" => Self::Paused,
            "finished" => Self::Finished,
            _ => Self::Aborted,
        }
    }
}

/// Where a device is in a rollout.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Waiting for its wave, its slot, its site's turn or a retry's backoff.
    Pending,
    /// A reservation is being sent (an intent is open): a restart reads it back.
    Reserving,
    /// The cloud holds its reservation; the update is under way.
    Reserved,
    /// The read-back shows the target firmware.
    Verified,
    /// Failed and out of retries.
    Failed,
    /// Stopped by an abort before it started executing.
    Aborted,
}

impl DeviceState {
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Reserving,
        Self::Reserved,
        Self::Verified,
        Self::Failed,
        Self::Aborted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reserving => "reserving",
            Self::Reserved => "reserved",
            Self::Verified => "verified",
            Self::Failed => "failed",
            Self::Aborted => "aborted",
        }
    }

    fn parse(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .unwrap_or(Self::Pending)
    }

    /// Nothing more will happen to it in this rollout.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Verified | Self::Failed | Self::Aborted)
    }
}

/// A rollout as stored.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutRecord {
    pub id: i64,
    pub name: String,
    pub group_id: String,
    pub digest: String,
    pub state: RolloutState,
    /// Why it is paused, aborted or finished (empty while running).
    pub reason: String,
    /// The wave being run (0 = canary).
    pub wave: usize,
    pub waves: usize,
    /// When the current wave passed its success gate (its soak runs from here).
    pub wave_passed_ms: Option<i64>,
    /// A person asked to start the next wave now.
    pub promote: bool,
    pub started_by: Caller,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub lease_holder: Option<String>,
    pub lease_until_ms: i64,
}

/// A device of a rollout as stored.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceRecord {
    pub device_id: String,
    pub wave: usize,
    pub model: String,
    pub site: String,
    pub file_id: String,
    pub target_version: String,
    pub time_zone: String,
    pub ota_start: Option<i32>,
    pub ota_end: Option<i32>,
    pub ota_auto: bool,
    /// The OTA guard switched it to `confirmation` (to restore at the end).
    pub ota_held: bool,
    pub state: DeviceState,
    /// Reservations sent.
    pub attempts: u32,
    /// Attempts that failed (timeouts included).
    pub failed_attempts: u32,
    pub not_before_ms: i64,
    /// When its update is to run, Unix milliseconds.
    pub execute_ms: Option<i64>,
    /// The cloud's `updateStatus` at the last read-back.
    pub last_status: String,
    pub last_progress_ms: i64,
    pub detail: String,
    pub intent_id: Option<i64>,
}

/// One line of a rollout's history.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutEvent {
    pub id: i64,
    pub at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    pub kind: String,
    pub detail: String,
}

/// An intent: a cloud change about to be sent (open) or settled (closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: i64,
    pub at_ms: i64,
    pub action: String,
    pub file_id: String,
    pub device_ids: Vec<String>,
}

/// A change to one device's row, written with an event.
#[derive(Debug, Clone, Default)]
pub struct DeviceUpdate {
    pub state: Option<DeviceState>,
    pub attempts: Option<u32>,
    pub failed_attempts: Option<u32>,
    pub not_before_ms: Option<i64>,
    pub execute_ms: Option<Option<i64>>,
    pub last_status: Option<String>,
    pub last_progress_ms: Option<i64>,
    pub detail: Option<String>,
    pub intent_id: Option<Option<i64>>,
    pub ota_held: Option<bool>,
    pub wave: Option<usize>,
}

/// A device's id, the change to its row, and the event (kind, detail) recording it.
pub type DeviceChange = (String, DeviceUpdate, Option<(String, String)>);

/// The rollouts database. One connection behind a mutex.
#[derive(Debug)]
pub struct RolloutStore {
    path: String,
    conn: Mutex<Connection>,
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

impl RolloutStore {
    /// `rollouts.sqlite` beside the audit log at `audit_path`.
    pub fn beside(audit_path: &str) -> Result<Self, StoreError> {
        if audit_path == ":memory:" {
            return Self::in_memory();
        }
        let path = Path::new(audit_path).with_file_name("rollouts.sqlite");
        Self::open(&path)
    }

    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let err = |message: String| StoreError {
            path: shown.clone(),
            message,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("cannot create the folder: {e}")))?;
        }
        let conn = Connection::open(path).map_err(|e| err(e.to_string()))?;
        let _ = conn.pragma_update(None, "journal_mode", "WAL");
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| err(e.to_string()))?;
        conn.execute_batch(SCHEMA).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            path: shown,
            conn: Mutex::new(conn),
        })
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        let err = |e: rusqlite::Error| StoreError {
            path: ":memory:".into(),
            message: e.to_string(),
        };
        let conn = Connection::open_in_memory().map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            path: ":memory:".into(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Records a new running rollout of `preview` with every device pending; returns its id.
    pub fn create(
        &self,
        preview: &RolloutPreview,
        started_by: &Caller,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let preview_json = serde_json::to_string(preview).map_err(|e| self.error(e))?;
        let caller = serde_json::to_string(started_by).map_err(|e| self.error(e))?;
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "INSERT INTO rollout (name, group_id, preview, digest, state, waves, started_by, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?7)",
            params![
                preview.name,
                preview.group_id,
                preview_json,
                preview.digest,
                to_i64(preview.waves.len()),
                caller,
                now_ms
            ],
        )
        .map_err(|e| self.error(e))?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO rollout_device (rollout_id, device_id, wave, model, site, file_id, target_version, time_zone, ota_start, ota_end, ota_auto, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending')",
                )
                .map_err(|e| self.error(e))?;
            for wave in &preview.waves {
                for d in &wave.devices {
                    insert
                        .execute(params![
                            id,
                            d.device_id,
                            to_i64(wave.index),
                            d.model,
                            d.site,
                            d.file_id,
                            d.target_version,
                            d.time_zone,
                            d.ota_window.map(|w| i32::from(w.0)),
                            d.ota_window.map(|w| i32::from(w.1)),
                            d.ota_auto,
                        ])
                        .map_err(|e| self.error(e))?;
                }
            }
        }
        tx.execute(
            "INSERT INTO rollout_event (rollout_id, at_ms, kind, detail) VALUES (?1, ?2, 'started', ?3)",
            params![
                id,
                now_ms,
                format!(
                    "{} devices in {} waves, digest {}, by {} {}",
                    preview.total_devices,
                    preview.waves.len(),
                    preview.digest,
                    started_by.kind(),
                    started_by.name()
                )
            ],
        )
        .map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))?;
        Ok(id)
    }

    fn read_rollout(row: &rusqlite::Row<'_>) -> rusqlite::Result<RolloutRecord> {
        let started_by: String = row.get(10)?;
        Ok(RolloutRecord {
            id: row.get(0)?,
            name: row.get(1)?,
            group_id: row.get(2)?,
            digest: row.get(3)?,
            state: RolloutState::parse(&row.get::<_, String>(4)?),
            reason: row.get(5)?,
            wave: to_usize(row.get(6)?),
            waves: to_usize(row.get(7)?),
            wave_passed_ms: row.get(8)?,
            promote: row.get(9)?,
            started_by: serde_json::from_str(&started_by).unwrap_or(Caller::CliUser {
                user: "unknown".into(),
            }),
            created_ms: row.get(11)?,
            updated_ms: row.get(12)?,
            lease_holder: row.get(13)?,
            lease_until_ms: row.get(14)?,
        })
    }

    const ROLLOUT_COLUMNS: &'static str = "id, name, group_id, digest, state, reason, wave, waves, wave_passed_ms, promote, started_by, created_ms, updated_ms, lease_holder, lease_until_ms";

    pub fn rollout(&self, id: i64) -> Result<Option<RolloutRecord>, StoreError> {
        let conn = self.lock();
        conn.query_row(
            &format!(
                "SELECT {} FROM rollout WHERE id = ?1",
                Self::ROLLOUT_COLUMNS
            ),
            params![id],
            Self::read_rollout,
        )
        .optional()
        .map_err(|e| self.error(e))
    }

    /// Every rollout, newest first.
    pub fn rollouts(&self) -> Result<Vec<RolloutRecord>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(&format!(
                "SELECT {} FROM rollout ORDER BY id DESC",
                Self::ROLLOUT_COLUMNS
            ))
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], Self::read_rollout)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// The preview the rollout was started from.
    pub fn preview(&self, id: i64) -> Result<Option<RolloutPreview>, StoreError> {
        let conn = self.lock();
        let text: Option<String> = conn
            .query_row(
                "SELECT preview FROM rollout WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| self.error(e)))
            .transpose()
    }

    /// Sets state, reason, wave, pass time and the promote flag, with an event.
    #[allow(clippy::too_many_arguments)]
    pub fn set_rollout(
        &self,
        id: i64,
        state: RolloutState,
        reason: &str,
        wave: usize,
        waves: usize,
        wave_passed_ms: Option<i64>,
        promote: bool,
        event: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "UPDATE rollout SET state = ?2, reason = ?3, wave = ?4, waves = ?5, wave_passed_ms = ?6, promote = ?7, updated_ms = ?8 WHERE id = ?1",
            params![
                id,
                state.as_str(),
                reason,
                to_i64(wave),
                to_i64(waves),
                wave_passed_ms,
                promote,
                now_ms
            ],
        )
        .map_err(|e| self.error(e))?;
        if let Some((kind, detail)) = event {
            tx.execute(
                "INSERT INTO rollout_event (rollout_id, at_ms, kind, detail) VALUES (?1, ?2, ?3, ?4)",
                params![id, now_ms, kind, detail],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))
    }

    /// Takes or renews the lease for `holder` until `until_ms`; `Err(holder, until)` of the
    /// other runner holding it.
    pub fn acquire_lease(
        &self,
        id: i64,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Result<(), (String, i64)>, StoreError> {
        let conn = self.lock();
        let changed = conn
            .execute(
                "UPDATE rollout SET lease_holder = ?2, lease_until_ms = ?4
                 WHERE id = ?1 AND (lease_holder IS NULL OR lease_holder = ?2 OR lease_until_ms < ?3)",
                params![id, holder, now_ms, until_ms],
            )
            .map_err(|e| self.error(e))?;
        if changed == 1 {
            return Ok(Ok(()));
        }
        let held: Option<(Option<String>, i64)> = conn
            .query_row(
                "SELECT lease_holder, lease_until_ms FROM rollout WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(Err(held.map_or_else(
            || ("nobody (no such rollout)".to_owned(), 0),
            |(h, until)| (h.unwrap_or_default(), until),
        )))
    }

    /// Gives the lease up (a runner that stops cleanly).
    pub fn release_lease(&self, id: i64, holder: &str) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "UPDATE rollout SET lease_holder = NULL, lease_until_ms = 0 WHERE id = ?1 AND lease_holder = ?2",
                params![id, holder],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    const DEVICE_COLUMNS: &'static str = "device_id, wave, model, site, file_id, target_version, time_zone, ota_start, ota_end, ota_auto, ota_held, state, attempts, failed_attempts, not_before_ms, execute_ms, last_status, last_progress_ms, detail, intent_id";

    fn read_device(row: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRecord> {
        Ok(DeviceRecord {
            device_id: row.get(0)?,
            wave: to_usize(row.get(1)?),
            model: row.get(2)?,
            site: row.get(3)?,
            file_id: row.get(4)?,
            target_version: row.get(5)?,
            time_zone: row.get(6)?,
            ota_start: row.get(7)?,
            ota_end: row.get(8)?,
            ota_auto: row.get(9)?,
            ota_held: row.get(10)?,
            state: DeviceState::parse(&row.get::<_, String>(11)?),
            attempts: to_u32(row.get(12)?),
            failed_attempts: to_u32(row.get(13)?),
            not_before_ms: row.get(14)?,
            execute_ms: row.get(15)?,
            last_status: row.get(16)?,
            last_progress_ms: row.get(17)?,
            detail: row.get(18)?,
            intent_id: row.get(19)?,
        })
    }

    /// Every device of the rollout, by wave then id.
    pub fn devices(&self, id: i64) -> Result<Vec<DeviceRecord>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(&format!(
                "SELECT {} FROM rollout_device WHERE rollout_id = ?1 ORDER BY wave, device_id",
                Self::DEVICE_COLUMNS
            ))
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![id], Self::read_device)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// Applies device updates (each with an event when `kind` is given), in one transaction.
    pub fn update_devices(
        &self,
        id: i64,
        updates: &[DeviceChange],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        for (device, u, event) in updates {
            Self::apply_update(&tx, id, device, u).map_err(|e| self.error(e))?;
            if let Some((kind, detail)) = event {
                tx.execute(
                    "INSERT INTO rollout_event (rollout_id, at_ms, device_id, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, now_ms, device, kind, detail],
                )
                .map_err(|e| self.error(e))?;
            }
        }
        tx.commit().map_err(|e| self.error(e))
    }

    fn apply_update(
        tx: &rusqlite::Transaction<'_>,
        id: i64,
        device: &str,
        u: &DeviceUpdate,
    ) -> rusqlite::Result<()> {
        let mut sets: Vec<String> = Vec::new();
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let mut set = |column: &str, value: rusqlite::types::Value| {
            values.push(value);
            sets.push(format!("{column} = ?{}", values.len() + 2));
        };
        use rusqlite::types::Value as V;
        let opt = |v: Option<i64>| v.map_or(V::Null, V::Integer);
        if let Some(s) = u.state {
            set("state", V::Text(s.as_str().to_owned()));
        }
        if let Some(a) = u.attempts {
            set("attempts", V::Integer(i64::from(a)));
        }
        if let Some(a) = u.failed_attempts {
            set("failed_attempts", V::Integer(i64::from(a)));
        }
        if let Some(n) = u.not_before_ms {
            set("not_before_ms", V::Integer(n));
        }
        if let Some(e) = u.execute_ms {
            set("execute_ms", opt(e));
        }
        if let Some(s) = &u.last_status {
            set("last_status", V::Text(s.clone()));
        }
        if let Some(p) = u.last_progress_ms {
            set("last_progress_ms", V::Integer(p));
        }
        if let Some(d) = &u.detail {
            set("detail", V::Text(d.clone()));
        }
        if let Some(i) = u.intent_id {
            set("intent_id", opt(i));
        }
        if let Some(h) = u.ota_held {
            set("ota_held", V::Integer(i64::from(h)));
        }
        if let Some(w) = u.wave {
            set("wave", V::Integer(to_i64(w)));
        }
        if sets.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE rollout_device SET {} WHERE rollout_id = ?1 AND device_id = ?2",
            sets.join(", ")
        );
        let mut all: Vec<V> = vec![V::Integer(id), V::Text(device.to_owned())];
        all.extend(values);
        tx.execute(&sql, rusqlite::params_from_iter(all)).map(drop)
    }

    /// Opens an intent for `device_ids` and marks them `reserving`, in one transaction:
    /// after this, a crash leaves a trace that the next runner reads back.
    pub fn open_intent(
        &self,
        id: i64,
        action: &str,
        file_id: &str,
        device_ids: &[String],
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let list = serde_json::to_string(device_ids).map_err(|e| self.error(e))?;
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute(
            "INSERT INTO rollout_intent (rollout_id, at_ms, action, file_id, device_ids) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, now_ms, action, file_id, list],
        )
        .map_err(|e| self.error(e))?;
        let intent = tx.last_insert_rowid();
        for device in device_ids {
            tx.execute(
                "UPDATE rollout_device SET state = 'reserving', intent_id = ?3 WHERE rollout_id = ?1 AND device_id = ?2",
                params![id, device, intent],
            )
            .map_err(|e| self.error(e))?;
        }
        tx.commit().map_err(|e| self.error(e))?;
        Ok(intent)
    }

    /// Closes an intent together with the devices' new states (one transaction).
    pub fn close_intent(
        &self,
        id: i64,
        intent: i64,
        updates: &[DeviceChange],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        for (device, u, event) in updates {
            Self::apply_update(&tx, id, device, u).map_err(|e| self.error(e))?;
            if let Some((kind, detail)) = event {
                tx.execute(
                    "INSERT INTO rollout_event (rollout_id, at_ms, device_id, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, now_ms, device, kind, detail],
                )
                .map_err(|e| self.error(e))?;
            }
        }
        tx.execute(
            "UPDATE rollout_intent SET open = 0 WHERE id = ?1",
            params![intent],
        )
        .map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))
    }

    /// The intents still open (a runner stopped between sending and recording).
    pub fn open_intents(&self, id: i64) -> Result<Vec<Intent>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT id, at_ms, action, file_id, device_ids FROM rollout_intent WHERE rollout_id = ?1 AND open = 1 ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (intent, at_ms, action, file_id, ids) = row.map_err(|e| self.error(e))?;
            out.push(Intent {
                id: intent,
                at_ms,
                action,
                file_id,
                device_ids: serde_json::from_str(&ids).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Adds an event (rollout-level when `device` is `None`).
    pub fn event(
        &self,
        id: i64,
        device: Option<&str>,
        kind: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO rollout_event (rollout_id, at_ms, device_id, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, now_ms, device, kind, detail],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Devices reserved by any rollout since `since_ms` (what the agents' daily limit counts).
    pub fn reserved_since(&self, since_ms: i64) -> Result<usize, StoreError> {
        self.lock()
            .query_row(
                "SELECT COUNT(*) FROM rollout_event WHERE kind = 'reserved' AND device_id IS NOT NULL AND at_ms >= ?1",
                params![since_ms],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| self.error(e))
    }

    /// The history, oldest first (`device`: only that device's and rollout-level events).
    pub fn events(
        &self,
        id: i64,
        device: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RolloutEvent>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare(
                "SELECT id, at_ms, device_id, kind, detail FROM (
                    SELECT * FROM rollout_event WHERE rollout_id = ?1 AND (?2 IS NULL OR device_id IS NULL OR device_id = ?2)
                    ORDER BY id DESC LIMIT ?3) ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![id, device, to_i64(limit)], |r| {
                Ok(RolloutEvent {
                    id: r.get(0)?,
                    at_ms: r.get(1)?,
                    device_id: r.get(2)?,
                    kind: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }
}

//! The `app_info` command: what the UI may know about the running app. It never carries the
//! simulator's password or subscription key.

use std::path::PathBuf;

use serde::Serialize;

use crate::active_profile::ActiveProfile;

/// The app's state shared with its commands.
pub struct AppState {
    log_dir: Option<PathBuf>,
}

impl AppState {
    pub fn new(log_dir: Option<PathBuf>) -> Self {
        Self { log_dir }
    }

    /// The answer, with the demo simulator's facts when it runs.
    fn info(&self, demo: Option<DemoInfo>) -> AppInfo {
        AppInfo {
            name: "MCP-RMM".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            demo,
            log_dir: self.log_dir.as_ref().map(|dir| dir.display().to_string()),
        }
    }
}

/// What the UI shows about the app (typed in `ui/src/bindings.ts`).
#[derive(Debug, Clone, Serialize, PartialEq, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    /// Present while the demo simulator runs (`--demo`, or the demo chosen in the app).
    pub demo: Option<DemoInfo>,
    /// Where the log files go; absent when the app logs to stderr only.
    pub log_dir: Option<String>,
}

/// Where the demo simulator listens and as whom the demo signs in. No secret.
#[derive(Debug, Clone, Serialize, PartialEq, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DemoInfo {
    pub login_url: String,
    pub dashboard_url: String,
    pub api_base_url: String,
    pub group_id: String,
    pub username: String,
    pub devices: u32,
}

/// Tells the UI who the app is and whether the demo simulator runs.
#[tauri::command]
#[specta::specta]
pub fn app_info(
    state: tauri::State<'_, AppState>,
    active: tauri::State<'_, ActiveProfile>,
) -> AppInfo {
    state.info(active.demo_info())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoSimulator;

    #[test]
    fn without_demo_there_is_no_simulator_in_the_answer() {
        let info = AppState::new(None).info(None);
        assert_eq!(info.name, "MCP-RMM");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.demo, None);
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["demo"], serde_json::Value::Null);
        assert_eq!(json["logDir"], serde_json::Value::Null);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_demo_answer_names_the_simulator_but_holds_no_secret() {
        let demo = DemoSimulator::start(None).await.unwrap();
        let password = demo.secrets_for_test().0;
        let subscription_key = demo.secrets_for_test().1;
        let info = AppState::new(Some(PathBuf::from("/tmp/logs"))).info(Some(demo.public_info()));

        let json = serde_json::to_string(&info).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let api = value["demo"]["apiBaseUrl"].as_str().unwrap();
        assert!(api.starts_with("http://127.0.0.1:"), "{api}");
        assert!(
            value["demo"]["loginUrl"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
        assert_eq!(value["demo"]["devices"], 250);
        // The UI's bindings (`ui/src/bindings.ts`) expect exactly these names.
        let keys = |v: &serde_json::Value| {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&value), ["demo", "logDir", "name", "version"]);
        assert_eq!(
            keys(&value["demo"]),
            [
                "apiBaseUrl",
                "dashboardUrl",
                "devices",
                "groupId",
                "loginUrl",
                "username"
            ]
        );
        assert_eq!(value["logDir"], "/tmp/logs");
        assert!(
            !password.is_empty() && !json.contains(&password),
            "password leaked: {json}"
        );
        assert!(
            !subscription_key.is_empty() && !json.contains(&subscription_key),
            "subscription key leaked: {json}"
        );
    }
}

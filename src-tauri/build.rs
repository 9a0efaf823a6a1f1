//! Build script of the desktop app: reads `tauri.conf.json` from the repository root, checks
//! that the UI was built (it is embedded), and declares the app's own commands so that the
//! capability files can grant them one by one.

use std::path::Path;

fn main() {
    let ui_index = Path::new("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !ui_index.exists() {
        println!(
            "cargo::error=ui/dist/index.html is missing: the app embeds the built UI. \
             Run `npm ci && npm run build` in ui/ first (scripts/test-all and scripts/demo do)."
        );
        return;
    }
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(&[
            "app_info",
            "session_status",
            "sign_in",
            "sign_out",
            "load_fleet",
            "refresh_devices",
            "firmware_files",
            "tenants",
            "preview_change",
            "apply_change",
            "audit_entries",
            "mcp_status",
            "mcp_configure",
            "mcp_client_configs",
            "answer_approval",
            "save_csv",
            "notify_person",
            "list_profiles",
            "save_profile",
            "use_profile",
            "start_demo",
            "sign_in_with_chromium",
            "plan_rollout",
            "start_rollout",
            "list_rollouts",
            "rollout_status",
            "rollout_history",
            "rollout_action",
            "agent_policy",
            "set_agent_policy",
            "qualify_firmware",
            "stop_agents",
        ]));
    if let Err(error) = tauri_build::try_build(attributes) {
        println!("cargo::error=tauri-build failed: {error:#}");
    }
}

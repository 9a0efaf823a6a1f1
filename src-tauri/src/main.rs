//! The MCP-RMM desktop app: one window showing the UI of `ui/` (sign-in, the fleet, changes
//! with previews, the audit log, the agents of its MCP endpoint, the profiles in Settings), and
//! with `--demo` (or the demo chosen on the first-run screen) the simulator of the Sharp cloud
//! running in-process for it to talk to.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod active_profile;
mod agent_policy_home;
mod app_files;
mod app_info;
mod command_error;
mod commands;
mod csv_export;
mod demo;
mod fleet_commands;
mod launch;
mod logging;
mod login_window;
mod mcp_commands;
mod mcp_endpoint;
mod notifications;
mod profile_commands;
mod rendering;
mod rollout_commands;
mod rollout_runner;
mod session;
mod single_instance;
mod tray;

use std::sync::Arc;

use tauri::Manager;
use tauri_specta::Event as _;

use crate::active_profile::{ActiveProfile, ActiveProfileConfig};
use crate::command_error::CommandError;
use crate::mcp_endpoint::{EndpointEvent, McpEndpoint, Notify};

// The app hosts the MCP endpoint for many agents; glibc's malloc was a third of each call's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let options = match launch::LaunchOptions::from_args(std::env::args().skip(1)) {
        Ok(launch::Parsed::Run(options)) => options,
        Ok(launch::Parsed::Exit(text)) => {
            println!("{text}");
            return;
        }
        Err(message) => {
            eprintln!("mcp-rmm: {message}\n\n{}", launch::USAGE);
            std::process::exit(2);
        }
    };

    if options.demo {
        demo::DemoSimulator::prepare();
    }
    let commands = commands::builder();
    let events = commands::builder();
    let result = tauri::Builder::default()
        // First: a second launch hands over to the running app and exits.
        .plugin(single_instance::plugin())
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            events.mount_events(app);
            let log_dir = app.path().app_log_dir().ok();
            let log_dir = logging::init(log_dir.as_deref());
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                demo = options.demo,
                "mcp-rmm starting"
            );
            if let Some(main) = app.get_webview_window("main") {
                rendering::adapt(&main);
            }
            let config_dir = app.path().app_config_dir().ok();
            let endpoint = McpEndpoint::new(
                None,
                config_dir.as_ref().map(|dir| dir.join("mcp-endpoint.json")),
                rmm_mcp::saved_ports_dir().ok(),
                window_notifier(app.handle().clone()),
            );
            let active = ActiveProfile::new(
                endpoint.clone(),
                ActiveProfileConfig {
                    settings_path: rmm_core::settings::SettingsFile::default_path()
                        .map_err(CommandError::from),
                    choice_file: config_dir.map(|dir| dir.join("active-profile.json")),
                    audit_path: rmm_core::default_audit_path().map_err(CommandError::from),
                    demo_devices: options.demo_devices,
                },
            );
            // With --demo a simulator that does not start stops the app, as it always did.
            if let Err(error) = tauri::async_runtime::block_on(active.restore(options.demo)) {
                tracing::error!(message = %error.message, "demo start failed");
                return Err(error.message.into());
            }
            app.manage(active);
            app.manage(endpoint);
            app.manage(app_info::AppState::new(log_dir));
            app.manage(rollout_commands::RolloutStores::default());
            rollout_runner::spawn(app.handle().clone());
            tray::install(app.handle());
            Ok(())
        })
        .invoke_handler(commands.invoke_handler())
        // With the MCP endpoint on, closing the main window hides it (the tray brings it back).
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && window.label() == "main"
            {
                tray::on_main_close_requested(window, api);
            }
        })
        .build(tauri::generate_context!("../tauri.conf.json"));

    match result {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event
                && let Some(endpoint) = handle.try_state::<Arc<McpEndpoint>>()
            {
                // Closes the endpoint's port and removes its socket file.
                tauri::async_runtime::block_on(endpoint.shutdown());
            }
        }),
        Err(error) => {
            tracing::error!(%error, "the app stopped with an error");
            eprintln!("mcp-rmm: {error}");
            std::process::exit(1);
        }
    }
}

/// Sends the MCP endpoint's events to the window, and brings the window forward when an agent
/// asks for a change (the person must see the question).
fn window_notifier(app: tauri::AppHandle) -> Notify {
    Arc::new(move |event| {
        let sent = match event {
            EndpointEvent::ApprovalRequested(request) => {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.show();
                    let _ = window.unminimize();
                    let _ = window.set_focus();
                }
                request.emit(&app)
            }
            EndpointEvent::RolloutApprovalRequested(request) => {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.show();
                    let _ = window.unminimize();
                    let _ = window.set_focus();
                }
                request.emit(&app)
            }
            EndpointEvent::ApprovalSettled(settled) => settled.emit(&app),
            EndpointEvent::Activity(activity) => activity.emit(&app),
        };
        if let Err(error) = sent {
            tracing::debug!(%error, "an MCP endpoint event did not reach the window");
        }
    })
}

//! The MCP-RMM desktop app: one window showing the UI of `ui/` (sign-in, the fleet, changes
//! with previews, the audit log, the agents of its MCP endpoint), and with `--demo` the
//! simulator of the Sharp cloud running in-process for it to talk to.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

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
mod session;
mod single_instance;
mod tray;

use std::sync::Arc;

use tauri::Manager;
use tauri_specta::Event as _;

use crate::command_error::{CommandError, ErrorCode};
use crate::mcp_endpoint::{EndpointEvent, EndpointProfile, McpEndpoint, Notify};

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
            let demo = if options.demo {
                let started = tauri::async_runtime::block_on(demo::DemoSimulator::start(
                    options.demo_devices,
                ));
                match started {
                    Ok(sim) => Some(sim),
                    Err(message) => {
                        tracing::error!(%message, "demo start failed");
                        return Err(message.into());
                    }
                }
            } else {
                None
            };
            let profile = match demo.as_ref().map(demo::DemoSimulator::sign_in_profile) {
                Some(Ok(profile)) => Some(profile),
                Some(Err(message)) => return Err(message.into()),
                None => None,
            };
            let connection = match demo.as_ref() {
                Some(sim) => connect_fleet(&sim.resolved_profile()),
                None => Err(CommandError::new(
                    ErrorCode::NoProfile,
                    "no profile: start the app with --demo to use the built-in simulator",
                )),
            };
            let tokens = connection.as_ref().ok().map(|c| c.tokens.clone());
            let endpoint_profile = connection.as_ref().ok().map(|c| EndpointProfile {
                name: demo::DEMO_PROFILE.to_owned(),
                operations: c.operations.clone(),
                store: c.store.clone(),
            });
            let session = Arc::new(session::SessionState::new(profile, tokens));
            tauri::async_runtime::block_on(session.load_saved());
            app.manage(session);
            app.manage(Arc::new(fleet_commands::FleetConnection::new(connection)));
            let settings_file = app
                .path()
                .app_config_dir()
                .ok()
                .map(|dir| dir.join("mcp-endpoint.json"));
            let endpoint = McpEndpoint::new(
                endpoint_profile,
                settings_file,
                window_notifier(app.handle().clone()),
            );
            tauri::async_runtime::block_on(endpoint.start_saved());
            app.manage(endpoint);
            app.manage(app_info::AppState::new(log_dir, demo));
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

/// The profile's fleet operations, with tokens from the app's own sign-in (never a browser
/// started behind the user's back) and the audit log in the data folder.
fn connect_fleet(
    resolved: &rmm_core::settings::ResolvedProfile,
) -> Result<rmm_core::ProfileConnection, CommandError> {
    let path = rmm_core::default_audit_path()?;
    let audit = rmm_core::AuditLog::open(&path).map_err(rmm_core::OperationError::from)?;
    Ok(rmm_core::connect_profile_with_login(
        resolved,
        Arc::new(session::SignInWithTheApp),
        Arc::new(audit),
        rmm_core::OperationSettings::default(),
    )?)
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
            EndpointEvent::ApprovalSettled(settled) => settled.emit(&app),
            EndpointEvent::Activity(activity) => activity.emit(&app),
        };
        if let Err(error) = sent {
            tracing::debug!(%error, "an MCP endpoint event did not reach the window");
        }
    })
}

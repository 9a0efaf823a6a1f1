//! The MCP-RMM desktop app: one window showing the UI of `ui/`, and with `--demo` the simulator
//! of the Sharp cloud running in-process for it to talk to.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod app_info;
mod command_error;
mod commands;
mod demo;
mod launch;
mod logging;
mod login_window;
mod session;

use std::sync::Arc;

use tauri::Manager;

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
    let result = tauri::Builder::default()
        .setup(move |app| {
            let log_dir = app.path().app_log_dir().ok();
            let log_dir = logging::init(log_dir.as_deref());
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                demo = options.demo,
                "mcp-rmm starting"
            );
            let demo = if options.demo {
                let started = tauri::async_runtime::block_on(demo::DemoSimulator::start());
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
            let session = Arc::new(session::SessionState::new(profile));
            tauri::async_runtime::block_on(session.load_saved());
            app.manage(session);
            app.manage(app_info::AppState::new(log_dir, demo));
            Ok(())
        })
        .invoke_handler(commands.invoke_handler())
        .run(tauri::generate_context!("../tauri.conf.json"));

    if let Err(error) = result {
        tracing::error!(%error, "the app stopped with an error");
        eprintln!("mcp-rmm: {error}");
        std::process::exit(1);
    }
}

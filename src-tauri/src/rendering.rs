//! How the app's web views draw where there is no GPU. WebKitGTK composites pages with OpenGL;
//! without a GPU that GL is Mesa's CPU renderer and every frame costs tens of milliseconds
//! (two empty frames took 142 ms under Xvfb, against 10 ms without compositing), which made
//! the 10,000-device grid's sort and filter repaint in over 200 ms. Where no GPU render node
//! exists, the main window draws without GPU compositing; where one exists, WebKit's default
//! stays. The login window keeps the default: it shows one small page, and WebDriver's
//! screenshots of it stopped answering when its policy changed while the remote page loaded.

use std::path::Path;

/// Whether the web views should draw without GPU compositing on this machine: only on Linux,
/// when no DRM render node (`/dev/dri/renderD*`) exists, so GL could only run on the CPU.
pub fn without_gpu_compositing() -> bool {
    cfg!(target_os = "linux") && !has_render_node(Path::new("/dev/dri"))
}

fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Applies the choice of [`without_gpu_compositing`] to one window's web view.
pub fn adapt<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    if !without_gpu_compositing() {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let applied = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        match applied {
            Ok(()) => tracing::info!(
                window = window.label(),
                "no GPU render node: drawing without GPU compositing"
            ),
            Err(error) => tracing::warn!(%error, "could not set the web view's compositing"),
        }
    }
    // Elsewhere `without_gpu_compositing` is false and the window is left as it is.
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_node_means_a_gpu() {
        let dri = tempfile::tempdir().unwrap();
        assert!(!has_render_node(dri.path()), "empty folder");
        std::fs::write(dri.path().join("card0"), "").unwrap();
        assert!(!has_render_node(dri.path()), "a card without a render node");
        std::fs::write(dri.path().join("renderD128"), "").unwrap();
        assert!(has_render_node(dri.path()));
        assert!(!has_render_node(&dri.path().join("missing")));
    }
}

//! Benchmark of the desktop app's fleet grid with a 10,000-device demo fleet: the time from
//! the sign-in (the login form submitted) to the full grid loaded and painted, and the time a
//! sort and a quick-search filter take to repaint. Runs the release build when there is one
//! (`cargo build --release -p mcp-rmm`), else the debug build (and says so), under its own
//! Xvfb, D-Bus session and tauri-driver, like the end-to-end tests.
//!
//! It also prints the resident memory of the app and its WebKit processes once signed in with
//! the whole fleet shown (issue 5's figure, taken here because this bench signs in).
//!
//! `cargo bench -p rmm-e2e --bench desktop_fleet`. Targets: under 2 s to load, under 100 ms
//! to repaint, under 350 MB for the process tree. Timings are taken in the page (performance.now, up to the animation frame after
//! the grid's first row changed), except the load, which starts at the submit click in the
//! test process and ends at the page's frame after the grid showed every device (the page and
//! this process share the machine's clock).

// The desktop harness (Xvfb, tauri-driver, /proc) is Linux's; elsewhere the bench says so.
#[cfg(target_os = "linux")]
mod bench {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use rmm_e2e::demo_app::script;
    use rmm_e2e::desktop::Desktop;
    use rmm_e2e::process_memory::{self, ProcessMemory};
    use rmm_e2e::webdriver::Session;
    use rmm_e2e::{binaries, demo_sign_in};

    const DEVICES: usize = 10_000;
    const LOAD_TARGET_MS: f64 = 2_000.0;
    const REPAINT_TARGET_MS: f64 = 100.0;
    const REPEATS: usize = 7;
    /// Issue 5's target for the app and its WebKit processes after sign-in.
    const MEMORY_TARGET_MB: f64 = 350.0;
    /// The fleet of plain `--demo`.
    const DEMO_DEVICES: usize = 250;
    /// The app's process name (`Name:` in /proc/PID/status).
    const APP_PROCESS: &str = "mcp-rmm";

    fn now_ms() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    /// `[total, script]` milliseconds of one `__repaint`.
    fn repaint_times(value: &serde_json::Value) -> Result<(f64, f64), String> {
        match value.as_array().map(Vec::as_slice) {
            Some([total, script]) => total
                .as_f64()
                .zip(script.as_f64())
                .ok_or_else(|| format!("repaint times are not numbers: {value}")),
            _ => Err(format!("not a repaint measurement: {value}")),
        }
    }

    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    }

    /// In the page: a function that acts, then resolves with the milliseconds until the frame
    /// after the grid's first row changed, and the milliseconds the action itself ran (the grid's
    /// script work; the rest is style, layout and paint).
    const REPAINT_PROBE: &str = "
  const grid = document.querySelector('[data-testid=\"device-grid\"]');
  const firstRow = () => {
    const row = grid.querySelector('.ag-row[row-index=\"0\"]');
    return row ? row.getAttribute('row-id') + '|' + row.textContent : '';
  };
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  window.__repaint = async (act) => {
    const before = firstRow();
    const t0 = performance.now();
    act();
    const sync = performance.now() - t0;
    for (let i = 0; i < 600; i++) {
      await frame();
      if (firstRow() !== before) { await frame(); return [performance.now() - t0, sync]; }
    }
    throw new Error('the first row never changed');
  };
  // The floor under every repaint figure: two frames with nothing changed.
  window.__twoFrames = async () => {
    const t0 = performance.now();
    await frame();
    await frame();
    return performance.now() - t0;
  };
  done('ready');";

    async fn run() -> Result<(), String> {
        let (app, build) = match binaries::release_desktop_app() {
            Ok(path) => (path, "release"),
            Err(_) => (binaries::desktop_app()?, "debug (no release build found)"),
        };
        let desktop = Desktop::start()?;
        let (username, password) = demo_sign_in::demo_credentials().await?;
        let devices = DEVICES.to_string();
        let session =
            Session::start_tauri_app(desktop.webdriver(), &app, &["--demo-devices", &devices])
                .await?;

        // Notes, in the page, when the grid has shown every device (and the frame after).
        script(
            &session,
            &format!(
                "window.__loadedAt = null;
                 const want = '{DEVICES} devices';
                 const seen = () => (document.querySelector('[data-testid=\"fleet-count\"]')?.textContent ?? '').includes(want);
                 const observer = new MutationObserver(() => {{
                   if (window.__loadedAt === null && seen()) {{
                     observer.disconnect();
                     requestAnimationFrame(() => {{ window.__loadedAt = Date.now(); }});
                   }}
                 }});
                 observer.observe(document.body, {{ subtree: true, childList: true, characterData: true }});
                 done('watching');"
            ),
        )
        .await?;

        let (main, _login) = demo_sign_in::open_login_window(&session).await?;
        demo_sign_in::enter_email(&session, &username).await?;
        demo_sign_in::sharp_start_login(&session, &username, &password, None).await?;
        let submitted_at = now_ms();
        session.switch_to_window(&main).await?;
        session
            .wait_for_text(
                "[data-testid=\"fleet-count\"]",
                Duration::from_secs(120),
                |t| t.contains(&format!("{DEVICES} devices")),
            )
            .await?;
        let loaded_at = loop {
            let at = script(&session, "done(window.__loadedAt);").await?;
            if let Some(at) = at.as_f64() {
                break at;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let load_ms = loaded_at - submitted_at;
        let big_fleet_memory = signed_in_memory(&desktop).await?;

        // The serial column (one click away in the column chooser, as a person shows it):
        // unique and in no order, so each sort puts another device first.
        script(
            &session,
            "const box = document.querySelector('[data-testid=\"column-serial\"]');
             if (!box.checked) box.click();
             for (let i = 0; i < 50 && !document.querySelector('[data-testid=\"device-grid\"] .ag-header-cell[col-id=\"serial\"]'); i++)
               await new Promise((r) => setTimeout(r, 100));
             done(true);",
        )
        .await?;
        script(&session, REPAINT_PROBE).await?;
        let mut sorts = Vec::new();
        for _ in 0..REPEATS {
            // Serial: ascending, descending, unsorted, ... each puts another device first.
            let ms = script(
            &session,
            "done(await window.__repaint(() => document.querySelector('[data-testid=\"device-grid\"] .ag-header-cell[col-id=\"serial\"] .ag-header-cell-label').click()));",
        )
        .await?;
            sorts.push(repaint_times(&ms)?);
        }
        let mut filters = Vec::new();
        for term in [
            "MX-3071",
            "BP-50C26",
            "Warehouse",
            "MX-6071",
            "Finance",
            "BP-70C45",
            "",
        ]
        .iter()
        .cycle()
        .take(REPEATS)
        {
            let ms = script(
                &session,
                &format!(
                    "done(await window.__repaint(() => {{
                   const search = document.querySelector('[data-testid=\"quick-search\"]');
                   search.value = '{term}';
                   search.dispatchEvent(new Event('input', {{ bubbles: true }}));
                 }}));"
                ),
            )
            .await?;
            filters.push(repaint_times(&ms)?);
        }
        let mut floors = Vec::new();
        for _ in 0..REPEATS {
            let ms = script(&session, "done(await window.__twoFrames());").await?;
            floors.push(ms.as_f64().ok_or("no frame time")?);
        }
        session.close().await?;
        drop(desktop);
        let demo_memory = demo_fleet_memory(&app).await?;

        let totals = |times: &[(f64, f64)]| times.iter().map(|t| t.0).collect::<Vec<_>>();
        let scripts = |times: &[(f64, f64)]| median(times.iter().map(|t| t.1).collect());
        let (sort_ms, filter_ms) = (median(totals(&sorts)), median(totals(&filters)));
        let verdict = |ms: f64, target: f64| if ms < target { "met" } else { "NOT met" };
        println!("desktop fleet grid, {DEVICES} demo devices, {build} build of mcp-rmm");
        println!(
            "  sign-in to full grid loaded: {load_ms:.0} ms (target < {LOAD_TARGET_MS:.0} ms, ratio {:.2}, {})",
            load_ms / LOAD_TARGET_MS,
            verdict(load_ms, LOAD_TARGET_MS)
        );
        for (what, ms, times) in [("sort", sort_ms, &sorts), ("filter", filter_ms, &filters)] {
            println!(
                "  {what} repaint, median of {REPEATS}: {ms:.1} ms (target < {REPAINT_TARGET_MS:.0} ms, ratio {:.2}, {}), of which the grid's script {:.1} ms; all: {:?}",
                ms / REPAINT_TARGET_MS,
                verdict(ms, REPAINT_TARGET_MS),
                scripts(times),
                totals(times).iter().map(|v| v.round()).collect::<Vec<_>>()
            );
        }
        println!(
            "  for scale: two animation frames with nothing changed, median of {REPEATS}: {:.1} ms (the display pipeline's share of each repaint)",
            median(floors)
        );
        // Issue 5's target is for the demo; the big fleet's figure is for scale.
        for (fleet, tree, judged) in [
            (
                format!("{DEMO_DEVICES} devices (the demo)"),
                &demo_memory,
                true,
            ),
            (format!("{DEVICES} devices"), &big_fleet_memory, false),
        ] {
            let pss_mb = process_memory::total_pss_kb(tree) as f64 / 1024.0;
            let rss_mb = process_memory::total_rss_kb(tree) as f64 / 1024.0;
            let against = if judged {
                format!(
                    " (target < {MEMORY_TARGET_MB:.0} MB, ratio {:.2}, {})",
                    pss_mb / MEMORY_TARGET_MB,
                    verdict(pss_mb, MEMORY_TARGET_MB)
                )
            } else {
                " (for scale)".to_owned()
            };
            println!(
                "  memory after sign-in, {fleet} shown, app + WebKit processes: PSS {pss_mb:.0} MB{against}, RSS summed {rss_mb:.0} MB (shared libraries counted in each process); {}",
                tree.iter()
                    .map(|p| format!(
                        "{} PSS {} / RSS {} MB",
                        p.name,
                        p.pss_kb / 1024,
                        p.rss_kb / 1024
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(())
    }

    /// The app's process tree, two seconds after the fleet was shown (the login window closed).
    async fn signed_in_memory(desktop: &Desktop) -> Result<Vec<ProcessMemory>, String> {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let tree = process_memory::app_tree(desktop.process_group(), APP_PROCESS)?;
        if tree.is_empty() {
            return Err(format!(
                "no {APP_PROCESS} process in the driver's process group"
            ));
        }
        Ok(tree)
    }

    /// Issue 5's figure: the plain `--demo` app (its default fleet), signed in, on a desktop of its
    /// own (fresh folders and keyring: nothing kept from the big fleet's run).
    async fn demo_fleet_memory(app: &std::path::Path) -> Result<Vec<ProcessMemory>, String> {
        let desktop = Desktop::start()?;
        let session = demo_sign_in::start_signed_in(desktop.webdriver(), app)
            .await?
            .session;
        session
            .wait_for_text(
                "[data-testid=\"fleet-count\"]",
                Duration::from_secs(60),
                |t| t.contains(&format!("{DEMO_DEVICES} devices")),
            )
            .await?;
        let tree = signed_in_memory(&desktop).await;
        session.close().await?;
        tree
    }

    #[tokio::main]
    pub async fn main() {
        // `cargo bench` passes `--bench`; nothing else to read.
        if let Err(error) = run().await {
            eprintln!("desktop_fleet benchmark failed: {error}");
            std::process::exit(1);
        }
    }
}

#[cfg(target_os = "linux")]
fn main() {
    bench::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("desktop_fleet runs on Linux only (Xvfb, tauri-driver and WebKitGTK)");
}

//! End-to-end: the main flow by keyboard alone, in the dark theme. `mcp-rmm --demo` runs with
//! GTK's dark theme (as a desktop set to dark would start it): the page's colours are the dark
//! ones. Then, keys only once the search box has the focus: type a model, ArrowDown into the
//! rows, Space selects one, Enter opens its side panel (details, reservation, changes), Escape
//! closes it, Shift+Tab reaches "Schedule update…", Enter opens the form, a file is chosen by
//! typing, Tab reaches Preview, Enter previews, Enter confirms, Enter closes; the simulator then
//! holds the reservation. Screenshots at the default size and at 1920×1080 (grid and side
//! panel) go to tests/artifacts (copies in docs/).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rmm_e2e::demo_app::{self, control_url, script, testid};
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(60);
const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";
const SHIFT_TAB: &str = "\u{E008}\u{E004}";
const ESCAPE: &str = "\u{E00C}";
const ARROW_DOWN: &str = "\u{E015}";

/// The test id of the focused element, or of its closest ancestor with one.
async fn focused(session: &Session) -> String {
    script(
        session,
        "const a = document.activeElement; done(a?.closest('[data-testid]')?.dataset.testid ?? (a?.tagName ?? ''));",
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Waits (a few seconds at most) until the focus is on `testid`.
async fn wait_focus(session: &Session, testid: &str) {
    for _ in 0..30 {
        if focused(session).await == testid {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(focused(session).await, testid);
}

/// Presses `key` until the focus is on `testid` (at most `max` times).
async fn press_until(session: &Session, key: &str, testid: &str, max: usize) {
    for _ in 0..max {
        if focused(session).await == testid {
            return;
        }
        session.press_keys(key).await.unwrap();
    }
    assert_eq!(
        focused(session).await,
        testid,
        "the focus never reached {testid}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_main_flow_by_keyboard_in_the_dark_theme() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start_with(&[("GTK_THEME", "Adwaita:dark")], false)
        .unwrap_or_else(|e| panic!("{e}"));
    let demo = demo_sign_in::start_signed_in(desktop.webdriver(), &app)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let session = demo.session;
    let control = control_url(&session).await.unwrap();
    session
        .wait_for_text(&testid("fleet-count"), LIMIT, |t| t.contains("250 devices"))
        .await
        .unwrap();

    let look = script(
        &session,
        "const s = getComputedStyle(document.documentElement);
         done({ dark: matchMedia('(prefers-color-scheme: dark)').matches, bg: s.backgroundColor, fg: s.color });",
    )
    .await
    .unwrap();
    assert_eq!(look["dark"], true, "{look}");
    assert_eq!(look["bg"], "rgb(22, 27, 34)", "the dark background: {look}");
    assert_eq!(look["fg"], "rgb(230, 237, 243)", "the dark text: {look}");
    session
        .screenshot(&artifacts_dir().join("desktop-fleet-dark.png"))
        .await
        .unwrap();

    // Search, then into the rows, select one, open it.
    let search = session
        .wait_for(&testid("quick-search"), LIMIT)
        .await
        .unwrap();
    session.click(&search).await.unwrap();
    session.press_keys("MX-3071").await.unwrap();
    let shown = script(
        &session,
        "for (let i = 0; i < 100; i++) {
           await new Promise((r) => setTimeout(r, 100));
           const rows = [...document.querySelectorAll('[data-testid=\"device-grid\"] .ag-row[row-id]')];
           if (rows.length > 0 && rows.every((r) => r.textContent.includes('MX-3071'))) { done(rows.length); return; }
         }
         const rows = [...document.querySelectorAll('[data-testid=\"device-grid\"] .ag-row[row-id]')].map((r) => r.textContent).slice(0, 4);
         done('error: the search did not narrow the rows: ' + document.querySelector('[data-testid=\"quick-search\"]').value + ' ' + JSON.stringify(rows));",
    )
    .await
    .unwrap();
    assert!(shown.as_u64().unwrap() > 0);
    session.press_keys(ARROW_DOWN).await.unwrap();
    wait_focus(&session, "device-grid").await;
    session.press_keys(" ").await.unwrap();
    session
        .wait_for_text(&testid("selection-count"), LIMIT, |t| {
            t.starts_with("1 selected")
        })
        .await
        .unwrap();
    session.press_keys(ENTER).await.unwrap();
    let model = session
        .wait_for_text(&testid("device-model"), LIMIT, |t| !t.is_empty())
        .await
        .unwrap();
    assert_eq!(model, "MX-3071");
    let device_id = session
        .wait_for_text(&testid("device-id"), LIMIT, |t| t.starts_with("mn="))
        .await
        .unwrap();
    session
        .wait_for(&testid("device-history"), LIMIT)
        .await
        .unwrap();
    session
        .screenshot(&artifacts_dir().join("desktop-device-panel-dark.png"))
        .await
        .unwrap();
    session.press_keys(ESCAPE).await.unwrap();
    let hidden = script(
        &session,
        "done(document.querySelector('[data-testid=\"device-panel\"]').hidden);",
    )
    .await
    .unwrap();
    assert_eq!(hidden, true);
    assert_eq!(
        focused(&session).await,
        "device-grid",
        "the focus went back to the row"
    );

    // Back to the toolbar's action, and the schedule form by keys.
    // Past the summary's bars, each a button.
    press_until(&session, SHIFT_TAB, "action-schedule", 150).await;
    session.press_keys(ENTER).await.unwrap();
    session
        .wait_for(&testid("schedule-form"), LIMIT)
        .await
        .unwrap();
    let title = script(
        &session,
        "const select = document.querySelector('[data-testid=\"schedule-file\"]');
         for (let i = 0; i < 100 && !select.querySelector('optgroup[data-group=\"fits\"] option'); i++)
           await new Promise((r) => setTimeout(r, 100));
         const o = select.querySelector('optgroup[data-group=\"fits\"] option');
         done(o ? o.textContent : 'error: no file fits MX-3071');",
    )
    .await
    .unwrap();
    let title = title.as_str().unwrap().to_owned();
    assert_eq!(
        focused(&session).await,
        "schedule-file",
        "the form opens on its first field"
    );
    session.press_keys(&title).await.unwrap();
    let chosen = script(
        &session,
        "done(document.querySelector('[data-testid=\"schedule-file\"]').selectedOptions[0]?.textContent ?? '');",
    )
    .await
    .unwrap();
    assert_eq!(chosen.as_str().unwrap(), title, "typing chose the file");
    // A date field takes a Tab per part (day, month, year, hours, minutes).
    press_until(&session, TAB, "form-preview", 40).await;
    session.press_keys(ENTER).await.unwrap();
    session
        .wait_for(&testid("change-preview"), LIMIT)
        .await
        .unwrap();
    wait_focus(&session, "confirm-change").await;
    session.press_keys(ENTER).await.unwrap();
    session
        .wait_for_text(&testid("result-outcome"), LIMIT, |t| !t.trim().is_empty())
        .await
        .unwrap();
    wait_focus(&session, "close-dialog").await;
    session.press_keys(ENTER).await.unwrap();
    let device = demo_app::device(&control, &device_id).await.unwrap();
    assert_eq!(device["updateStatus"], "reserved", "{device}");

    // The same window at 1920×1080: the grid and the side panel.
    session.set_window_size(1920, 1080).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    session
        .screenshot(&artifacts_dir().join("desktop-fleet-1920-dark.png"))
        .await
        .unwrap();
    session.close().await.unwrap();
}

//! End-to-end: the fleet in `mcp-rmm --demo`, driven as a person drives it. Sign in; filter to
//! the devices needing an update and select three; schedule an update and confirm it; the
//! simulator then holds exactly those three new reservations and the Activity view shows the
//! change; cancel them; set the OTA mode of one device. The simulator's state is read through
//! its own control endpoint, not through the app. Saves the main window with the demo fleet as
//! tests/artifacts/desktop-fleet.png (the README's docs/screenshot.png is a copy of it).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use rmm_e2e::demo_app::{self, control_url, script, testid};
use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{artifacts_dir, binaries, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(60);

/// Ticks the row checkbox of `device_id` in the grid, making `selected` rows selected in all;
/// clicks again if the grid was redrawing and missed the click.
async fn select_row(session: &Session, device_id: &str, selected: usize) {
    let css = format!(
        "{} .ag-row[row-id=\"{device_id}\"] input.ag-checkbox-input",
        testid("device-grid")
    );
    let expected = format!("{selected} selected");
    for _ in 0..6 {
        let checkbox = match session.wait_for(&css, Duration::from_secs(10)).await {
            Ok(checkbox) => checkbox,
            Err(e) => {
                let _ = session
                    .screenshot(&artifacts_dir().join("desktop-fleet-no-row.png"))
                    .await;
                panic!("selecting row {selected}: {e}");
            }
        };
        if let Err(e) = session.click(&checkbox).await {
            // Rows slide into place for a moment after a filter; another may be over it.
            assert!(e.contains("intercepted"), "{e}");
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        if session
            .wait_for_text(&testid("selection-count"), Duration::from_secs(3), |t| {
                t.starts_with(&expected)
            })
            .await
            .is_ok()
        {
            return;
        }
    }
    panic!("the grid did not select {device_id}");
}

/// Previews the open change form, confirms the preview, and waits for the result.
async fn preview_and_confirm(session: &Session) -> String {
    let preview = session
        .wait_for(&testid("form-preview"), LIMIT)
        .await
        .unwrap();
    session.click(&preview).await.unwrap();
    session
        .wait_for(&testid("change-preview"), LIMIT)
        .await
        .unwrap_or_else(|e| panic!("no preview: {e}"));
    let confirm = session
        .wait_for(&testid("confirm-change"), LIMIT)
        .await
        .unwrap();
    session.click(&confirm).await.unwrap();
    let outcome = session
        .wait_for_text(&testid("result-outcome"), LIMIT, |t| !t.trim().is_empty())
        .await
        .unwrap();
    let close = session
        .wait_for(&testid("close-dialog"), LIMIT)
        .await
        .unwrap();
    session.click(&close).await.unwrap();
    outcome
}

#[tokio::test(flavor = "multi_thread")]
async fn a_person_schedules_cancels_and_sets_ota_from_the_fleet_grid() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let demo = demo_sign_in::start_signed_in(desktop.webdriver(), &app)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let session = demo.session;
    let control = control_url(&session).await.unwrap();
    let group = script(
        &session,
        "const info = await window.__TAURI_INTERNALS__.invoke('app_info'); done(info.demo.groupId);",
    )
    .await.unwrap();
    let group = group.as_str().unwrap().to_owned();

    // The fleet loads by itself once signed in.
    let count = session
        .wait_for_text(&testid("fleet-count"), LIMIT, |t| t.contains("250 devices"))
        .await
        .unwrap();
    assert!(count.contains("need an update"), "{count}");

    // Only the devices needing an update; the first three rows.
    let needs_update = session
        .wait_for(&testid("filter-needs-update"), LIMIT)
        .await
        .unwrap();
    session.click(&needs_update).await.unwrap();
    let rows = script(
        &session,
        "// Once the filter has repainted, every rendered row is one needing an update.
         let rows = [];
         for (let i = 0; i < 100; i++) {
           await new Promise((r) => setTimeout(r, 100));
           const seen = new Map();
           let stale = false;
           for (const r of document.querySelectorAll('[data-testid=\"device-grid\"] .ag-row[row-id]')) {
             if (!r.classList.contains('needs-update')) stale = true;
             seen.set(r.getAttribute('row-id'), Number(r.getAttribute('row-index')));
           }
           rows = [...seen].sort((a, b) => a[1] - b[1]).map(([id]) => ({ id }));
           if (!stale && rows.length >= 3) break;
         }
         done(rows);",
    )
    .await.unwrap();
    let rows = rows.as_array().unwrap().clone();
    if rows.len() < 3 {
        let _ = session
            .screenshot(&artifacts_dir().join("desktop-fleet-no-rows.png"))
            .await;
    }
    assert!(
        rows.len() >= 3,
        "fewer than three rows need an update: {rows:?}"
    );
    let before: BTreeSet<(String, String)> = demo_app::reservations(&control, &group)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let chosen: Vec<String> = rows
        .iter()
        .take(3)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    // What the other devices had stays as it was.
    let others_before: BTreeSet<(String, String)> = before
        .iter()
        .filter(|(d, _)| !chosen.contains(d))
        .cloned()
        .collect();
    for (i, id) in chosen.iter().enumerate() {
        select_row(&session, id, i + 1).await;
    }
    session
        .wait_for_text(&testid("selection-count"), LIMIT, |t| {
            t.starts_with("3 selected")
        })
        .await
        .unwrap();
    session
        .screenshot(&artifacts_dir().join("desktop-fleet.png"))
        .await
        .unwrap();

    // Schedule: a file that fits every selected model when there is one (else one for another
    // model, which must then be allowed explicitly), transfer tomorrow, execute the day after,
    // local time zone.
    let schedule = session
        .wait_for(&testid("action-schedule"), LIMIT)
        .await
        .unwrap();
    session.click(&schedule).await.unwrap();
    session
        .wait_for(&testid("schedule-form"), LIMIT)
        .await
        .unwrap();
    let file = script(
        &session,
        "const select = document.querySelector('[data-testid=\"schedule-file\"]');
         for (let i = 0; i < 100 && select.querySelectorAll('option[value]:not([value=\"\"])').length === 0; i++)
           await new Promise((r) => setTimeout(r, 100));
         const fitting = select.querySelector('optgroup[data-group=\"fits\"] option');
         const option = fitting ?? select.querySelector('option[value]:not([value=\"\"])');
         if (!option) { done('error: no firmware file offered'); return; }
         if (!fitting) document.querySelector('[data-testid=\"schedule-allow-other-model\"]').click();
         select.value = option.value;
         select.dispatchEvent(new Event('change', { bubbles: true }));
         const local = (days) => {
           const d = new Date(Date.now() + days * 86400000);
           const p = (n) => String(n).padStart(2, '0');
           return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
         };
         for (const [id, days] of [['schedule-transfer', 1], ['schedule-execute', 2]]) {
           const input = document.querySelector(`[data-testid=\"${id}\"]`);
           input.value = local(days);
           input.dispatchEvent(new Event('input', { bubbles: true }));
           input.dispatchEvent(new Event('change', { bubbles: true }));
         }
         done(option.value);",
    )
    .await.unwrap();
    let file = file.as_str().unwrap().to_owned();
    assert!(!file.starts_with("error"), "{file}");
    let outcome = preview_and_confirm(&session).await;
    assert!(outcome.contains("confirmed"), "{outcome}");

    // Exactly those three devices reserve that file; every other reservation is unchanged.
    let after: BTreeSet<(String, String)> = demo_app::reservations(&control, &group)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let mut expected = others_before.clone();
    expected.extend(chosen.iter().map(|d| (d.clone(), file.clone())));
    assert_eq!(
        after, expected,
        "the simulator's reservations after scheduling"
    );

    // The Activity view shows the change, asked for by the person.
    let activity = session
        .wait_for(&testid("nav-activity"), LIMIT)
        .await
        .unwrap();
    session.click(&activity).await.unwrap();
    let entry = session
        .wait_for_text(&testid("activity-entry"), LIMIT, |t| t.contains("3"))
        .await
        .unwrap();
    assert!(
        entry.to_lowercase().contains("schedul"),
        "the newest activity entry is not the schedule: {entry}"
    );
    let fleet = session
        .wait_for("[data-testid=\"nav-fleet\"]", LIMIT)
        .await
        .unwrap();
    session.click(&fleet).await.unwrap();

    // Cancel them.
    let clear = session
        .wait_for(&testid("clear-selection"), LIMIT)
        .await
        .unwrap();
    session.click(&clear).await.unwrap();
    for (i, id) in chosen.iter().enumerate() {
        select_row(&session, id, i + 1).await;
    }
    session
        .wait_for_text(&testid("selection-count"), LIMIT, |t| {
            t.starts_with("3 selected")
        })
        .await
        .unwrap();
    let cancel = session
        .wait_for(&testid("action-cancel"), LIMIT)
        .await
        .unwrap();
    session.click(&cancel).await.unwrap();
    session
        .wait_for(&testid("cancel-form"), LIMIT)
        .await
        .unwrap();
    preview_and_confirm(&session).await;
    let left: BTreeSet<(String, String)> = demo_app::reservations(&control, &group)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        left, others_before,
        "the three reservations are gone, the others stay"
    );

    // The OTA mode of one device: confirmation, from 1 to 3 o'clock.
    let one = &chosen[0];
    let clear = session
        .wait_for(&testid("clear-selection"), LIMIT)
        .await
        .unwrap();
    session.click(&clear).await.unwrap();
    select_row(&session, one, 1).await;
    session
        .wait_for_text(&testid("selection-count"), LIMIT, |t| {
            t.starts_with("1 selected")
        })
        .await
        .unwrap();
    let ota = session
        .wait_for(&testid("action-ota"), LIMIT)
        .await
        .unwrap();
    session.click(&ota).await.unwrap();
    session.wait_for(&testid("ota-form"), LIMIT).await.unwrap();
    let set = script(
        &session,
        "const set = (id, value) => {
           const el = document.querySelector(`[data-testid=\"${id}\"]`);
           el.value = value;
           el.dispatchEvent(new Event('input', { bubbles: true }));
           el.dispatchEvent(new Event('change', { bubbles: true }));
         };
         set('ota-mode', 'confirmation'); set('ota-start', '1'); set('ota-end', '3');
         done('ok');",
    )
    .await
    .unwrap();
    assert_eq!(set, "ok");
    preview_and_confirm(&session).await;
    let device = demo_app::device(&control, one).await.unwrap();
    assert_eq!(device["otaMode"], "confirmation", "{device}");
    assert_eq!(device["otaStartHour"], 1, "{device}");
    assert_eq!(device["otaEndHour"], 3, "{device}");

    session.close().await.unwrap();
}

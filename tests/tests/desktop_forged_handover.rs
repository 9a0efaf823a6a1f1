//! End-to-end, issue 13 finding 4: frames of another origin inside the login page forge the
//! token hand-over (navigating themselves to the reserved capture address, with junk, with a
//! guessed nonce, with a valid token of another user). Before, the first such navigation ended the sign-in with junk and closed the
//! window; now each is ignored, the window stays, and the person's real sign-in still ends
//! with the real token.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rmm_e2e::desktop::Desktop;
use rmm_e2e::webdriver::Session;
use rmm_e2e::{binaries, demo_sign_in};

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn forged_handovers_from_frames_do_not_end_the_sign_in() {
    let app = binaries::desktop_app().unwrap_or_else(|e| panic!("{e}"));
    let desktop = Desktop::start().unwrap_or_else(|e| panic!("{e}"));
    let session = Session::start_tauri_app(desktop.webdriver(), &app, &["--demo"])
        .await
        .unwrap_or_else(|e| panic!("the app did not start: {e}"));
    let (main, login) = demo_sign_in::open_login_window(&session).await.unwrap();
    let (username, password) = demo_sign_in::account_shown(&session).await.unwrap();

    // A valid token of another user, signed with the demo simulator's key (a twin of the same
    // seed holds it) and naming the demo's issuer (the login page's origin).
    let login_origin = session
        .execute_async("arguments[0](location.origin);")
        .await
        .unwrap();
    let login_origin = login_origin.as_str().unwrap().to_owned();
    let twin = rmm_sim::start(rmm_sim::SimConfig::default()).await.unwrap();
    let intruder = twin.mint_token(&rmm_sim::TokenSpec {
        email: Some("intruder@example.com".into()),
        issuer: Some(format!("{login_origin}/")),
        ..rmm_sim::TokenSpec::default()
    });
    twin.shutdown().await;

    // Opaque-origin frames (another origin than the page's) that hand over at once; the page
    // counts the frames that ran their script (each reports back before navigating).
    let injected = session
        .execute_async(&format!(
            r#"const done = arguments[arguments.length - 1];
             const forged = [
               "https://mcp-rmm-capture.invalid/#token=junk.junk.junk",
               "https://mcp-rmm-capture.invalid/#token=junk.junk.junk&nonce=0123456789abcdef0123456789abcdef&origin=" + encodeURIComponent(location.origin),
               "https://mcp-rmm-capture.invalid/#token={intruder}&origin=" + encodeURIComponent(location.origin),
             ];
             let ran = 0;
             window.addEventListener("message", (e) => {{ if (e.data === "forging") {{ ran += 1; if (ran === forged.length) done(ran); }} }});
             for (const target of forged) {{
               const frame = document.createElement("iframe");
               frame.srcdoc = "<script>parent.postMessage('forging', '*'); location.replace(" + JSON.stringify(target) + ");<\/script>";
               frame.sandbox = "allow-scripts";
               document.body.appendChild(frame);
             }}
             setTimeout(() => done(ran), 10000);"#
        ))
        .await
        .unwrap();
    assert_eq!(
        injected,
        serde_json::json!(3),
        "the forging frames did not run"
    );

    // The forged hand-overs were refused: the login window is still there and the header
    // shows no sign-in. (A navigation the frames started is decided before the page's next
    // script round trip; two more round trips leave it time.)
    for _ in 0..2 {
        session.execute_async("arguments[0]();").await.unwrap();
    }
    let handles = session.window_handles().await.unwrap();
    assert!(
        handles.contains(&login),
        "a forged hand-over closed the login window"
    );

    // The person signs in: the real token ends the sign-in.
    demo_sign_in::enter_email(&session, &username)
        .await
        .unwrap();
    demo_sign_in::sharp_start_login(&session, &username, &password, None)
        .await
        .unwrap();
    session.switch_to_window(&main).await.unwrap();
    session
        .wait_for_text("[data-testid=\"session-user\"]", LIMIT, |t| t == username)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let handles = session.window_handles().await.unwrap();
    assert!(!handles.contains(&login), "the login window is still open");
    session.close().await.unwrap();
}

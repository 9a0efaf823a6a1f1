//! Signing in to the demo through the app's embedded login window, as a person does: Sign in,
//! the email on the Lock page, Sharp-Start, user name and password, submit; then waiting for
//! the header to show the user.

use std::path::Path;
use std::time::Duration;

use crate::webdriver::{Session, WebDriverAddress};

/// How long any one step may take.
const STEP: Duration = Duration::from_secs(60);

/// The demo's user name and password: those of a simulator with the same (default) settings
/// as the app's in-process one.
pub async fn demo_credentials() -> Result<(String, String), String> {
    let twin = rmm_sim::start(rmm_sim::SimConfig::default())
        .await
        .map_err(|e| format!("cannot start the twin simulator: {e}"))?;
    let info = twin.info();
    Ok((info.username.clone(), info.password.clone()))
}

/// The demo account as the login page in view shows it to a person ("Demo simulator account:
/// email X, password Y"), read from the rendered text: what a newcomer reads off the screen.
pub async fn account_shown(session: &Session) -> Result<(String, String), String> {
    let text = session
        .wait_for_text("#sim-demo-account", STEP, |t| t.contains("password"))
        .await?;
    let after = |label: &str| {
        text.split(label)
            .nth(1)
            .map(|rest| rest.split(',').next().unwrap_or(rest).trim().to_string())
            .filter(|value| !value.is_empty())
    };
    match (after("email "), after("password ")) {
        (Some(email), Some(password)) => Ok((email, password)),
        _ => Err(format!("the page's demo notice names no account: {text:?}")),
    }
}

/// Clicks Sign in in the main window and switches to the login window; returns both handles.
pub async fn open_login_window(session: &Session) -> Result<(String, String), String> {
    open_login_window_with(session, "session-sign-in").await
}

/// Clicks the header's button `button` (a test id: Sign in, Sign in again) and switches to the
/// login window it opens; returns both handles.
pub async fn open_login_window_with(
    session: &Session,
    button: &str,
) -> Result<(String, String), String> {
    let main = session.window_handle().await?;
    // The header may be redrawn between finding its button and clicking it (a profile just
    // switched): find it again then.
    let mut tries = 0;
    loop {
        let sign_in = session
            .wait_for(&format!("[data-testid=\"{button}\"]"), STEP)
            .await?;
        match session.click(&sign_in).await {
            Ok(()) => break,
            Err(error) if error.contains("stale element reference") && tries < 5 => tries += 1,
            Err(error) => return Err(error),
        }
    }
    let login = session
        .wait_for_new_window(std::slice::from_ref(&main), STEP)
        .await?;
    session.switch_to_window(&login).await?;
    Ok((main, login))
}

/// The Lock page's first step: the email, then Next (the page then offers Sharp-Start).
pub async fn enter_email(session: &Session, username: &str) -> Result<(), String> {
    let email = session.wait_for("input[id=\"1-email\"]", STEP).await?;
    session.type_into(&email, username).await?;
    let next = session.wait_for("button.auth0-lock-submit", STEP).await?;
    session.click(&next).await
}

/// Sharp-Start's form: user name, password, submit. `screenshot` is taken before submitting.
pub async fn sharp_start_login(
    session: &Session,
    username: &str,
    password: &str,
    screenshot: Option<&Path>,
) -> Result<(), String> {
    let sharp_start = session
        .wait_for("a[data-provider=\"oauth2\"]", STEP)
        .await?;
    session.click(&sharp_start).await?;
    let user = session
        .wait_for(
            "input[name=\"dnn$ctr752$CustomLogin_View$txtUsername\"]",
            STEP,
        )
        .await?;
    session.type_into(&user, username).await?;
    let pass = session
        .wait_for(
            "input[name=\"dnn$ctr752$CustomLogin_View$txtPassword\"]",
            STEP,
        )
        .await?;
    session.type_into(&pass, password).await?;
    if let Some(path) = screenshot {
        session.screenshot(path).await?;
    }
    let submit = session
        .wait_for("input[name=\"dnn$ctr752$CustomLogin_View$cmdLogin\"]", STEP)
        .await?;
    session.click(&submit).await
}

/// `mcp-rmm --demo` started under the WebDriver at `webdriver`, and signed in.
pub struct SignedInDemo {
    pub session: Session,
    pub username: String,
    pub password: String,
}

/// Starts the desktop app `app` with `--demo` and signs in as its user.
pub async fn start_signed_in(
    webdriver: &WebDriverAddress,
    app: &Path,
) -> Result<SignedInDemo, String> {
    let (username, password) = demo_credentials().await?;
    let session = Session::start_tauri_app(webdriver, app, &["--demo"])
        .await
        .map_err(|e| format!("the app did not start: {e}"))?;
    sign_in(&session, &username, &password)
        .await
        .map_err(|e| format!("sign-in: {e}"))?;
    Ok(SignedInDemo {
        session,
        username,
        password,
    })
}

/// The whole sign-in; back in the main window once the header shows `username`.
pub async fn sign_in(session: &Session, username: &str, password: &str) -> Result<(), String> {
    sign_in_with(session, "session-sign-in", username, password).await
}

/// The whole sign-in, started with the header's button `button` (a test id).
pub async fn sign_in_with(
    session: &Session,
    button: &str,
    username: &str,
    password: &str,
) -> Result<(), String> {
    let (main, _login) = open_login_window_with(session, button).await?;
    enter_email(session, username).await?;
    sharp_start_login(session, username, password, None).await?;
    session.switch_to_window(&main).await?;
    session
        .wait_for_text("[data-testid=\"session-user\"]", STEP, |t| t == username)
        .await
        .map(|_| ())
}

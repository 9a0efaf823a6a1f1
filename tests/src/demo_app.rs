//! The main window of `mcp-rmm --demo` as the end-to-end tests and benchmarks reach it: elements
//! by test id, scripts run in the page, and the demo simulator's control endpoint, which reads
//! the simulator's state around the app.

use serde_json::Value;

use crate::webdriver::Session;

/// The CSS selector of the element with `data-testid="id"`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Runs `body` in the page: statements that end by calling `done(value)`; a thrown error (or a
/// `done('error: …')`) comes back as `Err`.
pub async fn script(session: &Session, body: &str) -> Result<Value, String> {
    let value = session
        .execute_async(&format!(
            "const done = arguments[arguments.length - 1]; (async () => {{ {body} }})().catch((e) => done('error: ' + String(e)));"
        ))
        .await?;
    match value.as_str() {
        Some(text) if text.starts_with("error:") => Err(text.to_owned()),
        _ => Ok(value),
    }
}

/// The demo simulator's control endpoint (`<api base>/__sim`), from the app's own `app_info`.
pub async fn control_url(session: &Session) -> Result<String, String> {
    let api = script(
        session,
        "const info = await window.__TAURI_INTERNALS__.invoke('app_info'); done(info.demo.apiBaseUrl);",
    )
    .await?;
    let api = api.as_str().ok_or("app_info gave no demo API base")?;
    Ok(format!("{}/__sim", api.trim_end_matches('/')))
}

/// The MCP endpoint hosted by the app, as an agent is told to reach it.
pub struct AgentEndpoint {
    /// `http://127.0.0.1:<port>/mcp`, as the Agents view shows it.
    pub url: String,
    /// The endpoint's secret, for the `Authorization: Bearer` header.
    pub secret: String,
    /// The app's `mcp_client_configs` (ready-to-paste configurations and the secret).
    pub configs: Value,
}

/// Turns the MCP endpoint on in the Agents view, on the profile's own port, as a person does.
pub async fn turn_on_endpoint(session: &Session) -> Result<AgentEndpoint, String> {
    let limit = std::time::Duration::from_secs(60);
    let agents = session.wait_for(&testid("nav-agents"), limit).await?;
    session.click(&agents).await?;
    // Once the view has read the endpoint's state (it would overwrite the inputs otherwise).
    session
        .wait_for_text(&testid("mcp-running"), limit, |t| t.contains("off"))
        .await?;
    script(
        session,
        // The port left empty: the profile's own, chosen free at first start.
        "const port = document.querySelector('[data-testid=\"mcp-port\"]');
         if (port.value !== '') { done('error: the port field holds ' + port.value); return; }
         const enabled = document.querySelector('[data-testid=\"mcp-enabled\"]');
         if (!enabled.checked) enabled.click();
         done('ok');",
    )
    .await?;
    let apply = session.wait_for(&testid("mcp-apply"), limit).await?;
    session.click(&apply).await?;
    let shown = session
        .wait_for_text(&testid("mcp-url"), limit, |t| {
            t.contains("http://127.0.0.1:")
        })
        .await?;
    let url = shown
        .find("http://")
        .and_then(|at| shown[at..].split_whitespace().next())
        .ok_or_else(|| format!("the Agents view shows no URL: {shown:?}"))?
        .to_owned();
    let configs = script(
        session,
        "done(await window.__TAURI_INTERNALS__.invoke('mcp_client_configs'));",
    )
    .await?;
    let secret = configs["secret"]
        .as_str()
        .ok_or("mcp_client_configs gave no secret")?
        .to_owned();
    Ok(AgentEndpoint {
        url,
        secret,
        configs,
    })
}

/// POSTs `body` to a control endpoint (`.../clock`, `.../rollout-faults`); its JSON answer.
pub async fn post_json(url: &str, body: &Value) -> Result<Value, String> {
    let answer = reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = answer.status();
    let value: Value = answer
        .json()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("POST {url}: {status} {value}"))
    }
}

async fn get_json(url: String) -> Result<Value, String> {
    reqwest::get(&url)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("GET {url}: {e}"))
}

/// The simulator's reservations in `group`, as (device id, file id).
pub async fn reservations(control: &str, group: &str) -> Result<Vec<(String, String)>, String> {
    let all = get_json(format!("{control}/reservations")).await?;
    Ok(all
        .as_array()
        .ok_or("the reservations are not a list")?
        .iter()
        .filter(|r| r["groupId"] == group)
        .filter_map(|r| {
            Some((
                r["deviceId"].as_str()?.to_owned(),
                r["fileId"].as_str()?.to_owned(),
            ))
        })
        .collect())
}

/// One device as the simulator's API shows it (`otaMode`, `otaStartHour`, ...).
pub async fn device(control: &str, device_id: &str) -> Result<Value, String> {
    get_json(format!("{control}/devices/{}", path_segment(device_id))).await
}

/// `text` escaped for one URL path segment (device ids hold base64's `/` and `+`).
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'=' | b':' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_id_is_escaped_for_a_path() {
        assert_eq!(
            path_segment("mn=U2g+/A==:sn=MTE="),
            "mn=U2g%2B%2FA==:sn=MTE="
        );
    }
}

//! Answers no honest cloud gives, through the real `rmm` binary: a fake API (a few lines of
//! raw HTTP, not our simulator) claims 18,446,744,073,709,551,615 devices. `rmm summary` must
//! fail with a clear error naming `totalCount` and exit 5, not allocate or loop forever.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{PROFILE, Setup};
use rmm_core::settings::SettingsFile;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// Serves `body` as the JSON answer to every request; the base URL.
async fn fake_api(body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                // Read the head and as much body as it announces, then answer.
                let mut seen = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&seen).to_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn an_impossible_total_count_is_a_clear_error_with_exit_code_5() {
    let s = Setup::new(5, true).await;
    let fake = fake_api(
        r#"{"deviceList": [{"deviceId": "mn=U2hhcnA=:sn=MTIzNDU2Nzg=", "modelName": "MX-3071"}],
            "totalCount": 18446744073709551615, "common": {"errorList": []}}"#,
    )
    .await;
    let path = s.config_dir().join("settings.toml");
    let mut file = SettingsFile::load(&path).unwrap();
    file.profiles.get_mut(PROFILE).unwrap().api_base_url = Some(fake);
    file.save(&path).unwrap();

    let (code, out, err) = s.run(&["summary"]).await;
    assert_eq!(code, 5, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("totalCount"), "{err}");
    assert!(err.contains("not a plausible number of devices"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

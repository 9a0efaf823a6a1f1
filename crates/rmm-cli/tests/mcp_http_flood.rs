//! `rmm mcp --http` under a desktop's usual file-descriptor limit (1,024) with 1,100 idle
//! unauthenticated connections open: the endpoint keeps its connections under the cap, so the
//! client with the secret is still answered (before the caps, it got "Too many open files").
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use common::Setup;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

/// `command` run by `sh` after `ulimit -n limit`.
fn with_fd_limit(command: &Command, limit: u32) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$@\""))
        .arg("sh")
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => sh.env(key, value),
            None => sh.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        sh.current_dir(dir);
    }
    sh
}

async fn initialize(client: &reqwest::Client, url: &str, auth: &str) -> Result<u16, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    client
        .post(url)
        .header("authorization", auth)
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_endpoint_keeps_serving_with_1100_idle_connections_under_1024_descriptors() {
    let s = Setup::new(10, true).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let (code, config, err) = s.run(&["mcp", "--print-config", "--http", &addr]).await;
    assert_eq!(code, 0, "{err}");
    let config: Value = serde_json::from_str(&config).unwrap();
    let auth = config["mcpServers"]["mcp-rmm"]["headers"]["Authorization"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut server = with_fd_limit(&s.rmm(&["mcp", "--http", &addr]), 1024)
        .spawn()
        .unwrap();
    let url = format!("http://{addr}/mcp");
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let mut ready = None;
    for _ in 0..100 {
        if let Ok(status) = initialize(&client, &url, &auth).await {
            ready = Some(status);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(ready, Some(200), "the endpoint did not start");

    let mut idle = Vec::new();
    for _ in 0..1_100 {
        match TcpStream::connect(&addr).await {
            Ok(mut stream) => {
                let _ = stream
                    .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    .await;
                idle.push(stream);
            }
            Err(e) => panic!("connect failed after {}: {e}", idle.len()),
        }
    }
    // A fresh client (new connection) and the pooled one are both answered.
    let fresh = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let answered_fresh = initialize(&fresh, &url, &auth).await;
    let answered_pooled = initialize(&client, &url, &auth).await;
    let _ = server.kill();
    let _ = server.wait();
    drop(idle);
    assert_eq!(answered_fresh, Ok(200));
    assert_eq!(answered_pooled, Ok(200));
}

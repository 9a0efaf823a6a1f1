//! The MCP endpoint hosted by the app: streamable HTTP on loopback (behind rmm-mcp's guard and
//! the profile's endpoint secret) and the owner-only local socket that `rmm mcp --stdio`
//! relays to. Every change an agent asks for waits for the person's answer in the approval
//! dialog; every session and call shows in the activity list. Its settings (on/off, port,
//! read-only) are kept in a small JSON file beside the app's config; they hold no secret.
//! Without a port of the person's choosing, the endpoint takes the profile's own port, the one
//! `rmm mcp --http` and `--print-config` use (rmm-mcp's `endpoint_port`), never a fixed one
//! that another local user could take first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use rmm_auth::TokenStore;
use rmm_core::rollout::RolloutPlanAnswer;
use rmm_core::{Caller, ChangePreview, FleetOperations};
use rmm_mcp::{
    Approval, CallSeen, EndpointHost, GuardConfig, HttpEndpoint, RmmMcpServer, ServerOptions,
    StdioCommand,
};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::app_files::{read_json, write_json};
use crate::command_error::{CommandError, ErrorCode};

/// How long an approval waits for the person before the agent is told nobody answered.
const APPROVAL_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The activity list keeps this many sessions, and this many calls of each.
const MAX_SESSIONS: usize = 30;
const MAX_CALLS: usize = 20;

/// The `rmm` that stdio entries start: the one installed beside this app when there is one (a
/// host that starts servers with a minimal `PATH` then still finds it), else `rmm` on `PATH`.
fn rmm_program() -> String {
    let name = if cfg!(windows) { "rmm.exe" } else { "rmm" };
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .filter(|path| path.is_file())
        .map_or_else(|| "rmm".to_owned(), |path| path.display().to_string())
}

/// What the user chose for the endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpSettings {
    pub enabled: bool,
    /// The person's choice; none: the profile's own port, chosen free once and saved.
    pub port: Option<u16>,
    pub read_only: bool,
}

/// One call in the activity list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AgentCall {
    pub at_ms: i64,
    pub tool: String,
    pub ok: bool,
    pub summary: String,
}

/// An agent's session and its recent calls (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AgentSession {
    pub session: String,
    pub client: String,
    /// `http` or `socket` (an agent started `rmm mcp --stdio`, which relays here).
    pub transport: String,
    pub connected_at_ms: i64,
    pub last_seen_ms: i64,
    pub calls: Vec<AgentCall>,
}

/// The endpoint as the Agents view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpStatus {
    pub enabled: bool,
    pub running: bool,
    /// `http://127.0.0.1:PORT/mcp` while running.
    pub url: Option<String>,
    /// The port the person chose; none: the profile's own (the address is in `url`).
    pub port: Option<u16>,
    pub read_only: bool,
    /// Where `rmm mcp --stdio` finds the app, while running.
    pub socket_path: Option<String>,
    /// Why the endpoint is not running although on.
    pub error: Option<String>,
    pub agents: Vec<AgentSession>,
}

/// Ready-to-paste client configurations, and the secret they carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct McpClientConfigs {
    pub secret: String,
    pub claude_desktop: String,
    pub cursor: String,
    pub vscode: String,
}

/// An agent asks for a change: show the preview and ask the person.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ApprovalRequested {
    pub id: String,
    /// The agent's name as it gave it.
    pub client: String,
    pub preview: ChangePreview,
}

/// An agent asks to start a rollout: show its waves, the agents' envelope it falls under and
/// the digest the approval binds to, and ask the person. Answered like a change's approval.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct RolloutApprovalRequested {
    pub id: String,
    /// The agent's name as it gave it.
    pub client: String,
    pub plan: RolloutPlanAnswer,
}

/// An approval was answered, or withdrawn (the agent went away, nobody answered in time).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ApprovalSettled {
    pub id: String,
    pub approved: bool,
}

/// The connected agents changed.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct McpActivity {
    pub agents: Vec<AgentSession>,
}

/// What the endpoint tells the window.
#[derive(Debug, Clone)]
pub enum EndpointEvent {
    ApprovalRequested(ApprovalRequested),
    // Boxed: a rollout's preview is large and the other events are small.
    RolloutApprovalRequested(Box<RolloutApprovalRequested>),
    ApprovalSettled(ApprovalSettled),
    Activity(McpActivity),
}

/// Delivers endpoint events (to the window in the app, to a list in tests).
pub type Notify = Arc<dyn Fn(EndpointEvent) + Send + Sync>;

/// Where the profile's fleet and secrets are.
pub struct EndpointProfile {
    pub name: String,
    pub operations: FleetOperations,
    pub store: Arc<dyn TokenStore>,
    /// The rollouts and the agents' envelope its servers use.
    pub rollouts: rmm_mcp::RolloutAccess,
}

#[derive(Default)]
struct Running {
    settings: McpSettings,
    http: Option<HttpEndpoint>,
    socket_task: Option<tokio::task::JoinHandle<()>>,
    socket_path: Option<PathBuf>,
    error: Option<String>,
}

/// The endpoint; shared as `Arc<McpEndpoint>` with the commands and every session's server.
pub struct McpEndpoint {
    /// Swapped when the app switches profile ([`McpEndpoint::switch_profile`]).
    profile: std::sync::RwLock<Option<Arc<EndpointProfile>>>,
    settings_file: Option<PathBuf>,
    /// The folder of each profile's saved port (shared with `rmm mcp`).
    ports_dir: Option<PathBuf>,
    notify: Notify,
    running: tokio::sync::Mutex<Running>,
    agents: Mutex<Vec<AgentSession>>,
    approvals: Approvals,
}

/// The approvals waiting for the person, by id.
type Approvals = Arc<Mutex<HashMap<String, oneshot::Sender<bool>>>>;

fn random_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl McpEndpoint {
    /// An endpoint over `profile` (none: the app has no fleet connection, and the endpoint
    /// cannot be turned on), with its settings read from `settings_file` and the profiles'
    /// saved ports in `ports_dir`.
    pub fn new(
        profile: Option<EndpointProfile>,
        settings_file: Option<PathBuf>,
        ports_dir: Option<PathBuf>,
        notify: Notify,
    ) -> Arc<Self> {
        let settings = settings_file
            .as_deref()
            .and_then(read_settings)
            .unwrap_or_default();
        Arc::new(Self {
            profile: std::sync::RwLock::new(profile.map(Arc::new)),
            settings_file,
            ports_dir,
            notify,
            running: tokio::sync::Mutex::new(Running {
                settings,
                ..Running::default()
            }),
            agents: Mutex::new(Vec::new()),
            approvals: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Serves `profile` from now on (none: the app has no profile): stops what runs, and
    /// starts again over the new profile when the endpoint is on. Sessions already open keep
    /// their profile until they end. Also the app's start-up, with the saved settings.
    pub async fn switch_profile(self: &Arc<Self>, profile: Option<EndpointProfile>) {
        let mut running = self.running.lock().await;
        stop(&mut running).await;
        if let Ok(mut slot) = self.profile.write() {
            *slot = profile.map(Arc::new);
        }
        running.error = None;
        if running.settings.enabled
            && let Err(error) = self.start(&mut running).await
        {
            tracing::warn!(message = %error.message, "the MCP endpoint did not start");
            running.error = Some(error.message.clone());
            stop(&mut running).await;
        }
    }

    /// The name of the profile served, if any.
    #[cfg(test)]
    pub fn profile_name(&self) -> Option<String> {
        self.profile().ok().map(|p| p.name.clone())
    }

    /// The endpoint's state now.
    pub async fn status(&self) -> McpStatus {
        let running = self.running.lock().await;
        McpStatus {
            enabled: running.settings.enabled,
            running: running.http.is_some(),
            url: running.http.as_ref().map(HttpEndpoint::url),
            port: running.settings.port,
            read_only: running.settings.read_only,
            socket_path: running
                .socket_path
                .as_ref()
                .map(|p| p.display().to_string()),
            error: running.error.clone(),
            agents: self.agents_snapshot(),
        }
    }

    /// Applies `settings`: stops what runs, then starts what they ask for, and saves them.
    /// Sessions already open keep going; new ones get the new settings.
    pub async fn configure(
        self: &Arc<Self>,
        settings: McpSettings,
    ) -> Result<McpStatus, CommandError> {
        {
            let mut running = self.running.lock().await;
            stop(&mut running).await;
            running.settings = settings;
            running.error = None;
            if settings.enabled
                && let Err(error) = self.start(&mut running).await
            {
                running.error = Some(error.message.clone());
                stop(&mut running).await;
                drop(running);
                self.save(settings);
                return Err(error);
            }
        }
        self.save(settings);
        Ok(self.status().await)
    }

    fn profile(&self) -> Result<Arc<EndpointProfile>, CommandError> {
        let current = self.profile.read().ok().and_then(|p| p.clone());
        current.ok_or_else(|| {
            CommandError::new(
                ErrorCode::NoProfile,
                "no profile to serve: start the demo or set up a profile",
            )
        })
    }

    async fn start(self: &Arc<Self>, running: &mut Running) -> Result<(), CommandError> {
        let profile = self.profile()?;
        let secret = self.secret().await?;
        let options = ServerOptions {
            read_only: running.settings.read_only,
        };
        let host: Arc<dyn EndpointHost> = self.clone();
        let ops = profile.operations.clone();
        let rollouts = profile.rollouts.clone();
        let http_host = host.clone();
        let port = match running.settings.port {
            Some(port) => port,
            None => self.profile_port(&profile.name)?,
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let http = rmm_mcp::serve_http(
            addr,
            move || {
                RmmMcpServer::new(ops.clone(), options)
                    .with_host(http_host.clone(), "http")
                    .with_rollouts(rollouts.clone())
            },
            GuardConfig {
                secret,
                allowed_origins: Vec::new(),
            },
        )
        .await
        .map_err(|error| match error {
            rmm_mcp::HttpEndpointError::PortTaken(addr) => CommandError::new(
                ErrorCode::Local,
                format!(
                    "port {} is already taken by another program (perhaps another user's): the endpoint did not start, so no agent sends its secret there. Stop that program, or type another port and Apply",
                    addr.port()
                ),
            ),
            other => CommandError::new(ErrorCode::Local, other.to_string()),
        })?;
        tracing::info!(url = %http.url(), read_only = options.read_only, "MCP endpoint of the app on");
        running.http = Some(http);
        self.start_socket(running, options, host).await;
        Ok(())
    }

    /// `profile`'s own port: the saved one, or a free one chosen now and saved.
    fn profile_port(&self, profile: &str) -> Result<u16, CommandError> {
        let dir = match &self.ports_dir {
            Some(dir) => dir.clone(),
            None => rmm_mcp::saved_ports_dir()
                .map_err(|message| CommandError::new(ErrorCode::Local, message))?,
        };
        rmm_mcp::load_or_choose_port(&rmm_mcp::port_path_in(&dir, profile))
            .map_err(|message| CommandError::new(ErrorCode::Local, message))
    }

    #[cfg(any(unix, windows))]
    async fn start_socket(
        &self,
        running: &mut Running,
        options: ServerOptions,
        host: Arc<dyn EndpointHost>,
    ) {
        let Ok(profile) = self.profile() else { return };
        let bound = match rmm_mcp::local_socket::socket_path(&profile.name) {
            Ok(path) => rmm_mcp::local_socket::LocalSocket::bind(&path).await,
            Err(e) => Err(e),
        };
        let socket = match bound {
            Ok(socket) => socket,
            Err(message) => {
                // HTTP still works; `rmm mcp --stdio` then serves on its own.
                tracing::warn!(%message, "no local socket for `rmm mcp --stdio`");
                running.error = Some(message);
                return;
            }
        };
        running.socket_path = Some(socket.path().to_owned());
        let ops = profile.operations.clone();
        let rollouts = profile.rollouts.clone();
        running.socket_task = Some(tokio::spawn(async move {
            loop {
                match socket.accept().await {
                    Ok(stream) => {
                        let server = RmmMcpServer::new(ops.clone(), options)
                            .with_host(host.clone(), "socket")
                            .with_rollouts(rollouts.clone());
                        tokio::spawn(async move {
                            if let Err(error) =
                                rmm_mcp::local_socket::serve_client(server, stream).await
                            {
                                tracing::debug!(%error, "socket session ended");
                            }
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "the local socket stopped accepting");
                        return;
                    }
                }
            }
        }));
    }

    #[cfg(not(any(unix, windows)))]
    async fn start_socket(&self, _: &mut Running, _: ServerOptions, _: Arc<dyn EndpointHost>) {}

    async fn secret(&self) -> Result<rmm_mcp::EndpointSecret, CommandError> {
        let store = self.profile()?.store.clone();
        tokio::task::spawn_blocking(move || rmm_mcp::load_or_create_secret(store.as_ref()))
            .await
            .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))?
            .map_err(CommandError::from)
    }

    /// The secret and the client configurations for the endpoint's address.
    pub async fn client_configs(&self) -> Result<McpClientConfigs, CommandError> {
        let profile_name = self.profile()?.name.clone();
        // Only the address the endpoint holds now: a configuration naming a port we do not
        // hold would send the secret to whoever takes it.
        let Some(url) = self.status().await.url else {
            return Err(CommandError::new(
                ErrorCode::Local,
                "the endpoint is off: tick \"Let AI agents connect\" and Apply, then show the configurations for the address it holds",
            ));
        };
        let secret = self.secret().await?;
        let stdio = StdioCommand::rmm(rmm_program(), Some(&profile_name), false).with_session_env();
        let text = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
        Ok(McpClientConfigs {
            secret: secret.expose().to_owned(),
            claude_desktop: text(rmm_mcp::claude_desktop(&stdio)),
            cursor: text(rmm_mcp::mcp_servers(&url, &secret, &stdio)),
            vscode: text(rmm_mcp::vscode(&url)),
        })
    }

    /// The person's answer to approval `id`.
    pub fn answer(&self, id: &str, approve: bool) -> Result<(), CommandError> {
        let waiting = self
            .approvals
            .lock()
            .ok()
            .and_then(|mut approvals| approvals.remove(id));
        let Some(waiting) = waiting else {
            return Err(CommandError::new(
                ErrorCode::Local,
                "this request is no longer waiting: the agent went away or it timed out",
            ));
        };
        // The agent may have gone in between: then nobody reads the answer, which is fine.
        let _ = waiting.send(approve);
        (self.notify)(EndpointEvent::ApprovalSettled(ApprovalSettled {
            id: id.to_owned(),
            approved: approve,
        }));
        Ok(())
    }

    fn save(&self, settings: McpSettings) {
        if let Some(path) = &self.settings_file {
            write_json(path, &settings, "MCP endpoint settings");
        }
    }

    fn agents_snapshot(&self) -> Vec<AgentSession> {
        self.agents.lock().map(|a| a.clone()).unwrap_or_default()
    }

    fn change_agents(&self, change: impl FnOnce(&mut Vec<AgentSession>)) {
        let agents = match self.agents.lock() {
            Ok(mut agents) => {
                change(&mut agents);
                agents.clone()
            }
            Err(_) => return,
        };
        (self.notify)(EndpointEvent::Activity(McpActivity { agents }));
    }

    /// Stops the endpoint (the app is quitting).
    pub async fn shutdown(&self) {
        stop(&mut *self.running.lock().await).await;
    }
}

async fn stop(running: &mut Running) {
    if let Some(task) = running.socket_task.take() {
        // Dropping the accept loop drops the socket, which removes its file.
        task.abort();
        let _ = task.await;
    }
    running.socket_path = None;
    if let Some(http) = running.http.take() {
        http.shutdown().await;
    }
}

fn read_settings(path: &Path) -> Option<McpSettings> {
    read_json(path, "MCP endpoint settings")
}

/// Removes an approval that is no longer awaited (the agent's call ended without an answer).
struct PendingApproval {
    approvals: Approvals,
    notify: Notify,
    id: String,
}

impl Drop for PendingApproval {
    fn drop(&mut self) {
        let was_waiting = self
            .approvals
            .lock()
            .ok()
            .and_then(|mut approvals| approvals.remove(&self.id))
            .is_some();
        if was_waiting {
            (self.notify)(EndpointEvent::ApprovalSettled(ApprovalSettled {
                id: self.id.clone(),
                approved: false,
            }));
        }
    }
}

impl McpEndpoint {
    /// Puts the question `event` makes (given its id) to the person and waits for the answer,
    /// at most `APPROVAL_TIMEOUT`; a question nobody waits for any more is withdrawn.
    fn ask(&self, event: impl FnOnce(String) -> EndpointEvent) -> BoxFuture<'static, Approval> {
        let id = random_id();
        let (sender, receiver) = oneshot::channel();
        if let Ok(mut approvals) = self.approvals.lock() {
            approvals.insert(id.clone(), sender);
        }
        (self.notify)(event(id.clone()));
        let pending = PendingApproval {
            approvals: self.approvals.clone(),
            notify: self.notify.clone(),
            id,
        };
        Box::pin(async move {
            let answer = tokio::time::timeout(APPROVAL_TIMEOUT, receiver).await;
            drop(pending);
            match answer {
                Ok(Ok(true)) => Approval::Approved,
                Ok(Ok(false)) => Approval::Refused,
                Ok(Err(_)) => Approval::Unanswered("the app closed the question".to_owned()),
                Err(_) => Approval::Unanswered(format!(
                    "no answer within {} minutes",
                    APPROVAL_TIMEOUT.as_secs() / 60
                )),
            }
        })
    }
}

fn session_of(caller: &Caller) -> (String, String) {
    (
        caller.session().unwrap_or_default().to_owned(),
        caller.name().to_owned(),
    )
}

impl EndpointHost for McpEndpoint {
    fn approve(&self, caller: Caller, preview: ChangePreview) -> BoxFuture<'static, Approval> {
        let client = caller.name().to_owned();
        self.ask(move |id| {
            EndpointEvent::ApprovalRequested(ApprovalRequested {
                id,
                client,
                preview,
            })
        })
    }

    fn approve_rollout(
        &self,
        caller: Caller,
        plan: RolloutPlanAnswer,
    ) -> BoxFuture<'static, Approval> {
        let client = caller.name().to_owned();
        self.ask(move |id| {
            EndpointEvent::RolloutApprovalRequested(Box::new(RolloutApprovalRequested {
                id,
                client,
                plan,
            }))
        })
    }

    fn session_started(&self, caller: Caller, transport: &'static str) {
        let (session, client) = session_of(&caller);
        let now = rmm_core::system_now_ms();
        self.change_agents(|agents| {
            agents.retain(|a| a.session != session);
            agents.insert(
                0,
                AgentSession {
                    session,
                    client,
                    transport: transport.to_owned(),
                    connected_at_ms: now,
                    last_seen_ms: now,
                    calls: Vec::new(),
                },
            );
            agents.truncate(MAX_SESSIONS);
        });
    }

    fn call_seen(&self, call: CallSeen) {
        let (session, client) = session_of(&call.caller);
        let now = rmm_core::system_now_ms();
        self.change_agents(|agents| {
            let index = match agents.iter().position(|a| a.session == session) {
                Some(i) => i,
                None => {
                    agents.insert(
                        0,
                        AgentSession {
                            session: session.clone(),
                            client,
                            transport: "http".to_owned(),
                            connected_at_ms: now,
                            last_seen_ms: now,
                            calls: Vec::new(),
                        },
                    );
                    agents.truncate(MAX_SESSIONS);
                    0
                }
            };
            if let Some(agent) = agents.get_mut(index) {
                agent.last_seen_ms = now;
                agent.calls.insert(
                    0,
                    AgentCall {
                        at_ms: now,
                        tool: call.tool,
                        ok: call.ok,
                        summary: call.summary,
                    },
                );
                agent.calls.truncate(MAX_CALLS);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview() -> ChangePreview {
        ChangePreview {
            action: rmm_core::ChangeKind::CancelScheduledUpdate,
            group_id: "g".into(),
            group_name: None,
            summary: "Cancel the reservation of 1 device".into(),
            devices: Vec::new(),
            warnings: Vec::new(),
            digest: "d".into(),
        }
    }

    fn agent() -> Caller {
        Caller::McpClient {
            name: "claude-code 2.1".into(),
            session: "s-1".into(),
        }
    }

    fn endpoint() -> (Arc<McpEndpoint>, Arc<Mutex<Vec<EndpointEvent>>>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let notify: Notify = Arc::new(move |e| seen.lock().unwrap().push(e));
        (McpEndpoint::new(None, None, None, notify), events)
    }

    fn requested_id(events: &Mutex<Vec<EndpointEvent>>) -> String {
        events
            .lock()
            .unwrap()
            .iter()
            .find_map(|e| match e {
                EndpointEvent::ApprovalRequested(a) => Some(a.id.clone()),
                _ => None,
            })
            .unwrap()
    }

    #[tokio::test]
    async fn the_persons_answer_reaches_the_waiting_agent() {
        for (answer, expected) in [(true, Approval::Approved), (false, Approval::Refused)] {
            let (endpoint, events) = endpoint();
            let waiting = endpoint.approve(agent(), preview());
            let id = requested_id(&events);
            match &events.lock().unwrap()[0] {
                EndpointEvent::ApprovalRequested(a) => {
                    assert_eq!(a.client, "claude-code 2.1");
                    assert_eq!(a.preview, preview());
                }
                other => panic!("{other:?}"),
            }
            endpoint.answer(&id, answer).unwrap();
            assert_eq!(waiting.await, expected);
            // Answered once: a second answer is refused.
            assert_eq!(
                endpoint.answer(&id, answer).unwrap_err().code,
                ErrorCode::Local
            );
        }
    }

    #[tokio::test]
    async fn an_agent_that_goes_away_withdraws_its_question() {
        let (endpoint, events) = endpoint();
        let waiting = endpoint.approve(agent(), preview());
        let id = requested_id(&events);
        drop(waiting);
        let settled =
            events.lock().unwrap().iter().any(
                |e| matches!(e, EndpointEvent::ApprovalSettled(s) if s.id == id && !s.approved),
            );
        assert!(settled, "the dialog is told to close");
        assert!(
            endpoint.answer(&id, true).is_err(),
            "nothing waits any more"
        );
    }

    #[tokio::test]
    async fn sessions_and_calls_show_newest_first_and_stay_bounded() {
        let (endpoint, events) = endpoint();
        endpoint.session_started(agent(), "socket");
        for i in 0..(MAX_CALLS + 5) {
            endpoint.call_seen(CallSeen {
                caller: agent(),
                tool: format!("tool-{i}"),
                ok: i % 2 == 0,
                summary: "done".into(),
            });
        }
        let status = endpoint.status().await;
        assert_eq!(status.agents.len(), 1);
        let agent = &status.agents[0];
        assert_eq!(agent.transport, "socket");
        assert_eq!(agent.client, "claude-code 2.1");
        assert_eq!(agent.calls.len(), MAX_CALLS);
        assert_eq!(agent.calls[0].tool, format!("tool-{}", MAX_CALLS + 4));
        assert!(
            events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, EndpointEvent::Activity(_)))
        );
    }

    #[tokio::test]
    async fn without_a_profile_the_endpoint_cannot_be_turned_on() {
        let (endpoint, _) = endpoint();
        let error = endpoint
            .configure(McpSettings {
                enabled: true,
                port: None,
                read_only: false,
            })
            .await
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::NoProfile);
        let status = endpoint.status().await;
        assert!(status.enabled && !status.running);
        assert!(status.error.is_some());
    }

    #[test]
    fn settings_are_read_back_from_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp-endpoint.json");
        let settings = McpSettings {
            enabled: true,
            port: Some(9000),
            read_only: true,
        };
        let (endpoint, _) = endpoint();
        let endpoint = McpEndpoint::new(None, Some(path.clone()), None, endpoint.notify.clone());
        endpoint.save(settings);
        assert_eq!(read_settings(&path), Some(settings));
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(
            read_settings(&path),
            None,
            "unreadable settings fall back to defaults"
        );
    }
}

//! The rollout tools through a real rmcp client against the simulator (its clock frozen and
//! moved by the test), with the rollout driven beside the server as the app or `rmm rollout
//! run` would: an agent plans, cannot start a plan under another digest, starts it with
//! `confirm` or the user's answer to an elicitation, is refused a promote outside the
//! envelope with the limit named, promotes inside it, and is stopped by the kill switch.
//! Read-only mode lists only the reading rollout tools.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt as _};
use rmm_api::{ApiClient, ApiConfig, BearerToken, SecretString, StaticToken, TokenSource};
use rmm_core::rollout::{AgentPolicy, RolloutEngine, RolloutState, RolloutStore};
use rmm_core::{AuditLog, FleetOperations, OperationSettings};
use rmm_mcp::{RmmMcpServer, RolloutAccess, ServerOptions};
use rmm_sim::{Sim, SimConfig};
use serde_json::{Value, json};

struct Setup {
    sim: Arc<Sim>,
    ops: FleetOperations,
    policy: Arc<Mutex<AgentPolicy>>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let sim = Arc::new(
        rmm_sim::start(SimConfig {
            devices: 120,
            failure_share: 0.0,
            clock_speed: 0.0,
            seed: 11,
            ..SimConfig::default()
        })
        .await
        .unwrap(),
    );
    let tokens: Arc<dyn TokenSource> = Arc::new(StaticToken::new(
        BearerToken::new(sim.valid_token()).unwrap(),
    ));
    let config = ApiConfig::new(
        &sim.info().api_base_url,
        SecretString::from(sim.info().subscription_key.clone()),
        "+00:00",
    )
    .unwrap();
    let client = ApiClient::new(config, tokens.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(&dir.path().join("audit.sqlite")).unwrap();
    let s = sim.clone();
    let ops = FleetOperations::new(
        client,
        tokens,
        Arc::new(audit),
        OperationSettings::default(),
    )
    .with_clock(Arc::new(move || s.now_ms()));
    Setup {
        sim,
        ops,
        policy: Arc::new(Mutex::new(AgentPolicy::default())),
        _dir: dir,
    }
}

/// A client that says whether it supports elicitation and answers it with a fixed choice;
/// it keeps the question it was asked.
#[derive(Clone)]
struct Agent {
    elicitation: Option<bool>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Agent {
    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.elicitation.is_some() {
            ClientCapabilities::builder().enable_elicitation().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("rollout-agent", "1.0"))
            .with_protocol_version(ProtocolVersion::V_2025_06_18)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _ctx: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        Ok(if self.elicitation == Some(true) {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true}))
        } else {
            ElicitResult::new(ElicitationAction::Decline)
        })
    }
}

async fn connect(s: &Setup, read_only: bool, agent: Agent) -> RunningService<RoleClient, Agent> {
    let policy = s.policy.clone();
    let access = RolloutAccess::with_policy(Arc::new(move || Ok(policy.lock().unwrap().clone())));
    let server =
        RmmMcpServer::new(s.ops.clone(), ServerOptions { read_only }).with_rollouts(access);
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    agent.serve(client_io).await.unwrap()
}

fn plain() -> Agent {
    Agent {
        elicitation: None,
        asked: Arc::default(),
    }
}

async fn call(
    client: &RunningService<RoleClient, Agent>,
    name: &str,
    args: Value,
) -> CallToolResult {
    client
        .call_tool(
            CallToolRequestParams::new(name.to_owned())
                .with_arguments(args.as_object().cloned().unwrap()),
        )
        .await
        .unwrap()
}

fn ok(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{result:?}");
    result.structured_content.clone().unwrap()
}

fn error_body(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    serde_json::from_str(&result.content[0].as_text().unwrap().text).unwrap()
}

fn plan() -> Value {
    json!({
        "name": "agent rollout",
        "canary": {"count": 5, "soak_minutes": 10},
        "waves": [{"count": 12, "soak_minutes": 10}, {"percent": 100.0, "soak_minutes": 10}],
        "gates": {"pause_after_each_wave": true, "success_share": 0.5, "failure_share": 0.9},
        "execution": {"retries": 0}
    })
}

/// Drives rollout `id` (as the app or `rmm rollout run` would) until it stops running.
async fn drive(s: &Setup, id: i64) -> RolloutState {
    let store = RolloutStore::beside(s.ops.audit_log().path()).unwrap();
    let clock = s.ops.clock();
    let engine = RolloutEngine::new(s.ops.clone(), Arc::new(store), clock, "test runner");
    for _ in 0..500 {
        let report = engine.tick(id).await.unwrap();
        if report.state != RolloutState::Running {
            engine.release(id).unwrap();
            return report.state;
        }
        let wait = (report.next_due_ms - s.sim.now_ms()).max(0) / 1000;
        s.sim.advance_clock(wait + 1);
    }
    panic!("rollout {id} did not settle");
}

#[tokio::test]
async fn an_agent_plans_starts_with_the_approved_digest_and_promotes_only_inside_the_envelope() {
    let s = setup().await;
    let client = connect(&s, false, plain()).await;

    let planned = ok(&call(&client, "plan_rollout", json!({"plan": plan()})).await);
    let digest = planned["preview"]["digest"].as_str().unwrap().to_owned();
    assert!(planned["preview"]["total_devices"].as_u64().unwrap() > 17);
    assert_eq!(planned["envelope"]["within"], false);
    assert_eq!(planned["envelope"]["limits_hit"][0]["limit"], "qualified");
    assert!(planned["next_step"].as_str().unwrap().contains(&digest));

    // Another digest starts nothing: the answer is the plan's own preview.
    let other = call(
        &client,
        "start_rollout",
        json!({"plan": plan(), "digest": "0123456789abcdef", "confirm": true}),
    )
    .await;
    assert_eq!(other.is_error, Some(true));
    let other = other.structured_content.unwrap();
    assert_eq!(other["status"], "preview_changed");
    assert_eq!(other["preview"]["digest"], digest.as_str());
    // Without confirm (and no elicitation): the preview, nothing started.
    let asked = ok(&call(
        &client,
        "start_rollout",
        json!({"plan": plan(), "digest": digest}),
    )
    .await);
    assert_eq!(asked["status"], "preview");
    let list = ok(&call(&client, "list_rollouts", json!({})).await);
    assert_eq!(list["rollouts"], json!([]));
    assert!(s.sim.reservation_log().is_empty());

    let started = ok(&call(
        &client,
        "start_rollout",
        json!({"plan": plan(), "digest": digest, "confirm": true}),
    )
    .await);
    assert_eq!(started["status"], "started");
    let id = started["rollout_id"].as_i64().unwrap();
    assert!(
        started["next_step"]
            .as_str()
            .unwrap()
            .contains("rmm rollout run")
    );
    let list = ok(&call(&client, "list_rollouts", json!({})).await);
    assert_eq!(list["rollouts"][0]["id"], id);
    assert_eq!(list["rollouts"][0]["started_by"]["kind"], "mcp_client");
    assert_eq!(
        list["rollouts"][0]["started_by"]["name"],
        "rollout-agent 1.0"
    );

    assert_eq!(drive(&s, id).await, RolloutState::Paused);
    let status = ok(&call(&client, "rollout_status", json!({"rollout_id": id})).await);
    assert_eq!(status["rollout"]["state"], "paused");
    assert!(status["waves"][0]["gate"]["verified"].as_u64().unwrap() >= 3);
    let reserved = s.sim.reservation_log().len();

    // Outside the envelope: refused, the limit named, nothing changed.
    let refused = error_body(&call(&client, "promote_rollout", json!({"rollout_id": id})).await);
    assert_eq!(refused["error"], "outside_envelope");
    assert_eq!(refused["limits"][0]["limit"], "qualified");
    assert!(
        refused["message"].as_str().unwrap().contains("qualified"),
        "{refused}"
    );
    {
        let mut policy = s.policy.lock().unwrap();
        for t in planned["preview"]["targets"].as_array().unwrap() {
            policy.qualify(t["model"].as_str().unwrap(), t["file_id"].as_str().unwrap());
        }
        policy.largest_wave = 4;
    }
    let refused = error_body(&call(&client, "promote_rollout", json!({"rollout_id": id})).await);
    assert_eq!(refused["limits"].as_array().unwrap().len(), 1, "{refused}");
    assert_eq!(refused["limits"][0]["limit"], "largest_wave");
    assert!(
        refused["limits"][0]["message"]
            .as_str()
            .unwrap()
            .contains("12 devices"),
        "{refused}"
    );
    let status = ok(&call(&client, "rollout_status", json!({"rollout_id": id})).await);
    assert_eq!(status["rollout"]["state"], "paused");
    assert_eq!(s.sim.reservation_log().len(), reserved);

    // Inside it: taken for the agent, without a new approval.
    s.policy.lock().unwrap().largest_wave = 20;
    let promoted = ok(&call(&client, "promote_rollout", json!({"rollout_id": id})).await);
    assert_eq!(promoted["action"], "promote");
    assert_eq!(promoted["devices"], 12);
    assert_eq!(promoted["status"]["rollout"]["state"], "running");
    assert_eq!(drive(&s, id).await, RolloutState::Paused);
    assert!(s.sim.reservation_log().len() >= reserved + 12);

    // The kill switch: no step alone, pausing is still allowed.
    s.policy.lock().unwrap().agents_stopped = true;
    let refused = error_body(&call(&client, "promote_rollout", json!({"rollout_id": id})).await);
    assert_eq!(refused["limits"][0]["limit"], "agents_stopped");
    let aborted = ok(&call(&client, "abort_rollout", json!({"rollout_id": id})).await);
    assert_eq!(aborted["action"], "abort");
    assert_eq!(aborted["status"]["rollout"]["state"], "aborted");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_user_answers_the_start_question_which_shows_waves_envelope_and_digest() {
    let s = setup().await;
    let yes = Agent {
        elicitation: Some(true),
        asked: Arc::default(),
    };
    let client = connect(&s, false, yes.clone()).await;
    let planned = ok(&call(&client, "plan_rollout", json!({"plan": plan()})).await);
    let digest = planned["preview"]["digest"].as_str().unwrap().to_owned();
    let started = ok(&call(
        &client,
        "start_rollout",
        json!({"plan": plan(), "digest": digest}),
    )
    .await);
    assert_eq!(started["status"], "started");
    let question = yes.asked.lock().unwrap()[0].clone();
    let canary = planned["preview"]["waves"][0]["devices"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        question.contains(&format!("canary: {canary} devices")),
        "{question}"
    );
    assert!(question.contains("wave 1: 12 devices"), "{question}");
    assert!(
        question.contains("outside the agents' envelope (qualified)"),
        "{question}"
    );
    assert!(question.contains(&digest), "{question}");
    client.cancel().await.unwrap();

    let no = Agent {
        elicitation: Some(false),
        asked: Arc::default(),
    };
    let client = connect(&s, false, no).await;
    let mut second = plan();
    second["name"] = json!("second");
    let planned = ok(&call(&client, "plan_rollout", json!({"plan": second})).await);
    let digest = planned["preview"]["digest"].as_str().unwrap().to_owned();
    let declined = ok(&call(
        &client,
        "start_rollout",
        json!({"plan": second, "digest": digest}),
    )
    .await);
    assert_eq!(declined["status"], "declined");
    let list = ok(&call(&client, "list_rollouts", json!({})).await);
    assert_eq!(list["rollouts"].as_array().unwrap().len(), 1);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_rollout_arguments_come_back_as_one_error_with_every_problem() {
    let s = setup().await;
    let client = connect(&s, false, plain()).await;
    let bad = error_body(
        &call(
            &client,
            "rollout_status",
            json!({"rollout_id": "seven", "verbose": true}),
        )
        .await,
    );
    let message = bad["message"].as_str().unwrap();
    assert!(message.contains("rollout_id"), "{message}");
    assert!(message.contains("verbose"), "{message}");
    let bad = error_body(
        &call(
            &client,
            "plan_rollout",
            json!({"plan": {"name": "x", "canary": {"count": "many"}}}),
        )
        .await,
    );
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("plan.canary.count"),
        "{bad}"
    );
    let bad = error_body(
        &call(
            &client,
            "plan_rollout",
            json!({"plan": {"name": "", "gates": {"success_share": 2.0}}}),
        )
        .await,
    );
    let fields: Vec<&str> = bad["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"plan.name"), "{bad}");
    assert!(fields.contains(&"plan.gates.success_share"), "{bad}");
    let missing = error_body(&call(&client, "rollout_status", json!({"rollout_id": 99})).await);
    assert_eq!(missing["error"], "not_found");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("list_rollouts")
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn read_only_lists_only_the_reading_rollout_tools() {
    let s = setup().await;
    let client = connect(&s, true, plain()).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for name in ["plan_rollout", "rollout_status", "list_rollouts"] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    for name in [
        "start_rollout",
        "promote_rollout",
        "abort_rollout",
        "retry_failed",
    ] {
        assert!(!names.contains(&name), "{name}: {names:?}");
    }
    let refused = error_body(
        &call(
            &client,
            "start_rollout",
            json!({"plan": plan(), "digest": "x", "confirm": true}),
        )
        .await,
    );
    assert!(
        refused["message"].as_str().unwrap().contains("read-only"),
        "{refused}"
    );
    client.cancel().await.unwrap();
}

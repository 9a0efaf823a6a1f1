//! `EndpointHost`: what an app hosting the MCP endpoint (the desktop app) plugs into it — a
//! person who approves each change an agent asks for, and an activity list that sees each
//! session and call. Without a host, changes are confirmed by elicitation or `confirm: true`.

use futures::future::BoxFuture;
use rmm_core::rollout::RolloutPlanAnswer;
use rmm_core::{Caller, ChangePreview};

/// The person's answer to an agent's change request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// Carry out exactly the previewed change.
    Approved,
    /// The person said no.
    Refused,
    /// Nobody could be asked (the app is closing, the question timed out): nothing is done.
    Unanswered(String),
}

/// One tool call, as the activity list shows it (never an argument's secret: the endpoint has
/// none to give, and the summary is the tool result's first line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSeen {
    pub caller: Caller,
    pub tool: String,
    /// Whether the result was a success (not `isError`).
    pub ok: bool,
    /// One line: what came back.
    pub summary: String,
}

/// The app around the endpoint. Methods must return quickly; `approve` resolves when the
/// person answers.
pub trait EndpointHost: Send + Sync + 'static {
    /// Asks the person to approve `preview`, which `caller` asked for.
    fn approve(&self, caller: Caller, preview: ChangePreview) -> BoxFuture<'static, Approval>;
    /// Asks the person to approve starting the rollout `plan` shows (its waves, the envelope
    /// it falls under, the digest it binds to), which `caller` asked for. A host that cannot
    /// show a rollout leaves it unanswered: nothing starts.
    fn approve_rollout(
        &self,
        caller: Caller,
        plan: RolloutPlanAnswer,
    ) -> BoxFuture<'static, Approval> {
        let _ = (caller, plan);
        Box::pin(async {
            Approval::Unanswered("this app cannot show a rollout for approval".to_owned())
        })
    }
    /// An agent finished initializing a session over `transport` (`http`, `socket`, `stdio`).
    fn session_started(&self, caller: Caller, transport: &'static str);
    /// An agent's call ended.
    fn call_seen(&self, call: CallSeen);
}

//! Where the active profile's autonomy envelope is kept: a settings-file profile's in that
//! file (shared with `rmm policy` and the CLI's MCP server), the demo's in memory for as long
//! as the demo simulator runs (the demo is in no settings file).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rmm_core::rollout::AgentPolicy;

use crate::command_error::{CommandError, ErrorCode};

#[derive(Clone)]
pub enum AgentPolicyHome {
    Settings { path: PathBuf, profile: String },
    Demo(Arc<Mutex<AgentPolicy>>),
}

impl AgentPolicyHome {
    pub fn get(&self) -> Result<AgentPolicy, CommandError> {
        match self {
            Self::Settings { path, profile } => {
                Ok(rmm_core::settings::agent_policy(path, profile)?)
            }
            Self::Demo(policy) => policy
                .lock()
                .map(|p| p.clone())
                .map_err(|_| CommandError::new(ErrorCode::Internal, "the demo's policy is lost")),
        }
    }

    /// Saves `policy` after checking every rule (all problems at once, by field).
    pub fn set(&self, policy: &AgentPolicy) -> Result<(), CommandError> {
        let problems = policy.validate();
        if !problems.is_empty() {
            return Err(CommandError::from(rmm_core::OperationError::Invalid(
                problems,
            )));
        }
        match self {
            Self::Settings { path, profile } => {
                Ok(rmm_core::settings::set_agent_policy(path, profile, policy)?)
            }
            Self::Demo(slot) => {
                let mut slot = slot.lock().map_err(|_| {
                    CommandError::new(ErrorCode::Internal, "the demo's policy is lost")
                })?;
                *slot = policy.clone();
                Ok(())
            }
        }
    }

    /// Saves `policy` and gives it back as kept (what a form shows after saving).
    pub fn replace(&self, policy: &AgentPolicy) -> Result<AgentPolicy, CommandError> {
        self.set(policy)?;
        self.get()
    }

    /// The envelope as rmm-mcp's servers read it, at each agent step.
    pub fn source(&self) -> rmm_mcp::PolicySource {
        let home = self.clone();
        Arc::new(move || home.get().map_err(|e| e.message))
    }
}

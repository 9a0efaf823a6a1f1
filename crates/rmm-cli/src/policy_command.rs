//! `rmm policy show|set|qualify|unqualify|stop-agents|allow-agents`: the autonomy envelope of
//! the profile, the limits inside which an agent may take an approved rollout's later steps
//! alone. It lives in the settings file (`[profiles.<name>.agent_policy]`); the rules are
//! `rmm_core::rollout::AgentPolicy`'s, the checks of a qualification
//! `rmm_core::rollout::qualification_problems`.

use std::sync::Arc;

use clap::{Args, Subcommand};
use rmm_core::rollout::{AgentPolicy, RolloutEngine, RolloutStore, qualify_staged};
use rmm_core::settings::{SettingsFile, agent_policy, set_agent_policy};

use crate::auth_commands::StoreArgs;
use crate::fleet_connection::{cli_user, connect, failure, resolve};
use crate::problem_words::Command as Words;
use crate::{Failure, GlobalArgs};

/// `rmm policy ...`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
    /// JSON on stdout, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// The profile's limits for agents.
    Show,
    /// Change limits (the others stay as they are).
    Set(SetArgs),
    /// Let agents roll out a staged file to a model.
    Qualify(QualifyArgs),
    /// Take a file's qualification for a model back.
    Unqualify(QualifyArgs),
    /// The kill switch: pause every rollout an agent started, and let agents take no step.
    StopAgents,
    /// Turn the kill switch off again (paused rollouts stay paused).
    AllowAgents,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Most devices rollouts may reserve in 24 hours when an agent takes a step.
    #[arg(long, value_name = "N")]
    pub devices_per_day: Option<u32>,
    /// The largest wave an agent may start.
    #[arg(long, value_name = "N")]
    pub largest_wave: Option<u32>,
    /// Hours in which agents may act, `start-end` in the profile's time zone (repeat; replaces).
    #[arg(long = "hours", value_name = "START-END")]
    pub hours: Vec<String>,
    /// Agents may act at any hour.
    #[arg(long, conflicts_with = "hours")]
    pub any_hour: bool,
    /// A date (YYYY-MM-DD) on which agents may not act (repeat; replaces).
    #[arg(long = "blackout", value_name = "DATE")]
    pub blackouts: Vec<String>,
    /// No blackout dates.
    #[arg(long, conflicts_with = "blackouts")]
    pub no_blackouts: bool,
    /// Above this share (0-1) of finished devices failing, agents may not resume or promote.
    #[arg(long, value_name = "SHARE")]
    pub max_failure_share: Option<f64>,
}

#[derive(Debug, Args)]
pub struct QualifyArgs {
    /// The model, e.g. MX-3071.
    #[arg(long)]
    pub model: String,
    /// The staged file's id (see `rmm firmware`).
    #[arg(long = "file", value_name = "FILE_ID")]
    pub file_id: String,
}

pub async fn run(args: PolicyArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let path = SettingsFile::default_path().map_err(|e| Failure::Local(e.to_string()))?;
    let profile = resolve(global, &args.store)?.profile.name;
    let mut policy = agent_policy(&path, &profile).map_err(|e| Failure::BadInput(e.to_string()))?;
    match args.command {
        PolicyCommand::Show => return show(&profile, &policy, args.json),
        PolicyCommand::Set(set) => {
            if let Some(n) = set.devices_per_day {
                policy.devices_per_day = n;
            }
            if let Some(n) = set.largest_wave {
                policy.largest_wave = n;
            }
            if set.any_hour {
                policy.hours.clear();
            } else if !set.hours.is_empty() {
                policy.hours = set.hours;
            }
            if set.no_blackouts {
                policy.blackout_dates.clear();
            } else if !set.blackouts.is_empty() {
                policy.blackout_dates = set.blackouts;
            }
            if let Some(s) = set.max_failure_share {
                policy.max_failure_share = s;
            }
        }
        PolicyCommand::Qualify(q) => {
            let connection = connect(global, &args.store).await?;
            match qualify_staged(&connection.operations, &mut policy, &q.model, &q.file_id).await {
                Ok(()) => {}
                Err(rmm_core::OperationError::Invalid(problems)) => {
                    return Err(Failure::BadInput(Words::Policy.render(&problems)));
                }
                Err(e) => return Err(failure(e)),
            }
        }
        PolicyCommand::Unqualify(q) => {
            if !policy.unqualify(&q.model, &q.file_id) {
                return Err(Failure::BadInput(format!(
                    "--file {}: is not qualified for {} (see `rmm policy show`)",
                    q.file_id, q.model
                )));
            }
        }
        PolicyCommand::StopAgents => {
            policy.agents_stopped = true;
            save(&path, &profile, &policy)?;
            let connection = connect(global, &args.store).await?;
            let ops = connection.operations;
            let store = RolloutStore::beside(ops.audit_log().path())
                .map_err(|e| Failure::Local(e.to_string()))?;
            let engine =
                RolloutEngine::new(ops.clone(), Arc::new(store), ops.clock(), "rmm policy");
            let paused = engine
                .pause_agent_rollouts(&cli_user())
                .map_err(|e| Failure::Local(e.to_string()))?;
            if args.json {
                let text = serde_json::json!({"agents_stopped": true, "paused_rollouts": paused});
                out!("{text}");
            } else {
                out!(
                    "Agents stopped: they may take no rollout step until `rmm policy allow-agents`. Paused {} rollout(s) agents started{}.",
                    paused.len(),
                    if paused.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ": {}",
                            paused
                                .iter()
                                .map(i64::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                );
            }
            return Ok(());
        }
        PolicyCommand::AllowAgents => policy.agents_stopped = false,
    }
    save(&path, &profile, &policy)?;
    show(&profile, &policy, args.json)
}

fn save(path: &std::path::Path, profile: &str, policy: &AgentPolicy) -> Result<(), Failure> {
    let problems = policy.validate();
    if !problems.is_empty() {
        return Err(Failure::BadInput(Words::Policy.render(&problems)));
    }
    set_agent_policy(path, profile, policy).map_err(|e| Failure::BadInput(e.to_string()))
}

fn show(profile: &str, policy: &AgentPolicy, json: bool) -> Result<(), Failure> {
    if json {
        let text =
            serde_json::to_string_pretty(policy).map_err(|e| Failure::Local(e.to_string()))?;
        out!("{text}");
        return Ok(());
    }
    out!("Agents' limits for profile {profile}:");
    out!(
        "  kill switch        {}",
        if policy.agents_stopped {
            "ON: agents may take no rollout step"
        } else {
            "off"
        }
    );
    out!("  devices per day    {}", policy.devices_per_day);
    out!("  largest wave       {}", policy.largest_wave);
    out!(
        "  hours              {}",
        if policy.hours.is_empty() {
            "any time".to_owned()
        } else {
            policy.hours.join(", ")
        }
    );
    out!(
        "  blackout dates     {}",
        if policy.blackout_dates.is_empty() {
            "none".to_owned()
        } else {
            policy.blackout_dates.join(", ")
        }
    );
    out!(
        "  max failure share  {:.0}%",
        100.0 * policy.max_failure_share
    );
    if policy.qualified.is_empty() {
        out!(
            "  qualified firmware none: agents take no step alone (`rmm policy qualify --model M --file ID`)"
        );
    }
    for q in &policy.qualified {
        out!("  qualified          {} for {}", q.file_id, q.model);
    }
    Ok(())
}

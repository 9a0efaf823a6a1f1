//! The `rmm` command: a terminal face over the Sharp RMM tools, and the host of `rmm sim`.
//!
//! Each subcommand lives in its own module and only translates between the terminal and the
//! libraries; the rules live in the crates below.

// First: the `out!` macro is used by every module after it.
#[macro_use]
mod output;

mod auth_commands;
mod fleet_commands;
mod fleet_connection;
mod logging;
mod mcp_command;
mod policy_command;
mod problem_words;
mod rollout_commands;
mod sim_command;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

// `rmm mcp` serves many agents at once; glibc's malloc was a third of each call's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Keep a fleet of Sharp multi-function printers on the right firmware.
#[derive(Debug, Parser)]
#[command(name = "rmm", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// More detail on stderr: -v for debug, -vv for trace (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The named profile to use (see `rmm sim --profile`).
    #[arg(long, global = true, env = "RMM_PROFILE")]
    pub profile: Option<String>,
    /// Read the old tool's variables from this `.env` file (no `.env` is read unless named here
    /// or by `env_file` in the settings file).
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a simulator of the Sharp cloud on loopback (login, identity provider, dashboard, API).
    Sim(sim_command::SimArgs),
    #[command(flatten)]
    Auth(auth_commands::AuthCommand),
    #[command(flatten)]
    Fleet(fleet_commands::FleetCommand),
    /// Phased firmware rollouts: plan, start, run, status, pause, resume, promote, abort, retry, history.
    Rollout(Box<rollout_commands::RolloutArgs>),
    /// What agents may do alone with rollouts: show, set, qualify firmware, stop-agents (the kill switch).
    Policy(policy_command::PolicyArgs),
    /// Serve the MCP endpoint for agents: --stdio, or --http 127.0.0.1:PORT (--print-config for a client configuration).
    Mcp(mcp_command::McpArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.global.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rmm: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Sim(args) => sim_command::run(args, &cli.global).await,
            Command::Auth(cmd) => auth_commands::run(cmd, &cli.global).await,
            Command::Fleet(cmd) => fleet_commands::run(cmd, &cli.global).await,
            Command::Mcp(args) => mcp_command::run(args, &cli.global).await,
            Command::Rollout(args) => rollout_commands::run(*args, &cli.global).await,
            Command::Policy(args) => policy_command::run(args, &cli.global).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("rmm: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Why a command failed, sorted by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The user's input was wrong: fix the flags.
    #[error("{0}")]
    BadInput(String),
    /// Something on this machine failed (ports, files, the keyring, ...).
    #[error("{0}")]
    Local(String),
    /// No usable sign-in, or the cloud refused the credentials: sign in again.
    #[error("{0}")]
    Auth(String),
    /// The cloud understood the request and refused it.
    #[error("{0}")]
    CloudRefused(String),
    /// The cloud could not be reached or failed.
    #[error("{0}")]
    Cloud(String),
    /// A change was not carried out: not confirmed, or the devices changed since the preview.
    #[error("{0}")]
    NotDone(String),
    /// A rollout is paused (by a gate or a person).
    #[error("{0}")]
    Paused(String),
    /// A rollout finished, and some devices failed.
    #[error("{0}")]
    FinishedWithFailures(String),
}

impl Failure {
    /// Exit codes tell failures apart for scripts: 2 bad input, 3 sign-in needed or refused,
    /// 4 refused by the cloud, 5 cloud unreachable or failing, 6 change not carried out,
    /// 7 rollout paused, 8 rollout finished with failures, 1 anything local.
    fn exit_code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => 2,
            Failure::Local(_) => 1,
            Failure::Auth(_) => 3,
            Failure::CloudRefused(_) => 4,
            Failure::Cloud(_) => 5,
            Failure::NotDone(_) => 6,
            Failure::Paused(_) => 7,
            Failure::FinishedWithFailures(_) => 8,
        }
    }
}

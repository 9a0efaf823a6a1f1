//! Runs a simulator until Ctrl-C and prints its connection details as one JSON line
//! (`cargo run -p rmm-sim --example serve -- [devices] [seed]`), for trying it by hand.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let devices = args.next().map(|a| a.parse()).transpose()?.unwrap_or(250);
    let seed = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
    let sim = rmm_sim::start(rmm_sim::SimConfig {
        devices,
        seed,
        ..rmm_sim::SimConfig::default()
    })
    .await?;
    println!("{}", serde_json::to_string(sim.info())?);
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

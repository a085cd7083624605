//! Starts the sandbox and prints its sites, crawl sources and ground-truth counts; with
//! `--serve` keeps serving until Ctrl-C, with `--json` prints the ground truth as JSON.
//!
//! `cargo run -p scamsweep-sandbox --example sandbox -- --serve`

use scamsweep_sandbox::{Sandbox, content_errors};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sb = Sandbox::start().await?;
    let truth = sb.ground_truth();
    if args.iter().any(|a| a == "--json") {
        println!(
            "{}",
            serde_json::to_string_pretty(&truth).unwrap_or_default()
        );
        return Ok(());
    }
    for e in content_errors() {
        eprintln!("content problem: {e}");
    }
    println!("sites:");
    for (name, addr) in &sb.sites {
        println!("  {name:<14} http://{addr}/");
    }
    println!("sources:");
    for s in sb.demo_sources() {
        println!(
            "  {:<24} {:<12} depth {} seeds {}",
            s.name,
            s.kind,
            s.max_depth,
            s.seeds.len()
        );
    }
    println!("ground truth ({} documents):", truth.docs.len());
    for ((kind, label), n) in truth.counts() {
        println!("  {kind:<18} {label:<18} {n}");
    }
    println!("hostile endpoints: {}", truth.hostile.len());
    if args.iter().any(|a| a == "--serve") {
        println!("serving; Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
    }
    Ok(())
}

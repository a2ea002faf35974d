//! The `quanze` binary: sets up logging and TLS, parses the command line, runs it.

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quanze_node::tls::install_crypto_provider();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("QUANZE_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = quanze_node::cli::Cli::parse();
    match quanze_node::run_cli(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! The `quanze` node: HTTPS API, CLI commands and the node runtime.
//!
//! **Architecture invariant:** this crate is the only one that does network or file I/O besides
//! the store's database access. It calls the domain rules, the ledger and the store; it never
//! re-implements a rule, signs outside `state::Node::write`, or writes SQL.

pub mod api;
pub mod audit_report;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod client;
pub mod clock;
pub mod commands;
pub mod config;
pub mod connections;
pub mod console;
pub mod federation;
pub mod progress;
pub mod rss;
pub mod secrets;
pub mod server;
pub mod state;
pub mod tls;
pub mod verify_log;

use std::net::TcpListener;

use anyhow::Context;

use crate::cli::{Cli, Command, NodeArgs};

/// Runs one parsed command line.
pub async fn run_cli(cli: Cli) -> anyhow::Result<()> {
    let clock = clock::Clock::from_arg(cli.now.as_deref())?;
    if clock.is_shifted() {
        tracing::warn!(now = %clock.now(), "the node's clock is shifted by --now / QUANZE_NOW");
    }
    clock::set_process_clock(clock);
    match cli.command {
        Command::Init(args) => commands::init::run(args).await,
        Command::Serve(args) => serve(args).await,
        Command::Item(cmd) => commands::items::run(cmd).await,
        Command::Import(args) => commands::items::import(args).await,
        Command::Export(args) => commands::items::export(args).await,
        Command::Log(cmd) => commands::log::run(cmd).await,
        Command::Admin(cmd) => commands::log::admin(cmd).await,
        Command::Child(cmd) => commands::fed::child(cmd).await,
        Command::Key(cmd) => commands::fed::key(cmd).await,
        Command::Parent(cmd) => commands::fed::parent(cmd),
        Command::Status(args) => commands::fed::status(args).await,
        Command::Recover(args) => commands::init::recover(args).await,
        Command::Demo(args) => commands::demo::run(args).await,
        Command::Bench(cmd) => commands::bench::run(cmd).await,
        Command::Calendar(cmd) => commands::calendar::calendar(cmd).await,
        Command::Catalogue(cmd) => commands::recon::catalogue(cmd).await,
        Command::Recon(args) => commands::recon::recon(args).await,
        Command::Policy(cmd) => commands::calendar::policy(cmd).await,
        Command::Request(cmd) => commands::calendar::request(cmd).await,
        Command::Grant(cmd) => commands::grants::run(cmd).await,
        Command::Seal(cmd) => commands::seals::run(cmd).await,
        Command::Audit(args) => commands::audit::run(args).await,
        Command::User(cmd) => commands::users::run(cmd).await,
        Command::Backup(args) => commands::backup::backup(args).await,
        Command::Restore(args) => commands::backup::restore(args).await,
        Command::Tls(cmd) => commands::tls::run(cmd),
    }
}

async fn serve(args: NodeArgs) -> anyhow::Result<()> {
    let config = commands::load_config(&args)?;
    let node = server::open_node(&config).await?;
    let listener =
        TcpListener::bind(config.listen).with_context(|| format!("无法监听 {} / cannot listen", config.listen))?;
    println!("quanze {} {} 正在 https://{} 提供服务 / serving", config.division, config.name, listener.local_addr()?);
    server::run(listener, node, &config, server::shutdown_signal()).await
}

//! `quanze calendar`, `quanze policy`, `quanze request`: working days, the node's filing
//! window, and adjustment filings.

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {}

pub async fn calendar(cmd: CalendarCommand) -> anyhow::Result<()> {
    match cmd {}
}

pub async fn policy(cmd: PolicyCommand) -> anyhow::Result<()> {
    match cmd {}
}

pub async fn request(cmd: RequestCommand) -> anyhow::Result<()> {
    match cmd {}
}

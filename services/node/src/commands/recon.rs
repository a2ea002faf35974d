//! `quanze catalogue` and `quanze recon`.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {}

#[derive(Debug, Args)]
pub struct ReconArgs {}

pub async fn catalogue(cmd: CatalogueCommand) -> anyhow::Result<()> {
    match cmd {}
}

pub async fn recon(_args: ReconArgs) -> anyhow::Result<()> {
    Ok(())
}

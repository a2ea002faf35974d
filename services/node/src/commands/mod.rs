//! What each CLI command does. Commands that change a node's list talk to the running node's
//! API (one writer per node); `init`, offline `log verify` and offline `admin rebuild` work on
//! the data directory itself.

pub mod audit;
pub mod backup;
pub mod bench;
pub mod bench_audit;
pub mod bench_backup;
pub mod bench_checkpoint;
pub mod bench_fed;
pub mod bench_grants;
pub mod bench_load;
pub mod bench_recon;
pub mod calendar;
pub mod demo;
pub mod demo_console;
pub mod fed;
pub mod grants;
pub mod init;
pub mod items;
pub mod log;
pub mod recon;
pub mod seals;
pub mod tls;
pub mod users;

use crate::cli::NodeArgs;
use crate::client::NodeClient;
use crate::config::{Config, Overrides};

/// The effective config of the node named by `args`.
pub fn load_config(args: &NodeArgs) -> anyhow::Result<Config> {
    let overrides = Overrides { listen: args.listen.clone(), database_url: args.database_url.clone() };
    Config::load(&args.data_dir, &overrides)
}

/// A client for the node named by `args`.
pub fn client(args: &NodeArgs) -> anyhow::Result<NodeClient> {
    let config = load_config(args)?;
    NodeClient::for_config(&config, args.node_url.as_deref())
}

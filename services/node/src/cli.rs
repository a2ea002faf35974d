//! Command-line definitions (clap). Parsing only: each command's behaviour is in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Quanze 权责: a federated node for power-and-responsibility lists (权责清单).
#[derive(Debug, Parser)]
#[command(name = "quanze", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Run the node's clock from this instant (RFC 3339, or a day taken as 09:00 China time)
    /// instead of the system time: to rehearse deadlines. Entries are signed with this time.
    #[arg(long, env = "QUANZE_NOW", global = true)]
    pub now: Option<String>,
}

/// Where the node lives and how to reach it; shared by most commands.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// Data directory of the node.
    #[arg(long, env = "QUANZE_DATA_DIR", default_value = "./quanze-data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL (postgres://… or a SQLite path); default: quanze.db in the data directory.
    #[arg(long, env = "QUANZE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address to listen on (serve) or to reach the node at (other commands), ip:port.
    #[arg(long, env = "QUANZE_LISTEN", global = true)]
    pub listen: Option<String>,
    /// Full URL of the node's API for client commands (default: from the config).
    #[arg(long, env = "QUANZE_NODE_URL", global = true)]
    pub node_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a node: data directory, key pair, TLS certificate, operator token, config.
    Init(InitArgs),
    /// Serve the node's HTTPS API until SIGTERM or ctrl-c.
    Serve(#[command(flatten)] NodeArgs),
    /// Items of this node's list.
    #[command(subcommand)]
    Item(ItemCommand),
    /// Import a list file (CSV, Excel .xlsx/.xls or JSON) as one signed entry; all rows or none.
    Import(ImportArgs),
    /// Export the list as CSV, Excel .xlsx or JSON.
    Export(ExportArgs),
    /// The node's signed log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Maintenance.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Children of this node: invite, revoke, resolve a fork.
    #[command(subcommand)]
    Child(ChildCommand),
    /// This node's parent: pin a new certificate or URL (after the parent lost its disk and was
    /// recovered, or moved).
    #[command(subcommand)]
    Parent(ParentCommand),
    /// This node's signing key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Federation status: parent, children, lag, outbox, errors, forks.
    Status(StatusArgs),
    /// Restore a node whose data directory was lost: re-enrol with a new invite and fetch its
    /// own log back from the parent before writing again.
    Recover(RecoverArgs),
    /// Run a four-tier federation (province, city, county, township) on this machine, SQLite.
    Demo(DemoArgs),
    /// Measure ingest throughput and memory.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Working days: due dates and the official holiday arrangements (节假日安排).
    #[command(subcommand)]
    Calendar(crate::commands::calendar::CalendarCommand),
    /// Catalogue publications (目录公布): publish a change for lower tiers, list, show.
    #[command(subcommand)]
    Catalogue(crate::commands::recon::CatalogueCommand),
    /// Reconciliation (对标调整): this node's tasks, the proposed diff, adopt / deviate /
    /// not applicable, and every descendant's status for a publication.
    Recon(crate::commands::recon::ReconArgs),
    /// This node's policy: the window for adjustment filings.
    #[command(subcommand)]
    Policy(crate::commands::calendar::PolicyCommand),
    /// Adjustment requests (调整申请) filed by departments: file, list (late ones flagged).
    #[command(subcommand)]
    Request(crate::commands::calendar::RequestCommand),
    /// Grant batches (赋权): issue, list, show, accept, revoke, extend, export.
    #[command(subcommand)]
    Grant(crate::commands::grants::GrantCommand),
    /// Special seals (专用分章): carve, deliver, activate, recall, archive, replace, check, export.
    #[command(subcommand)]
    Seal(crate::commands::seals::SealCommand),
    /// Uniformity audit (四级四同、同级一致) of a scope as of a day: scores, rule counts,
    /// findings with their evidence entries (table, json, csv or html).
    Audit(crate::commands::audit::AuditArgs),
    /// Accounts of this node's people (账户与角色): add, list, disable, API token, password.
    #[command(subcommand)]
    User(crate::commands::users::UserCommand),
    /// Write a consistent backup of this node (database snapshot and data directory files,
    /// private key included) while it keeps serving.
    Backup(crate::commands::backup::BackupArgs),
    /// Restore a backup into a new data directory (SQLite, or PostgreSQL with --database-url),
    /// re-verifying every entry.
    Restore(crate::commands::backup::RestoreArgs),
    /// This node's TLS certificate: renew it (same key pair, so children's pins keep working).
    #[command(subcommand)]
    Tls(crate::commands::tls::TlsCommand),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// province | city | county | township (or 省/市/县/乡镇). Without --join only a province
    /// (the root of trust) can be made.
    #[arg(long, required_unless_present = "join")]
    pub tier: Option<String>,
    /// Division code (GB/T 2260), e.g. 510000; must match the tier.
    #[arg(long, required_unless_present = "join")]
    pub division: Option<String>,
    /// Name of the jurisdiction, e.g. 四川省.
    #[arg(long, required_unless_present = "join")]
    pub name: Option<String>,
    /// A node of any tier outside any federation (its own root of trust): to try lists alone.
    /// It cannot join a federation later; use --join for that.
    #[arg(long, conflicts_with = "join")]
    pub standalone: bool,
    /// Join the federation with the invite printed by the parent's `quanze child invite`.
    #[arg(long, conflicts_with_all = ["tier", "division", "name"])]
    pub join: Option<String>,
    #[command(flatten)]
    pub address: AddressArgs,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// How children and clients reach a new node: its public URL and the names its certificate
/// carries.
#[derive(Debug, Clone, Default, Args)]
pub struct AddressArgs {
    /// The URL children will reach this node at (default: https://<listen>).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Extra host names or IPs for the TLS certificate (localhost and 127.0.0.1 are always in).
    #[arg(long = "san")]
    pub extra_names: Vec<String>,
}

/// Elements of an item given as flags.
#[derive(Debug, Clone, Default, Args)]
pub struct ItemFields {
    /// Item name (事项名称).
    #[arg(long)]
    pub name: Option<String>,
    /// Category (职权类别), e.g. 行政许可.
    #[arg(long)]
    pub category: Option<String>,
    /// Legal basis (设定依据), e.g. "《中华人民共和国食品安全法》第三十五条"; repeat or separate with ；
    #[arg(long)]
    pub basis: Vec<String>,
    /// Implementing body (实施主体).
    #[arg(long = "body")]
    pub implementing_body: Option<String>,
    /// Legal time limit in working days (法定办结时限).
    #[arg(long)]
    pub legal_days: Option<u32>,
    /// Promised time limit in working days (承诺办结时限).
    #[arg(long)]
    pub promised_days: Option<u32>,
    /// Responsibility items (责任事项), repeatable.
    #[arg(long = "responsibility")]
    pub responsibilities: Vec<String>,
    /// Remedies (救济途径), repeatable.
    #[arg(long = "remedy")]
    pub remedies: Vec<String>,
    /// A JSON file with the whole item (add) or the changed elements (update).
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ItemCommand {
    /// Add an item.
    Add {
        /// Item code (事项编码), e.g. XK00035000.
        #[arg(long)]
        code: Option<String>,
        #[command(flatten)]
        fields: ItemFields,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Change elements of an item.
    Update {
        code: String,
        #[command(flatten)]
        fields: ItemFields,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Cancel an item, with the reason.
    Cancel {
        code: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// List items.
    List {
        #[arg(long)]
        category: Option<String>,
        /// active | cancelled | delegated
        #[arg(long)]
        status: Option<String>,
        /// Implementing body (exact).
        #[arg(long = "body")]
        implementing_body: Option<String>,
        /// Text in the name or code.
        #[arg(long)]
        q: Option<String>,
        #[arg(long, default_value_t = 0)]
        offset: u64,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Show one item with every element.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: .csv (UTF-8, Chinese headers), .xlsx/.xls (first worksheet with the Chinese
    /// headers) or .json.
    pub file: PathBuf,
    /// csv | xlsx | xls | json (default: from the file name).
    #[arg(long)]
    pub format: Option<String>,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv | xlsx | json
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Write to this file instead of standard output (required for xlsx on a terminal).
    #[arg(long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Print entries of a log.
    Show {
        /// Origin (division code); default: this node.
        #[arg(long)]
        origin: Option<String>,
        #[arg(long, default_value_t = 0)]
        after: u64,
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Every origin this node holds with its head (seq, hash). Reads the data directory, so it
    /// works while the node runs.
    Heads {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Verify every stored entry (signature, chain, stored hash). Exit 1 on any problem.
    Verify {
        /// Read the data directory directly instead of asking the running node.
        #[arg(long)]
        offline: bool,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChildCommand {
    /// Print a one-time invite for a child (the token is on the last line).
    Invite {
        #[arg(long)]
        division: String,
        #[arg(long)]
        tier: String,
        #[arg(long)]
        name: String,
        /// Hours until the invite expires.
        #[arg(long, default_value_t = 72)]
        ttl_hours: u32,
        /// URL the child reaches this node at (default: this node's public URL).
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Revoke a child's key: its entries after --after are refused everywhere.
    Revoke {
        #[arg(long)]
        division: String,
        /// Last seq of the child's log that stays valid.
        #[arg(long)]
        after: u64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// After a restore from a backup, stop waiting for a child's confirmation that it holds
    /// nothing newer of this node's log (a child gone for good). Entries it may still hold
    /// would then fork this node's log: use only when the child cannot come back.
    Release {
        #[arg(long)]
        division: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Clear a descendant's fork by re-enrolling it (optionally with a new key).
    Resolve {
        #[arg(long)]
        division: String,
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ParentCommand {
    /// Pin the parent's new certificate (PEM file, e.g. its tls/cert.pem) and optionally a new
    /// URL. Takes effect at the next `quanze serve`.
    Repin {
        /// The parent's certificate, PEM.
        #[arg(long)]
        cert: PathBuf,
        /// The parent's URL, when it changed.
        #[arg(long)]
        url: Option<String>,
        /// The certificate's SHA-256 fingerprint (hex) as the parent's operator read it to you;
        /// checked before anything is written.
        #[arg(long)]
        fingerprint: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a new key pair; the log announces it, entries signed before stay valid.
    Rotate(#[command(flatten)] NodeArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// A new invite from the parent for this same division.
    #[arg(long = "join-again")]
    pub join_again: String,
    #[command(flatten)]
    pub address: AddressArgs,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Drop every projection and rebuild it from the entries.
    Rebuild {
        /// Work on the data directory directly (the node must be stopped).
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to put the demo's four data directories.
    #[arg(long, default_value = "./quanze-demo")]
    pub dir: PathBuf,
    /// Keep the four nodes serving after the demo until ctrl-c.
    #[arg(long)]
    pub serve: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Federation over HTTPS on loopback: county ingest from its city against the raw bound,
    /// four-tier propagation latency, bytes per op on the wire, peak RSS of each node.
    Federation {
        /// Entries in the city's log for the ingest benchmark.
        #[arg(long, default_value_t = 1000)]
        entries: usize,
        /// Ops per entry.
        #[arg(long, default_value_t = 100)]
        ops_per_entry: usize,
        /// Province entries timed to the township.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Working directory (default: a temporary one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Catalogue and reconciliation: publish → every task open and county adopt on the four-tier
    /// federation over HTTPS; the status table over many simulated descendants.
    Recon {
        /// Items of the publication (one `add` change each).
        #[arg(long, default_value_t = 5000)]
        items: usize,
        /// Simulated descendant nodes (cities + counties) for the status table.
        #[arg(long, default_value_t = 3000)]
        nodes: usize,
        /// Working directory (default: a temporary one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Grants and seals: a batch issued → listed, accepted and in the county's list on the
    /// four-tier federation over HTTPS; then validity queries against the county.
    Grants {
        /// Items of the batch.
        #[arg(long, default_value_t = 5000)]
        items: usize,
        /// Validity queries (`GET /seals/check`).
        #[arg(long, default_value_t = 100_000)]
        queries: usize,
        /// Clients asking at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Working directory (default: a temporary one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Uniformity audit over a simulated province (≈ 1.5 M items as signed entries), on SQLite
    /// or PostgreSQL: full audit time and peak memory, first and incremental cache refresh.
    Audit(crate::commands::bench_audit::AuditBenchArgs),
    /// Backup and restore time and archive size for the province `bench audit` left in --dir.
    Backup(crate::commands::bench_backup::BackupBenchArgs),
    /// Append and apply item ops as signed entries on SQLite; compare with raw bounds.
    Ingest {
        /// Number of item ops per scenario.
        #[arg(long, default_value_t = 100_000)]
        ops: usize,
        /// Run only this batch size (ops per entry) in this process; used internally.
        #[arg(long)]
        batch: Option<usize>,
        /// Run only this raw bound (sign | verify | insert | insert-items) in this process; used internally.
        #[arg(long)]
        bound: Option<String>,
        /// Working directory (default: a temporary one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Cosigned checkpoints: the cost of a checkpoint per 1 000 entries (subtree table, root,
    /// consistency proof, signatures, compare-and-set) and of an inclusion proof.
    Checkpoint(crate::commands::bench_checkpoint::CheckpointBenchArgs),
    /// The public list and the federation endpoints under concurrent HTTPS load: requests/s,
    /// p50/p99/max, errors and the node's memory per concurrency step; the highest throughput
    /// with the public list's p99 under 50 ms.
    Load {
        /// Items of the county's list.
        #[arg(long, default_value_t = 3000)]
        items: usize,
        /// Concurrent clients (connections) per step, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32,64")]
        steps: Vec<usize>,
        /// Seconds per step.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Working directory (default: a temporary one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

//! Persistence of entries and their projections, on SQLite (default) or PostgreSQL.
//!
//! **Architecture invariant:** the store only accepts `VerifiedEntry` values; an entry and the
//! projection updates it causes are written in one transaction, so the projections always equal
//! a replay of the entries (`rebuild` proves it).
//!
//! One `Store` handle with an enum of backends. Both backends run the same SQL text
//! (`queries.rs`, compiled once per backend) against their own migrations; PostgreSQL-only or
//! SQLite-only behaviour lives in `postgres.rs` / `sqlite.rs` and is limited to connecting.
//! The store applies the domain rules (`quanze_domain::apply_item_op`); it never decides them.

pub mod backup;
mod postgres;
mod sqlite;
mod types;

use std::path::Path;

use quanze_domain::{DivisionCode, PowerItem};
use quanze_ledger::{ChainHead, PublicKey, UnverifiedEntry, VerifiedEntry};

pub use types::{
    AccountRow, AttachmentRow, CatalogueRow, Delivery, Engine, EnrolmentRow, FilingRow, ForkRow, GrantEventRow,
    GrantRow, InviteRow, ItemFilter, ItemHistoryRow, ItemRow, KeyLookup, LoginRecord, NewAccount, Page, PublicationRow,
    RefreshStats, RefusalRow, RequestRow, RequestStepRow, StoreError, StoredEntry, TaskCodeRow, TaskRow,
};

/// The format marker written by the first migration; a database without it is not ours.
pub const FORMAT_MARKER: &str = "quanze-store-1";

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// A handle on one node's database. Cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

/// Calls the same function of whichever backend this store runs on.
macro_rules! on_backend {
    ($self:ident, $f:ident($($arg:expr),*)) => {
        match &$self.backend {
            Backend::Sqlite(pool) => sqlite::$f(pool, $($arg),*).await,
            Backend::Postgres(pool) => postgres::$f(pool, $($arg),*).await,
        }
    };
}

// After the macro, which it uses.
mod checkpoint_store;
pub use checkpoint_store::{CheckpointRow, CosignOutcome, ProofError};

/// Refuses to migrate a database that already holds tables but not ours (`store_meta`): the
/// migrations would otherwise add the store's tables to another application's data. A lone
/// `_sqlx_migrations` (a first open that stopped before its first migration) is not foreign.
pub(crate) fn refuse_foreign(tables: &[String]) -> Result<(), StoreError> {
    let others: Vec<&str> = tables.iter().map(String::as_str).filter(|t| *t != "_sqlx_migrations").collect();
    if others.is_empty() || others.contains(&"store_meta") {
        return Ok(());
    }
    Err(StoreError::Format(format!("数据库含有其他表 / the database holds other tables ({})", others.join(", "))))
}

impl Store {
    /// Opens `url`: `postgres://…` / `postgresql://…` for PostgreSQL; `sqlite://PATH`,
    /// `sqlite:PATH` or a plain path for SQLite.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, false).await
    }

    /// Opens an existing store for reading only (no migrations).
    pub async fn open_read_only(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, true).await
    }

    async fn open_with(url: &str, read_only: bool) -> Result<Store, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(postgres::connect(url, read_only).await?)
        } else if url.contains("://") && !url.starts_with("sqlite://") {
            return Err(StoreError::InvalidUrl(url.to_string()));
        } else {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            if path.is_empty() {
                return Err(StoreError::InvalidUrl(url.to_string()));
            }
            if read_only && !Path::new(path).exists() {
                return Err(StoreError::Format(format!("{path} 不存在 / does not exist")));
            }
            Backend::Sqlite(sqlite::connect(Path::new(path), read_only).await?)
        };
        let store = Store { backend };
        match store.format_marker().await? {
            Some(m) if m == FORMAT_MARKER => Ok(store),
            other => Err(StoreError::Format(format!("format marker {other:?}"))),
        }
    }

    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    async fn format_marker(&self) -> Result<Option<String>, StoreError> {
        on_backend!(self, format_marker())
    }

    /// The last entry stored for `origin`.
    pub async fn head(&self, origin: &DivisionCode) -> Result<Option<ChainHead>, StoreError> {
        on_backend!(self, head(origin.as_str()))
    }

    /// Every origin held, with its last entry.
    pub async fn heads(&self) -> Result<Vec<(String, ChainHead)>, StoreError> {
        on_backend!(self, heads())
    }

    /// Stores entries and applies them to the projections, all in one transaction. On any
    /// error nothing is written.
    pub async fn append(&self, entries: &[VerifiedEntry]) -> Result<(), StoreError> {
        on_backend!(self, append(entries))
    }

    /// One item of one node's list.
    pub async fn item(&self, node: &DivisionCode, code: &str) -> Result<Option<ItemRow>, StoreError> {
        on_backend!(self, item(node.as_str(), code))
    }

    /// A filtered page of one node's list, ordered by code.
    pub async fn items(&self, node: &DivisionCode, filter: &ItemFilter) -> Result<Page<ItemRow>, StoreError> {
        on_backend!(self, items(node.as_str(), filter))
    }

    /// Entries of `origin` after `after_seq`, at most `limit`.
    pub async fn entries(
        &self,
        origin: &DivisionCode,
        after_seq: u64,
        limit: u64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        on_backend!(self, entries(origin.as_str(), after_seq, limit))
    }

    /// Entries of all origins in the order they arrived, after `after_local_id`.
    pub async fn entries_in_arrival_order(
        &self,
        after_local_id: i64,
        limit: u64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        on_backend!(self, entries_in_arrival_order(after_local_id, limit))
    }

    /// Drops every projection and rebuilds it from the entries, re-verifying each with the key
    /// its origin's enrolments (or the trust root) give for its seq, else `fallback`. One
    /// transaction: on failure the old projections stay.
    pub async fn rebuild(
        &self,
        fallback: &(dyn Fn(&DivisionCode, u64) -> Option<PublicKey> + Sync),
    ) -> Result<u64, StoreError> {
        on_backend!(self, rebuild(fallback))
    }

    /// The key that signs `origin`'s entry `seq`.
    pub async fn key_for(&self, origin: &DivisionCode, seq: u64) -> Result<KeyLookup, StoreError> {
        on_backend!(self, key_for(origin.as_str(), seq))
    }

    /// Records the root of trust (once; a different root later is refused).
    pub async fn set_trust_root(&self, division: &DivisionCode, key: &PublicKey) -> Result<(), StoreError> {
        on_backend!(self, set_trust_root(division.as_str(), &key.to_hex()))
    }

    /// The root of trust: (division, public key hex).
    pub async fn trust_root(&self) -> Result<Option<(String, String)>, StoreError> {
        on_backend!(self, trust_root())
    }

    /// Delivers entries received from `peer` (see `Delivery`). Refusals are recorded as
    /// evidence; accepted entries and their projections are committed together.
    pub async fn ingest(&self, peer: &str, entries: Vec<UnverifiedEntry>) -> Result<Vec<Delivery>, StoreError> {
        on_backend!(self, ingest(peer, entries))
    }

    /// Key history, of one division or all.
    pub async fn enrolments(&self, division: Option<&DivisionCode>) -> Result<Vec<EnrolmentRow>, StoreError> {
        on_backend!(self, enrolments(division.map(DivisionCode::as_str)))
    }

    pub async fn forks(&self) -> Result<Vec<ForkRow>, StoreError> {
        on_backend!(self, forks())
    }

    /// The latest refusals, newest first.
    pub async fn refusals(&self, limit: u64) -> Result<Vec<RefusalRow>, StoreError> {
        on_backend!(self, refusals(limit))
    }

    /// Per origin, the seq the parent acknowledged.
    pub async fn push_acks(&self) -> Result<Vec<(String, u64)>, StoreError> {
        on_backend!(self, push_acks())
    }

    pub async fn set_push_ack(&self, origin: &str, seq: u64) -> Result<(), StoreError> {
        on_backend!(self, set_push_ack(origin, seq))
    }

    pub async fn add_invite(&self, token_hash: &str, row: &InviteRow) -> Result<(), StoreError> {
        on_backend!(self, add_invite(token_hash, row))
    }

    /// Marks an unused invite used and returns it.
    pub async fn take_invite(&self, token_hash: &str) -> Result<Option<InviteRow>, StoreError> {
        on_backend!(self, take_invite(token_hash))
    }

    /// The invite with this token hash, used or not.
    pub async fn invite(&self, token_hash: &str) -> Result<Option<InviteRow>, StoreError> {
        on_backend!(self, invite(token_hash))
    }

    pub async fn release_invite(&self, token_hash: &str) -> Result<(), StoreError> {
        on_backend!(self, release_invite(token_hash))
    }

    pub async fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        on_backend!(self, get_state(key))
    }

    pub async fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        on_backend!(self, set_state(key, value))
    }

    /// The working-day calendar as the root published it (empty when nothing arrived yet).
    pub async fn calendar(&self) -> Result<quanze_domain::calendar::Calendar, StoreError> {
        on_backend!(self, calendar())
    }

    /// Every publication held, by publication date (headers: no requirements list).
    pub async fn publications(&self) -> Result<Vec<PublicationRow>, StoreError> {
        on_backend!(self, publications())
    }

    /// The publication carried by entry `origin#seq`, with its requirements when `full`.
    pub async fn publication(
        &self,
        origin: &DivisionCode,
        seq: u64,
        full: bool,
    ) -> Result<Option<PublicationRow>, StoreError> {
        on_backend!(self, publication(origin.as_str(), seq, full))
    }

    /// Publications with document number `doc_no` (one, unless two publishers reused it); headers.
    pub async fn publications_by_doc_no(&self, doc_no: &str) -> Result<Vec<PublicationRow>, StoreError> {
        on_backend!(self, publications_by_doc_no(doc_no))
    }

    /// Tasks of a publication that nodes acted on (a node without a row has not acted).
    pub async fn tasks_of_publication(&self, origin: &DivisionCode, seq: u64) -> Result<Vec<TaskRow>, StoreError> {
        on_backend!(self, tasks_of_publication(origin.as_str(), seq))
    }

    /// Tasks one node acted on.
    pub async fn tasks_of_node(&self, node: &DivisionCode) -> Result<Vec<TaskRow>, StoreError> {
        on_backend!(self, tasks_of_node(node.as_str()))
    }

    /// How each code of one node's task was resolved.
    pub async fn task_codes(
        &self,
        node: &DivisionCode,
        publication: &quanze_domain::PubRef,
    ) -> Result<Vec<TaskCodeRow>, StoreError> {
        on_backend!(self, task_codes(node.as_str(), publication.origin.as_str(), publication.seq))
    }

    /// Catalogue items of the given publishers.
    pub async fn catalogue(&self, publishers: &[String]) -> Result<Vec<CatalogueRow>, StoreError> {
        on_backend!(self, catalogue(publishers))
    }

    /// The window within which `node`'s departments must file adjustments.
    pub async fn policy(&self, node: &DivisionCode) -> Result<quanze_domain::calendar::Window, StoreError> {
        on_backend!(self, policy(node.as_str()))
    }

    /// Adjustment requests filed with `node`.
    pub async fn filings(&self, node: &DivisionCode) -> Result<Vec<FilingRow>, StoreError> {
        on_backend!(self, filings(node.as_str()))
    }

    /// A node's workflow requests, newest first, optionally by status and department.
    pub async fn requests(
        &self,
        node: &DivisionCode,
        status: Option<&str>,
        department: Option<&str>,
    ) -> Result<Vec<RequestRow>, StoreError> {
        on_backend!(self, requests(node.as_str(), status, department))
    }

    /// One workflow request with its trace.
    pub async fn request(
        &self,
        node: &DivisionCode,
        id: u64,
    ) -> Result<Option<(RequestRow, Vec<RequestStepRow>)>, StoreError> {
        on_backend!(self, request(node.as_str(), id))
    }

    /// Keeps an uploaded attachment (node-local; the log cites its SHA-256).
    pub async fn put_attachment(&self, meta: &AttachmentRow, data: &[u8]) -> Result<(), StoreError> {
        on_backend!(self, put_attachment(meta, data))
    }

    /// An attachment's description and bytes.
    pub async fn attachment(&self, sha256: &str) -> Result<Option<(AttachmentRow, Vec<u8>)>, StoreError> {
        on_backend!(self, attachment(sha256))
    }

    /// Whether a published request of `node` cites the attachment.
    pub async fn attachment_published(&self, node: &DivisionCode, sha256: &str) -> Result<bool, StoreError> {
        on_backend!(self, attachment_published(node.as_str(), sha256))
    }

    /// Every version of an item of a list, with the request that published it.
    pub async fn item_history(&self, node: &DivisionCode, code: &str) -> Result<Vec<ItemHistoryRow>, StoreError> {
        on_backend!(self, item_history(node.as_str(), code))
    }

    /// Every grant batch held (headers), by issue date.
    pub async fn grants(&self) -> Result<Vec<GrantRow>, StoreError> {
        on_backend!(self, grants())
    }

    /// The batch issued by entry `grantor#seq`.
    pub async fn grant(&self, grantor: &DivisionCode, seq: u64) -> Result<Option<GrantRow>, StoreError> {
        on_backend!(self, grant(grantor.as_str(), seq))
    }

    /// Batches with this document number (one document may grant several nodes).
    pub async fn grants_by_doc_no(&self, doc_no: &str) -> Result<Vec<GrantRow>, StoreError> {
        on_backend!(self, grants_by_doc_no(doc_no))
    }

    /// The items of batch `grantor#seq`, by code.
    pub async fn grant_items(
        &self,
        grantor: &DivisionCode,
        seq: u64,
    ) -> Result<Vec<quanze_domain::GrantedItem>, StoreError> {
        on_backend!(self, grant_items(grantor.as_str(), seq))
    }

    /// Every seal held, with its lifecycle.
    pub async fn seals(&self) -> Result<Vec<quanze_domain::SealStatus>, StoreError> {
        on_backend!(self, seals())
    }

    /// Seals with this id (ids are unique per grantor node).
    pub async fn seals_by_id(&self, id: &str) -> Result<Vec<quanze_domain::SealStatus>, StoreError> {
        on_backend!(self, seals_by_id(id))
    }

    /// The granted items with `code` in the batches of `scope`, with their batch headers: what
    /// the validity verdict of a seal needs.
    pub async fn scope_candidates(
        &self,
        scope: &[quanze_domain::GrantRef],
        code: &str,
    ) -> Result<Vec<(quanze_domain::GrantHeader, quanze_domain::GrantedItem)>, StoreError> {
        on_backend!(self, scope_candidates(scope, code))
    }

    /// The recorded steps of a batch (`grant:origin#seq`) or a seal (`seal:grantor/id`).
    pub async fn grant_events(&self, subject: &str) -> Result<Vec<GrantEventRow>, StoreError> {
        on_backend!(self, grant_events(subject))
    }

    /// Every projection row as text in a fixed order, to compare two states.
    /// The facts of an audit of `scope` as of `as_of`, reconstructed from the entries of that
    /// day or before. `extra` names nodes the store may not know by name (the node itself).
    pub async fn audit_input(
        &self,
        scope: &quanze_domain::audit::Scope,
        as_of: chrono::NaiveDate,
        extra: &[quanze_domain::audit::NodeFact],
    ) -> Result<quanze_domain::audit::AuditInput, StoreError> {
        on_backend!(self, audit_input(scope, as_of, extra))
    }

    /// Fills in the SHA-256 of every entry a finding cites.
    pub async fn fill_evidence_hashes(&self, findings: &mut [quanze_domain::audit::Finding]) -> Result<(), StoreError> {
        on_backend!(self, fill_evidence_hashes(findings))
    }

    /// Brings the cached audit findings up to date with the entries held (only the partitions
    /// the new entries touch).
    pub async fn audit_refresh(&self, extra: &[quanze_domain::audit::NodeFact]) -> Result<RefreshStats, StoreError> {
        on_backend!(self, audit_refresh(extra))
    }

    /// Empties the cached audit findings: the next `audit_refresh` recomputes everything (a
    /// benchmark measures the first refresh again this way).
    pub async fn audit_forget(&self) -> Result<(), StoreError> {
        on_backend!(self, audit_forget())
    }

    /// The cached findings holding on `today` and the units checked, for the nodes `in_scope`
    /// selects (call `audit_refresh` first).
    pub async fn audit_cached(
        &self,
        in_scope: &(dyn Fn(&DivisionCode) -> bool + Sync),
        today: chrono::NaiveDate,
    ) -> Result<quanze_domain::audit::Evaluation, StoreError> {
        on_backend!(self, audit_cached(in_scope, today))
    }

    /// The nodes known on `as_of` (enrolled by then), with `extra`.
    pub async fn audit_nodes(
        &self,
        as_of: chrono::NaiveDate,
        extra: &[quanze_domain::audit::NodeFact],
    ) -> Result<Vec<quanze_domain::audit::NodeFact>, StoreError> {
        on_backend!(self, audit_nodes(as_of, extra))
    }

    pub async fn snapshot(&self) -> Result<Vec<String>, StoreError> {
        on_backend!(self, snapshot())
    }

    pub async fn count_entries(&self) -> Result<u64, StoreError> {
        on_backend!(self, count_entries())
    }

    pub async fn count_items(&self, node: &DivisionCode) -> Result<u64, StoreError> {
        on_backend!(self, count_items(node.as_str()))
    }

    /// Benchmark bound only: inserts item rows directly, bypassing entries and rules.
    pub async fn raw_insert_items_for_bench(
        &self,
        node: &DivisionCode,
        items: &mut (dyn Iterator<Item = PowerItem> + Send),
    ) -> Result<(), StoreError> {
        on_backend!(self, raw_insert_items(node.as_str(), items))
    }

    /// Benchmark bound only: the rows `append` would write for these item-adding entries (entry,
    /// items, item versions, head), inserted directly with no chain check, authority or rule.
    pub async fn raw_insert_rows_for_bench(&self, entries: &[VerifiedEntry]) -> Result<(), StoreError> {
        on_backend!(self, raw_insert_rows(entries))
    }

    // Accounts, sessions and API tokens (`account_queries.rs`): node-local state, not
    // projections; `rebuild` and `snapshot` leave them alone. Times are Unix seconds.

    /// Creates an account; `None` when the login is taken.
    pub async fn create_account(&self, new: &NewAccount) -> Result<Option<AccountRow>, StoreError> {
        on_backend!(self, create_account(new))
    }

    /// Every account, by id (no password hashes).
    pub async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        on_backend!(self, accounts())
    }

    pub async fn account_by_login(&self, login: &str) -> Result<Option<AccountRow>, StoreError> {
        on_backend!(self, account_by_login(login))
    }

    /// The account with its password hash, for a login.
    pub async fn login_record(&self, login: &str) -> Result<Option<LoginRecord>, StoreError> {
        on_backend!(self, login_record(login))
    }

    /// Counts a failed login; the `max`-th consecutive one locks the account until `lock_until`.
    /// Returns the lock when this failure set it.
    pub async fn record_login_failure(&self, id: i64, max: u32, lock_until: i64) -> Result<Option<i64>, StoreError> {
        on_backend!(self, record_login_failure(id, max, lock_until))
    }

    /// Clears the failure count and lock after a successful login.
    pub async fn record_login_success(&self, id: i64) -> Result<(), StoreError> {
        on_backend!(self, record_login_success(id))
    }

    /// Stores a session by the SHA-256 of its token (and drops expired ones).
    pub async fn create_session(
        &self,
        token_hash: &str,
        account: i64,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_backend!(self, create_session(token_hash, account, created_at, expires_at))
    }

    /// The enabled account of a session unexpired at `now`.
    pub async fn session_account(&self, token_hash: &str, now: i64) -> Result<Option<AccountRow>, StoreError> {
        on_backend!(self, session_account(token_hash, now))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        on_backend!(self, delete_session(token_hash))
    }

    /// Stores an API token by its SHA-256.
    pub async fn add_api_token(
        &self,
        token_hash: &str,
        account: i64,
        label: &str,
        created_at: i64,
    ) -> Result<(), StoreError> {
        on_backend!(self, add_api_token(token_hash, account, label, created_at))
    }

    /// The enabled account of an unrevoked API token.
    pub async fn token_account(&self, token_hash: &str) -> Result<Option<AccountRow>, StoreError> {
        on_backend!(self, token_account(token_hash))
    }

    /// Disables an account, ends its sessions and revokes its tokens; false when unknown.
    pub async fn disable_account(&self, login: &str, now: i64) -> Result<bool, StoreError> {
        on_backend!(self, disable_account(login, now))
    }

    /// New password hash; clears failures and lock, ends sessions. False when unknown.
    pub async fn set_password(&self, login: &str, password_hash: &str) -> Result<bool, StoreError> {
        on_backend!(self, set_password(login, password_hash))
    }

    /// Reads one consistent snapshot of the entries and node-local tables into `sink`, while
    /// the node may go on writing (see `backup.rs`).
    pub async fn backup_read(
        &self,
        sink: &mut (dyn FnMut(backup::BackupRecord) -> Result<(), StoreError> + Send),
    ) -> Result<backup::BackupSummary, StoreError> {
        on_backend!(self, backup_read(sink))
    }

    /// Restores a backup into this empty store in one transaction, re-verifying every entry
    /// (keys from the enrolments, the trust root, else `fallback`) and rebuilding the
    /// projections; marks the node's own log unconfirmed. On any error nothing is written.
    pub async fn restore(
        &self,
        records: &mut (dyn Iterator<Item = Result<backup::BackupRecord, StoreError>> + Send),
        fallback: &(dyn Fn(&DivisionCode, u64) -> Option<PublicKey> + Sync),
    ) -> Result<u64, StoreError> {
        on_backend!(self, restore(records, fallback))
    }

    /// Whether a restored node has yet to confirm its own log against its parent.
    pub async fn restored_unconfirmed(&self) -> Result<bool, StoreError> {
        on_backend!(self, restored_unconfirmed())
    }

    /// Clears the restored mark: the node's own log is complete.
    pub async fn confirm_restored(&self) -> Result<(), StoreError> {
        on_backend!(self, confirm_restored())
    }

    /// Closes the pool, waiting for connections to finish (checkpoints the SQLite WAL).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(p) => p.close().await,
            Backend::Postgres(p) => p.close().await,
        }
    }
}

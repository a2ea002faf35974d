//! Values the store hands out and takes in: stored entries, item rows, filters, pages, errors.

use quanze_domain::{Category, ItemStatus, PowerItem, RuleError};
use quanze_ledger::{Hash, UnverifiedEntry};
use serde::Serialize;

/// An entry as stored: position, stored hash and the unverified bytes + signature.
/// Callers verify it (`quanze_ledger::verify_next`) before they trust it.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub local_id: i64,
    pub origin: String,
    pub seq: u64,
    pub hash: Vec<u8>,
    pub entry: UnverifiedEntry,
}

impl StoredEntry {
    /// The stored hash column, if it is 32 bytes.
    pub fn stored_hash(&self) -> Option<Hash> {
        Hash::from_slice(&self.hash).ok()
    }
}

/// One item of one node's list, with the entry that last changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRow {
    pub node: String,
    #[serde(flatten)]
    pub item: PowerItem,
    pub last_seq: u64,
    pub updated_at: String,
}

/// Which items to list.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub category: Option<Category>,
    pub status: Option<ItemStatus>,
    /// Exact implementing body.
    pub implementing_body: Option<String>,
    /// Text contained in the name or the code.
    pub q: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// One page of a listing and the total number of matches.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub total: u64,
    pub offset: u64,
    pub items: Vec<T>,
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库地址无效 / invalid database URL “{0}”: use a file path, sqlite://… or postgres://…")]
    InvalidUrl(String),
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("数据库迁移失败 / migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("条目 {origin}#{seq} 已存在 / entry already stored")]
    SeqTaken { origin: String, seq: u64 },
    #[error("条目 {origin}#{seq} 不接在已存链头 #{head} 之后 / entry does not follow the stored head")]
    NotNext { origin: String, seq: u64, head: u64 },
    #[error("条目 {origin}#{seq} 第 {index} 个操作被拒绝：{error}")]
    Rule { origin: String, seq: u64, index: usize, error: RuleError },
    #[error("存储数据损坏 / stored data corrupt: {0}")]
    Corrupt(String),
    #[error("数据库不是 Quanze 数据库或版本不符 / not a Quanze store of a known format: {0}")]
    Format(String),
}

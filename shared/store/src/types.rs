//! Values the store hands out and takes in: stored entries, item rows, filters, pages, errors.

use quanze_domain::{AuthorityError, Category, ItemStatus, PowerItem, RuleError};
use quanze_ledger::{Hash, PublicKey, UnverifiedEntry};
use serde::{Deserialize, Serialize};

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

    /// The transport form, for relaying the exact stored bytes (the hash is recomputed).
    pub fn to_wire(&self) -> quanze_ledger::SignedEntryWire {
        quanze_ledger::SignedEntryWire {
            body: String::from_utf8_lossy(self.entry.bytes()).into_owned(),
            sig: hex::encode(self.entry.sig()),
            hash: self.entry.hash(),
        }
    }
}

/// One item of one node's list, with the entry that last changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemRow {
    pub node: String,
    #[serde(flatten)]
    pub item: PowerItem,
    pub last_seq: u64,
    pub updated_at: String,
    /// For a granted item (赋权承接): the batch it came from, `grantor#seq`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub total: u64,
    pub offset: u64,
    pub items: Vec<T>,
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    #[error("条目 {origin}#{seq} 第 {index} 个操作越权：{error}")]
    Authority { origin: String, seq: u64, index: usize, error: AuthorityError },
    #[error("存储数据损坏 / stored data corrupt: {0}")]
    Corrupt(String),
    #[error("数据库不是 Quanze 数据库或版本不符 / not a Quanze store of a known format: {0}")]
    Format(String),
}

impl StoreError {
    /// Whether the database could not write for lack of space: SQLite's `SQLITE_FULL` (13) or
    /// an I/O error while writing (`SQLITE_IOERR`, 10, and its extended codes — what a write
    /// beyond a file-size limit or a quota gives), PostgreSQL's `disk_full` (53100), or an
    /// operating-system `ENOSPC`/`EFBIG`/`EDQUOT`. The transaction was rolled back; nothing was
    /// half-written, and the same write succeeds once space is freed.
    pub fn is_storage_full(&self) -> bool {
        const ENOSPC: i32 = 28;
        const EFBIG: i32 = 27;
        const EDQUOT: i32 = 122;
        let StoreError::Db(e) = self else { return false };
        match e {
            sqlx::Error::Database(db) => {
                let code = db.code();
                let code = code.as_deref().unwrap_or_default();
                if code == "53100" {
                    return true;
                }
                code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 10 | 13))
            }
            sqlx::Error::Io(io) => matches!(io.raw_os_error(), Some(ENOSPC | EFBIG | EDQUOT)),
            _ => false,
        }
    }
}

/// The key that signs an origin's entry at a given seq, as the enrolments say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup {
    Key(PublicKey),
    /// The origin's key was revoked from seq `from` on.
    Revoked {
        from: u64,
    },
    /// No enrolment (yet) and not the root: the entry waits until the enrolling log arrives.
    Unknown,
}

/// What happened to one delivered entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Delivery {
    Applied {
        origin: String,
        seq: u64,
    },
    /// Already held, same bytes: applying twice is a no-op.
    Duplicate {
        origin: String,
        seq: u64,
    },
    /// A different validly signed entry for a held (origin, seq): kept as evidence, the origin
    /// is quarantined.
    Fork {
        origin: String,
        seq: u64,
    },
    /// The origin is quarantined by an unresolved fork; nothing of it is applied.
    Quarantined {
        origin: String,
        seq: u64,
    },
    Refused {
        origin: String,
        seq: u64,
        code: String,
        message: String,
    },
}

impl Delivery {
    pub fn is_refusal(&self) -> bool {
        matches!(self, Delivery::Refused { .. } | Delivery::Fork { .. } | Delivery::Quarantined { .. })
    }
}

/// One row of a division's key history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrolmentRow {
    pub division: String,
    pub valid_from: u64,
    /// `None`: revoked from `valid_from` on.
    pub public_key: Option<String>,
    pub tier: String,
    pub name: String,
    pub by_origin: String,
    pub by_seq: u64,
}

/// Fork evidence: one of two (or more) different entries for the same (origin, seq).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForkRow {
    pub origin: String,
    pub seq: u64,
    pub hash: String,
    pub detected_at: String,
    /// The resolving entry, `origin#seq`; `null` while unresolved.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub resolved_by: Option<String>,
}

/// A refused delivery, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusalRow {
    pub at: String,
    pub peer: String,
    pub origin: String,
    pub seq: u64,
    /// Stable refusal code, UPPER_SNAKE.
    pub code: String,
    pub message: String,
}

/// An invite as stored (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteRow {
    pub division: String,
    pub tier: String,
    pub name: String,
    pub expires_at: String,
    pub used_at: Option<String>,
}

/// A publication as held: its reference, header and the requirements it puts on each tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicationRow {
    #[serde(rename = "ref")]
    pub pub_ref: quanze_domain::PubRef,
    pub doc_no: String,
    pub title: String,
    pub published: chrono::NaiveDate,
    pub effective: chrono::NaiveDate,
    pub tiers: Vec<quanze_domain::Tier>,
    pub window: quanze_domain::calendar::Window,
    /// Number of changes in the publication.
    pub changes: u64,
    /// What the publication requires of each tier; empty in listings (`full: false` reads).
    #[serde(skip)]
    pub requirements: Vec<quanze_domain::Requirement>,
    /// Number of requirements per tier (always filled).
    pub required_by_tier: std::collections::BTreeMap<quanze_domain::Tier, u64>,
    /// When the publishing entry was signed.
    pub at: String,
}

/// A node's reconciliation task for a publication, once the node acted on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskRow {
    pub node: String,
    pub pub_origin: String,
    pub pub_seq: u64,
    pub required: u64,
    pub resolved: u64,
    pub deviated: u64,
    /// `open`, `adopted`, `deviated` or `not_applicable` (overdue is a matter of the day).
    pub status: String,
    pub reason: String,
    pub closed_seq: Option<u64>,
    pub closed_at: Option<String>,
}

/// How one code of a task was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskCodeRow {
    pub code: String,
    pub resolution: String,
    pub reason: String,
    pub basis: String,
    pub seq: u64,
    pub at: String,
}

/// An item of a publisher's catalogue: the item's elements, with who published it, the tiers
/// that exercise it and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueRow {
    pub publisher: String,
    #[serde(flatten)]
    pub item: PowerItem,
    pub tiers: Vec<quanze_domain::Tier>,
    /// Effective date of the publication that last changed it.
    pub effective: String,
    pub pub_seq: u64,
}

/// An adjustment request as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilingRow {
    pub node: String,
    pub seq: u64,
    #[serde(flatten)]
    pub filing: quanze_domain::Filing,
    pub filed_on: chrono::NaiveDate,
    /// The node's window when it was filed.
    pub window: quanze_domain::calendar::Window,
}

/// A grant batch as held: its header (with acceptance, revocation, extensions) and when the
/// issuing entry was signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRow {
    #[serde(flatten)]
    pub header: quanze_domain::GrantHeader,
    pub at: String,
}

/// One recorded step of a grant batch or a seal, with the entry that recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantEventRow {
    pub origin: String,
    pub seq: u64,
    /// `grant:211100#5` or `seal:211100/PJ-SCJ-SP-4`.
    pub subject: String,
    /// The op kind, e.g. `grant.accept`, `seal.recall`.
    pub action: String,
    /// The day the step took effect.
    pub day: String,
    pub detail: String,
    pub at: String,
}

/// What one refresh of the cached audit findings did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshStats {
    /// Entries read since the last refresh.
    pub entries: u64,
    /// Partitions recomputed (0 when everything was).
    pub partitions: u64,
    /// Everything was recomputed (first refresh, or an op that changes nodes, calendar or catalogue).
    pub full: bool,
}

/// An adjustment request of the workflow, as its entries have made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRow {
    pub node: String,
    /// The seq of the entry that first filed it.
    pub id: u64,
    pub revision: u32,
    pub status: quanze_domain::Status,
    /// The stage waiting for a decision (under review), else the stage that acted last.
    pub stage: quanze_domain::Stage,
    pub route: Vec<quanze_domain::Stage>,
    pub filer: quanze_domain::Actor,
    pub filed_on: chrono::NaiveDate,
    /// The node's filing window when it was first filed.
    pub window: quanze_domain::calendar::Window,
    pub proposal: quanze_domain::Proposal,
    pub last_seq: u64,
    pub published_seq: Option<u64>,
}

impl RequestRow {
    /// The request as the workflow rules see it.
    pub fn state(&self) -> quanze_domain::RequestState {
        quanze_domain::RequestState {
            id: self.id,
            revision: self.revision,
            filer: self.filer.clone(),
            proposal: self.proposal.clone(),
            route: self.route.clone(),
            at: self.route.iter().position(|s| *s == self.stage).unwrap_or(0),
            status: self.status,
        }
    }
}

/// One action in a request's trace (全程留痕).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestStepRow {
    /// The entry that recorded it.
    pub seq: u64,
    pub revision: u32,
    /// submit | resubmit | approve | return | reject
    pub action: String,
    pub stage: Option<quanze_domain::Stage>,
    pub actor: quanze_domain::Actor,
    pub comment: String,
    pub at: String,
}

/// An uploaded attachment's description (the bytes are read separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRow {
    pub sha256: String,
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub uploaded_at: String,
    pub account: String,
}

/// One version of an item in a list's history, with the request that published it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemHistoryRow {
    pub seq: u64,
    pub day: String,
    pub name: String,
    pub status: String,
    pub request: Option<u64>,
    pub request_title: Option<String>,
}

/// A local account of the node (node-local state, never in the log). The password hash is not
/// part of it: only `Store::login_record` reads that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// Shown as `u{id}`.
    pub id: i64,
    pub login: String,
    pub name: String,
    pub roles: Vec<quanze_domain::Role>,
    pub department: Option<String>,
    pub disabled: bool,
    /// Consecutive failed logins since the last success or lock.
    pub failed_logins: u32,
    /// Unix seconds; no login before then.
    pub locked_until: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

/// An account to create; `password_hash` is an argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub login: String,
    pub name: String,
    pub roles: Vec<quanze_domain::Role>,
    pub department: Option<String>,
    pub password_hash: String,
    pub created_at: i64,
}

/// What a login checks: the account and its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub account: AccountRow,
    pub password_hash: String,
}

#[cfg(test)]
mod storage_full_tests {
    use super::StoreError;

    #[test]
    fn write_failures_for_lack_of_space_are_storage_full() {
        for errno in [27, 28, 122] {
            let e = StoreError::Db(sqlx::Error::Io(std::io::Error::from_raw_os_error(errno)));
            assert!(e.is_storage_full(), "errno {errno}");
        }
    }

    #[test]
    fn other_failures_are_not_storage_full() {
        assert!(!StoreError::Db(sqlx::Error::Io(std::io::Error::from_raw_os_error(2))).is_storage_full());
        assert!(!StoreError::Db(sqlx::Error::RowNotFound).is_storage_full());
        assert!(!StoreError::Corrupt("x".into()).is_storage_full());
    }
}

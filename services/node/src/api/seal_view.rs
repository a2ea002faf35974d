//! The JSON shape of a special seal (专用分章) in listings and on its own: what `GET /seals`,
//! `GET /seals/{id}`, the answers of the seal steps and a grant's `seals` send. One struct built
//! from the store's `SealStatus` by `seal_summary`, described in `/openapi.json` from the same
//! type, so what is sent and what is documented cannot drift.
//!
//! Owns the shape and its labels only; the lifecycle and the validity verdict are the domain's.
//! Must not read the store or rename a field: the console and the tests read these names.

use chrono::NaiveDate;
use quanze_domain::DivisionCode;
use quanze_domain::grants::{GrantKind, Route, SealStatus, VerdictCode};
use quanze_store::GrantEventRow;
use serde::Serialize;
use utoipa::ToSchema;

use super::grants::ref_text;

/// A seal with its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealSummary {
    /// Unique among the grantor's seals, e.g. `PJ-SCJ-SP-4`.
    pub id: String,
    /// Full name as carved.
    pub name: String,
    pub kind: GrantKind,
    /// The serial carved in brackets: `(4)` is 4.
    pub serial: u32,
    pub issuer: String,
    pub holder: DivisionCode,
    pub holder_dept: String,
    /// The grant batches it is valid for, `grantor#seq`.
    pub scope: Vec<String>,
    pub carved: NaiveDate,
    /// 备案号; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    /// SHA-256 of the impression image; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_sha256: Option<String>,
    pub grantor: DivisionCode,
    pub kind_label: &'static str,
    /// carved, delivered, active, recalled or archived.
    pub state: &'static str,
    pub state_label: &'static str,
    /// Grantor departments whose granted items it handles.
    pub covers: Vec<String>,
    #[schema(required = true)]
    pub delivered_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub activated_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub recalled_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub archived_on: Option<NaiveDate>,
    pub recall_reason: String,
    /// The seal that replaces it; `null` when none.
    #[schema(required = true)]
    pub replaced_by: Option<String>,
    pub replaces: Vec<String>,
}

/// `GET /seals`: the seals this node may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealList {
    pub seals: Vec<SealSummary>,
}

/// `GET /seals/{id}`: the seal and every recorded step.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealDetail {
    #[serde(flatten)]
    pub seal: SealSummary,
    pub events: Vec<GrantEventRow>,
}

/// `GET /seals/check`: whether a seal may seal an item on a day, why, and the route.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealCheck {
    pub seal: SealBrief,
    /// The item code asked about.
    pub item: String,
    /// The granted item's name; `null` when no batch of the seal's scope grants it.
    #[schema(required = true)]
    pub item_name: Option<String>,
    pub date: NaiveDate,
    pub valid: bool,
    pub code: VerdictCode,
    pub reason: String,
    /// The batch the answer rests on; `null` when the item is not in the seal's scope.
    #[schema(required = true)]
    pub batch: Option<String>,
    /// How a sealed matter is finished; `null` unless valid.
    #[schema(required = true)]
    pub route: Option<Route>,
}

/// The seal a check is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealBrief {
    pub id: String,
    pub name: String,
    pub grantor: DivisionCode,
    pub issuer: String,
    pub holder: DivisionCode,
    pub holder_dept: String,
    pub kind: &'static str,
    pub state: &'static str,
    pub state_label: &'static str,
}

impl From<&SealStatus> for SealBrief {
    fn from(s: &SealStatus) -> Self {
        SealBrief {
            id: s.seal.id.clone(),
            name: s.seal.name.clone(),
            grantor: s.grantor.clone(),
            issuer: s.seal.issuer.clone(),
            holder: s.seal.holder.clone(),
            holder_dept: s.seal.holder_dept.clone(),
            kind: s.seal.kind.key(),
            state: s.state.key(),
            state_label: s.state.label(),
        }
    }
}

/// A seal with its state, for listings.
pub fn seal_summary(s: &SealStatus) -> SealSummary {
    let seal = &s.seal;
    SealSummary {
        id: seal.id.clone(),
        name: seal.name.clone(),
        kind: seal.kind,
        serial: seal.serial,
        issuer: seal.issuer.clone(),
        holder: seal.holder.clone(),
        holder_dept: seal.holder_dept.clone(),
        scope: seal.scope.iter().map(ref_text).collect(),
        carved: seal.carved,
        registration: seal.registration.clone(),
        image_sha256: seal.image_sha256.clone(),
        grantor: s.grantor.clone(),
        kind_label: seal.kind.label(),
        state: s.state.key(),
        state_label: s.state.label(),
        covers: s.covers.clone(),
        delivered_on: s.delivered_on,
        activated_on: s.activated_on,
        recalled_on: s.recalled_on,
        archived_on: s.archived_on,
        recall_reason: s.recall_reason.clone(),
        replaced_by: s.replaced_by.clone(),
        replaces: s.replaces.clone(),
    }
}

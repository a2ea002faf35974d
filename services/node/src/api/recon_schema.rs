//! The JSON answers of the catalogue and reconciliation reads (`api/recon.rs`): publications,
//! the effective catalogue and this node's tasks. One struct per answer, built by the handler
//! itself and described in `/openapi.json` from the same type, so what is sent and what is
//! documented cannot drift.
//!
//! Owns the shapes only; a task's standing and diff are computed in `recon_tasks.rs`. Must not
//! read the store or rename a field: the console and the tests read these names.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use quanze_domain::calendar::Window;
use quanze_domain::{DivisionCode, Requirement, Tier};
use quanze_store::{CatalogueRow, PublicationRow};
use serde::Serialize;
use utoipa::ToSchema;

use super::recon_tasks::{DiffLine, TaskLine};

/// A publication without its requirements: its reference, document, dates and counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationSummary {
    /// `origin#seq` of the publishing entry.
    #[serde(rename = "ref")]
    pub reference: String,
    pub publisher: DivisionCode,
    pub doc_no: String,
    pub title: String,
    pub published: NaiveDate,
    pub effective: NaiveDate,
    pub tiers: Vec<Tier>,
    pub window: Window,
    /// Number of changes in the publication.
    pub changes: u64,
    /// Number of requirements per tier.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub required_by_tier: BTreeMap<Tier, u64>,
    /// When the publishing entry was signed.
    pub at: String,
}

impl From<&PublicationRow> for PublicationSummary {
    fn from(p: &PublicationRow) -> Self {
        PublicationSummary {
            reference: super::recon::ref_text(&p.pub_ref),
            publisher: p.pub_ref.origin.clone(),
            doc_no: p.doc_no.clone(),
            title: p.title.clone(),
            published: p.published,
            effective: p.effective,
            tiers: p.tiers.clone(),
            window: p.window,
            changes: p.changes,
            required_by_tier: p.required_by_tier.clone(),
            at: p.at.clone(),
        }
    }
}

/// `GET /catalogue/publications`: every publication this node holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationList {
    pub publications: Vec<PublicationSummary>,
}

/// `GET /catalogue/publications/{reference}`: the publication with what it requires of each tier.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationDetail {
    #[serde(flatten)]
    pub summary: PublicationSummary,
    pub requirements: Vec<Requirement>,
}

/// A catalogue item and whether it is in force today.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueEntry {
    #[serde(flatten)]
    pub row: CatalogueRow,
    pub in_force: bool,
}

/// `GET /catalogue`: the catalogue items that apply to this node.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogueAnswer {
    pub division: DivisionCode,
    pub tier: Tier,
    pub total: usize,
    pub items: Vec<CatalogueEntry>,
}

/// One of this node's tasks: the publication and the task's standing.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskSummary {
    pub publication: PublicationSummary,
    pub task: TaskLine,
}

/// `GET /recon`: this node's tasks as of today.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub today: NaiveDate,
    pub tasks: Vec<TaskSummary>,
}

/// `GET /recon/{reference}`: the task with the proposed diff of this node's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    pub publication: PublicationSummary,
    pub task: TaskLine,
    pub diff: Vec<DiffLine>,
}

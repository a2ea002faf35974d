//! Pure types and rules of power-and-responsibility lists (权责清单).
//!
//! This crate does no I/O: no files, no network, no database, no clock. Everything here is a
//! function of its inputs, tested by unit and property tests. Storage (`quanze-store`) and the
//! node (`quanze-node`) call these rules; they never re-implement them.

pub mod audit;
pub mod authority;
pub mod calendar;
pub mod catalogue;
pub mod category;
pub mod codes;
pub mod division;
pub mod grants;
pub mod import;
pub mod item;
pub mod list;
pub mod ops;
pub mod recon;
pub mod requests;
pub mod sample;
pub mod sample_grants;
pub mod tier;

pub use authority::{AuthorityError, authorise};
pub use calendar::{Calendar, CalendarError, DayUnit, Holiday, HolidayYear, Window};
pub use catalogue::{CatalogueChange, CatalogueError, CatalogueItem, Expect, PubRef, Publication, Requirement};
pub use category::Category;
pub use codes::{CodeWarning, ItemCode};
pub use division::{DivisionCode, DivisionError};
pub use grants::{
    GrantBatch, GrantError, GrantHeader, GrantItem, GrantKind, GrantRef, GrantStatus, GrantedItem, Seal, SealError,
    SealState, SealStatus, Verdict, VerdictCode,
};
pub use import::{
    ImportError, ImportFormat, ParsedBatch, UnknownFormat, items_to_csv, items_to_json, items_to_xlsx,
    parse_catalogue_csv, parse_catalogue_workbook, parse_grant_csv, parse_grant_sheet, parse_grant_workbook,
    parse_items, table_to_xlsx,
};
pub use item::{Citation, Field, FieldError, FlowStep, ItemPatch, ItemStatus, PowerItem, TimeLimit};
pub use list::{RowError, RowWarning, validate_batch, validate_rows};
pub use ops::{Enrolment, Op, RuleError, apply_item_op};
pub use recon::{Progress, ReconError, Resolution, TaskStatus};
pub use requests::roles::{Actor, Role};
pub use requests::workflow::{
    Attachment, Change, Decision, Outcome, Proposal, ProposalProblem, RequestKind, RequestState, Stage, Status,
    WorkflowError,
};
pub use requests::{Filing, FilingError, Trigger};
pub use tier::Tier;

//! Calendar, policy and filing routes: the working-day calendar the node holds (published by
//! the root of trust, received through the log), due dates and workdays counted with it, the
//! node's window for adjustment filings (`node.policy`) and the filings themselves
//! (`request.file`), with their due dates and lateness.
//!
//! Owns only these handlers. Every rule (what a valid arrangement, window or filing is, how days
//! are counted, who may publish a year) belongs to `quanze_domain` and the store; the handlers
//! check input before signing so a refusal writes nothing, and every write is one entry through
//! `Node::write`. Must not touch the item, federation or reconciliation routes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use quanze_domain::calendar::{Calendar, DayUnit, HolidayYear, Window};
use quanze_domain::requests::filing_deadline;
use quanze_domain::{Filing, Op, RuleError};
use quanze_ledger::{EntryRef, VerifiedEntry};
use quanze_store::FilingRow;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams};
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(years))
        .routes(routes!(due))
        .routes(routes!(workday))
        .routes(routes!(publish_year))
        .routes(routes!(show_policy, set_policy))
        .routes(routes!(list_requests, file_request))
}

/// `{"entry": {...}}` plus the fields of `extra`.
fn written(entry: &VerifiedEntry, extra: Value) -> Value {
    let mut out = json!({ "entry": entry.entry_ref() });
    if let (Some(obj), Value::Object(more)) = (out.as_object_mut(), extra) {
        obj.extend(more);
    }
    out
}

/// A required query parameter, or 400 naming it.
fn required<'a>(value: &'a Option<String>, name: &str, example: &str) -> Result<&'a str, ApiError> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::bad_query(format!("缺少查询参数 {name}（例如 {name}={example}）/ missing parameter {name}"))
    })
}

fn parse_date(value: &str, name: &str) -> Result<NaiveDate, ApiError> {
    value.parse().map_err(|_| {
        ApiError::bad_query(format!("参数 {name} 的日期 “{value}” 无效，应为 YYYY-MM-DD / invalid date in {name}"))
    })
}

/// `GET /calendar`: every arrangement the node holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarYears {
    /// By year, oldest first.
    years: Vec<HolidayYear>,
}

/// `GET /calendar`: every arrangement the node holds, by year.
#[utoipa::path(get, path = "/calendar", tag = "calendar", responses((status = 200, description = "Every arrangement held", body = CalendarYears)))]
pub async fn years(State(node): State<Node>) -> Result<Json<CalendarYears>, ApiError> {
    let calendar = node.store().calendar().await?;
    let years = calendar.years().into_iter().filter_map(|y| calendar.year(y)).cloned().collect();
    Ok(Json(CalendarYears { years }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    from: Option<String>,
    days: Option<String>,
    unit: Option<String>,
}

/// `GET /calendar/due`: the window asked about and its last day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueAnswer {
    from: NaiveDate,
    days: u32,
    unit: DayUnit,
    /// The last day of the window.
    due: NaiveDate,
}

/// `GET /calendar/due?from=D&days=N&unit=working|calendar`: the last day of the window counted
/// from `from` (not counted itself); `unit` defaults to working days.
#[utoipa::path(get, path = "/calendar/due", tag = "calendar", params(DueQuery), responses((status = 200, description = "The last day of the window", body = DueAnswer)))]
pub async fn due(State(node): State<Node>, QueryParams(q): QueryParams<DueQuery>) -> Result<Json<DueAnswer>, ApiError> {
    let from = parse_date(required(&q.from, "from", "2025-09-28")?, "from")?;
    let days_text = required(&q.days, "days", "20")?;
    let days: u32 = days_text.parse().map_err(|_| {
        ApiError::bad_query(format!("参数 days 的值 “{days_text}” 不是非负整数 / days must be a whole number"))
    })?;
    let unit = match q.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => DayUnit::Working,
        Some(u) => u.parse::<DayUnit>().map_err(|e| ApiError::bad_query(format!("参数 unit：{e}")))?,
    };
    let calendar = node.store().calendar().await?;
    let due = calendar.due_date(from, Window { days, unit })?;
    Ok(Json(DueAnswer { from, days, unit, due }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkdayQuery {
    date: Option<String>,
}

/// `GET /calendar/workday`: whether a day is worked.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkdayAnswer {
    date: NaiveDate,
    workday: bool,
}

/// `GET /calendar/workday?date=D`.
#[utoipa::path(get, path = "/calendar/workday", tag = "calendar", params(WorkdayQuery), responses((status = 200, description = "Whether the day is worked", body = WorkdayAnswer)))]
pub async fn workday(
    State(node): State<Node>,
    QueryParams(q): QueryParams<WorkdayQuery>,
) -> Result<Json<WorkdayAnswer>, ApiError> {
    let date = parse_date(required(&q.date, "date", "2025-09-28")?, "date")?;
    let calendar = node.store().calendar().await?;
    let workday = calendar.is_workday(date)?;
    Ok(Json(WorkdayAnswer { date, workday }))
}

/// `POST /calendar/years`: publishes one year's arrangement as a `calendar.year` entry. Only the
/// root of trust may (the store refuses anyone else: 403). The arrangement is checked on its
/// own and against the years already held before anything is signed.
#[utoipa::path(post, path = "/calendar/years", tag = "calendar", request_body = HolidayYear, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
pub async fn publish_year(
    State(node): State<Node>,
    JsonBody(year): JsonBody<HolidayYear>,
) -> Result<Response, ApiError> {
    year.validate()?;
    // A year that contradicts a neighbouring notice (a day off in one, worked in the other)
    // would make the whole calendar unreadable; refuse it here.
    let mut calendar = node.store().calendar().await?;
    calendar.insert(year.clone())?;
    let entry = node.write(vec![Op::CalendarYear { year: year.clone() }]).await?;
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "year": year })))).into_response())
}

/// The node's window for adjustment filings, with its Chinese label (`20个工作日`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyAnswer {
    request_window: Window,
    label: String,
}

impl From<Window> for PolicyAnswer {
    fn from(window: Window) -> Self {
        PolicyAnswer { request_window: window, label: window.to_string() }
    }
}

/// `PUT /policy`: the entry written and the window now in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyWritten {
    #[schema(value_type = super::openapi::EntryRefSchema)]
    entry: EntryRef,
    #[serde(flatten)]
    policy: PolicyAnswer,
}

/// `GET /policy`: the node's window for adjustment filings (20 working days until set).
#[utoipa::path(get, path = "/policy", tag = "calendar", responses((status = 200, description = "The window in force", body = PolicyAnswer)))]
pub async fn show_policy(State(node): State<Node>) -> Result<Json<PolicyAnswer>, ApiError> {
    let window = node.store().policy(node.division()).await?;
    Ok(Json(window.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    request_window: Window,
}

/// `PUT /policy` with `{"request_window": {"days": 7, "unit": "calendar"}}`: a `node.policy`
/// entry. Filings already made keep the window they were filed under.
#[utoipa::path(put, path = "/policy", tag = "calendar", request_body = PolicyBody, responses((status = 200, description = "Signed and appended: the entry and the window", body = PolicyWritten)))]
pub async fn set_policy(
    State(node): State<Node>,
    JsonBody(body): JsonBody<PolicyBody>,
) -> Result<Json<PolicyWritten>, ApiError> {
    let window = body.request_window;
    if window.days == 0 {
        return Err(quanze_domain::CalendarError::ZeroDays.into());
    }
    let entry = node.write(vec![Op::Policy { request_window: window }]).await?;
    Ok(Json(PolicyWritten { entry: entry.entry_ref(), policy: window.into() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    late: Option<bool>,
}

/// A filing with its due date and lateness; when they cannot be computed (a year not
/// published), `due`, `late_days` and `late` are null and `calendar_error` says why.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingView {
    #[serde(flatten)]
    #[schema(value_type = super::openapi::FilingRowSchema)]
    row: FilingRow,
    /// The trigger in Chinese.
    trigger_label: &'static str,
    #[schema(required = true)]
    due: Option<NaiveDate>,
    /// Working days filed after `due` (0 in time).
    #[schema(required = true)]
    late_days: Option<i64>,
    #[schema(required = true)]
    late: Option<bool>,
    /// Why the deadline cannot be counted; absent when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar_error: Option<String>,
}

/// `GET /filings`: the filings, and the first reason a lateness is unknown, if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct FilingList {
    requests: Vec<FilingView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar_error: Option<String>,
}

/// A filing row with its due date and lateness, computed with `calendar`.
fn filing_view(calendar: &Calendar, row: &FilingRow) -> FilingView {
    let (due, late_days, late, calendar_error) =
        match filing_deadline(calendar, row.window, row.filing.trigger_date, row.filed_on) {
            Ok((due, late_days)) => (Some(due), Some(late_days), Some(late_days > 0), None),
            Err(e) => (None, None, None, Some(e.to_string())),
        };
    FilingView { row: row.clone(), trigger_label: row.filing.trigger.label(), due, late_days, late, calendar_error }
}

/// `GET /filings?late=true|false`: the filings made with this node, oldest first, each with its
/// due date under the window in force when it was filed and how many working days late it came.
/// A filing whose lateness is unknown (its years are not published) is listed whatever the
/// filter, and the first such reason is repeated as the top-level `calendar_error`.
#[utoipa::path(get, path = "/filings", tag = "calendar", params(RequestsQuery), responses((status = 200, description = "The filings with their lateness", body = FilingList)))]
pub async fn list_requests(
    State(node): State<Node>,
    QueryParams(q): QueryParams<RequestsQuery>,
) -> Result<Json<FilingList>, ApiError> {
    let calendar = node.store().calendar().await?;
    let rows = node.store().filings(node.division()).await?;
    let mut requests = Vec::new();
    let mut first_error = None;
    for row in &rows {
        let view = filing_view(&calendar, row);
        let keep = match (q.late, view.late) {
            (Some(wanted), Some(late)) => wanted == late,
            _ => true,
        };
        if keep {
            if first_error.is_none() {
                first_error.clone_from(&view.calendar_error);
            }
            requests.push(view);
        }
    }
    Ok(Json(FilingList { requests, calendar_error: first_error }))
}

/// `POST /filings`: records a department's filing as a `request.file` entry dated today (by
/// the node's clock). Answers the filing with its due date and lateness. A department clerk
/// files for the own department only; the operator (the CLI) for any.
#[utoipa::path(post, path = "/filings", tag = "calendar", request_body = Filing, responses((status = 201, description = "Signed and appended: the entry and what it wrote", body = super::openapi::WrittenSchema)))]
pub async fn file_request(
    State(node): State<Node>,
    caller: crate::auth::Principal,
    JsonBody(filing): JsonBody<Filing>,
) -> Result<Response, ApiError> {
    use quanze_domain::Role;
    caller.require_any(&[Role::Clerk, Role::Operator])?;
    if !caller.has(Role::Operator) && caller.department.as_deref() != Some(filing.department.trim()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN_ROLE",
            "部门经办人只能为本部门提出申请 / a clerk files for the own department only",
        ));
    }
    filing.validate(node.today()).map_err(RuleError::Filing)?;
    let entry = node.write(vec![Op::RequestFile { filing }]).await?;
    let calendar = node.store().calendar().await?;
    let rows = node.store().filings(node.division()).await?;
    let filed = rows.iter().find(|r| r.seq == entry.seq()).map(|row| filing_view(&calendar, row));
    Ok((StatusCode::CREATED, Json(written(&entry, json!({ "request": filed })))).into_response())
}

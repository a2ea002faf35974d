//! The adjustment-request workflow over HTTP: a department clerk files and re-files, the
//! offices of the route decide, everyone with an account reads the trace; attachments are
//! uploaded first and cited by SHA-256.
//!
//! Owns the writer-side checks (the domain's `RequestState` rules against the list as it
//! stands, before anything is signed) and the JSON shape of a request. The store applies the
//! same rules again to the entry; this module never writes SQL or signs.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quanze_domain::requests::workflow::MAX_ATTACHMENT_BYTES;
use quanze_domain::{
    Decision, DivisionCode, Op, Outcome, PowerItem, Proposal, RequestState, Role, Stage, Status, WorkflowError,
    apply_item_op,
};
use quanze_store::{AttachmentRow, RequestRow, RequestStepRow};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams, RawBody};
use super::request_view::{RequestList, RequestView, request_view};
use crate::auth::Principal;
use crate::state::Node;

pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(list, file))
        .routes(routes!(show))
        .routes(routes!(resubmit))
        .routes(routes!(step))
        .routes(routes!(upload))
        .routes(routes!(download))
}

/// Roles that read requests and their attachments (a clerk only their department's).
const READERS: [Role; 7] =
    [Role::Clerk, Role::Establishment, Role::Legal, Role::Government, Role::Publisher, Role::Auditor, Role::Operator];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    department: Option<String>,
    /// Another node's requests, as this node holds its log (a parent reading a child's trace).
    node: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NodeQuery {
    node: Option<String>,
}

fn target_node(node: &Node, given: Option<&str>, principal: &Principal) -> Result<DivisionCode, ApiError> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(node.division().clone()),
        Some(code) => {
            let code = DivisionCode::parse(code).map_err(|e| ApiError::bad_query(format!("node：{e}")))?;
            if &code != node.division() && principal.roles == [Role::Clerk] {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "FORBIDDEN_ROLE",
                    "部门经办人只能查看本节点的申请 / a clerk reads this node's requests only",
                ));
            }
            Ok(code)
        }
    }
}

/// A clerk with no other role sees their own department's requests only.
fn clerk_department(principal: &Principal) -> Option<&str> {
    (principal.roles == [Role::Clerk]).then(|| principal.department.as_deref().unwrap_or(""))
}

/// `GET /requests?status=&department=&node=`: requests, newest first.
#[utoipa::path(get, path = "/requests", tag = "requests", params(ListQuery), responses((status = 200, description = "The requests, newest first", body = RequestList)))]
async fn list(
    State(node): State<Node>,
    principal: Principal,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Json<RequestList>, ApiError> {
    principal.require_any(&READERS)?;
    let target = target_node(&node, q.node.as_deref(), &principal)?;
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            Status::parse(s)
                .ok_or_else(|| {
                    ApiError::bad_query(format!(
                        "status 应为 reviewing、returned、rejected 或 published，而不是 “{s}” / bad status"
                    ))
                })?
                .key(),
        ),
        None => None,
    };
    let rows = visible(&node, &principal, &target, status, q.department.as_deref()).await?;
    let calendar = node.store().calendar().await?;
    let requests = rows.iter().map(|r| request_view(&calendar, r, None)).collect();
    Ok(Json(RequestList { node: target, requests }))
}

/// `GET /requests/{id}`: one request with its whole trace.
#[utoipa::path(get, path = "/requests/{id}", tag = "requests", params(("id" = String, Path, description = "The request id (its seq in the node log)"), NodeQuery), responses((status = 200, description = "The request with its trace", body = RequestView)))]
async fn show(
    State(node): State<Node>,
    principal: Principal,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<NodeQuery>,
) -> Result<Json<RequestView>, ApiError> {
    principal.require_any(&READERS)?;
    let target = target_node(&node, q.node.as_deref(), &principal)?;
    let id = parse_id(&id)?;
    let (row, steps) = readable(&node, &principal, &target, id).await?;
    let calendar = node.store().calendar().await?;
    Ok(Json(request_view(&calendar, &row, Some(&steps))))
}

/// `POST /requests`: a department clerk files a proposal; the entry's seq is the request's id.
#[utoipa::path(post, path = "/requests", tag = "requests", request_body = Proposal, responses((status = 201, description = "Filed: the request", body = RequestView)))]
async fn file(
    State(node): State<Node>,
    principal: Principal,
    JsonBody(proposal): JsonBody<Proposal>,
) -> Result<Response, ApiError> {
    let actor = principal.actor(Role::Clerk)?;
    check_attachments(&node, &proposal).await?;
    let current = current_items(&node, &proposal).await?;
    RequestState::open(0, &actor, &proposal, node.today(), |c| current.get(c).cloned())?;
    check_sheet_faithful(&proposal, &current)?;
    let entry = node.write(vec![Op::RequestSubmit { request: None, proposal, actor }]).await?;
    answer(&node, entry.seq(), StatusCode::CREATED).await
}

/// `POST /requests/{id}/resubmit`: the department re-files a returned request, revised.
#[utoipa::path(post, path = "/requests/{id}/resubmit", tag = "requests", params(("id" = String, Path, description = "The request id (its seq in the node log)")), request_body = Proposal, responses((status = 200, description = "Re-filed: the request", body = RequestView)))]
async fn resubmit(
    State(node): State<Node>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(proposal): JsonBody<Proposal>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let actor = principal.actor(Role::Clerk)?;
    let (row, _) = node.store().request(node.division(), id).await?.ok_or_else(|| not_found(id))?;
    check_attachments(&node, &proposal).await?;
    let current = current_items(&node, &proposal).await?;
    row.state().resubmit(&actor, &proposal, node.today(), |c| current.get(c).cloned())?;
    check_sheet_faithful(&proposal, &current)?;
    node.write(vec![Op::RequestSubmit { request: Some(id), proposal, actor }]).await?;
    answer(&node, id, StatusCode::OK).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// approve, return or reject.
    #[schema(value_type = String)]
    decision: Decision,
    #[serde(default)]
    comment: String,
    /// The stage decided; defaults to the one waiting (a stale page names the old one and is
    /// refused).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    stage: Option<Stage>,
}

/// `POST /requests/{id}/steps`: a decision at a stage. The last approval publishes the
/// proposal's item ops in the same entry.
#[utoipa::path(post, path = "/requests/{id}/steps", tag = "requests", params(("id" = String, Path, description = "The request id (its seq in the node log)")), request_body = StepBody, responses((status = 200, description = "Decided: the request", body = RequestView)))]
async fn step(
    State(node): State<Node>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let (row, _) = node.store().request(node.division(), id).await?.ok_or_else(|| not_found(id))?;
    let state = row.state();
    let stage = body.stage.or(state.current_stage()).unwrap_or(row.stage);
    let actor = step_actor(&principal, stage);
    let (next, outcome) = state.step(stage, body.decision, &body.comment, &actor)?;
    let mut ops = vec![Op::RequestStep {
        request: id,
        stage,
        decision: body.decision,
        comment: body.comment.trim().to_string(),
        actor,
    }];
    if outcome == Outcome::Publish {
        ops.extend(next.proposal.ops());
    }
    node.write(ops).await?;
    answer(&node, id, StatusCode::OK).await
}

async fn answer(node: &Node, id: u64, status: StatusCode) -> Result<Response, ApiError> {
    let (row, steps) = node.store().request(node.division(), id).await?.ok_or_else(|| not_found(id))?;
    let calendar = node.store().calendar().await?;
    Ok((status, Json(request_view(&calendar, &row, Some(&steps)))).into_response())
}

/// The node's current items that a proposal names.
pub(crate) async fn current_items(node: &Node, proposal: &Proposal) -> Result<HashMap<String, PowerItem>, ApiError> {
    let mut out = HashMap::new();
    for code in proposal.codes() {
        if let Some(row) = node.store().item(node.division(), &code).await? {
            out.insert(code, row.item);
        }
    }
    Ok(out)
}

/// Every item the proposal would write survives a spreadsheet round trip. Checked when filing
/// only: replaying a filed request never applies rules added after it was signed.
fn check_sheet_faithful(proposal: &Proposal, current: &HashMap<String, PowerItem>) -> Result<(), ApiError> {
    for change in &proposal.changes {
        if let Ok(next) = apply_item_op(current.get(change.code()), &change.to_op(proposal.kind)) {
            super::items::sheet_faithful(&next)?;
        }
    }
    Ok(())
}

/// Every cited attachment was uploaded here, with that size.
async fn check_attachments(node: &Node, proposal: &Proposal) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    for (i, a) in proposal.attachments.iter().enumerate() {
        match node.store().attachment(&a.sha256).await? {
            Some((meta, _)) if meta.size == a.size => {}
            Some((meta, _)) => problems.push(json!({
                "field": format!("attachments[{i}].size"),
                "message": format!("附件大小应为 {} 字节 / size does not match the upload", meta.size),
            })),
            None => problems.push(json!({
                "field": format!("attachments[{i}].sha256"),
                "message": "未找到该附件，请先上传 / upload the attachment first",
            })),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "UNKNOWN_ATTACHMENT",
        "申请引用的附件未上传 / attachment not uploaded",
    )
    .with_errors(problems))
}

/// The requests of `target` that `principal` may read, newest first: a clerk with no other role
/// only their own department's; others by `department` when given. Shared by the list route and
/// the console.
pub(crate) async fn visible(
    node: &Node,
    principal: &Principal,
    target: &DivisionCode,
    status: Option<&str>,
    department: Option<&str>,
) -> Result<Vec<RequestRow>, ApiError> {
    principal.require_any(&READERS)?;
    let department = clerk_department(principal).or(department.map(str::trim).filter(|s| !s.is_empty()));
    Ok(node.store().requests(target, status, department).await?)
}

/// One request of `target` with its trace, if `principal` may read it (a clerk's request of
/// another department is "not found").
pub(crate) async fn readable(
    node: &Node,
    principal: &Principal,
    target: &DivisionCode,
    id: u64,
) -> Result<(RequestRow, Vec<RequestStepRow>), ApiError> {
    principal.require_any(&READERS)?;
    let (row, steps) = node.store().request(target, id).await?.ok_or_else(|| not_found(id))?;
    if let Some(dept) = clerk_department(principal)
        && dept != row.proposal.department
    {
        return Err(not_found(id));
    }
    Ok((row, steps))
}

/// The actor a decision by `principal` at `stage` records: the stage's role when the caller
/// holds it; otherwise another of theirs, so the rules name what is wrong (closed, wrong stage
/// or wrong role) in that order.
pub(crate) fn step_actor(principal: &Principal, stage: Stage) -> quanze_domain::Actor {
    let role = if principal.has(stage.role()) {
        stage.role()
    } else {
        *principal.roles.iter().find(|r| **r != Role::Operator).or(principal.roles.first()).unwrap_or(&Role::Auditor)
    };
    quanze_domain::Actor {
        id: principal.account.clone(),
        name: principal.name.clone(),
        role,
        department: if role == Role::Clerk { principal.department.clone() } else { None },
    }
}

/// The stage `principal` may decide now on `row` (the domain's rules, tried without writing):
/// the request waits at a stage of one of their roles and they did not file it.
pub(crate) fn decidable_stage(principal: &Principal, row: &RequestRow) -> Option<Stage> {
    let state = row.state();
    let stage = state.current_stage()?;
    state.step(stage, Decision::Approve, "", &step_actor(principal, stage)).ok().map(|_| stage)
}

/// Whether `principal` may re-file `row`: it was returned and they are a clerk of its
/// department (the revised proposal itself is checked when it is sent).
pub(crate) fn may_resubmit(principal: &Principal, row: &RequestRow, today: chrono::NaiveDate) -> bool {
    let Ok(actor) = principal.actor(Role::Clerk) else { return false };
    match row.state().resubmit(&actor, &row.proposal, today, |_| None) {
        Ok(_) | Err(WorkflowError::Invalid(_)) => true,
        Err(_) => false,
    }
}

pub(crate) fn parse_id(text: &str) -> Result<u64, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::bad_query(format!("申请编号应为数字，而不是 “{text}” / request id must be a number")))
}

fn not_found(id: u64) -> ApiError {
    ApiError::not_found(format!("申请 {id} / request {id}"))
}

/// A request as the API shows it (`request_view::RequestView`), as JSON for the console's pages.
pub fn request_json(calendar: &quanze_domain::Calendar, row: &RequestRow, steps: Option<&[RequestStepRow]>) -> Value {
    serde_json::to_value(request_view(calendar, row, steps)).unwrap_or(Value::Null)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    name: Option<String>,
}

/// `POST /attachments?name=文件名`: the raw bytes of one document (at most 5 MiB); answers its
/// SHA-256 for citing in a request. The same bytes uploaded twice are kept once.
#[utoipa::path(post, path = "/attachments", tag = "requests", params(UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The document's bytes"), responses((status = 201, description = "Stored: the attachment's digest", body = Object)))]
async fn upload(
    State(node): State<Node>,
    principal: Principal,
    headers: HeaderMap,
    QueryParams(q): QueryParams<UploadQuery>,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    principal.require_any(&[Role::Clerk, Role::Establishment, Role::Legal, Role::Government, Role::Operator])?;
    let name = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).ok_or_else(|| {
        ApiError::bad_query("缺少查询参数 name（附件文件名）/ missing parameter name (the file name)")
    })?;
    if bytes.len() as u64 > MAX_ATTACHMENT_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ATTACHMENT_TOO_LARGE",
            format!(
                "附件 {} 字节，超过 {} MB 上限 / attachment over the {} MB limit",
                bytes.len(),
                MAX_ATTACHMENT_BYTES / 1024 / 1024,
                MAX_ATTACHMENT_BYTES / 1024 / 1024
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "EMPTY_ATTACHMENT",
            "附件为空 / the attachment is empty",
        ));
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("application/octet-stream");
    let meta = AttachmentRow {
        sha256: hex::encode(Sha256::digest(&bytes)),
        name: name.to_string(),
        media_type: media_type.to_string(),
        size: bytes.len() as u64,
        uploaded_at: node.clock().now().to_rfc3339(),
        account: principal.account.clone(),
    };
    node.store().put_attachment(&meta, &bytes).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "sha256": meta.sha256, "name": meta.name, "size": meta.size, "media_type": meta.media_type })),
    )
        .into_response())
}

/// `GET /attachments/{sha256}`: the bytes, for anyone with an account.
#[utoipa::path(get, path = "/attachments/{sha256}", tag = "requests", params(("sha256" = String, Path, description = "SHA-256 of the attachment, hex")), responses((status = 200, description = "The attachment", content_type = "application/octet-stream", body = Vec<u8>)))]
async fn download(
    State(node): State<Node>,
    principal: Principal,
    Path(sha): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_any(&READERS)?;
    attachment_response(&node, &sha).await
}

/// An attachment as a download, with its name (RFC 6266 / 5987 for Chinese file names).
pub async fn attachment_response(node: &Node, sha: &str) -> Result<Response, ApiError> {
    let (meta, data) =
        node.store().attachment(sha).await?.ok_or_else(|| ApiError::not_found(format!("附件 {sha} / attachment")))?;
    let disposition = format!("attachment; filename*=UTF-8''{}", rfc5987(&meta.name));
    Ok(([(header::CONTENT_TYPE, meta.media_type), (header::CONTENT_DISPOSITION, disposition)], data).into_response())
}

/// Percent-encodes a file name for `filename*=UTF-8''…`.
pub(super) fn rfc5987(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::rfc5987;

    #[test]
    fn chinese_file_names_are_percent_encoded() {
        assert_eq!(rfc5987("请示.pdf"), "%E8%AF%B7%E7%A4%BA.pdf");
        assert_eq!(rfc5987("a b;\"c"), "a%20b%3B%22c");
    }
}

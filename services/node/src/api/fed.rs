//! Federation routes, the parent's side: enrolment by invite, signed heads, long-poll pull,
//! push of children's logs, and the operator's invite / revoke / rotate / status calls.
//!
//! Peers are not trusted for anything checkable: pushed entries go through `Node::ingest`
//! (signature, chain, key history, authority, scope). The enrol call is authorised by the
//! one-time invite token alone, and so is `recover` (a child fetching its own log back); the operator
//! calls need the operator role like every write.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use quanze_domain::{DivisionCode, Enrolment, Op, Tier};
use quanze_ledger::{PublicKey, SignedEntryWire};
use quanze_store::InviteRow;
use serde::Deserialize;

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, JsonBody, QueryParams};
use crate::federation::invite::{Invite, token_hash};
use crate::federation::wire::{
    EnrollRequest, EnrollResponse, MAX_BATCH_ENTRIES, MAX_PUSH_BYTES, MAX_WAIT_SECS, PullResponse, PushRequest,
    PushResponse,
};
use crate::state::{Node, Scope};

/// `GET /api/v1/fed/heads`: every origin held, signed by this node.
#[utoipa::path(get, path = "/fed/heads", tag = "federation", responses((status = 200, description = "Every origin held, signed by this node", body = crate::federation::wire::SignedHeads)), security(()))]
pub async fn heads(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let signed = node.signed_heads().await.map_err(ApiError::internal)?;
    // A node restored from a backup names the children it waits for (`restore_hold`).
    let awaiting = node.awaiting_children().join(",");
    let mut headers = axum::http::HeaderMap::new();
    if !awaiting.is_empty()
        && let Ok(value) = axum::http::HeaderValue::from_str(&awaiting)
    {
        headers.insert(crate::federation::restore_hold::AWAITING_HEADER, value);
    }
    Ok((headers, Json(signed)))
}

/// `POST /api/v1/fed/confirm`: a child of a node restored from a backup confirms, with its own
/// signed heads, that it holds nothing of this node's log beyond this node's head. When no
/// child is left, writes resume.
#[utoipa::path(post, path = "/fed/confirm", tag = "federation", request_body(content = crate::federation::wire::SignedHeads, description = "The child's heads, signed by its current key since this node's restore"), responses((status = 200, description = "Confirmed: the children still awaited", body = ConfirmAnswer)), security(()))]
pub async fn confirm(
    State(node): State<Node>,
    JsonBody(signed): JsonBody<crate::federation::wire::SignedHeads>,
) -> Result<impl IntoResponse, ApiError> {
    use crate::federation::restore_hold::{ConfirmError, check_confirmation};
    let child = check_confirmation(&node, signed).await.map_err(|e| match e {
        ConfirmError::NotAChild(_) | ConfirmError::BadSignature => {
            ApiError::new(StatusCode::FORBIDDEN, "NODE_SIGNATURE_INVALID", e.to_string())
        }
        ConfirmError::Stale(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "STATEMENT_STALE", e.to_string()),
        ConfirmError::HoldsMore { .. } | ConfirmError::Differs(_) => {
            ApiError::new(StatusCode::CONFLICT, "CHILD_HOLDS_MORE", e.to_string())
        }
        ConfirmError::Store(e) => e.into(),
    })?;
    let awaiting = node.child_confirmed(&child).await?;
    if awaiting.is_empty() {
        tracing::info!(%child, "every child confirmed after the restore: writes resume");
    }
    Ok(Json(ConfirmAnswer { confirmed: child, awaiting }))
}

/// `POST /api/v1/fed/children/{division}/release` (operator): after a restore, stop waiting for
/// this child's confirmation (a child gone for good; `quanze child release`).
#[utoipa::path(post, path = "/fed/children/{division}/release", tag = "federation", params(("division" = String, Path, description = "The child's division code")), responses((status = 200, description = "Released: the children still awaited", body = ConfirmAnswer)))]
pub async fn release(
    State(node): State<Node>,
    axum::extract::Path(division): axum::extract::Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    if !node.awaiting_children().contains(&division) {
        return Err(ApiError::not_found(format!("等待确认的下级 {division} / awaited child {division}")));
    }
    tracing::warn!(child = %division, "operator released a child from the restore hold");
    let awaiting = node.child_confirmed(&division).await?;
    Ok(Json(ConfirmAnswer { confirmed: division, awaiting }))
}

/// The answer of `POST /api/v1/fed/confirm`.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ConfirmAnswer {
    /// The child that confirmed.
    pub confirmed: String,
    /// Children still awaited; writes resume when empty.
    pub awaiting: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// `origin:seq,…`: what the child holds.
    #[serde(default)]
    after: String,
    #[serde(default)]
    wait: u64,
}

fn parse_after(text: &str) -> Result<HashMap<String, u64>, ApiError> {
    let mut out = HashMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (origin, seq) = part
            .split_once(':')
            .ok_or_else(|| ApiError::bad_query(format!("after 项 “{part}” 应为 origin:seq / expected origin:seq")))?;
        let origin = DivisionCode::parse(origin).map_err(|e| ApiError::bad_query(e.to_string()))?;
        let seq: u64 =
            seq.parse().map_err(|_| ApiError::bad_query(format!("after 项 “{part}” 的序号无效 / bad seq")))?;
        out.insert(origin.to_string(), seq);
    }
    Ok(out)
}

/// `GET /api/v1/fed/pull?after=origin:seq,…&wait=N`: entries of this node's and its ancestors'
/// logs after the child's heads, ancestors first. Waits up to `wait` seconds (at most 30)
/// for something new.
#[utoipa::path(get, path = "/fed/pull", tag = "federation", params(PullQuery), responses((status = 200, description = "Entries after the child's heads, ancestors first", body = PullResponse)), security(()))]
pub async fn pull(
    State(node): State<Node>,
    QueryParams(q): QueryParams<PullQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let after = parse_after(&q.after)?;
    let wait = Duration::from_secs(q.wait.min(MAX_WAIT_SECS));
    let mut changes = node.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        changes.borrow_and_update();
        let (entries, more) = collect_downward(&node, &after).await?;
        if !entries.is_empty() || tokio::time::Instant::now() >= deadline || node.is_closing() {
            return Ok(Json(PullResponse { entries, more }));
        }
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            let (entries, more) = collect_downward(&node, &after).await?;
            return Ok(Json(PullResponse { entries, more }));
        }
    }
}

async fn collect_downward(node: &Node, after: &HashMap<String, u64>) -> Result<(Vec<SignedEntryWire>, bool), ApiError> {
    let me = node.division();
    let mut origins: Vec<DivisionCode> = node
        .store()
        .heads()
        .await?
        .into_iter()
        .filter_map(|(o, h)| DivisionCode::parse(&o).ok().map(|o| (o, h.seq)))
        .filter(|(o, seq)| me.is_within(o) && *seq > after.get(o.as_str()).copied().unwrap_or(0))
        .map(|(o, _)| o)
        .collect();
    origins.sort_by_key(|o| o.tier());
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for origin in origins {
        let mut from = after.get(origin.as_str()).copied().unwrap_or(0);
        loop {
            let room = MAX_BATCH_ENTRIES - out.len();
            if room == 0 || bytes >= MAX_PUSH_BYTES {
                return Ok((out, true));
            }
            let page = node.store().entries(&origin, from, room.min(50) as u64).await?;
            if page.is_empty() {
                break;
            }
            for e in page {
                from = e.seq;
                bytes += e.entry.bytes().len() + 200;
                out.push(e.to_wire());
                if bytes >= MAX_PUSH_BYTES {
                    return Ok((out, true));
                }
            }
        }
    }
    Ok((out, false))
}

/// `POST /api/v1/fed/push`: a child delivers its own and its descendants' logs — and, after
/// this node was restored from an older backup, this node's own entries it lost, which the
/// child holds (`returned: true`; `Scope::Returned` admits only this node's own log, verified
/// with its own key and chained from its head, see `Node::ingest`).
#[utoipa::path(post, path = "/fed/push", tag = "federation", request_body = PushRequest, responses((status = 200, description = "Per entry, what this node did with it", body = PushResponse)), security(()))]
pub async fn push(
    State(node): State<Node>,
    JsonBody(req): JsonBody<PushRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if req.entries.len() > MAX_BATCH_ENTRIES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BATCH_TOO_LARGE",
            format!("一次最多推送 {MAX_BATCH_ENTRIES} 个条目 / at most {MAX_BATCH_ENTRIES} entries per push"),
        ));
    }
    if req.from.parent().as_ref() != Some(node.division()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NOT_A_CHILD",
            format!("{} 不是本节点 {} 的下级 / not a child of this node", req.from, node.division()),
        ));
    }
    let mut entries = Vec::with_capacity(req.entries.len());
    for (i, wire) in req.entries.into_iter().enumerate() {
        entries.push(wire.into_unverified().ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "BAD_SIGNATURE_FORMAT",
                format!("第 {} 个条目的签名不是 128 位十六进制 / sig must be 128 hex digits", i + 1),
            )
        })?);
    }
    let scope = if req.returned { Scope::Returned } else { Scope::Descendants };
    let deliveries = node.ingest(&format!("child {}", req.from), scope, entries).await?;
    Ok(Json(PushResponse { deliveries }))
}

/// `GET /api/v1/fed/recover?origin=&after=&limit=`: a child that lost its disk fetches its own
/// log (or an ancestor's) back. Either with `Authorization: Bearer <invite token>` (the invite
/// must be one this node issued for that child, already used to enrol it and not expired), or,
/// for a child restored from a backup that still holds its key, with a statement signed by the
/// child's current key (`x-quanze-node-signature`, see `federation::catch_up`). Other origins
/// (siblings, other subtrees) are never served here.
#[utoipa::path(get, path = "/fed/recover", tag = "federation", params(super::log::LogQuery), responses((status = 200, description = "Entries of the log, as `GET /log` shows them", body = super::log::LogPage)), security(()))]
pub async fn recover(
    State(node): State<Node>,
    headers: axum::http::HeaderMap,
    QueryParams(q): QueryParams<super::log::LogQuery>,
) -> Result<axum::response::Response, ApiError> {
    let origin =
        DivisionCode::parse(q.origin.as_deref().unwrap_or_default()).map_err(|e| ApiError::bad_query(e.to_string()))?;
    let child = match headers.get(crate::federation::wire::NODE_SIGNATURE_HEADER) {
        Some(value) => signed_by_child(&node, value, &origin, q.after.unwrap_or(0)).await?,
        None => invited_child(&node, &headers).await?,
    };
    if origin.as_str() != child && !node.division().is_within(&origin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "OUT_OF_SCOPE",
            format!(
                "恢复只取回本节点或其上级的日志，不含 {origin} / recovery serves only the child's own and its ancestors' logs"
            ),
        ));
    }
    Ok(super::log::show(State(node), QueryParams(q)).await?.into_response())
}

/// The child named by the used, unexpired invite in the bearer token.
async fn invited_child(node: &Node, headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "INVITE_INVALID",
            "恢复需要已用于登记的有效邀请码 / recovery needs the unexpired invite the child was enrolled with",
        )
    };
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(refused)?;
    let invite = node.store().invite(&token_hash(token.trim())).await?.ok_or_else(refused)?;
    let expired = chrono::DateTime::parse_from_rfc3339(&invite.expires_at).map_or(true, |t| t < Utc::now());
    if invite.used_at.is_none() || expired {
        return Err(refused());
    }
    Ok(invite.division)
}

/// The descendant whose current key signed this read-back request, within the time window.
async fn signed_by_child(
    node: &Node,
    value: &axum::http::HeaderValue,
    origin: &DivisionCode,
    after: u64,
) -> Result<String, ApiError> {
    let refused = |why: &str| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "NODE_SIGNATURE_INVALID",
            format!("节点签名无效：{why} / the node signature does not check: {why}"),
        )
    };
    let parts: Vec<&str> = value.to_str().unwrap_or_default().split(' ').collect();
    let [division, unix, sig] = parts.as_slice() else { return Err(refused("格式 / format")) };
    let division = DivisionCode::parse(division).map_err(|_| refused("行政区划代码 / division"))?;
    let unix: i64 = unix.parse().map_err(|_| refused("时间 / time"))?;
    if (Utc::now().timestamp() - unix).abs() > crate::federation::wire::NODE_SIGNATURE_WINDOW_SECS {
        return Err(refused("已过期 / expired"));
    }
    if !division.is_within(node.division()) || &division == node.division() {
        return Err(refused("不是本节点的下级 / not a descendant"));
    }
    let quanze_store::KeyLookup::Key(key) = node.store().key_for(&division, u64::MAX >> 12).await? else {
        return Err(refused("未登记 / not enrolled"));
    };
    let statement = crate::federation::wire::recover_statement(division.as_str(), origin.as_str(), after, unix);
    if !key.verify_statement(statement.as_bytes(), sig) {
        return Err(refused("签名 / signature"));
    }
    Ok(division.to_string())
}

/// `POST /api/v1/fed/enroll`: a child presents an invite token and its public key; this node
/// appends the `Enroll` entry. A division enrolled before (lost disk) continues after the last
/// entry this node holds of it, under the new key.
#[utoipa::path(post, path = "/fed/enroll", tag = "federation", request_body = EnrollRequest, responses((status = 200, description = "The enrolment written, and where", body = EnrollResponse)), security(()))]
pub async fn enroll(
    State(node): State<Node>,
    JsonBody(req): JsonBody<EnrollRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let key: PublicKey = req.public_key.parse().map_err(|_| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "BAD_PUBLIC_KEY", "公钥无效 / invalid public key")
    })?;
    let hash = token_hash(&req.token);
    let refused = || {
        ApiError::new(StatusCode::FORBIDDEN, "INVITE_INVALID", "邀请码无效或已使用 / invite unknown or already used")
    };
    let invite = node.store().take_invite(&hash).await?.ok_or_else(refused)?;
    let result = enroll_invited(&node, &invite, key, req.recover).await;
    if result.is_err() {
        node.store().release_invite(&hash).await?;
    }
    Ok(Json(result?))
}

async fn enroll_invited(
    node: &Node,
    invite: &InviteRow,
    key: PublicKey,
    recover: bool,
) -> Result<EnrollResponse, ApiError> {
    let expired = chrono::DateTime::parse_from_rfc3339(&invite.expires_at).map_or(true, |t| t < Utc::now());
    if expired {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "INVITE_EXPIRED", "邀请码已过期 / invite expired"));
    }
    let division = DivisionCode::parse(&invite.division).map_err(ApiError::internal)?;
    let tier: Tier = invite.tier.parse().map_err(ApiError::internal)?;
    let recovery = !node.store().enrolments(Some(&division)).await?.is_empty();
    if recovery != recover {
        let message = if recovery {
            format!(
                "{division} 此前已登记；数据目录丢失时请用 quanze recover --join-again / enrolled before: use `quanze recover`"
            )
        } else {
            format!(
                "{division} 此前未登记，无需恢复；请用 quanze init --join / not enrolled before: use `quanze init --join`"
            )
        };
        return Err(ApiError::new(StatusCode::CONFLICT, "ENROLL_MISMATCH", message));
    }
    let held = node.store().head(&division).await?.map_or(0, |h| h.seq);
    let enrolment = Enrolment { division, tier, name: invite.name.clone(), key: key.to_hex(), valid_from: held + 1 };
    let entry = node.write(vec![Op::Enroll { enrolment: enrolment.clone() }]).await?;
    tracing::info!(division = %enrolment.division, recovery, valid_from = enrolment.valid_from, "child enrolled");
    Ok(EnrollResponse {
        enrolment,
        parent: node.division().clone(),
        parent_name: node.name().to_string(),
        parent_tier: node.tier(),
        entry_seq: entry.seq(),
        recovery,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    division: String,
    tier: String,
    name: String,
    /// Hours until the invite expires (default 72, at most 720).
    #[serde(default)]
    ttl_hours: Option<u32>,
    /// The URL children reach this node at (default: the URL the request came to).
    #[serde(default)]
    url: Option<String>,
}

/// `POST /api/v1/fed/invites` (operator): a one-time invite for a child.
#[utoipa::path(post, path = "/fed/invites", tag = "federation", request_body = InviteRequest, responses((status = 201, description = "The invite", body = Object)))]
pub async fn create_invite(
    State(node): State<Node>,
    JsonBody(req): JsonBody<InviteRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "BAD_INVITE", m);
    let tier: Tier = req.tier.parse().map_err(|e: quanze_domain::tier::UnknownTier| bad(e.to_string()))?;
    let division = DivisionCode::parse_for(&req.division, tier).map_err(|e| bad(e.to_string()))?;
    if division.parent().as_ref() != Some(node.division()) {
        return Err(bad(format!(
            "{division} 不是本节点 {} 的直接下级 / not a direct child of this node",
            node.division()
        )));
    }
    let name = req.name.trim();
    if name.is_empty() {
        return Err(bad("名称不能为空 / name is required".into()));
    }
    let ttl = req.ttl_hours.unwrap_or(72);
    if ttl == 0 || ttl > 720 {
        return Err(bad("有效期应为 1–720 小时 / ttl_hours must be 1–720".into()));
    }
    let url = req.url.unwrap_or_else(|| node.public_url().to_string());
    let token = crate::secrets::new_token().map_err(ApiError::internal)?;
    let expires_at = quanze_ledger::format_at(Utc::now() + chrono::Duration::hours(i64::from(ttl)));
    let (root_division, root_key) =
        node.store().trust_root().await?.ok_or_else(|| ApiError::internal("trust root missing"))?;
    let cert = node.cert_der();
    let invite = Invite {
        parent_url: url,
        parent_division: node.division().clone(),
        parent_cert_sha256: crate::federation::invite::fingerprint(cert),
        parent_cert: base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, cert),
        root_division: DivisionCode::parse(&root_division).map_err(ApiError::internal)?,
        root_key,
        division: division.clone(),
        tier,
        name: name.to_string(),
        token: token.clone(),
        expires_at: expires_at.clone(),
    };
    let row = InviteRow {
        division: division.to_string(),
        tier: tier.key().to_string(),
        name: name.to_string(),
        expires_at: expires_at.clone(),
        used_at: None,
    };
    node.store().add_invite(&token_hash(&token), &row).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "invite": invite.encode(), "division": division, "expires_at": expires_at })),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    after: u64,
    reason: String,
}

/// `POST /api/v1/fed/children/{division}/revoke` (operator): the child's entries after
/// `after` are refused from now on, at every node.
#[utoipa::path(post, path = "/fed/children/{division}/revoke", tag = "federation", params(("division" = String, Path, description = "The child's division code")), request_body = RevokeRequest, responses((status = 200, description = "OK", body = Object)))]
pub async fn revoke(
    State(node): State<Node>,
    Path(division): Path<String>,
    JsonBody(req): JsonBody<RevokeRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let division = DivisionCode::parse(&division).map_err(|e| ApiError::bad_query(e.to_string()))?;
    if node.store().enrolments(Some(&division)).await?.is_empty() {
        return Err(ApiError::not_found(format!("已登记的下级 {division} / enrolled child")));
    }
    if req.reason.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "MISSING_REASON",
            "撤销必须说明理由 / a reason is required",
        ));
    }
    // Entries this node holds were accepted and relayed: a revocation cannot reach back over
    // them (nodes that hold them and nodes that do not would disagree).
    let held = node.store().head(&division).await?.map_or(0, |h| h.seq);
    if req.after < held {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "REVOKE_BELOW_HEAD",
            format!(
                "本节点已接收 {division} 至 #{held}，撤销点不能早于此 / already accepted up to #{held}; use --after {held} or later"
            ),
        ));
    }
    let entry =
        node.write(vec![Op::Revoke { division, after: req.after, reason: req.reason.trim().to_string() }]).await?;
    Ok(Json(serde_json::json!({ "seq": entry.seq(), "hash": entry.hash() })))
}

/// `POST /api/v1/fed/resolve` (operator): clears a descendant's fork by re-enrolling it.
#[utoipa::path(post, path = "/fed/resolve", tag = "federation", request_body = ResolveRequest, responses((status = 200, description = "OK", body = Object)))]
pub async fn resolve(
    State(node): State<Node>,
    JsonBody(req): JsonBody<ResolveRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let division = DivisionCode::parse(&req.division).map_err(|e| ApiError::bad_query(e.to_string()))?;
    let forks = node.store().forks().await?;
    let Some(fork) = forks.iter().find(|f| f.origin == division.as_str() && f.resolved_by.is_none()) else {
        return Err(ApiError::not_found(format!("{division} 的未处置分叉 / unresolved fork")));
    };
    let last = node.store().enrolments(Some(&division)).await?.pop().ok_or_else(|| ApiError::not_found("enrolment"))?;
    let key = req.key.or(last.public_key).ok_or_else(|| ApiError::bad_query("需要新公钥 key / key required"))?;
    let held = node.store().head(&division).await?.map_or(0, |h| h.seq);
    let enrolment =
        Enrolment { division: division.clone(), tier: division.tier(), name: last.name, key, valid_from: held + 1 };
    let op = Op::Resolve { enrolment, fork_seq: fork.seq, reason: req.reason };
    let entry = node.write(vec![op]).await?;
    Ok(Json(serde_json::json!({ "seq": entry.seq(), "hash": entry.hash() })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    division: String,
    #[serde(default)]
    key: Option<String>,
    reason: String,
}

/// `POST /api/v1/fed/key/rotate` (operator): a new key for this node, announced in its log.
#[utoipa::path(post, path = "/fed/key/rotate", tag = "federation", responses((status = 200, description = "OK", body = Object)))]
pub async fn rotate(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    let entry = node.rotate_own_key().await.map_err(ApiError::internal)?;
    Ok(Json(serde_json::json!({ "seq": entry.seq(), "public_key": node.public_key(), "valid_from": entry.seq() + 1 })))
}

/// `GET /api/v1/fed/status`: parent, children, per-origin lag, outbox, errors, forks.
#[utoipa::path(get, path = "/fed/status", tag = "federation", responses((status = 200, description = "Where this node stands in the federation", body = crate::federation::status::StatusReport)))]
pub async fn status(State(node): State<Node>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(crate::federation::status::report(&node).await?))
}

/// The federation routes.
pub fn routes() -> OpenApiRouter<Node> {
    OpenApiRouter::new()
        .routes(routes!(heads))
        .routes(routes!(pull))
        .routes(routes!(push))
        .routes(routes!(enroll))
        .routes(routes!(recover))
        .routes(routes!(create_invite))
        .routes(routes!(revoke))
        .routes(routes!(resolve))
        .routes(routes!(rotate))
        .routes(routes!(status))
        .routes(routes!(confirm))
        .routes(routes!(release))
}

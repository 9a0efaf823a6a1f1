//! The RMM API origin: the request gate (CORS, refusals, faults) and the endpoints.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::{Shared, bump, lock};
use crate::changes;
use crate::conn::ConnectionCut;
use crate::faults::{self, Fate};
use crate::fleet::FirmwareFile;
use crate::guard;
use crate::problems::{Problem, Problems};
use crate::query::{Permutation, parse_device_query, parse_paging, select};
use crate::tokens::Claims;

const TENANTS_PATH: &str = "/api/v1/tenants";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(TENANTS_PATH, get(tenants))
        .route("/rmm/fss/fwupd/getFirmwareUpdateList", post(device_list))
        .route("/rmm/fss/fwupd/getFirmwareDataList", post(file_list))
        .route("/rmm/fss/fwupd/setUpdateReservation", post(set_reservation))
        .route(
            "/rmm/fss/fwupd/removeUpdateReservation",
            post(remove_reservation),
        )
        .route("/stateful/fss/fwupd/setOTAMode", post(set_ota_mode))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// Preflight, counting, latency, refusals, then faults — in the contract's order.
async fn gate(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let origin = guard::dashboard_origin(&shared, request.headers()).cloned();
    if request.method() == Method::OPTIONS {
        return guard::preflight(origin);
    }
    bump(&shared.counters.api_requests);
    let current = lock(&shared.faults).clone();
    let delay = faults::latency(&current, &mut lock(&shared.fault_rng));
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let modes = shared.modes();
    if origin.is_none() {
        let refusal = if modes.require_dashboard_origin {
            Some(guard::origin_not_allowed())
        } else if modes.tenants_need_browser && request.uri().path() == TENANTS_PATH {
            Some(guard::tenants_for_browsers_only())
        } else {
            None
        };
        if let Some(refusal) = refusal {
            return refusal;
        }
    }
    let claims = match guard::check_caller(&shared, request.headers()) {
        Ok(claims) => claims,
        Err(refusal) => {
            let mut refusal = *refusal;
            guard::add_cors(&mut refusal, origin);
            return refusal;
        }
    };
    let retry_after = lock(&shared.rate).admit(current.rate_limit_per_sec, crate::clock::wall_ms());
    let fate = faults::decide(&current, &mut lock(&shared.fault_rng));
    let cut = request
        .extensions()
        .get::<ConnectInfo<ConnectionCut>>()
        .map(|c| c.0.clone());
    let mut response = if let Some(secs) = retry_after {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"statusCode": 429, "message": format!("Rate limit is exceeded. Try again in {secs} seconds.")})),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        response
    } else {
        match fate {
            Fate::Fail(status) => (
                status,
                Json(json!({"statusCode": status.as_u16(), "message": "The service is temporarily unable to process the request."})),
            )
                .into_response(),
            Fate::DropBefore => {
                if let Some(cut) = &cut {
                    cut.cut();
                }
                tracing::debug!("dropping connection before handling");
                return Response::new(Body::empty());
            }
            Fate::Serve | Fate::ServeThenDrop => {
                request.extensions_mut().insert(claims);
                let response = next.run(request).await;
                if fate == Fate::ServeThenDrop {
                    if let Some(cut) = &cut {
                        cut.cut();
                    }
                    tracing::debug!("dropping connection after handling");
                }
                response
            }
        }
    };
    guard::add_cors(&mut response, origin);
    response
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"statusCode": 404, "message": "Resource not found"})),
    )
        .into_response()
}

fn ok(mut body: Value) -> Response {
    if let Some(object) = body.as_object_mut() {
        object.insert("common".into(), json!({"errorList": []}));
    }
    (StatusCode::OK, Json(body)).into_response()
}

/// A refusal of bad input: HTTP 400, or 200 with the same `errorList` in `refusals-200` mode.
fn bad_request(shared: &Shared, problems: Vec<Problem>) -> Response {
    if shared.modes().refusals_as_200 {
        return (
            StatusCode::OK,
            Json(json!({"common": {"errorList": problems}})),
        )
            .into_response();
    }
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"statusCode": 400, "message": "Invalid request.", "common": {"errorList": problems}})),
    )
        .into_response()
}

/// The JSON body and the index of its accessible `groupId`, or the refusal.
fn parse_scoped(
    shared: &Shared,
    claims: &Claims,
    body: &Bytes,
) -> Result<(Value, usize), Box<Response>> {
    let body: Value = serde_json::from_slice(body).map_err(|_| {
        let mut problems = Problems::default();
        problems.add("INVALID_REQUEST", "body", "body must be a JSON object");
        Box::new(bad_request(shared, problems.0))
    })?;
    let group = match body.get("groupId") {
        Some(Value::String(group)) => group.clone(),
        _ => {
            let mut problems = Problems::default();
            problems.add(
                "INVALID_REQUEST",
                "groupId",
                "groupId is required (a tenant id string)",
            );
            return Err(Box::new(bad_request(shared, problems.0)));
        }
    };
    if group != claims.ssp_tenant_id {
        return Err(Box::new(guard::forbidden()));
    }
    let t = lock(&shared.world)
        .tenant_index(&group)
        .ok_or_else(|| Box::new(guard::forbidden()))?;
    Ok((body, t))
}

async fn tenants(
    State(shared): State<Arc<Shared>>,
    Extension(claims): Extension<Claims>,
) -> Response {
    let documented_only = shared.modes().documented_fields_only;
    let world = lock(&shared.world);
    let mine = world
        .tenants
        .iter()
        .filter(|t| t.id == claims.ssp_tenant_id);
    if documented_only {
        // The notes say nothing of this body: another plausible shape.
        let list: Vec<Value> = mine
            .map(|t| json!({"id": t.id, "displayName": t.name}))
            .collect();
        return ok(json!({"data": list}));
    }
    let list: Vec<Value> = mine
        .map(|t| json!({"tenantId": t.id, "tenantName": t.name, "parentTenantId": null}))
        .collect();
    ok(json!({"totalCount": list.len(), "tenantList": list}))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceListAnswer<'a> {
    device_list: Vec<crate::device::DeviceView<'a>>,
    total_count: usize,
    start_index: usize,
    count: usize,
    common: Value,
}

async fn device_list(
    State(shared): State<Arc<Shared>>,
    Extension(claims): Extension<Claims>,
    body: Bytes,
) -> Response {
    let (body, t) = match parse_scoped(&shared, &claims, &body) {
        Ok(scoped) => scoped,
        Err(refusal) => return *refusal,
    };
    let modes = shared.modes();
    let mut problems = Problems::default();
    let query = parse_device_query(&body, &modes, &mut problems);
    if !problems.is_empty() {
        return bad_request(&shared, problems.0);
    }
    let now = shared.now_ms();
    let mut world = lock(&shared.world);
    world.settle(t, now);
    if modes.moving_devices
        && let Some(tenant) = world.tenants.get_mut(t)
    {
        tenant.move_one();
    }
    let Some(tenant) = world.tenants.get(t) else {
        return guard::forbidden();
    };
    let permutation = modes.permuted_order().then_some(Permutation {
        order: &tenant.order,
        rank: &tenant.rank,
    });
    let (page, total) = select(&tenant.devices, permutation, &query, now);
    let answer = DeviceListAnswer {
        count: page.len(),
        device_list: page
            .iter()
            .filter_map(|&i| tenant.devices.get(i))
            .map(|d| d.view(now, &modes))
            .collect(),
        total_count: total,
        start_index: query.paging.start,
        common: json!({"errorList": []}),
    };
    // Serialised under the lock: the views borrow the devices.
    Json(answer).into_response()
}

async fn file_list(
    State(shared): State<Arc<Shared>>,
    Extension(claims): Extension<Claims>,
    body: Bytes,
) -> Response {
    let (body, t) = match parse_scoped(&shared, &claims, &body) {
        Ok(scoped) => scoped,
        Err(refusal) => return *refusal,
    };
    let mut problems = Problems::default();
    let paging = parse_paging(&body, &mut problems);
    if !problems.is_empty() {
        return bad_request(&shared, problems.0);
    }
    let world = lock(&shared.world);
    let files: &[FirmwareFile] = world
        .tenants
        .get(t)
        .map(|t| t.files.as_slice())
        .unwrap_or(&[]);
    let page: Vec<&FirmwareFile> = files.iter().skip(paging.start).take(paging.count).collect();
    ok(json!({
        "firmwareDataList": page,
        "totalCount": files.len(),
        "startIndex": paging.start,
        "count": page.len(),
    }))
}

type Change =
    fn(&mut crate::world::World, usize, &Value, &changes::ChangeContext) -> Result<usize, Problems>;

fn apply_change(
    shared: &Shared,
    claims: &Claims,
    headers: &HeaderMap,
    body: &Bytes,
    change: Change,
) -> Response {
    let (body, t) = match parse_scoped(shared, claims, body) {
        Ok(scoped) => scoped,
        Err(refusal) => return *refusal,
    };
    let context = changes::ChangeContext {
        now: shared.now_ms(),
        modes: shared.modes(),
        header_offset: headers
            .get("x-time-zone")
            .and_then(|v| v.to_str().ok())
            .and_then(changes::parse_header_zone),
    };
    let outcome = change(&mut lock(&shared.world), t, &body, &context);
    match outcome {
        Ok(affected) => {
            bump(&shared.counters.change_requests);
            if shared.modes().documented_fields_only {
                // The notes show no receipt: only the common block.
                ok(json!({}))
            } else {
                ok(json!({"result": "success", "affectedCount": affected}))
            }
        }
        Err(problems) => bad_request(shared, problems.0),
    }
}

async fn set_reservation(
    State(shared): State<Arc<Shared>>,
    Extension(claims): Extension<Claims>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    apply_change(&shared, &claims, &headers, &body, changes::set_reservation)
}

async fn remove_reservation(
    State(shared): State<Arc<Shared>>,
    Extension(claims): Extension<Claims>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    apply_change(
        &shared,
        &claims,
        &headers,
        &body,
        changes::remove_reservation,
    )
}

async fn set_ota_mode(
    State(shared): State<Arc<Shared>>,
    Extension(claims): Extension<Claims>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    apply_change(&shared, &claims, &headers, &body, changes::set_ota_mode)
}

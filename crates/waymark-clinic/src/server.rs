//! The HTTP API. Every handler reads raw bytes and parses them itself, so
//! hostile input gets a `{code, message}` 4xx, never a panic. Storage and
//! crypto run on the blocking pool.

use crate::error::ClinicError;
use crate::store::{ClinicStore, DeviceRecord, DeviceStatus, Origin, Stored};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::Verifier;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use uuid::Uuid;
use waymark_protocol::auth::{claim_covers, read_claim, verify_claim, Claim, CLAIM_HEADER, SIGNATURE_HEADER};
use waymark_protocol::messages::*;
use waymark_protocol::receipt::sign_wipe;
use waymark_protocol::{decode, encode, open, seal, BatchHeader, DeviceKeys, Direction, Envelope, Limits, Receipt};

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn ClinicStore>,
    pub clinic_id: Uuid,
    pub keys: Arc<DeviceKeys>,
    pub limits: Limits,
    pub deadlines: Deadlines,
    pub clock: Clock,
    pub throttle: Arc<Throttle>,
    /// The service's rules and instruments, which every op's content is judged by.
    pub service: Arc<waymark_domain::records::ServiceRules>,
    /// The clinic's copy of the records, which the workspace reads. `None`
    /// only for `import`, which runs beside `serve`: serve catches up by itself.
    pub projection: Option<Arc<crate::projection::Projection>>,
    /// The workspace's built pages, when this clinic serves them (`--workspace-ui`).
    pub workspace_ui: Option<Arc<crate::workspace::WorkspaceUi>>,
    /// What an enrolment code carries about this clinic (its keys, certificate
    /// pin and recovery key), for codes issued in the workspace. `None` where
    /// no codes are issued (tests of other things, `import`).
    pub identity: Option<Arc<crate::identity::PublicInfo>>,
    /// The panel minutes' templates: shipped, with the clinic folder's `templates/` over them.
    pub templates: Arc<crate::minutes::ClinicTemplates>,
    /// The app updates this clinic hands out (the clinic folder's `updates/`);
    /// `None` offers none.
    pub updates: Option<Arc<crate::updates::Releases>>,
    /// Each device's pushes in flight here, so a second batch waits for its first.
    pub push_order: Arc<crate::push_order::PushOrder>,
}

/// How often one network address or one device may call. A laptop's sync
/// round is a handful of calls; these leave room for every laptop of a
/// service behind one office address, while a flood from one source is
/// turned away before it costs a signature check or a database read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per minute from one address, any route.
    pub per_address: u32,
    /// Enrolment attempts per minute from one address (the only route open to anyone).
    pub enrol_per_address: u32,
    /// Signed calls and pushes per minute from one device.
    pub per_device: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { per_address: 600, enrol_per_address: 10, per_device: 120 }
    }
}

/// The clinic's rate limiters (GCRA, from `governor`): each key gets a burst
/// of its quota and then one request per share of the minute.
pub struct Throttle {
    addresses: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    enrolments: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    devices: governor::DefaultKeyedRateLimiter<Uuid>,
}

impl Throttle {
    pub fn new(limits: RateLimits) -> Arc<Self> {
        let per_minute =
            |n: u32| governor::Quota::per_minute(std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN));
        Arc::new(Throttle {
            addresses: governor::RateLimiter::keyed(per_minute(limits.per_address)),
            enrolments: governor::RateLimiter::keyed(per_minute(limits.enrol_per_address)),
            devices: governor::RateLimiter::keyed(per_minute(limits.per_device)),
        })
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        limiter: &governor::DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<(), ClinicError> {
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            ClinicError::RateLimited { retry_after_secs: wait.as_secs().max(1) }
        })
    }

    /// Forgets keys whose quota is full again, so the maps do not grow without end.
    pub fn forget_idle(&self) {
        self.addresses.retain_recent();
        self.enrolments.retain_recent();
        self.devices.retain_recent();
    }
}

/// How long the clinic gives a caller. A slow or stalled upload cannot hold
/// a connection and a worker for longer; an honest laptop on a poor hotspot
/// sends a full batch well within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// A whole push, body included.
    pub push: std::time::Duration,
    /// A whole JSON call (enrol, hello, pull), body included.
    pub call: std::time::Duration,
    /// How far a signed call's `at` may be from the clinic's clock. Older
    /// request ids are forgotten after twice this, so a replay older than
    /// the window is refused by its age instead.
    pub claim_window: chrono::Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            push: std::time::Duration::from_secs(300),
            call: std::time::Duration::from_secs(30),
            claim_window: chrono::Duration::hours(24),
        }
    }
}

/// Small JSON bodies (enrol, hello, pull) never need more than this. The
/// unauthenticated routes get no more than this either.
pub const MAX_JSON_BYTES: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    let batch_limit = usize::try_from(state.limits.max_batch_bytes).unwrap_or(usize::MAX).saturating_add(1);
    let json_limit = DefaultBodyLimit::max(MAX_JSON_BYTES);
    let mut router = Router::new();
    for endpoint in Endpoint::ALL {
        let handler = match endpoint {
            Endpoint::Enrol => post(enrol).layer(json_limit),
            Endpoint::Hello => post(hello).layer(json_limit),
            // A route layer runs only for the route's own method: any other gets 405, unread.
            Endpoint::Push => post(push)
                .layer(DefaultBodyLimit::max(batch_limit))
                .route_layer(axum::middleware::from_fn_with_state(state.clone(), push_sender)),
            Endpoint::Pull => post(pull).layer(json_limit),
            Endpoint::OpenApi => get(openapi),
            Endpoint::UpdateCheck => get(update_check),
            Endpoint::UpdateFile => get(update_file),
        };
        router = router.route(endpoint.path(), handler);
    }
    router
        .merge(crate::workspace::routes(state.clone()))
        .fallback(not_found)
        .layer(json_limit)
        .layer(axum::middleware::from_fn_with_state(state.clone(), deadline))
        .layer(axum::middleware::from_fn_with_state(state.clone(), per_address))
        .with_state(state)
}

/// The unit an address limit counts: an IPv4 address, or an IPv6 /64 (one
/// host can use every address in its /64). Behind a reverse proxy every
/// laptop shares the proxy's address: raise `--per-address` there.
pub(crate) fn network_of(ip: std::net::IpAddr) -> std::net::IpAddr {
    // A server listening on [::] sees IPv4 callers as ::ffff:a.b.c.d: each is its own address, not one /64.
    match ip.to_canonical() {
        std::net::IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            std::net::IpAddr::V6(std::net::Ipv6Addr::from(octets))
        }
        v4 => v4,
    }
}

/// Turns away an address that calls too often, before anything else runs.
/// The address comes from the connection (`serve` provides it); a router
/// driven in process without one is not limited by address.
async fn per_address(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address =
        request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| network_of(c.0.ip()));
    if let Some(ip) = address {
        let mut checked = Throttle::check(&state.throttle.addresses, &ip);
        if checked.is_ok() && request.uri().path() == PATH_ENROL {
            checked = Throttle::check(&state.throttle.enrolments, &ip);
        }
        if let Err(e) = checked {
            tracing::warn!(route = request.uri().path(), "an address called too often; refused for a while");
            return e.into_response();
        }
    }
    next.run(request).await
}

/// Ends a request that runs past its deadline with `timeout` (408).
async fn deadline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = if request.uri().path() == PATH_PUSH { state.deadlines.push } else { state.deadlines.call };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ClinicError::Timeout.into_response(),
    }
}

/// The body, or the refusal that says why it could not be read: too large
/// (413, as JSON like every refusal) or cut off.
fn body(result: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ClinicError> {
    result.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ClinicError::Protocol(waymark_protocol::ProtocolError::TooLarge {
                limit: u64::try_from(limit).unwrap_or(u64::MAX),
            })
        } else {
            ClinicError::BadRequest("the body could not be read whole")
        }
    })
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ClinicError> + Send + 'static,
) -> Result<T, ClinicError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| ClinicError::Store("worker stopped".into()))?
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::OPENAPI).into_response()
}

/// Whether the clinic offers a newer app: Tauri's updater's answer, or 204.
async fn update_check(
    State(state): State<AppState>,
    axum::extract::Path((target, current)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ClinicError> {
    let target = waymark_protocol::messages::UpdateTarget::from_wire(&target).ok_or(ClinicError::NotFound)?;
    let Some(releases) = state.updates.clone() else { return Ok(StatusCode::NO_CONTENT.into_response()) };
    // The file is offered where the laptop reached this clinic (through a balancer, its name).
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or(ClinicError::BadRequest("host"))?
        .to_owned();
    let offer = blocking(move || releases.offer(target, &current, &format!("https://{host}"))).await?;
    Ok(match offer {
        Some(offer) => Json(offer).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Which release a download is for: the offer names it, so a file published
/// since the laptop's check is not handed out against the old signature.
#[derive(serde::Deserialize)]
struct ReleaseQuery {
    #[serde(default)]
    sha256: Option<String>,
}

/// The published update's file, streamed from disk as it was published.
async fn update_file(
    State(state): State<AppState>,
    axum::extract::Path(target): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<ReleaseQuery>,
) -> Result<Response, ClinicError> {
    let target = waymark_protocol::messages::UpdateTarget::from_wire(&target).ok_or(ClinicError::NotFound)?;
    let releases = state.updates.clone().ok_or(ClinicError::NotFound)?;
    let (path, size) =
        blocking(move || releases.servable(target, query.sha256.as_deref())).await?.ok_or(ClinicError::NotFound)?;
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true);
    // Checked as a regular file just now; a link swapped in since is not followed.
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW);
    let file = options.open(&path).await.map_err(|_| ClinicError::NotFound)?;
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream".to_owned()), (header::CONTENT_LENGTH, size.to_string())],
        body,
    )
        .into_response())
}

async fn not_found() -> Response {
    let body = ErrorBody::new("not_found", "no such endpoint; see /v1/openapi.json");
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ClinicError> {
    if body.len() > MAX_JSON_BYTES {
        return Err(ClinicError::BadRequest("the body is too large"));
    }
    serde_json::from_slice(body).map_err(|_| ClinicError::BadRequest("the body is not the expected JSON"))
}

/// The device a message names, or `unknown_device`. Its status is not
/// told here: only after the message's signature has been checked.
fn known(device: Option<DeviceRecord>) -> Result<DeviceRecord, ClinicError> {
    device.ok_or(ClinicError::UnknownDevice)
}

/// Refuses a device whose signature has been checked but which may not sync:
/// revoked (with a wipe order signed for this device and this request),
/// enrolled before codes were bound and not yet confirmed, or whose advocate
/// is no longer active.
fn may_sync(state: &AppState, device: &DeviceRecord, request: Uuid) -> Result<(), ClinicError> {
    if device.status == DeviceStatus::Revoked {
        tracing::warn!(device = %device.id, "a revoked device made contact; refused with a signed wipe order");
        return Err(ClinicError::Revoked { wipe_signature: sign_wipe(&state.keys.signing, device.id, request) });
    }
    if !device.confirmed {
        return Err(ClinicError::Unconfirmed);
    }
    match state.store.staff(&device.advocate)? {
        Some(member) if member.active => Ok(()),
        _ => Err(ClinicError::StaffInactive),
    }
}

async fn enrol(
    State(state): State<AppState>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<EnrolResponse>, ClinicError> {
    let request: EnrolRequest = parse_json(&body(raw, MAX_JSON_BYTES)?)?;
    let claimed = request.advocate.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
    // The token is the caller's only credential: an unknown, used or expired
    // one is refused (401) before anything else in the request is judged.
    let token_hash = hex::encode(Sha256::digest(request.token.as_bytes()));
    let open = {
        let (store, hash, device, now) = (state.store.clone(), token_hash.clone(), request.device_id, (state.clock)());
        blocking(move || store.enrolment_open(&hash, device, now)).await?
    };
    if !open {
        return Err(ClinicError::EnrolmentRefused);
    }
    // The nil id and the clinic's own id would confuse whose ops are whose.
    if request.device_id.is_nil() || request.device_id == state.clinic_id {
        return Err(ClinicError::BadDeviceId);
    }
    let key = request.keys.verifying_key()?;
    request.keys.recipient()?;
    let proof = B64
        .decode(&request.proof)
        .ok()
        .and_then(|p| <[u8; 64]>::try_from(p.as_slice()).ok())
        .ok_or(ClinicError::BadRequest("proof"))?;
    key.verify(&enrol_proof_message(&request.token, request.device_id), &ed25519_dalek::Signature::from_bytes(&proof))
        .map_err(|_| ClinicError::Protocol(waymark_protocol::ProtocolError::BadSignature))?;
    let now = (state.clock)();
    let device = DeviceRecord {
        id: request.device_id,
        // Replaced by the advocate the code is bound to; never the claim.
        advocate: String::new(),
        confirmed: true,
        keys: request.keys,
        status: DeviceStatus::Active,
        enrolled_at: now,
        revoked_at: None,
        last_seen_at: Some(now),
        acked_through: 0,
    };
    let store = state.store.clone();
    let record = blocking(move || store.enrol(&token_hash, &device, claimed.as_deref(), now)).await?;
    tracing::info!(device = %record.id, "device enrolled");
    Ok(Json(EnrolResponse {
        clinic_id: state.clinic_id,
        advocate: record.advocate,
        acked_through: record.acked_through,
    }))
}

/// A push's sender, checked from its signed claim before a byte of the batch
/// is read: an unknown, unsigned or stale sender, or one that may not sync,
/// cannot make the clinic read a 16 MiB body.
#[derive(Clone)]
struct PushSender {
    device: Uuid,
    claim: Claim,
    /// The push counted in flight, until the last copy is dropped: the
    /// storing worker holds one, so a client that hangs up does not end the
    /// count while its batch is still being stored.
    in_flight: Arc<crate::push_order::InFlight>,
}

async fn push_sender(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers().clone();
    let order = state.push_order.clone();
    match blocking(move || sender(&state, &headers, PATH_PUSH)).await {
        Ok((device, claim)) => {
            // Counted from its headers, before its body arrives: a batch sent after it finds it in flight.
            let in_flight = match crate::push_order::PushOrder::enter(&order, device.id) {
                Ok(in_flight) => Arc::new(in_flight),
                Err(e) => return e.into_response(),
            };
            request.extensions_mut().insert(PushSender { device: device.id, claim, in_flight });
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

async fn push(
    State(state): State<AppState>,
    axum::Extension(sender): axum::Extension<PushSender>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<PushResponse>, ClinicError> {
    let bytes = body(raw, usize::try_from(state.limits.max_batch_bytes).unwrap_or(usize::MAX))?;
    // The worker holds the count until its batch is stored, whatever the connection does.
    let in_flight = sender.in_flight.clone();
    let response = blocking(move || {
        let _in_flight = in_flight;
        claim_covers(&sender.claim, &bytes)?;
        let (device, batch_id, stored) =
            receive_upward(&state, &bytes, Freshness::Online(sender.device, sender.claim.request_id))?;
        let receipt = Receipt {
            device,
            through: stored.acked_through,
            op: stored.acked_op,
            request: batch_id,
            quarantined: &stored.quarantined,
            refused: &stored.refused,
        };
        let signature = receipt.sign(&state.keys.signing);
        Ok(PushResponse {
            acked_through: stored.acked_through,
            acked_op: stored.acked_op,
            quarantined: stored.quarantined,
            refused: stored.refused,
            signature,
        })
    })
    .await?;
    Ok(Json(response))
}

/// Whether a batch must be recent: one pushed over the network must have
/// been sealed within the claim window (older batch ids are forgotten); one
/// carried on a USB stick may be as old as the stick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Pushed now by this device, as this batch id (from its signed claim).
    Online(Uuid, Uuid),
    Bundle,
}

/// Checks and stores a device's sealed batch: from the network (`push`) or
/// from a USB stick (`waymark-clinic import`), with the same guarantees.
/// Returns the device, the batch id (what the acknowledgement answers) and what was stored.
pub fn receive_upward(
    state: &AppState,
    bytes: &[u8],
    freshness: Freshness,
) -> Result<(Uuid, Uuid, Stored), ClinicError> {
    let batch = decode(bytes, &state.limits)?;
    if batch.header.direction != Direction::Up || batch.header.recipient != state.clinic_id {
        return Err(ClinicError::BadRequest("the batch is not addressed to this clinic"));
    }
    if let Freshness::Online(device, batch_id) = freshness {
        // The claim and the batch are one sending: the same device, and the batch's own id.
        if batch.header.sender != device || batch.header.batch_id != batch_id {
            return Err(ClinicError::Protocol(waymark_protocol::ProtocolError::HeaderMismatch("claim")));
        }
        if (batch.header.sent_at - (state.clock)()).abs() > state.deadlines.claim_window {
            return Err(ClinicError::Stale);
        }
    }
    let device = known(state.store.device(batch.header.sender)?)?;
    let opened = open(&batch, &device.keys.verifying_key()?, &state.keys.sealing, &state.limits)?;
    may_sync(state, &device, opened.header.batch_id)?;
    let origin = Origin::Device {
        id: device.id,
        advocate: &device.advocate,
        max_ahead_ms: crate::authority::MAX_HLC_AHEAD_MS,
        service: &state.service,
    };
    // Readied while the batch before it may still be storing: only what follows waits.
    let readied = crate::authority::ready(&opened.ops, &origin);
    if let Freshness::Online(..) = freshness {
        // A batch sent while the one before it is still being stored waits for it.
        state.push_order.wait_turn(device.id, opened.header.first_seq, crate::push_order::MOST_WAIT, || {
            Ok(known(state.store.device(device.id)?)?.acked_through)
        })?;
    }
    let stored = state.store.store_ready(origin, opened.header.batch_id, &readied, (state.clock)())?;
    if let Some(projection) = &state.projection {
        projection.changed();
    }
    // After the commit: a warning is kept with an op, never a reason to refuse it.
    if let Err(e) = crate::text_guard::note_warnings(&*state.store, &opened.ops, &stored, (state.clock)()) {
        tracing::warn!(code = e.code().as_str(), "the address guard could not keep a warning");
    }
    tracing::info!(
        device = %device.id,
        new = stored.inserted,
        again = stored.duplicates,
        refused = stored.refused.len(),
        acked = stored.acked_through,
        "batch stored"
    );
    Ok((device.id, opened.header.batch_id, stored))
}

/// Checks a signed request and returns its device and the request id.
fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(DeviceRecord, Uuid), ClinicError> {
    let (device, claim) = sender(state, headers, path)?;
    claim_covers(&claim, body)?;
    Ok((device, claim.request_id))
}

/// Checks a request's signed claim, everything but its body: the device is
/// known, signed it for this path, recently, once, and may sync.
fn sender(state: &AppState, headers: &HeaderMap, path: &str) -> Result<(DeviceRecord, Claim), ClinicError> {
    // Who is calling comes first: a request without a readable claim is unauthenticated (401), whatever its body.
    let header_text = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()).ok_or(ClinicError::Unsigned)
    };
    let (claim, claim_bytes) = read_claim(header_text(CLAIM_HEADER)?).map_err(|_| ClinicError::Unsigned)?;
    let device = known(state.store.device(claim.device)?)?;
    verify_claim(&claim, &claim_bytes, header_text(SIGNATURE_HEADER)?, &device.keys.verifying_key()?, path)?;
    // Counted only once the device signed it: device ids are no secret, and
    // forged claims naming one must not lock that laptop out.
    Throttle::check(&state.throttle.devices, &claim.device)?;
    // Request ids are kept for twice the window, so an older claim could be a replay nobody remembers.
    if (claim.at - (state.clock)()).abs() > state.deadlines.claim_window {
        return Err(ClinicError::Stale);
    }
    state.store.use_request_id(device.id, claim.request_id, (state.clock)())?;
    may_sync(state, &device, claim.request_id)?;
    Ok((device, claim))
}

async fn hello(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<HelloResponse>, ClinicError> {
    let body = body(raw, MAX_JSON_BYTES)?;
    let response = blocking(move || {
        let (device, request) = authenticate(&state, &headers, PATH_HELLO, &body)?;
        let acked_op = state.store.op_id_at(device.id, device.acked_through)?;
        let receipt = Receipt {
            device: device.id,
            through: device.acked_through,
            op: acked_op,
            request,
            quarantined: &[],
            refused: &[],
        };
        Ok(HelloResponse {
            acked_through: device.acked_through,
            acked_op,
            feed_head: state.store.feed_head()?,
            clinic_time: (state.clock)(),
            signature: receipt.sign(&state.keys.signing),
        })
    })
    .await?;
    Ok(Json(response))
}

async fn pull(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ClinicError> {
    let body = body(raw, MAX_JSON_BYTES)?;
    let bytes = blocking(move || {
        let (device, _) = authenticate(&state, &headers, PATH_PULL, &body)?;
        let request: PullRequest = parse_json(&body)?;
        let limit = request.max_ops.clamp(1, state.limits.max_ops);
        // Answering `last_seq = after` would let a laptop keep a position past
        // the end and skip every op that later fills it.
        if request.after > state.store.feed_head()? {
            return Err(ClinicError::CursorAhead);
        }
        let page = state.store.feed(device.id, &device.advocate, request.after, limit)?;
        let envelope = Envelope {
            batch_id: Uuid::now_v7(),
            sender: state.clinic_id,
            recipient: device.id,
            sent_at: (state.clock)(),
        };
        let header = BatchHeader::downward(envelope, &page.ops, request.after, page.through);
        let sealed = seal(header, &page.ops, &device.keys.recipient()?, &state.keys.signing)?;
        Ok(encode(&sealed))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

/// How long the feed must be still before the clinic's copy catches up: a
/// laptop's push comes as several batches in a row, and applying one while
/// the next is stored takes a core from the push (the copy is never waited
/// for; a laptop's acknowledgement is the feed's commit).
const FEED_QUIET: std::time::Duration = std::time::Duration::from_millis(250);
/// The furthest the copy falls behind a feed that is never still (many
/// laptops pushing at once): it catches up then anyway.
const COPY_MOST_BEHIND: std::time::Duration = std::time::Duration::from_secs(3);

/// Keeps the clinic's copy of the records up with the feed: once the feed is
/// still after a stored batch (`FEED_QUIET`, at most `COPY_MOST_BEHIND`), and
/// every few seconds for changes another process stored (`import`, the admin
/// command line).
async fn follow_feed(projection: Arc<crate::projection::Projection>, store: Arc<dyn ClinicStore>) {
    loop {
        let (copy, feed) = (projection.clone(), store.clone());
        match blocking(move || copy.catch_up(&*feed)).await {
            Ok(done) if done.applied > 0 => tracing::info!(
                applied = done.applied,
                through = done.through,
                "the clinic's copy of the records caught up"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                code = e.code().as_str(),
                "the clinic's copy of the records could not catch up; will try again"
            ),
        }
        if tokio::time::timeout(std::time::Duration::from_secs(5), projection.wait_for_change()).await.is_ok() {
            let latest = tokio::time::Instant::now() + COPY_MOST_BEHIND;
            // Each further change restarts the wait for a still feed, up to `latest`.
            while let Ok(()) = tokio::time::timeout_at(
                latest.min(tokio::time::Instant::now() + FEED_QUIET),
                projection.wait_for_change(),
            )
            .await
            {}
        }
    }
}

/// Serves the API over TLS on an already-bound listener until the process ends.
pub async fn serve(listener: std::net::TcpListener, tls: rustls::ServerConfig, state: AppState) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
    let mut server = axum_server::from_tcp_rustls(listener, config)?;
    // A connection that trickles its headers, or idles between requests, is closed.
    server.http_builder().http1().header_read_timeout(std::time::Duration::from_secs(20)).keep_alive(true);
    if let Some(projection) = state.projection.clone() {
        tokio::spawn(follow_feed(projection, state.store.clone()));
    }
    let pruning = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let state = pruning.clone();
            state.throttle.forget_idle();
            let before = (state.clock)() - state.deadlines.claim_window * 2;
            let now = (state.clock)();
            let pruned = blocking(move || {
                state.store.prune(before)?;
                let policy = crate::signin::SessionPolicy::default();
                state.store.prune_sign_in(now, policy, now - crate::signin::FAILURES_REMEMBERED)
            });
            if let Err(e) = pruned.await {
                tracing::warn!(
                    code = e.code().as_str(),
                    "pruning old ids, sessions and sign-in failures failed; will try again"
                );
            }
        }
    });
    server.serve(router(state).into_make_service_with_connect_info::<std::net::SocketAddr>()).await
}

//! The HTTP side: health, Prometheus metrics and the JSON API (`/api/v1`). The review
//! console is built on the same router in a later stage.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scamsweep_crawler::source::SourceSpec;
use scamsweep_queue::Queue;
use scamsweep_queue::metrics::{DepthLabel, Metrics};
use scamsweep_queue::sources::{self, SourceError, SourceStatus};
use scamsweep_store::documents::{self, DocumentSummary};
use scamsweep_store::{Db, StoreError};
use serde::{Deserialize, Serialize};

/// Shared state of the HTTP handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub queue: Queue,
    pub metrics: Arc<Metrics>,
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/documents", get(list_documents))
        .route("/api/v1/sources", get(list_sources).post(add_source))
        .route("/api/v1/sources/{id}/crawl", post(crawl_source))
        .with_state(state)
}

/// An API error: a status and a message, sent as `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage error in API handler");
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable".into(),
        )
    }
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.queue.outstanding(&[]).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}\n")).into_response(),
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    match st.queue.depth().await {
        Ok(rows) => {
            st.metrics.queue_depth.clear();
            for (queue, state, n) in rows {
                st.metrics
                    .queue_depth
                    .get_or_create(&DepthLabel { queue, state })
                    .set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "queue depth unavailable for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.metrics.encode(),
    )
        .into_response()
}

/// Query of `GET /api/v1/documents`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `new`, `scored`, `flagged`, `confirmed` or `rejected`; all when absent.
    pub status: Option<String>,
    /// Return documents with ids greater than this (the previous page's `next_after`).
    pub after: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// One page of documents.
#[derive(Debug, Serialize, Deserialize)]
pub struct DocumentPage {
    pub documents: Vec<DocumentSummary>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<i64>,
}

async fn list_documents(
    State(st): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<DocumentPage>, ApiError> {
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status
        && !documents::status::ALL.contains(&s)
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown status `{}`: use one of {}",
                s.chars().take(40).collect::<String>(),
                documents::status::ALL.join(", ")
            ),
        ));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "limit must be between 1 and 200".into(),
        ));
    }
    let after = q.after.unwrap_or(0);
    let documents = documents::list_documents(&st.db, status, after, limit).await?;
    let next_after = (documents.len() as i64 == limit)
        .then(|| documents.last().map(|d| d.id))
        .flatten();
    Ok(Json(DocumentPage {
        documents,
        next_after,
    }))
}

/// Every source with its schedule and health.
async fn list_sources(State(st): State<AppState>) -> Result<Json<Vec<SourceStatus>>, ApiError> {
    Ok(Json(sources::list(&st.db).await?))
}

/// Adds a source (201) or replaces the spec of the one with that name (200). The body is
/// a source spec, the same keys as a `[[sources]]` entry in the config file.
async fn add_source(
    State(st): State<AppState>,
    body: Result<Json<SourceSpec>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(spec) = body.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    match sources::add(&st.db, &spec, "api").await {
        Ok((id, created)) => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((
                status,
                Json(serde_json::json!({"id": id, "name": spec.name})),
            )
                .into_response())
        }
        Err(SourceError::Spec(e)) => Err(ApiError(StatusCode::BAD_REQUEST, e.to_string())),
        Err(SourceError::Store(e)) => Err(e.into()),
    }
}

/// Makes a source due now; the next scheduler pass (any process) starts its crawl.
async fn crawl_source(
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if scamsweep_store::sources::get(&st.db, id).await?.is_none() {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no source {id}")));
    }
    scamsweep_store::sources::make_due(&st.db, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"id": id, "status": "due"})),
    )
        .into_response())
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

//! GraphQL over HTTP, as the GraphQL-over-HTTP spec asks:
//! - `POST` takes `application/json` (else 415); a JSON array batch is refused with 400.
//! - `GET` runs queries from the URL; a mutation over GET is 405 with `Allow: POST`.
//! - The response is `application/graphql-response+json` when the client accepts it, with 400
//!   for requests that fail to parse or validate; otherwise `application/json`, always 200 for
//!   a well-formed request.

use std::net::SocketAddr;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, graphiql};
use crate::graphql::RequestContext;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Which response media type the client gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    GraphqlResponse,
    Json,
}

fn media_types(headers: &HeaderMap, name: header::HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|part| {
            part.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn negotiate(headers: &HeaderMap) -> Option<Flavor> {
    let accepted = media_types(headers, header::ACCEPT);
    if accepted.is_empty() {
        return Some(Flavor::Json);
    }
    if accepted.iter().any(|a| a == GRAPHQL_RESPONSE) {
        return Some(Flavor::GraphqlResponse);
    }
    accepted
        .iter()
        .any(|a| a == JSON || a == "*/*" || a == "application/*")
        .then_some(Flavor::Json)
}

fn plain_error(status: StatusCode, flavor: Flavor, message: &str) -> Response {
    let code = crate::error::ErrorCode::BadRequest.as_str();
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    with_type(status, flavor, body.to_string())
}

fn with_type(status: StatusCode, flavor: Flavor, body: impl Into<axum::body::Body>) -> Response {
    let ct = match flavor {
        Flavor::GraphqlResponse => GRAPHQL_RESPONSE,
        Flavor::Json => JSON,
    };
    let mut resp = Response::new(body.into());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    resp
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    request: async_graphql::Request,
    flavor: Flavor,
) -> Response {
    let meta = super::request_meta(state, peer, headers);
    let context = match RequestContext::build(&state.services, bearer(headers), meta).await {
        Ok(c) => c,
        Err(e) => {
            let err: async_graphql::Error = e.into();
            let body =
                json!({ "errors": [{ "message": err.message, "extensions": err.extensions }] });
            return with_type(StatusCode::INTERNAL_SERVER_ERROR, flavor, body.to_string());
        }
    };
    let response = state.schema.execute(context.attach(request)).await;

    // A request error (it did not parse or validate) has no path and no data.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    // Serialised once, straight to bytes; a request error leaves `data` out, as the
    // GraphQL-over-HTTP spec asks.
    let body = if request_error {
        serde_json::to_vec(&RequestErrors {
            errors: &response.errors,
            extensions: &response.extensions,
        })
    } else {
        serde_json::to_vec(&response)
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(cause = %e, "could not serialise a GraphQL response");
            return plain_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                flavor,
                "could not serialise the response",
            );
        }
    };
    let status = if request_error && flavor == Flavor::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    with_type(status, flavor, body)
}

/// The body of a response to a request that never ran: its errors, and no `data`.
#[derive(serde::Serialize)]
struct RequestErrors<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

pub(super) async fn post_graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(flavor) = negotiate(&headers) else {
        return (
            StatusCode::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        )
            .into_response();
    };
    let content_types = media_types(&headers, header::CONTENT_TYPE);
    if content_types.first().map(String::as_str) != Some(JSON) {
        let mut resp = plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            flavor,
            "send the request as Content-Type: application/json",
        );
        resp.headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static(JSON));
        return resp;
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'[') {
        return plain_error(
            StatusCode::BAD_REQUEST,
            flavor,
            "batched requests are not supported: send one operation per request",
        );
    }
    let request = match serde_json::from_slice::<PostBody>(&body) {
        Ok(b) => b.into_request(),
        Err(e) => {
            return plain_error(
                StatusCode::BAD_REQUEST,
                flavor,
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    execute(&state, &headers, peer, request, flavor).await
}

/// A POST body. Unlike the library's own `Request`, `query` is required and must be a string,
/// so a misspelt or missing `query` is a 400 rather than an empty document.
#[derive(serde::Deserialize)]
struct PostBody {
    query: String,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
    #[serde(default)]
    variables: async_graphql::Variables,
    #[serde(default)]
    extensions: async_graphql::Extensions,
}

impl PostBody {
    fn into_request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query).variables(self.variables);
        request.operation_name = self.operation_name;
        request.extensions = self.extensions;
        request
    }
}

/// True when the operation the request would run is not a query.
fn is_non_query(request: &async_graphql::Request) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let ty = match (&doc.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    ty.is_some_and(|t| t != OperationType::Query)
}

/// The URL parameters of a GET request, spelled as the GraphQL-over-HTTP spec spells them.
#[derive(serde::Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn request_from_params(params: GetParams) -> Result<async_graphql::Request, String> {
    let mut request = async_graphql::Request::new(params.query.unwrap_or_default());
    if let Some(name) = params.operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(raw) = params.variables.filter(|v| !v.is_empty()) {
        let value: serde_json::Value =
            serde_json::from_str(&raw).map_err(|e| format!("`variables` is not JSON: {e}"))?;
        request = request.variables(async_graphql::Variables::from_json(value));
    }
    if let Some(raw) = params.extensions.filter(|v| !v.is_empty()) {
        request.extensions = serde_json::from_str(&raw)
            .map_err(|e| format!("`extensions` is not a JSON object: {e}"))?;
    }
    Ok(request)
}

pub(super) async fn get_graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = match Query::<GetParams>::try_from_uri(&uri) {
        Ok(Query(p)) => p,
        Err(e) => {
            let flavor = negotiate(&headers).unwrap_or(Flavor::Json);
            return plain_error(
                StatusCode::BAD_REQUEST,
                flavor,
                &format!("could not read the query parameters: {e}"),
            );
        }
    };
    if params.query.is_none() {
        let wants_html = media_types(&headers, header::ACCEPT)
            .iter()
            .any(|a| a == "text/html");
        if wants_html && state.config.graphiql {
            return graphiql::page(&headers);
        }
        let flavor = negotiate(&headers).unwrap_or(Flavor::Json);
        return plain_error(
            StatusCode::BAD_REQUEST,
            flavor,
            "missing the `query` parameter",
        );
    }
    let Some(flavor) = negotiate(&headers) else {
        return (
            StatusCode::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json",
        )
            .into_response();
    };
    let request = match request_from_params(params) {
        Ok(r) => r,
        Err(message) => return plain_error(StatusCode::BAD_REQUEST, flavor, &message),
    };
    if is_non_query(&request) {
        let mut resp = plain_error(
            StatusCode::METHOD_NOT_ALLOWED,
            flavor,
            "only queries run over GET: send mutations with POST, and subscriptions over /graphql/ws",
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    execute(&state, &headers, peer, request, flavor).await
}

//! The schema's one extension: every request and every subscription passes through it.
//! - Preparing: reuse the parsed document if this text was seen (and validated) before
//!   ([`super::documents`]), else parse it once; then the limits ([`super::limits`]) and the required variables,
//!   before the library looks at the document.
//! - Validating: reuse a kept validation where it cannot depend on variables; code the
//!   library's validation errors.
//! - Resolving and answering: the error model of [`super::errors`].
//!
//! One extension rather than one per concern: the library boxes a future for every hook of
//! every extension on every request, and for every field.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextRequest, NextResolve,
    NextSubscribe, NextValidation, ResolveInfo,
};
use async_graphql::futures_util::stream::{BoxStream, StreamExt};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value};

use super::RequestContext;
use super::documents::{DocumentCache, Entry, MAX_QUERY_BYTES};
use super::errors::{self, Failures};
use super::limits::{self, Limits};
use super::lock;
use crate::error::ErrorCode;

/// Why the caller may not run this root field, if they may not.
fn root_field_refusal(ctx: &ExtensionContext<'_>, info: &ResolveInfo<'_>) -> Option<ServerError> {
    if info.path_node.parent.is_some() || info.is_for_introspection {
        return None;
    }
    let request = ctx.data_opt::<RequestContext>()?;
    let refusal = request.principal.may_run(info.name).err()?;
    let mut error = ServerError::from(refusal);
    error.path = info
        .path_node
        .to_string_vec()
        .into_iter()
        .map(async_graphql::PathSegment::Field)
        .collect();
    Some(error)
}

/// Builds one [`GateExtension`] per request, sharing the document cache.
pub(super) struct Gate {
    limits: Limits,
    documents: Arc<DocumentCache>,
}

impl Gate {
    pub(super) fn new(limits: Limits) -> Self {
        Self {
            limits,
            documents: Arc::default(),
        }
    }
}

impl ExtensionFactory for Gate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GateExtension {
            limits: self.limits,
            documents: self.documents.clone(),
            failures: Arc::default(),
            prepared: Mutex::default(),
        })
    }
}

struct GateExtension {
    limits: Limits,
    documents: Arc<DocumentCache>,
    /// Shared with a subscription's response stream.
    failures: Arc<Mutex<Failures>>,
    /// What validation needs of the prepared request.
    prepared: Mutex<Option<Prepared>>,
}

/// The prepared request's document, as validation sees it.
struct Prepared {
    operation: Option<String>,
    document: Document,
}

enum Document {
    /// Seen before: its entry, which may hold a kept validation.
    Seen(Arc<Entry>),
    /// New: kept once it validates.
    New(String, async_graphql::parser::types::ExecutableDocument),
}

#[async_trait::async_trait]
impl Extension for GateExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        errors::finish(next.run(ctx).await, &self.failures)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let failures = self.failures.clone();
        next.run(ctx, stream)
            .map(move |resp| errors::finish(resp, &failures))
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        let seen = self.documents.get(&request.query);
        if let Some(entry) = &seen {
            request.set_parsed_query(entry.doc.clone());
        }
        // Taken out and put back rather than cloned: `parsed_query` borrows the request.
        let variables = std::mem::take(&mut request.variables);
        let operation = request.operation_name.take();
        let checked = match request.parsed_query() {
            Ok(doc) => limits::check(&ctx.schema_env.registry, doc, &variables, self.limits)
                .and_then(|_| {
                    errors::required_variables_given(doc, operation.as_deref(), &variables)
                        .map_err(ServerError::from)
                }),
            Err(mut e) => {
                let mut ext = e.extensions.take().unwrap_or_default();
                ext.set("code", ErrorCode::GraphqlParseFailed.as_str());
                e.extensions = Some(ext);
                Err(e)
            }
        };
        request.variables = variables;
        checked?;
        let document = match seen {
            Some(entry) => Some(Document::Seen(entry)),
            None if request.query.len() <= MAX_QUERY_BYTES => Some(Document::New(
                request.query.clone(),
                request.parsed_query()?.clone(),
            )),
            None => None,
        };
        *lock(&self.prepared) = document.map(|document| Prepared {
            operation: operation.clone(),
            document,
        });
        request.operation_name = operation;
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let prepared = lock(&self.prepared).take();
        if let Some(Prepared {
            operation,
            document: Document::Seen(entry),
        }) = &prepared
            && let Some(kept) = entry.validation(operation.as_deref())
        {
            return Ok(kept);
        }
        let result = next.run(ctx).await.map_err(errors::code_validation_errors);
        if let (
            Some(Prepared {
                operation,
                document,
            }),
            Ok(valid),
        ) = (prepared, &result)
        {
            let entry = match document {
                Document::Seen(entry) => Some(entry),
                // Only a document that validated is worth keeping.
                Document::New(query, doc) => self.documents.insert(&query, doc),
            };
            if let Some(entry) = entry {
                entry.keep_validation(operation.as_deref(), *valid);
            }
        }
        result
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let return_type = info.return_type;
        let path_node = info.path_node;
        // Root fields ask the caller whether they may run at all (a member who must change
        // their password may run only a few). Checked here, once for every root field, so a
        // field added later is held back without anyone remembering to guard it.
        let result = match root_field_refusal(ctx, &info) {
            Some(refusal) => Err(refusal),
            None => next.run(ctx, info).await,
        };
        errors::settle(&self.failures, return_type, path_node, result)
    }
}

//! Every error a client receives carries a code from [`ErrorCode`], whatever produced it: our
//! resolvers (coded through `AppError`), our limits, or the library's own parser, validation
//! and input coercion, which code nothing.
//!
//! And a field whose resolver or guard fails is handled as the GraphQL spec asks (the library
//! drops the key instead): a nullable field becomes `null`; a failed non-null field makes its
//! nearest nullable ancestor (or list item) `null`, and `data` itself when there is none.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextRequest, NextResolve,
    NextSubscribe, NextValidation, ResolveInfo,
};
use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument};
use async_graphql::futures_util::stream::{BoxStream, StreamExt};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value};

use crate::error::{AppError, ErrorCode};

/// The extension that codes every error and nulls failed nullable fields.
pub struct ErrorShape;

impl ExtensionFactory for ErrorShape {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorShapeExtension::default())
    }
}

/// One per request (or per subscription), so the errors of nulled fields stay with it.
#[derive(Default)]
struct ErrorShapeExtension {
    nulled: Arc<Mutex<Vec<ServerError>>>,
    /// Paths of failed non-null fields whose null has not yet been absorbed by a nullable
    /// ancestor. Inner fields finish before outer ones, so an ancestor sees them all.
    pending: Arc<Mutex<Vec<Vec<String>>>>,
}

#[async_trait::async_trait]
impl Extension for ErrorShapeExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        finish(next.run(ctx).await, &self.nulled, &self.pending)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let nulled = self.nulled.clone();
        let pending = self.pending.clone();
        next.run(ctx, stream)
            .map(move |resp| finish(resp, &nulled, &pending))
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        // The limits run first (they parse the document); the parsed document is kept.
        let mut request = next.run(ctx, request).await?;
        let operation = request.operation_name.clone();
        let variables = request.variables.clone();
        let doc = request.parsed_query()?;
        required_variables_given(doc, operation.as_deref(), &variables)
            .map_err(ServerError::from)?;
        Ok(request)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = validation_code(&e.message);
                    with_code(e, code)
                })
                .collect()
        })
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let ty = info.return_type;
        let nullable = !ty.ends_with('!');
        // `[T]` or `[T]!`: a list whose items may be null.
        let items_nullable = ty.starts_with('[') && !ty.trim_end_matches('!').ends_with("!]");
        let path_node = info.path_node;
        match next.run(ctx, info).await {
            Err(err) if nullable => {
                lock(&self.nulled).push(err);
                Ok(Some(Value::Null))
            }
            Err(err) => {
                lock(&self.pending).push(path_node.to_string_vec());
                Err(err)
            }
            Ok(Some(mut value)) if !lock(&self.pending).is_empty() => {
                let path = path_node.to_string_vec();
                let mut pending = lock(&self.pending);
                let below: Vec<Vec<String>> = pending
                    .extract_if(.., |p| p.len() > path.len() && p.starts_with(&path))
                    .collect();
                if below.is_empty() {
                    return Ok(Some(value));
                }
                if items_nullable && let Value::List(items) = &mut value {
                    // Only the items holding a failure become null.
                    for failed in &below {
                        if let Some(item) = failed[path.len()]
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| items.get_mut(i))
                        {
                            *item = Value::Null;
                        }
                    }
                    Ok(Some(value))
                } else if nullable {
                    Ok(Some(Value::Null))
                } else {
                    // Not ours to absorb: the nearest nullable ancestor will.
                    pending.extend(below);
                    Ok(Some(value))
                }
            }
            other => other,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Variable coercion, as the spec orders it before execution: a variable of a non-null type
/// without a default must be given, and not as `null`. (The library would only notice inside
/// the resolver that reads it, as an uncoded error with a path.)
fn required_variables_given(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    variables: &async_graphql::Variables,
) -> Result<(), AppError> {
    let op = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op,
            None => return Ok(()),
        },
        // Several operations and no name: choosing one fails later, with its own error.
        (DocumentOperations::Multiple(_), None) => return Ok(()),
    };
    for def in &op.node.variable_definitions {
        let def = &def.node;
        let required = !def.var_type.node.nullable && def.default_value.is_none();
        let given = variables
            .get(&def.name.node)
            .is_some_and(|v| *v != Value::Null);
        if required && !given {
            let ty = match &def.var_type.node.base {
                BaseType::Named(name) => format!("{name}!"),
                BaseType::List(_) => format!("{}", def.var_type.node),
            };
            return Err(AppError::BadUserInput {
                field: format!("${}", def.name.node),
                message: format!("the variable is required (type {ty}) but was not given"),
            });
        }
    }
    Ok(())
}

/// Adds the errors of nulled fields and codes every error still without one. A failed
/// non-null field that no nullable ancestor absorbed nulls `data`.
fn finish(
    mut resp: Response,
    nulled: &Mutex<Vec<ServerError>>,
    pending: &Mutex<Vec<Vec<String>>>,
) -> Response {
    resp.errors.append(&mut lock(nulled));
    let mut pending = lock(pending);
    if !pending.is_empty() {
        pending.clear();
        resp.data = Value::Null;
    }
    drop(pending);
    resp.errors = std::mem::take(&mut resp.errors)
        .into_iter()
        .map(|e| {
            if code_of(&e).is_some() {
                e
            } else if e.path.is_empty() {
                // Choosing the operation (unknown name, several without a name) fails here.
                with_code(e, ErrorCode::GraphqlValidationFailed)
            } else if is_input_error(&e.message) {
                with_code(e, ErrorCode::BadUserInput)
            } else {
                // An uncoded failure inside execution is a bug of ours: log it, say nothing.
                let mut coded = ServerError::from(AppError::internal(e.message));
                coded.path = e.path;
                coded.locations = e.locations;
                coded
            }
        })
        .collect();
    resp
}

fn code_of(e: &ServerError) -> Option<&Value> {
    e.extensions.as_ref().and_then(|ext| ext.get("code"))
}

fn with_code(mut e: ServerError, code: ErrorCode) -> ServerError {
    let mut ext = e.extensions.take().unwrap_or_default();
    if ext.get("code").is_none() {
        ext.set("code", code.as_str());
    }
    e.extensions = Some(ext);
    e
}

/// Library messages for a value that does not fit its type: an argument, or a variable
/// coerced into one.
fn is_input_error(message: &str) -> bool {
    message.starts_with("Invalid value for argument")
        || message.starts_with("Failed to parse")
        || message.starts_with("Variable ")
}

fn validation_code(message: &str) -> ErrorCode {
    if is_input_error(message) {
        ErrorCode::BadUserInput
    } else {
        ErrorCode::GraphqlValidationFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_errors_are_bad_input_and_rule_errors_are_validation() {
        assert_eq!(
            validation_code(r#"Invalid value for argument "id", expected type "ID""#),
            ErrorCode::BadUserInput
        );
        assert_eq!(
            validation_code(r#"Unknown field "membrs" on type "QueryRoot"."#),
            ErrorCode::GraphqlValidationFailed
        );
    }

    #[test]
    fn an_uncoded_execution_error_is_internal_and_hides_its_text() {
        let mut e = ServerError::new("db connection string postgres://secret", None);
        e.path = vec![async_graphql::PathSegment::Field("profile".into())];
        let resp = finish(Response::from_errors(vec![e]), &Mutex::default(), &Mutex::default());
        let err = &resp.errors[0];
        assert_eq!(
            code_of(err),
            Some(&Value::from(ErrorCode::InternalServerError.as_str()))
        );
        assert!(!err.message.contains("secret"));
        assert_eq!(err.path.len(), 1);
    }

    #[test]
    fn an_existing_code_is_kept() {
        let e = with_code(
            ServerError::new("x", None),
            ErrorCode::QueryTooComplex,
        );
        let resp = finish(Response::from_errors(vec![e]), &Mutex::default(), &Mutex::default());
        assert_eq!(
            code_of(&resp.errors[0]),
            Some(&Value::from(ErrorCode::QueryTooComplex.as_str()))
        );
    }
}

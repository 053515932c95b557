//! The error model that [`super::gate`] applies to every request.
//!
//! Every error a client receives carries a code from [`ErrorCode`], whatever produced it: our
//! resolvers (coded through `AppError`), our limits, or the library's own parser, validation
//! and input coercion, which code nothing.
//!
//! And a field whose resolver or guard fails is handled as the GraphQL spec asks (the library
//! drops the key instead): a nullable field becomes `null`; a failed non-null field makes its
//! nearest nullable ancestor (or list item) `null`, and `data` itself when there is none.

use std::sync::Mutex;

use async_graphql::QueryPathNode;
use async_graphql::parser::types::{BaseType, DocumentOperations, ExecutableDocument};
use async_graphql::{Response, ServerError, ServerResult, Value};

use async_graphql::ErrorExtensions;

use super::lock;
use crate::error::{AppError, ErrorCode};

/// A request the transport refuses before running it (over a limit, or breaking a rule the
/// library would report without a code), with its code and a message that says what to do.
pub(super) fn refused(code: ErrorCode, message: String) -> ServerError {
    with_code(ServerError::new(format!("{message}."), None), code)
}

/// What one request's (or one subscription event's) fields left behind.
#[derive(Default)]
pub(super) struct Failures {
    /// Errors of nullable fields that became null.
    nulled: Vec<ServerError>,
    /// Paths of failed non-null fields whose null has not yet been absorbed by a nullable
    /// ancestor. Inner fields finish before outer ones, so an ancestor sees them all.
    pending: Vec<Vec<String>>,
    /// Paths that became null. Applied again to the merged `data`: a response key selected
    /// twice (through fragments) is resolved twice and the library keeps only one result.
    null_paths: Vec<Vec<String>>,
}

/// Codes the errors of a failed validation.
pub(super) fn code_validation_errors(errors: Vec<ServerError>) -> Vec<ServerError> {
    errors
        .into_iter()
        .map(|e| {
            let code = validation_code(&e.message);
            with_code(e, code)
        })
        .collect()
}

/// Settles a field's result as the spec asks, given its return type (`String`, `[T!]!`, …):
/// a failed nullable field becomes null; a failed non-null field is left for its nearest
/// nullable ancestor to become null. (List items pass through here too, with the item type.)
pub(super) fn settle(
    state: &Mutex<Failures>,
    return_type: &str,
    path_node: &QueryPathNode<'_>,
    result: ServerResult<Option<Value>>,
) -> ServerResult<Option<Value>> {
    let nullable = !return_type.ends_with('!');
    match result {
        Err(err) if nullable => {
            let path = path_node.to_string_vec();
            let mut state = lock(state);
            state.nulled.push(err);
            // Failures below are absorbed by this null too.
            state
                .pending
                .retain(|p| !(p.len() > path.len() && p.starts_with(&path)));
            state.null_paths.push(path);
            Ok(Some(Value::Null))
        }
        Err(err) => {
            lock(state).pending.push(path_node.to_string_vec());
            Err(err)
        }
        Ok(Some(value)) if nullable && !lock(state).pending.is_empty() => {
            let path = path_node.to_string_vec();
            let mut state = lock(state);
            let before = state.pending.len();
            state
                .pending
                .retain(|p| !(p.len() > path.len() && p.starts_with(&path)));
            if state.pending.len() == before {
                return Ok(Some(value));
            }
            state.null_paths.push(path);
            Ok(Some(Value::Null))
        }
        // A non-null field leaves failures below it to its nearest nullable ancestor.
        other => other,
    }
}

/// Sets `data` at `path` to null, when the path's parent exists.
fn null_at(data: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut here = data;
    for segment in parents {
        here = match here {
            Value::Object(map) => match map.get_mut(segment.as_str()) {
                Some(v) => v,
                None => return,
            },
            Value::List(items) => {
                match segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(v) => v,
                    None => return,
                }
            }
            // An ancestor is null already.
            _ => return,
        };
    }
    match here {
        Value::Object(map) => {
            map.insert(async_graphql::Name::new(last), Value::Null);
        }
        Value::List(items) => {
            if let Some(item) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

/// Variable coercion, as the spec orders it before execution: a variable of a non-null type
/// without a default must be given, and not as `null`. (The library would only notice inside
/// the resolver that reads it, as an uncoded error with a path.)
pub(super) fn required_variables_given(
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
pub(super) fn finish(mut resp: Response, state: &Mutex<Failures>) -> Response {
    let mut state = lock(state);
    resp.errors.append(&mut state.nulled);
    if !state.pending.is_empty() {
        state.pending.clear();
        resp.data = Value::Null;
    }
    for path in std::mem::take(&mut state.null_paths) {
        null_at(&mut resp.data, &path);
    }
    drop(state);
    resp.errors = std::mem::take(&mut resp.errors)
        .into_iter()
        .map(|e| {
            if code_of(&e).is_some() {
                e
            } else if e.path.is_empty() {
                // Choosing the operation (unknown name, several without a name) fails here.
                with_code(e, ErrorCode::GraphqlValidationFailed)
            } else if is_input_error(&e.message) || e.message.starts_with("Variable ") {
                // Coercing a value (or a variable's) inside execution.
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
/// coerced into one. (Validation messages that start with "Variable" are about the document,
/// an undefined or unused variable, and are not these.)
fn is_input_error(message: &str) -> bool {
    message.starts_with("Invalid value for argument") || message.starts_with("Failed to parse")
}

fn validation_code(message: &str) -> ErrorCode {
    if is_input_error(message) {
        ErrorCode::BadUserInput
    } else {
        ErrorCode::GraphqlValidationFailed
    }
}

/// Every `AppError` reaches a client coded: its code in `extensions.code`, its details beside
/// it, and an internal cause only logged, under a correlation id the message names.
impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let mut gql = match &err {
            AppError::Internal(cause) => {
                let correlation_id = uuid::Uuid::new_v4().to_string();
                tracing::error!(correlation_id = %correlation_id, cause = %crate::logsafe::Field(&cause.to_string()), "internal error");
                let mut e = async_graphql::Error::new(format!(
                    "Something went wrong on the server. If it keeps happening, report reference {correlation_id}."
                ));
                e = e.extend_with(|_, ext| ext.set("correlationId", correlation_id.clone()));
                e
            }
            other => async_graphql::Error::new(other.message()),
        };
        gql = gql.extend_with(|_, ext| {
            ext.set("code", code.as_str());
            match &err {
                AppError::BadUserInput { field, message } => {
                    ext.set("field", field.clone());
                    // The refusal alone, for a form to show beside its field.
                    ext.set("reason", message.clone());
                }
                AppError::InvalidProfileId { value } => ext.set("value", value.clone()),
                AppError::AddressSuppressed { address, .. } => ext.set("address", address.clone()),
                AppError::Forbidden { right: Some(r) } => ext.set("requiredRight", r.as_str()),
                AppError::SecondFactorRequired { challenge } => {
                    ext.set("challenge", challenge.clone())
                }
                _ => {}
            }
        });
        gql
    }
}

/// For errors raised outside a resolver (request preparation, the WebSocket), which the
/// library reports as `ServerError`s with no path.
impl From<AppError> for async_graphql::ServerError {
    fn from(err: AppError) -> Self {
        let err: async_graphql::Error = err.into();
        let mut server = async_graphql::ServerError::new(err.message, None);
        server.extensions = err.extensions;
        server
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
        assert_eq!(
            validation_code(r#"Variable "$x" is not used by operation "Q""#),
            ErrorCode::GraphqlValidationFailed
        );
    }

    #[test]
    fn an_uncoded_execution_error_is_internal_and_hides_its_text() {
        let mut e = ServerError::new("db connection string postgres://secret", None);
        e.path = vec![async_graphql::PathSegment::Field("profile".into())];
        let resp = finish(Response::from_errors(vec![e]), &Mutex::default());
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
        let e = with_code(ServerError::new("x", None), ErrorCode::QueryTooComplex);
        let resp = finish(Response::from_errors(vec![e]), &Mutex::default());
        assert_eq!(
            code_of(&resp.errors[0]),
            Some(&Value::from(ErrorCode::QueryTooComplex.as_str()))
        );
    }
}

//! The GraphQL schema: roots merged per feature, hand-written output types, guards,
//! DataLoaders and limits. Resolvers stay thin: each calls one service function.

mod audit;
mod connected_sites;
mod console_enums;
mod context;
mod credentials;
mod cursor;
mod documents;
mod errors;
mod gate;
mod guard;
mod ids;
mod impersonation;
mod limits;
pub mod loaders;
mod mass;
mod member;
mod personal_data;
mod portal_logins;
mod profiles;
mod qr;
mod resets;
mod second_factor;
mod staff;
mod staff_links;
mod staff_sessions;
mod suppressions;
mod types;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::config::Config;
use crate::error::AppError;
use crate::services::{Principal, RequestMeta, Services};

pub use console_enums::console_enums_js;
pub use context::RequestContext;

pub use guard::Require;

/// Every query field.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    profiles::ProfileQuery,
    staff::StaffQuery,
    staff_sessions::StaffSessionQuery,
    member::MemberQuery,
    audit::AuditQuery,
    resets::ResetQuery,
    mass::MassQuery,
    suppressions::SuppressionQuery,
    connected_sites::ConnectedSiteQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    profiles::ProfileMutation,
    staff::StaffMutation,
    second_factor::SecondFactorMutation,
    staff_sessions::StaffSessionMutation,
    staff_links::StaffLinkMutation,
    credentials::CredentialMutation,
    member::MemberMutation,
    resets::ResetMutation,
    mass::MassMutation,
    suppressions::SuppressionMutation,
    impersonation::ImpersonationMutation,
    portal_logins::PortalLoginMutation,
    personal_data::PersonalDataMutation,
    connected_sites::ConnectedSiteMutation,
);

/// Every subscription (served over graphql-transport-ws at `/graphql/ws`).
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(mass::MassSubscription);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema's shape with no data attached: what `memberkey schema` prints and what the SDL
/// test compares. Building it touches no database and no environment.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
}

/// The SDL committed as `schema.graphql`.
pub fn sdl() -> String {
    // With `@specifiedBy`, so the SDL says what introspection says about custom scalars.
    schema_builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// A short hash of the SDL, printed by `memberkey --version`.
pub fn schema_hash() -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(sdl().as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The serving schema: limits from settings and the services as data.
pub fn build_schema(services: Services, config: &Config) -> AppSchema {
    // Depth and complexity are measured by `QueryLimits` before validation, in linear time;
    // the library's own limits would expand fragments exponentially first.
    let mut builder = schema_builder()
        .limit_recursive_depth(32)
        .limit_directives(20)
        .extension(gate::Gate::new(limits::Limits {
            max_depth: config.max_depth,
            max_complexity: config.max_complexity,
            max_aliases: config.max_aliases,
        }))
        .data(services);
    if !config.introspection {
        // Without introspection, "Did you mean …?" hints would leak the schema instead.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The request's services, caller and request facts. A request that reached the schema
/// without its context (a path that skipped the request-context builder) gets a coded internal
/// error, never a panic.
pub(crate) fn parts<'a>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<(&'a Services, &'a Principal, &'a RequestMeta)> {
    let (services, request) = context_parts(ctx)?;
    Ok((services, &request.principal, &request.meta))
}

/// The request's DataLoaders.
pub(crate) fn loaders<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a loaders::Loaders> {
    let (services, request) = context_parts(ctx)?;
    Ok(request.loaders(services))
}

/// The schema's services and the context [`RequestContext::attach`] put on the request.
fn context_parts<'a>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<(&'a Services, &'a RequestContext)> {
    let services = ctx
        .data::<Services>()
        .map_err(|_| AppError::internal("the schema has no services attached"))?;
    let request = ctx
        .data::<RequestContext>()
        .map_err(|_| AppError::internal("a request reached the schema without its context"))?;
    Ok((services, request))
}

/// Locks a mutex that guards plain data: a panic elsewhere cannot leave it half-changed in a
/// way that matters here, so a poisoned lock is used as it is.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

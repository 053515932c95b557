//! The GraphQL schema: roots merged per feature, hand-written output types, guards,
//! DataLoaders and limits. Resolvers stay thin: each calls one service function.

mod audit;
mod credentials;
mod guard;
mod limits;
pub mod loaders;
mod mass;
mod member;
mod profiles;
mod resets;
mod staff;
mod types;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::config::Config;
use crate::services::{Principal, RequestMeta, Services};

pub use guard::Require;

/// Every query field.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    profiles::ProfileQuery,
    staff::StaffQuery,
    member::MemberQuery,
    audit::AuditQuery,
    resets::ResetQuery,
    mass::MassQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    profiles::ProfileMutation,
    staff::StaffMutation,
    credentials::CredentialMutation,
    member::MemberMutation,
    resets::ResetMutation,
    mass::MassMutation,
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
    schema_builder().finish().sdl()
}

/// The serving schema: limits from settings and the services as data.
pub fn build_schema(services: Services, config: &Config) -> AppSchema {
    let mut builder = schema_builder()
        .limit_depth(config.max_depth)
        .limit_complexity(config.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(20)
        .extension(limits::AliasLimit::new(config.max_aliases))
        .data(services);
    if !config.introspection {
        // Without introspection, "Did you mean …?" hints would leak the schema instead.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The request's services, caller and request facts.
pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a Services, &'a Principal, &'a RequestMeta) {
    static ANONYMOUS: Principal = Principal::Anonymous;
    static NO_META: RequestMeta = RequestMeta { client_ip: None };
    (
        ctx.data_unchecked::<Services>(),
        ctx.data_opt::<Principal>().unwrap_or(&ANONYMOUS),
        ctx.data_opt::<RequestMeta>().unwrap_or(&NO_META),
    )
}

//! The one request-context builder. HTTP requests and every operation a WebSocket starts go
//! through [`RequestContext::build`], so both paths see the same caller (resolved afresh from
//! the session table, with the staff user's current rights), the same request facts and the
//! same DataLoaders.

use std::sync::OnceLock;

use super::loaders::Loaders;
use crate::error::AppResult;
use crate::services::{self, Principal, RequestMeta, Services};

/// What one operation runs with.
pub struct RequestContext {
    pub principal: Principal,
    pub meta: RequestMeta,
    /// Built on first use: most requests never load a profile.
    loaders: OnceLock<Loaders>,
}

impl RequestContext {
    /// Resolves the bearer token (if any) into the caller, as of now.
    pub async fn build(
        services: &Services,
        bearer: Option<&str>,
        meta: RequestMeta,
    ) -> AppResult<Self> {
        let principal = services::auth::resolve(services, bearer).await?;
        Ok(Self {
            principal,
            meta,
            loaders: OnceLock::new(),
        })
    }

    /// Puts this context on a GraphQL request.
    pub fn attach(self, request: async_graphql::Request) -> async_graphql::Request {
        request.data(self)
    }

    pub(crate) fn loaders(&self, services: &Services) -> &Loaders {
        self.loaders.get_or_init(|| Loaders::new(services))
    }
}

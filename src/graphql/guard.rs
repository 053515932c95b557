use async_graphql::{Context, Guard, Result};

use crate::domain::Right;

/// The one guard type. It sits on fields and mutations, so a field is protected on every path
/// that reaches it, and it always answers with a coded error: `UNAUTHENTICATED` when nobody is
/// signed in, `FORBIDDEN` when the right is missing.
#[derive(Debug, Clone, Copy)]
pub enum Require {
    /// Any signed-in staff user.
    Staff,
    /// A staff user holding this right.
    Right(Right),
    /// A signed-in member.
    Member,
}

impl Guard for Require {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        let (_, principal, _) = super::parts(ctx)?;
        let outcome = match self {
            Require::Staff => principal.staff().map(|_| ()),
            Require::Right(r) => principal.require(*r).map(|_| ()),
            Require::Member => principal.member().map(|_| ()),
        };
        outcome.map_err(Into::into)
    }
}

//! The suppression list: addresses that bounced for good or complained.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::cursor::{self, SuppressionCursor};
use super::types::PageInfo;
use super::{Require, parts};
use crate::domain::{self, Right};
use crate::services::suppressions;

/// Why an address is suppressed.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::SuppressionReason")]
pub enum SuppressionReason {
    /// Mail to it bounced for good. Mass mail skips it and account mail to it is refused
    /// with ADDRESS_SUPPRESSED.
    Bounce,
    /// Its owner reported a message as spam. Mass mail skips it and the profiles with it are
    /// opted out of mass mail; account mail still goes.
    Complaint,
}

/// An address on the suppression list.
pub(super) struct EmailSuppression(pub domain::Suppression);

/// An address on the suppression list.
#[Object]
impl EmailSuppression {
    /// The address, as the provider reported it.
    async fn address(&self) -> &str {
        &self.0.address
    }
    /// Why it is suppressed.
    async fn reason(&self) -> SuppressionReason {
        self.0.reason.into()
    }
    /// The provider's diagnostic: a bounce's SMTP reply, a complaint's feedback type.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    /// The provider's notification ID, for finding the event in its console.
    async fn event_id(&self) -> Option<&str> {
        self.0.event_id.as_deref()
    }
    /// When it was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The result of `clearEmailSuppression`.
#[derive(SimpleObject)]
pub(super) struct ClearEmailSuppressionPayload {
    /// The suppression as it was when cleared; mail to the address is sent again.
    suppression: EmailSuppression,
}

/// One suppressed address in a connection.
#[derive(SimpleObject)]
pub(super) struct EmailSuppressionEdge {
    /// Where this edge sits; pass it as `after` to continue behind it.
    cursor: String,
    /// The suppression.
    node: EmailSuppression,
}

/// A page of the suppression list, newest first.
#[derive(SimpleObject)]
pub(super) struct EmailSuppressionConnection {
    /// The suppressions on this page with their cursors.
    edges: Vec<EmailSuppressionEdge>,
    /// Paging facts.
    page_info: PageInfo,
}

#[derive(Default)]
pub(super) struct SuppressionQuery;

#[Object]
impl SuppressionQuery {
    /// The suppression list, newest first, optionally only addresses containing `contains`.
    /// Needs the MANAGE_PROFILES right.
    #[graphql(guard = "Require::Right(Right::ManageProfiles)")]
    async fn email_suppressions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only addresses containing this text.")] contains: Option<String>,
        #[graphql(default = 50, desc = "Page size, 1 to 100; 50 when left out.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<EmailSuppressionConnection> {
        let (svc, principal, _) = parts(ctx)?;
        let after = cursor::parse_after::<SuppressionCursor>(after.as_deref())?;
        let (rows, more) = suppressions::page(
            svc,
            principal,
            contains.as_deref().filter(|c| !c.trim().is_empty()),
            after.as_ref().map(|c| c.0),
            first.unwrap_or(50),
        )
        .await?;
        let edges: Vec<EmailSuppressionEdge> = rows
            .into_iter()
            .map(|(id, s)| EmailSuppressionEdge {
                cursor: cursor::encode(&SuppressionCursor(id)),
                node: EmailSuppression(s),
            })
            .collect();
        Ok(EmailSuppressionConnection {
            page_info: PageInfo {
                has_next_page: more,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }

    /// Whether an address (in any spelling) is suppressed, and why; null when it is not.
    /// Needs the MANAGE_PROFILES right.
    #[graphql(guard = "Require::Right(Right::ManageProfiles)")]
    async fn email_suppression(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email address.")] address: String,
    ) -> Result<Option<EmailSuppression>> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(suppressions::get(svc, principal, &address)
            .await?
            .map(EmailSuppression))
    }
}

#[derive(Default)]
pub(super) struct SuppressionMutation;

#[Object]
impl SuppressionMutation {
    /// Takes an address off the suppression list, once the mailbox works again, so mail goes
    /// to it again. A complaint's opt-out stays: change the profile's emailOptOut for that.
    /// NOT_FOUND when the address is not suppressed. Audited. Needs the MANAGE_PROFILES right.
    #[graphql(guard = "Require::Right(Right::ManageProfiles)")]
    async fn clear_email_suppression(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The email address.")] address: String,
    ) -> Result<ClearEmailSuppressionPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let cleared = suppressions::clear(svc, principal, meta, &address).await?;
        Ok(ClearEmailSuppressionPayload {
            suppression: EmailSuppression(cleared),
        })
    }
}

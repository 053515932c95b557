//! The Mass Communicator: special fields, drafts, previews, sending, progress and retries.
//! `inputs` holds what staff send, `types` what they read, `progress` the subscription;
//! the query and mutation roots below each call one service.

mod inputs;
mod progress;
mod recipients;
mod types;

use async_graphql::{Context, ID, Object, Result};

use crate::domain::{self, MergeField, Right};
use crate::graphql::cursor::{self, MassCursor};
use crate::graphql::types::PageInfo;
use crate::graphql::{Require, parts};
use crate::services::{delivery_state, mass};

use inputs::{
    CreateMassCommunicationInput, ScheduleMassCommunicationInput, UpdateMassCommunicationInput,
};
pub(crate) use progress::MassSubscription;
pub(super) use recipients::RecipientFilter;
use types::{
    DeleteMassCommunicationPayload, DeliveryState, MailSender, MassCommunication,
    MassCommunicationConnection, MassCommunicationEdge, MassCommunicationPayload,
    MassCommunicationPreview, MassCommunicationStatus, ResumeDeliveryPayload, SendTestPayload,
    SpecialField, payload,
};

#[derive(Default)]
pub(super) struct MassQuery;

#[Object]
impl MassQuery {
    /// The merge fields an editor offers, `{{token}}` in the text.
    #[graphql(guard = "Require::Staff")]
    async fn special_fields(&self) -> Vec<SpecialField> {
        MergeField::ALL
            .into_iter()
            .map(SpecialField::from)
            .collect()
    }

    /// The senders a mass communication may come from, the default first. Needs the
    /// SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn mail_senders(&self, ctx: &Context<'_>) -> Result<Vec<MailSender>> {
        let (svc, _, _) = parts(ctx)?;
        Ok(mass::senders(svc).into_iter().map(Into::into).collect())
    }

    /// One mass communication with its progress. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication's ID.")] id: ID,
    ) -> Result<MassCommunication> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(MassCommunication(
            mass::view(
                svc,
                principal,
                crate::graphql::ids::mass_communication_id(&id)?,
            )
            .await?,
        ))
    }

    /// How many profiles this filter selects right now (before any are skipped for having no
    /// address or having opted out): the live count while a filter is built. Needs the
    /// SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn count_recipients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The filter, as a communication's recipients take it.")]
        filter: RecipientFilter,
    ) -> Result<u64> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(mass::count_matching(svc, principal, filter.try_into()?).await?)
    }

    /// Drafts and sent communications, newest first, optionally only those with one status or
    /// whose subject contains `search`. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn mass_communications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only communications with this status.")] status: Option<
            MassCommunicationStatus,
        >,
        #[graphql(desc = "Only communications whose subject contains this, ignoring case.")]
        search: Option<String>,
        #[graphql(
            default = 20,
            validator(minimum = 1, maximum = 100),
            desc = "Page size (1–100)."
        )]
        first: i32,
        #[graphql(desc = "A cursor from the previous page.")] after: Option<String>,
    ) -> Result<MassCommunicationConnection> {
        let (svc, principal, _) = parts(ctx)?;
        let after_id = cursor::parse_after::<MassCursor>(after.as_deref())?.map(|c| c.0);
        let filter = domain::MassListFilter {
            status: status.map(Into::into),
            search: search
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        };
        let page = mass::list(svc, principal, &filter, after_id, first as u64).await?;
        let edges: Vec<MassCommunicationEdge> = page
            .items
            .into_iter()
            .map(|view| MassCommunicationEdge {
                cursor: cursor::encode(&MassCursor(view.communication.id.get())),
                node: MassCommunication(view),
            })
            .collect();
        Ok(MassCommunicationConnection {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: after_id.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: page.total as i64,
        })
    }

    /// Renders the communication exactly as one recipient would get it, with a sample link
    /// that grants nothing. Without `profileId`, sample values. Needs the
    /// SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn preview_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication's ID.")] id: ID,
        #[graphql(desc = "The recipient to render it for.")] profile_id: Option<ID>,
    ) -> Result<MassCommunicationPreview> {
        let (svc, principal, _) = parts(ctx)?;
        let pid = profile_id
            .as_ref()
            .map(|p| crate::graphql::ids::profile_id(p))
            .transpose()?;
        let r = mass::preview(
            svc,
            principal,
            crate::graphql::ids::mass_communication_id(&id)?,
            pid,
        )
        .await?;
        Ok(r.into())
    }

    /// Whether the mail queue is delivering or paused (the provider refused the account or
    /// sender), with the reason. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn delivery_state(&self, ctx: &Context<'_>) -> Result<DeliveryState> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(delivery_state::current(svc, principal).await?.into())
    }
}

#[derive(Default)]
pub(super) struct MassMutation;

#[Object]
impl MassMutation {
    /// Saves a new mass communication as a draft. An unknown merge field or malformed
    /// `{{…}}` gives BAD_USER_INPUT naming the field and its position. Needs the
    /// SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn create_mass_communication(
        &self,
        ctx: &Context<'_>,
        input: CreateMassCommunicationInput,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let comm = mass::create(svc, principal, meta, input.into_input()?).await?;
        payload(ctx, comm).await
    }

    /// A new draft with the content, recipients and link lifetime of any communication, sent
    /// or not: the start of a reminder. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn duplicate_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication to copy.")] id: ID,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let copy = mass::duplicate(
            svc,
            principal,
            meta,
            crate::graphql::ids::mass_communication_id(&id)?,
        )
        .await?;
        payload(ctx, copy).await
    }

    /// Deletes a draft. A communication that was sent stays as the record of who got what:
    /// deleting it is CONFLICT. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn delete_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft to delete.")] id: ID,
    ) -> Result<DeleteMassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        mass::delete(
            svc,
            principal,
            meta,
            crate::graphql::ids::mass_communication_id(&id)?,
        )
        .await?;
        Ok(DeleteMassCommunicationPayload { deleted_id: id })
    }

    /// Changes a draft. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn update_mass_communication(
        &self,
        ctx: &Context<'_>,
        input: UpdateMassCommunicationInput,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let (id, changes) = input.into_parts()?;
        let comm = mass::update(svc, principal, meta, id, changes).await?;
        payload(ctx, comm).await
    }

    /// Sends the preview to one address, with a sample link that grants nothing. Needs the
    /// SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn send_test_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication's ID.")] id: ID,
        #[graphql(desc = "Where to send the test copy.")] email: String,
        #[graphql(desc = "Render it as this recipient would get it.")] profile_id: Option<ID>,
    ) -> Result<SendTestPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let pid = profile_id
            .as_ref()
            .map(|p| crate::graphql::ids::profile_id(p))
            .transpose()?;
        let sent_to = mass::send_test(
            svc,
            principal,
            meta,
            crate::graphql::ids::mass_communication_id(&id)?,
            &email,
            pid,
        )
        .await?;
        Ok(SendTestPayload { sent_to })
    }

    /// Sends a draft: its recipients are resolved now, one delivery each, and the delivery
    /// worker sends them within the configured rate. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn send_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft to send.")] id: ID,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::mass_communication_id(&id)?;
        let comm = mass::send(svc, principal, meta, id).await?;
        payload(ctx, comm).await
    }

    /// Schedules a draft to be sent by the server at `sendAt`, on behalf of the caller, as if
    /// they pressed Send then; or, with `sendAt` null, removes its schedule. It stays a draft,
    /// editable, until it starts. A start that cannot happen (the caller lost the right, the
    /// sender is no longer allowed) leaves it a draft with `scheduleProblem` saying why.
    /// Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn schedule_mass_communication(
        &self,
        ctx: &Context<'_>,
        input: ScheduleMassCommunicationInput,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::mass_communication_id(&input.id)?;
        let comm = mass::schedule(svc, principal, meta, id, input.send_at).await?;
        payload(ctx, comm).await
    }

    /// Stops a communication, a paused one too; deliveries not yet handed to the provider
    /// are cancelled. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn cancel_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication to stop.")] id: ID,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::mass_communication_id(&id)?;
        let comm = mass::cancel(svc, principal, meta, id).await?;
        payload(ctx, comm).await
    }

    /// Resumes a communication that paused itself because too many of its deliveries
    /// failed (`status: PAUSED`, with `pauseReason`). Its waiting deliveries go out again
    /// and the next outcomes are judged afresh; anything but a paused communication is
    /// CONFLICT. Audited. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn resume_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The paused communication to resume.")] id: ID,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::mass_communication_id(&id)?;
        let comm = mass::resume(svc, principal, meta, id).await?;
        payload(ctx, comm).await
    }

    /// Sends again to the recipients whose delivery failed, and only to them. Needs the
    /// SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn retry_failed_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication whose failed deliveries to retry.")] id: ID,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = crate::graphql::ids::mass_communication_id(&id)?;
        let comm = mass::retry_failed(svc, principal, meta, id).await?;
        payload(ctx, comm).await
    }

    /// Resumes paused delivery once the account or sender is fixed; the held messages go out
    /// at once (if the provider still refuses, the first of them pauses it again). Audited.
    /// Answers the state after resuming. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn resume_delivery(&self, ctx: &Context<'_>) -> Result<ResumeDeliveryPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        delivery_state::resume(svc, principal, meta).await?;
        let state = delivery_state::current(svc, principal).await?;
        Ok(ResumeDeliveryPayload {
            delivery_state: state.into(),
        })
    }
}

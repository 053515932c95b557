//! The Mass Communicator: special fields, drafts, previews, sending, progress and retries.

use async_graphql::{
    Context, Enum, ID, InputObject, Object, OneofObject, Result, SimpleObject, Subscription,
};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::cursor::{self, DeliveryCursor};
use super::types::{MemberStatus, PageInfo, ProfileKind};
use super::{Require, parts};
use crate::domain::{self, MergeField, Right};
use crate::error::AppError;
use crate::services::{mass, profiles::parse_profile_id};

/// A merge field for the editor's dropdown.
#[derive(SimpleObject)]
pub(super) struct SpecialField {
    /// What to put in the text, e.g. `{{first_name}}`.
    token: String,
    /// The name to show staff.
    label: String,
    /// What the field becomes for each recipient.
    description: String,
}

/// Who receives the communication: chosen profiles, or everyone a filter matches when it is sent.
#[derive(OneofObject)]
pub(super) enum RecipientsInput {
    /// These profiles (at most 100,000).
    ProfileIds(Vec<ID>),
    /// Every profile matching the filter at the moment of sending.
    Filter(RecipientFilterInput),
}

/// Which profiles a filtered communication goes to.
#[derive(InputObject)]
pub(super) struct RecipientFilterInput {
    /// Only organisations or only people.
    kind: Option<ProfileKind>,
    /// Only profiles with this membership status.
    member_status: Option<MemberStatus>,
    /// Only profiles the quick search finds for this term.
    search: Option<String>,
    /// Also the people related to each matching organisation.
    #[graphql(default)]
    include_related_profiles: bool,
}

/// A new mass communication (saved as a draft).
#[derive(InputObject)]
pub(super) struct CreateMassCommunicationInput {
    /// The subject line; merge fields allowed.
    subject: String,
    /// The HTML body with `{{field}}` merge fields (see `specialFields`). It is sanitised:
    /// scripts, event handlers and `javascript:` links are removed.
    html: String,
    /// Who receives it.
    recipients: RecipientsInput,
    /// Hours each recipient's set-password link works (1–2160); default 168 (7 days).
    link_validity: Option<i32>,
}

/// Changes to a draft; leave a field out to keep it.
#[derive(InputObject)]
pub(super) struct UpdateMassCommunicationInput {
    /// The draft to change.
    id: ID,
    /// A new subject line.
    subject: Option<String>,
    /// A new HTML body.
    html: Option<String>,
    /// New recipients.
    recipients: Option<RecipientsInput>,
    /// New link lifetime in hours (1–2160).
    link_validity: Option<i32>,
}

fn recipients(input: RecipientsInput) -> Result<domain::Recipients, AppError> {
    Ok(match input {
        RecipientsInput::ProfileIds(ids) => domain::Recipients::ProfileIds(
            ids.iter()
                .map(|i| parse_profile_id(i))
                .collect::<Result<_, _>>()?,
        ),
        RecipientsInput::Filter(f) => domain::Recipients::Filter(domain::RecipientFilter {
            kind: f.kind.map(Into::into),
            member_status: f.member_status.map(Into::into),
            search: f.search,
            include_related_profiles: f.include_related_profiles,
        }),
    })
}

fn mass_id(raw: &ID) -> Result<i64, AppError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::BadUserInput {
            field: "id".into(),
            message: format!(
                "\"{}\" is not a mass communication ID (a positive whole number)",
                raw.as_str()
            ),
        })
}

/// Where a mass communication stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::MassStatus")]
pub enum MassCommunicationStatus {
    /// Being written; can be changed.
    Draft,
    /// Sent by staff; deliveries wait for the worker.
    Queued,
    /// Deliveries are going out.
    Sending,
    /// Every delivery ended; at least one reached the provider.
    Sent,
    /// Stopped by staff; deliveries not yet handed over were cancelled.
    Cancelled,
    /// Every delivery that was tried failed.
    Failed,
}

/// How a communication's deliveries stand.
#[derive(SimpleObject, Clone, Copy, PartialEq, Eq)]
pub(super) struct DeliveryCounts {
    /// Recipients in all, skipped ones included.
    total: i64,
    /// Waiting for or being handed to the provider.
    pending: i64,
    /// Accepted by the provider.
    sent: i64,
    /// Refused for good; see each delivery's error.
    failed: i64,
    /// Not sent: no email, opted out, or a duplicate address.
    skipped: i64,
    /// Cancelled before they were sent.
    cancelled: i64,
}

impl From<domain::DeliveryCounts> for DeliveryCounts {
    fn from(c: domain::DeliveryCounts) -> Self {
        Self {
            total: c.total,
            pending: c.pending,
            sent: c.sent,
            failed: c.failed,
            skipped: c.skipped,
            cancelled: c.cancelled,
        }
    }
}

/// Filters deliveries by where they stand.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Waiting for the worker.
    Queued,
    /// Being handed to the provider.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// Refused for good.
    Failed,
    /// Not sent, with a reason.
    Skipped,
    /// Cancelled before sending.
    Cancelled,
}

/// Whether a delivery's set-password link was used.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::LinkState")]
pub enum LinkState {
    /// Not used yet, and still within its lifetime.
    Unused,
    /// The member set a password with it.
    Used,
    /// Its lifetime ran out unused.
    Expired,
}

/// One recipient's delivery.
pub(super) struct Delivery(domain::Delivery);

/// One recipient's delivery.
#[Object]
impl Delivery {
    /// The delivery's ID.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The recipient's profile ID.
    async fn profile_id(&self) -> Option<ID> {
        self.0.profile_id.map(|p| ID(p.to_string()))
    }
    /// The address it goes to.
    async fn email(&self) -> Option<&str> {
        self.0.to_address.as_deref()
    }
    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// Why it was skipped: NO_EMAIL_ADDRESS, OPTED_OUT, DUPLICATE_ADDRESS or PROFILE_REMOVED.
    async fn skip_reason(&self) -> Option<&str> {
        self.0.skip_reason.map(|r| r.as_db())
    }
    /// The provider's last error, for failed or retrying deliveries.
    async fn error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// The provider's message ID once sent.
    async fn provider_message_id(&self) -> Option<&str> {
        self.0.provider_message_id.as_deref()
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// True when the worker handling it stopped mid-send, so the member may get it twice.
    async fn possible_duplicate(&self) -> bool {
        self.0.possible_duplicate
    }
    /// When the provider accepted it.
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    /// The state of the recipient's set-password link; null when the message has none.
    async fn link_state(&self) -> Option<LinkState> {
        self.0.link_state.map(Into::into)
    }
}

/// One delivery in a connection.
#[derive(SimpleObject)]
pub(super) struct DeliveryEdge {
    /// Pass as `after` to continue behind this delivery.
    cursor: String,
    /// The delivery.
    node: Delivery,
}

/// A page of deliveries in the order they were queued.
#[derive(SimpleObject)]
pub(super) struct DeliveryConnection {
    /// The deliveries on this page.
    edges: Vec<DeliveryEdge>,
    /// Paging facts.
    page_info: PageInfo,
}

/// A personalised email to many members.
pub(super) struct MassCommunication(mass::MassView);

/// A personalised email to many members.
#[Object]
impl MassCommunication {
    /// The communication's ID.
    async fn id(&self) -> ID {
        ID(self.0.communication.id.to_string())
    }
    /// The subject line, with merge fields.
    async fn subject(&self) -> &str {
        &self.0.communication.subject
    }
    /// The sanitised HTML body, with merge fields.
    async fn html(&self) -> &str {
        &self.0.communication.html
    }
    /// Hours each recipient's set-password link works.
    async fn link_validity(&self) -> i64 {
        self.0.communication.link_validity.num_hours()
    }
    /// Where it stands.
    async fn status(&self) -> MassCommunicationStatus {
        self.0.status.into()
    }
    /// How its deliveries stand.
    async fn counts(&self) -> DeliveryCounts {
        self.0.counts.into()
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.communication.created_at
    }
    /// When staff sent it.
    async fn queued_at(&self) -> Option<DateTime<Utc>> {
        self.0.communication.queued_at
    }
    /// When it finished or was cancelled.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.communication.finished_at
    }
    /// Its deliveries, one per recipient, optionally only those with one status.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries with this status.")] status: Option<DeliveryStatus>,
        #[graphql(
            default = 50,
            validator(minimum = 1, maximum = 500),
            desc = "Page size (1–500)."
        )]
        first: i32,
        #[graphql(desc = "A cursor from the previous page.")] after: Option<String>,
    ) -> Result<DeliveryConnection> {
        let (svc, principal, _) = parts(ctx)?;
        let after_id = cursor::parse_after::<DeliveryCursor>(after.as_deref())?.map(|c| c.0);
        let mut rows = mass::deliveries(
            svc,
            principal,
            self.0.communication.id,
            status.map(Into::into),
            after_id,
            first as u64 + 1,
        )
        .await?;
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let edges: Vec<DeliveryEdge> = rows
            .into_iter()
            .map(|d| DeliveryEdge {
                cursor: cursor::encode(&DeliveryCursor(d.id)),
                node: Delivery(d),
            })
            .collect();
        Ok(DeliveryConnection {
            page_info: PageInfo {
                has_next_page,
                has_previous_page: after_id.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }
}

/// A rendered message, exactly as one recipient would get it.
#[derive(SimpleObject)]
pub(super) struct MassCommunicationPreview {
    /// The subject line.
    subject: String,
    /// The HTML part.
    html: String,
    /// The plain-text part.
    text: String,
}

/// The result of mass-communication mutations.
#[derive(SimpleObject)]
pub(super) struct MassCommunicationPayload {
    /// The communication as it now stands.
    mass_communication: MassCommunication,
}

/// The result of `sendTestMassCommunication`.
#[derive(SimpleObject)]
pub(super) struct SendTestPayload {
    /// The address the test copy is going to.
    sent_to: String,
}

async fn payload(ctx: &Context<'_>, id: i64) -> Result<MassCommunicationPayload> {
    let (svc, principal, _) = parts(ctx)?;
    Ok(MassCommunicationPayload {
        mass_communication: MassCommunication(mass::view(svc, principal, id).await?),
    })
}

#[derive(Default)]
pub(super) struct MassQuery;

#[Object]
impl MassQuery {
    /// The merge fields an editor offers, `{{token}}` in the text.
    #[graphql(guard = "Require::Staff")]
    async fn special_fields(&self) -> Vec<SpecialField> {
        MergeField::ALL
            .iter()
            .map(|f| SpecialField {
                token: format!("{{{{{}}}}}", f.token()),
                label: f.label().into(),
                description: f.description().into(),
            })
            .collect()
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
            mass::view(svc, principal, mass_id(&id)?).await?,
        ))
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
            .map(|p| parse_profile_id(p))
            .transpose()?;
        let r = mass::preview(svc, principal, mass_id(&id)?, pid).await?;
        Ok(MassCommunicationPreview {
            subject: r.subject,
            html: r.html,
            text: r.text,
        })
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
        let i = input_of(
            Some(input.subject),
            Some(input.html),
            Some(input.recipients),
            input.link_validity,
        )?;
        let comm = mass::create(svc, principal, meta, i).await?;
        payload(ctx, comm.id).await
    }

    /// Changes a draft. Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn update_mass_communication(
        &self,
        ctx: &Context<'_>,
        input: UpdateMassCommunicationInput,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = mass_id(&input.id)?;
        let i = input_of(
            input.subject,
            input.html,
            input.recipients,
            input.link_validity,
        )?;
        mass::update(svc, principal, meta, id, i).await?;
        payload(ctx, id).await
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
            .map(|p| parse_profile_id(p))
            .transpose()?;
        let sent_to = mass::send_test(svc, principal, meta, mass_id(&id)?, &email, pid).await?;
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
        let id = mass_id(&id)?;
        mass::send(svc, principal, meta, id).await?;
        payload(ctx, id).await
    }

    /// Stops a communication; deliveries not yet handed to the provider are cancelled.
    /// Needs the SEND_MASS_COMMUNICATIONS right.
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn cancel_mass_communication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication to stop.")] id: ID,
    ) -> Result<MassCommunicationPayload> {
        let (svc, principal, meta) = parts(ctx)?;
        let id = mass_id(&id)?;
        mass::cancel(svc, principal, meta, id).await?;
        payload(ctx, id).await
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
        let id = mass_id(&id)?;
        mass::retry_failed(svc, principal, meta, id).await?;
        payload(ctx, id).await
    }
}

fn input_of(
    subject: Option<String>,
    html: Option<String>,
    r: Option<RecipientsInput>,
    hours: Option<i32>,
) -> Result<mass::MassInput, AppError> {
    Ok(mass::MassInput {
        subject,
        html,
        recipients: r.map(recipients).transpose()?,
        link_validity_hours: hours.map(i64::from),
    })
}

/// A progress report pushed while a communication is sending.
#[derive(SimpleObject, Clone, PartialEq, Eq)]
pub(super) struct MassCommunicationProgress {
    /// The communication's ID.
    id: ID,
    /// Where it stands.
    status: MassCommunicationStatus,
    /// How its deliveries stand.
    counts: DeliveryCounts,
}

#[derive(Default)]
pub(super) struct MassSubscription;

#[Subscription]
impl MassSubscription {
    /// Pushes the delivery counts whenever they change, until the communication is sent,
    /// failed or cancelled. Needs the SEND_MASS_COMMUNICATIONS right (send the staff token as
    /// `Authorization` in the connection's init payload).
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn mass_communication_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication to follow.")] id: ID,
    ) -> Result<impl Stream<Item = Result<MassCommunicationProgress>> + use<>> {
        let (svc, principal, _) = parts(ctx)?;
        let (svc, principal) = (svc.clone(), principal.clone());
        let id = mass_id(&id)?;
        // Fails now, not inside the stream, for an unknown communication.
        mass::view(&svc, &principal, id).await?;
        let poll = svc
            .config
            .mail
            .poll
            .max(std::time::Duration::from_millis(200));
        let state = (svc, principal, None::<MassCommunicationProgress>, false);
        Ok(futures_util::stream::unfold(
            state,
            move |(svc, principal, last, done)| async move {
                if done {
                    return None;
                }
                loop {
                    let view = match mass::view(&svc, &principal, id).await {
                        Ok(v) => v,
                        Err(e) => return Some((Err(e.into()), (svc, principal, last, true))),
                    };
                    let now = MassCommunicationProgress {
                        id: ID(id.to_string()),
                        status: view.status.into(),
                        counts: view.counts.into(),
                    };
                    let finished = !matches!(
                        view.status,
                        domain::MassStatus::Queued | domain::MassStatus::Sending
                    );
                    if last.as_ref() != Some(&now) {
                        return Some((Ok(now.clone()), (svc, principal, Some(now), finished)));
                    }
                    if finished {
                        return None;
                    }
                    tokio::time::sleep(poll).await;
                }
            },
        ))
    }
}

//! What staff read: a communication, its status and counts, its deliveries and previews.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::{self, MergeField};
use crate::graphql::cursor::{self, DeliveryCursor};
use crate::graphql::parts;
use crate::graphql::types::PageInfo;
use crate::services::mass;

/// What sending a draft now would do.
#[derive(SimpleObject)]
pub(super) struct SendPlan {
    /// Recipients it would send to.
    reach: u64,
    /// Recipients it would skip, by reason; reasons with none are left out.
    skipped: Vec<SkippedRecipients>,
}

/// How many recipients one reason skips.
#[derive(SimpleObject)]
pub(super) struct SkippedRecipients {
    /// NO_EMAIL_ADDRESS, OPTED_OUT (NEWS only), SUPPRESSED (the address bounced for good or
    /// complained) or DUPLICATE_ADDRESS (another recipient has the address, and the message
    /// carries no per-recipient link).
    reason: String,
    /// How many.
    count: u64,
}

impl From<mass::SendPlan> for SendPlan {
    fn from(p: mass::SendPlan) -> Self {
        SendPlan {
            reach: p.reach,
            skipped: p
                .skipped
                .into_iter()
                .map(|(r, count)| SkippedRecipients {
                    reason: r.as_db().to_owned(),
                    count,
                })
                .collect(),
        }
    }
}

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

/// A sender a mass communication can come from: the default one, or one the settings allow
/// (`MEMBERKEY_MAIL_SENDERS`). Only the name on From and the Reply-To change; the From
/// address is always the association's verified sending address.
#[derive(SimpleObject)]
pub(super) struct MailSender {
    /// What `sender` takes to choose it: `default`, or the sender's reply address.
    id: ID,
    /// The name recipients see on From.
    name: String,
    /// Where replies go; null when the default sender sets no Reply-To.
    reply_to: Option<String>,
}

impl From<mass::SenderChoice> for MailSender {
    fn from(s: mass::SenderChoice) -> Self {
        MailSender {
            id: ID(s.id),
            name: s.name,
            reply_to: s.reply_to,
        }
    }
}

impl From<MergeField> for SpecialField {
    fn from(f: MergeField) -> Self {
        SpecialField {
            token: format!("{{{{{}}}}}", f.token()),
            label: f.label().into(),
            description: f.description().into(),
        }
    }
}

/// What a mass communication is for, which decides who may leave it.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::MassPurpose")]
pub enum MassPurpose {
    /// Credentials and service notices: every member gets it, opted out of news or not. It
    /// may carry `{{portal_login_credentials_link}}` and may not carry `{{unsubscribe_link}}`.
    Service,
    /// News and everything else: it must carry `{{unsubscribe_link}}`, its mail has the
    /// one-click unsubscribe headers (RFC 8058), members who opted out are skipped
    /// (OPTED_OUT), and it may not carry the credentials link.
    News,
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
    /// Stopped by itself because too many deliveries failed (see `pauseReason`); the rest
    /// wait until `resumeMassCommunication` or `cancelMassCommunication`.
    Paused,
}

/// How a communication's deliveries stand.
#[derive(SimpleObject, Clone, Copy, PartialEq, Eq)]
pub(super) struct DeliveryCounts {
    /// Recipients in all, skipped ones included.
    total: i64,
    /// Waiting for or being handed to the provider.
    pending: i64,
    /// Accepted by the provider, including those it later reported delivered, bounced or
    /// complained about.
    sent: i64,
    /// Reported by the provider as delivered to the recipient's mail server.
    delivered: i64,
    /// Accepted, then bounced for good.
    bounced: i64,
    /// Reported as spam by their recipients.
    complained: i64,
    /// Refused for good; see each delivery's error.
    failed: i64,
    /// Not sent: no email, opted out, or a duplicate address.
    skipped: i64,
    /// Cancelled before they were sent.
    cancelled: i64,
    /// Recipients who set a password with their link: the communication's conversion.
    link_used: i64,
    /// Links still waiting, within their lifetime.
    link_unused: i64,
    /// Links whose lifetime ran out unused.
    link_expired: i64,
    /// Links a later link or a new password retired unused.
    link_replaced: i64,
}

impl DeliveryCounts {
    /// The counts, with the link outcome when it was computed (zero otherwise).
    pub(super) fn new(c: domain::DeliveryCounts, links: Option<domain::LinkCounts>) -> Self {
        let links = links.unwrap_or_default();
        Self {
            total: c.total,
            pending: c.pending,
            sent: c.sent,
            delivered: c.delivered,
            bounced: c.bounced,
            complained: c.complained,
            failed: c.failed,
            skipped: c.skipped,
            cancelled: c.cancelled,
            link_used: links.used,
            link_unused: links.unused,
            link_expired: links.expired,
            link_replaced: links.replaced,
        }
    }
}

/// Whether a selection of `DeliveryCounts` asks for the link outcome, which reads every
/// delivery's link and so is computed only when asked.
pub(super) fn wants_links(counts: async_graphql::Lookahead<'_>) -> bool {
    ["linkUsed", "linkUnused", "linkExpired", "linkReplaced"]
        .iter()
        .any(|f| counts.field(f).exists())
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
    /// Accepted, and reported by the provider as delivered to the recipient's mail server.
    Delivered,
    /// Accepted, then bounced for good; the error holds the diagnostic and the address is
    /// suppressed.
    Bounced,
    /// Delivered, then reported as spam by the recipient; the address is suppressed and the
    /// profile opted out of mass mail.
    Complained,
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
    /// A later link or a new password retired it before it was used.
    Replaced,
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
    /// The recipient's name as staff screens show it, since several profiles often share an
    /// address; null when the profile was deleted.
    async fn recipient_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(id) = self.0.profile_id else {
            return Ok(None);
        };
        let profile = crate::graphql::loaders(ctx)?.profile.load_one(id).await?;
        Ok(profile.flatten().map(|p| p.display_name()))
    }
    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// Why it was skipped: NO_EMAIL_ADDRESS, OPTED_OUT, DUPLICATE_ADDRESS, SUPPRESSED (the
    /// address bounced for good or complained earlier) or PROFILE_REMOVED.
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
pub(super) struct MassCommunication(pub(super) mass::MassView);

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
    /// SERVICE (everyone gets it) or NEWS (members may unsubscribe).
    async fn purpose(&self) -> MassPurpose {
        self.0.communication.purpose.into()
    }
    /// Who it comes from: the name on From and the Reply-To.
    async fn sender(&self, ctx: &Context<'_>) -> Result<MailSender> {
        let (svc, _, _) = parts(ctx)?;
        Ok(mass::sender_of(svc, &self.0.communication).into())
    }
    /// Where it stands.
    async fn status(&self) -> MassCommunicationStatus {
        self.0.status.into()
    }
    /// Who it goes to, as saved: chosen profiles or a filter.
    async fn recipients(&self) -> super::recipients::MassRecipients {
        super::recipients::MassRecipients(self.0.communication.recipients.clone())
    }
    /// How many profiles it goes to. For a draft, those its recipients select right now,
    /// counted afresh on each ask (some may be skipped when it is sent: no address, opted out,
    /// suppressed); once sent, its deliveries.
    async fn recipient_count(&self, ctx: &Context<'_>) -> Result<u64> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(mass::recipient_count(svc, principal, self.0.communication.id).await?)
    }
    /// For a draft: whom sending it now would reach, and whom it would skip and why, counted
    /// afresh on each ask. Null once it was sent (see `counts`).
    async fn send_plan(&self, ctx: &Context<'_>) -> Result<Option<SendPlan>> {
        let (svc, principal, _) = parts(ctx)?;
        Ok(mass::send_plan(svc, principal, self.0.communication.id)
            .await?
            .map(SendPlan::from))
    }
    /// How its deliveries stand, and how their set-password links fared.
    async fn counts(&self, ctx: &Context<'_>) -> Result<DeliveryCounts> {
        let links = if wants_links(ctx.look_ahead()) {
            let (svc, principal, _) = parts(ctx)?;
            Some(mass::link_counts(svc, principal, self.0.communication.id).await?)
        } else {
            None
        };
        Ok(DeliveryCounts::new(self.0.counts, links))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.communication.created_at
    }
    /// When the server sends it by itself (see `scheduleMassCommunication`); null when it
    /// is not scheduled. Kept once it was sent.
    async fn send_at(&self) -> Option<DateTime<Utc>> {
        self.0.communication.send_at
    }
    /// Why its scheduled start did not happen (it stays a draft, without a time), until it
    /// is scheduled again or sent; otherwise null.
    async fn schedule_problem(&self) -> Option<&str> {
        self.0.communication.schedule_problem.as_deref()
    }
    /// When staff sent it.
    async fn queued_at(&self) -> Option<DateTime<Utc>> {
        self.0.communication.queued_at
    }
    /// When it finished or was cancelled.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.communication.finished_at
    }
    /// Why it paused itself (e.g. "23 of its first 100 deliveries failed"); null unless
    /// paused.
    async fn pause_reason(&self) -> Option<&str> {
        self.0.communication.pause_reason.as_deref()
    }
    /// Its deliveries, one per recipient, optionally only those with one status or one link
    /// state.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries with this status.")] status: Option<DeliveryStatus>,
        #[graphql(desc = "Only deliveries whose link is in this state.")] link_state: Option<
            LinkState,
        >,
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
            link_state.map(Into::into),
            after_id,
            first as u64 + 1,
        )
        .await?;
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let edges: Vec<DeliveryEdge> = rows
            .into_iter()
            .map(|d| DeliveryEdge {
                cursor: cursor::encode(&DeliveryCursor(d.id.get())),
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
    pub(super) sent_to: String,
}

/// The payload of a mutation, from the communication its use case returned (not read again).
pub(super) async fn payload(
    ctx: &Context<'_>,
    communication: crate::domain::MassCommunication,
) -> Result<MassCommunicationPayload> {
    let (svc, _, _) = parts(ctx)?;
    Ok(MassCommunicationPayload {
        mass_communication: MassCommunication(mass::with_counts(svc, communication).await?),
    })
}

impl From<mass::Preview> for MassCommunicationPreview {
    fn from(r: mass::Preview) -> Self {
        MassCommunicationPreview {
            subject: r.subject,
            html: r.html,
            text: r.text,
        }
    }
}

/// One communication in a list.
#[derive(SimpleObject)]
pub(super) struct MassCommunicationEdge {
    /// Pass as `after` to continue behind this communication.
    pub(super) cursor: String,
    /// The communication.
    pub(super) node: MassCommunication,
}

/// A page of mass communications, newest first.
#[derive(SimpleObject)]
pub(super) struct MassCommunicationConnection {
    /// The communications on this page.
    pub(super) edges: Vec<MassCommunicationEdge>,
    /// Paging facts.
    pub(super) page_info: PageInfo,
    /// How many communications the filter matches in all.
    pub(super) total_count: i64,
}

/// The result of `deleteMassCommunication`.
#[derive(SimpleObject)]
pub(super) struct DeleteMassCommunicationPayload {
    /// The ID of the deleted draft.
    pub(super) deleted_id: ID,
}

/// The result of `resumeDelivery`.
#[derive(SimpleObject)]
pub(super) struct ResumeDeliveryPayload {
    /// Whether mail goes out now, after the resume.
    pub(super) delivery_state: DeliveryState,
}

/// Whether the mail queue is delivering. It pauses by itself when the provider refuses the
/// account or the sender (account suspended, sending paused, sender not verified): no message
/// is failed for it, they all wait queued until `resumeDelivery`.
#[derive(SimpleObject)]
pub(super) struct DeliveryState {
    /// True while delivery is paused; nothing is sent.
    pub(super) paused: bool,
    /// The provider's refusal that paused it; null while delivering.
    pub(super) reason: Option<String>,
    /// When it paused; null while delivering.
    pub(super) since: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<Option<crate::domain::DeliveryPause>> for DeliveryState {
    fn from(pause: Option<crate::domain::DeliveryPause>) -> Self {
        match pause {
            Some(p) => Self {
                paused: true,
                reason: Some(p.reason),
                since: Some(p.since),
            },
            None => Self {
                paused: false,
                reason: None,
                since: None,
            },
        }
    }
}

//! Preparing mass-communication rows: each recipient's copy rendered from the shared template,
//! with their own set-password link, drawn while rendering and stored before anything is sent.

use crate::domain::OutboundId;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Context, Prepared};
use super::{DeliveryError, DeliveryResult};
use crate::domain::{
    MassCommunication, MassCommunicationId, MassPurpose, MassStatus, OutboundMessage, Profile,
    ProfileId, SkipReason, Token, TokenHash, TokenPurpose,
};
use crate::mail::OutgoingEmail;
use crate::mail::links::{
    MailedLink, recipient_values, sample_mailed_link, sample_values, set_password_link,
    unsubscribe_url,
};
use crate::mail::mass::{MassTemplate, RecipientValues};
use crate::store::{
    self, Conn,
    links::{LinkOwner, NewLink},
    outbound::Claimed,
    outbound::Outcome,
};

type Compiled = Arc<(MassCommunication, MassTemplate)>;

/// What a batch of claimed mass rows needs, loaded with a few queries for the whole batch.
pub(super) struct MassBatch {
    comms: HashMap<MassCommunicationId, Option<Compiled>>,
    /// Links minted for this batch, written together by `store_tokens`.
    tokens: Vec<(TokenHash, ProfileId, DateTime<Utc>, OutboundId)>,
    /// Random tokens drawn ahead, a batch's worth per call to the random source.
    fresh: Vec<Token>,
    profiles: HashMap<ProfileId, Profile>,
    usernames: HashMap<ProfileId, String>,
    parents: HashMap<ProfileId, Profile>,
}

/// The communication a mass row belongs to, and whose values fill it.
fn target(
    row: &Claimed,
    message: &OutboundMessage,
) -> Option<(MassCommunicationId, Option<ProfileId>)> {
    match message {
        OutboundMessage::Mass { communication } => Some((*communication, row.profile_id)),
        OutboundMessage::MassTest {
            communication,
            sample,
        } => Some((*communication, *sample)),
        OutboundMessage::SetPasswordLinks(_)
        | OutboundMessage::PasswordChanged { .. }
        | OutboundMessage::StaffPasswordLink { .. } => None,
    }
}

impl MassBatch {
    pub(super) async fn load(db: &impl Conn, rows: &[Claimed]) -> DeliveryResult<Self> {
        let mut batch = MassBatch {
            comms: HashMap::new(),
            tokens: Vec::new(),
            fresh: Vec::new(),
            profiles: HashMap::new(),
            usernames: HashMap::new(),
            parents: HashMap::new(),
        };
        let mut ids = Vec::new();
        for row in rows {
            let Some((m, profile)) = row.message.as_ref().ok().and_then(|msg| target(row, msg))
            else {
                continue;
            };
            if let Entry::Vacant(slot) = batch.comms.entry(m) {
                // A communication that cannot be read fails its own rows, never the batch.
                let stored = store::mass::get(db, m).await.unwrap_or_else(|e| {
                    tracing::error!(mass_id = m.get(), error = %e, "a stored mass communication cannot be read");
                    None
                });
                let compiled = match stored {
                    Some(c) => match MassTemplate::parse(&c.subject, &c.html) {
                        Ok(t) => Some(Arc::new((c, t))),
                        Err((field, e)) => {
                            tracing::error!(mass_id = m.get(), field, error = %e, "a stored mass communication does not parse");
                            None
                        }
                    },
                    None => None,
                };
                slot.insert(compiled);
            }
            ids.extend(profile);
        }
        if ids.is_empty() {
            return Ok(batch);
        }
        batch.profiles = store::profiles::get_many(db, &ids).await?;
        batch.usernames = store::credentials::usernames(db, &ids).await?;
        let parent_ids: Vec<ProfileId> = batch
            .profiles
            .values()
            .filter_map(|p| p.parent_id)
            .collect();
        if !parent_ids.is_empty() {
            batch.parents = store::profiles::get_many(db, &parent_ids).await?;
        }
        Ok(batch)
    }

    fn values(
        &self,
        ctx: &Context,
        profile: &Profile,
        link: Option<MailedLink>,
    ) -> RecipientValues {
        let username = self.usernames.get(&profile.id).map(String::as_str);
        let parent = profile.parent_id.and_then(|p| self.parents.get(&p));
        recipient_values(&ctx.config, profile, username, parent, link)
    }

    /// Writes the batch's tokens, in the write transaction that follows rendering.
    pub(super) async fn store_tokens(
        &mut self,
        db: &impl Conn,
        now: DateTime<Utc>,
    ) -> DeliveryResult<()> {
        let new: Vec<NewLink<'_>> = self
            .tokens
            .iter()
            .map(|(hash, profile_id, expires_at, outbound)| NewLink {
                hash,
                purpose: TokenPurpose::Mass,
                owner: LinkOwner::Member(*profile_id),
                issued_by: None,
                expires_at: *expires_at,
                outbound_email_id: Some(*outbound),
            })
            .collect();
        store::links::mint_many(db, &new, now).await?;
        Ok(())
    }

    pub(super) fn prepare(
        &mut self,
        ctx: &Context,
        row: &Claimed,
        message: &OutboundMessage,
    ) -> DeliveryResult<Prepared> {
        let test = matches!(message, OutboundMessage::MassTest { .. });
        let (mass_id, profile_id) = match target(row, message) {
            Some((m, p)) => (Some(m), p),
            None => (None, None),
        };
        let Some(compiled) = mass_id.and_then(|m| self.comms.get(&m).cloned().flatten()) else {
            return Ok(Prepared::Done(Outcome::Failed {
                error: "the mass communication is missing or unreadable".into(),
            }));
        };
        let (comm, template) = &*compiled;
        if !test && comm.status == MassStatus::Cancelled {
            // A row put back for a retry, or claimed just before staff cancelled.
            return Ok(Prepared::Done(Outcome::Cancelled));
        }
        let Some(to) = row.to_address.clone() else {
            return Ok(Prepared::no_address());
        };
        let profile = profile_id.and_then(|p| self.profiles.get(&p)).cloned();
        let news = comm.purpose == MassPurpose::News;
        if !test && news && profile.as_ref().is_some_and(|p| p.email_opt_out) {
            // Opted out since it was queued (one click on the last newsletter, say).
            return Ok(Prepared::Done(Outcome::Skipped {
                reason: SkipReason::OptedOut,
            }));
        }
        // A NEWS message carries its recipient's own unsubscribe page; a test copy a sample.
        let unsubscribe = match (&profile, test) {
            (Some(p), false) if news => Some(unsubscribe_url(
                &ctx.config,
                &ctx.pseudonyms.unsubscribe_token(p.id),
            )),
            _ => None,
        };
        let expires_at = ctx.clock.now() + comm.link_validity;
        let values = match (test, profile) {
            (true, Some(p)) => {
                self.values(ctx, &p, Some(sample_mailed_link(&ctx.config, expires_at)))
            }
            (true, None) => sample_values(&ctx.config, expires_at),
            (false, None) => {
                return Ok(Prepared::Done(Outcome::Skipped {
                    reason: SkipReason::ProfileRemoved,
                }));
            }
            (false, Some(profile)) => {
                if template.uses_credentials() {
                    if self.fresh.is_empty() {
                        self.fresh = Token::generate_many(64)?;
                    }
                    let token = self
                        .fresh
                        .pop()
                        .ok_or(DeliveryError::Invariant("a batch ran out of fresh tokens"))?;
                    self.tokens
                        .push((token.hash(), profile.id, expires_at, row.id));
                    let link = MailedLink {
                        url: set_password_link(&ctx.config, &token),
                        expires_at,
                    };
                    self.values(ctx, &profile, Some(link))
                } else {
                    self.values(ctx, &profile, None)
                }
            }
        };
        let values = RecipientValues {
            unsubscribe: unsubscribe.clone().unwrap_or(values.unsubscribe),
            ..values
        };
        let rendered = template.render(&values);
        Ok(Prepared::Send(OutgoingEmail {
            to,
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            outbound_id: row.id,
            unsubscribe,
            sender: comm.sender.clone(),
        }))
    }
}

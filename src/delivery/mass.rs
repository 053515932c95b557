//! Preparing mass-communication rows: each recipient's copy rendered from the shared template,
//! with their own set-password link minted in the claim transaction.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::ConnectionTrait;

use super::compose::{Prepared, kind, link_base, set_password_link};
use chrono::{DateTime, Utc};

use crate::domain::{CredentialInfo, MassCommunication, Profile, ProfileId, Token, TokenHash};
use crate::error::{AppError, AppResult};
use crate::mail::OutgoingEmail;
use crate::mail::mass::{MassTemplate, RecipientValues};
use crate::services::Services;
use crate::store::{self, outbound::Claimed, outbound::Outcome, tokens::NewToken};

type Compiled = Arc<(MassCommunication, MassTemplate)>;

/// What a batch of claimed mass rows needs, loaded with a few queries for the whole batch.
pub(super) struct MassBatch {
    comms: HashMap<i64, Option<Compiled>>,
    /// Links minted for this batch, written together by `store_tokens`.
    tokens: Vec<(TokenHash, ProfileId, DateTime<Utc>, i64)>,
    profiles: HashMap<ProfileId, Profile>,
    credentials: HashMap<ProfileId, CredentialInfo>,
    parents: HashMap<ProfileId, Profile>,
}

/// Where a test copy's communication and sample recipient are named.
fn test_target(row: &Claimed) -> (Option<i64>, Option<ProfileId>) {
    (
        row.payload["massId"].as_i64(),
        row.payload["profileId"].as_i64().map(ProfileId::from_db),
    )
}

impl MassBatch {
    pub(super) async fn load(db: &impl ConnectionTrait, rows: &[Claimed]) -> AppResult<Self> {
        let mut batch = MassBatch {
            comms: HashMap::new(),
            tokens: Vec::new(),
            profiles: HashMap::new(),
            credentials: HashMap::new(),
            parents: HashMap::new(),
        };
        let mut ids = Vec::new();
        for row in rows {
            let (mass_id, profile) = match row.kind.as_str() {
                kind::MASS => (row.mass_communication_id, row.profile_id),
                kind::MASS_TEST => test_target(row),
                _ => continue,
            };
            if let Some(m) = mass_id
                && !batch.comms.contains_key(&m)
            {
                let compiled = match store::mass::get(db, m).await? {
                    Some(c) => match MassTemplate::parse(&c.subject, &c.html) {
                        Ok(t) => Some(Arc::new((c, t))),
                        Err((field, e)) => {
                            tracing::error!(mass_id = m, field, error = %e, "a stored mass communication does not parse");
                            None
                        }
                    },
                    None => None,
                };
                batch.comms.insert(m, compiled);
            }
            ids.extend(profile);
        }
        if ids.is_empty() {
            return Ok(batch);
        }
        batch.profiles = store::profiles::get_many(db, &ids).await?;
        batch.credentials = store::credentials::for_profiles(db, &ids).await?;
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

    fn values(&self, profile: &Profile, link: String) -> RecipientValues {
        let username = self
            .credentials
            .get(&profile.id)
            .and_then(|c| c.username.as_deref());
        let parent = profile.parent_id.and_then(|p| self.parents.get(&p));
        recipient_values(profile, username, parent, link)
    }

    /// Writes the batch's tokens; runs in the claim transaction, before it commits.
    pub(super) async fn store_tokens(
        &mut self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let new: Vec<NewToken<'_>> = self
            .tokens
            .iter()
            .map(|(hash, profile_id, expires_at, outbound)| NewToken {
                hash,
                purpose: "MASS",
                profile_id: *profile_id,
                issued_by: None,
                expires_at: *expires_at,
                outbound_email_id: Some(*outbound),
            })
            .collect();
        store::tokens::mint_many(db, &new, now).await?;
        Ok(())
    }

    pub(super) fn prepare(&mut self, svc: &Services, row: &Claimed) -> AppResult<Prepared> {
        let test = row.kind == kind::MASS_TEST;
        let (mass_id, profile_id) = if test {
            test_target(row)
        } else {
            (row.mass_communication_id, row.profile_id)
        };
        let Some(compiled) = mass_id.and_then(|m| self.comms.get(&m).cloned().flatten()) else {
            return Ok(Prepared::Done(Outcome::Failed {
                error: "the mass communication is missing or unreadable".into(),
            }));
        };
        let (comm, template) = &*compiled;
        let Some(to) = row.to_address.clone() else {
            return Ok(Prepared::Done(Outcome::Skipped {
                reason: "NO_EMAIL_ADDRESS",
            }));
        };
        let profile = profile_id.and_then(|p| self.profiles.get(&p)).cloned();
        let values = match (test, profile) {
            (true, profile) => {
                let mut v = profile
                    .map(|p| self.values(&p, sample_link(svc)))
                    .unwrap_or_else(|| sample_values(svc));
                v.link = sample_link(svc);
                v
            }
            (false, None) => {
                return Ok(Prepared::Done(Outcome::Skipped {
                    reason: "PROFILE_REMOVED",
                }));
            }
            (false, Some(profile)) => {
                if template.uses_credentials() {
                    let token = Token::generate().map_err(AppError::internal)?;
                    let expires_at = svc.clock.now() + comm.link_validity;
                    self.tokens
                        .push((token.hash(), profile.id, expires_at, row.id));
                    self.values(&profile, set_password_link(svc, &token))
                } else {
                    self.values(&profile, String::new())
                }
            }
        };
        let rendered = template.render(&values);
        Ok(Prepared::Send(OutgoingEmail {
            to,
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            outbound_id: row.id,
        }))
    }
}

/// One recipient's merge values. A person's organisation is their parent's name.
pub fn recipient_values(
    profile: &Profile,
    username: Option<&str>,
    parent: Option<&Profile>,
    link: String,
) -> RecipientValues {
    let email = profile.email.clone().unwrap_or_default();
    RecipientValues {
        first_name: profile.first_name.clone().unwrap_or_default(),
        last_name: profile.last_name.clone().unwrap_or_default(),
        full_name: profile.display_name(),
        organization_name: profile
            .organization_name
            .clone()
            .or_else(|| parent.and_then(|p| p.organization_name.clone()))
            .unwrap_or_default(),
        login: username.map_or_else(|| email.clone(), str::to_owned),
        email,
        profile_id: profile.id.to_string(),
        link,
    }
}

/// A link that looks like the real one but grants nothing: its token is not a token.
pub fn sample_link(svc: &Services) -> String {
    format!("{}#token=SAMPLE-LINK-FOR-PREVIEW-ONLY", link_base(svc))
}

/// Values for a preview without a recipient.
pub fn sample_values(svc: &Services) -> RecipientValues {
    RecipientValues {
        first_name: "Alex".into(),
        last_name: "Sample".into(),
        full_name: "Alex Sample".into(),
        organization_name: "Sample Trading Ltd".into(),
        email: "alex.sample@example.org".into(),
        login: "alex.sample".into(),
        profile_id: "0".into(),
        link: sample_link(svc),
    }
}

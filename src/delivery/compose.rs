//! Turns a claimed queue row into the message to send. Runs inside the claim transaction:
//! the set-password tokens a message carries are minted there, so a token never exists
//! without its message being marked as sending, and no message goes out without a live token.

use chrono::Duration;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

use crate::domain::{ProfileId, StaffUserId, Token};
use crate::error::{AppError, AppResult};
use crate::mail::OutgoingEmail;
use crate::mail::templates::{self, AccountLink, Rendered};
use crate::services::Services;
use crate::store::{self, outbound::Claimed, outbound::Outcome, tokens::NewToken};

pub use crate::store::outbound::kind;

/// What a `SET_PASSWORD_LINKS` row carries: whose links to mint, for how long, and why.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinksPayload {
    pub profiles: Vec<i64>,
    pub ttl_seconds: i64,
    /// Recorded on each token: `FORGOT_LOGIN` or `STAFF_RESET`.
    pub purpose: String,
    pub issued_by: Option<i64>,
}

/// What a `PASSWORD_CHANGED` row carries.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangedPayload {
    pub login: String,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

/// Where a set-password link points: the configured SPA, else the built-in page. The token
/// rides in the fragment, so it never reaches a server log or a Referer header.
pub fn set_password_link(svc: &Services, token: &Token) -> String {
    format!("{}#token={}", link_base(svc), token.expose())
}

/// The configured set-password page: the association's SPA, else the built-in page.
pub fn link_base(svc: &Services) -> String {
    svc.config
        .mail
        .set_password_url
        .clone()
        .unwrap_or_else(|| format!("{}/portal/set-password", svc.config.public_url))
}

/// What to do with a claimed row: send this message, or end the row at once.
pub enum Prepared {
    Send(OutgoingEmail),
    Done(Outcome),
}

fn email(row: &Claimed, to: &str, r: Rendered) -> Prepared {
    Prepared::Send(OutgoingEmail {
        to: to.to_owned(),
        subject: r.subject,
        html: r.html,
        text: r.text,
        outbound_id: row.id,
    })
}

/// Prepares a claimed batch. Mass rows share their communication's parsed template and have
/// their recipients' profiles loaded together.
pub async fn prepare_all(
    svc: &Services,
    db: &impl ConnectionTrait,
    rows: &[Claimed],
) -> AppResult<Vec<Prepared>> {
    let mut mass = super::mass::MassBatch::load(db, rows).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(match row.kind.as_str() {
            kind::MASS | kind::MASS_TEST => mass.prepare(svc, row)?,
            _ => prepare(svc, db, row).await?,
        });
    }
    mass.store_tokens(db, svc.clock.now()).await?;
    Ok(out)
}

async fn prepare(svc: &Services, db: &impl ConnectionTrait, row: &Claimed) -> AppResult<Prepared> {
    let Some(to) = row.to_address.as_deref() else {
        return Ok(Prepared::Done(Outcome::Skipped {
            reason: "NO_EMAIL_ADDRESS",
        }));
    };
    let association = &svc.config.association_name;
    match row.kind.as_str() {
        kind::SET_PASSWORD_LINKS => {
            let payload: LinksPayload = serde_json::from_value(row.payload.clone())
                .map_err(|e| AppError::internal(format!("queue row {}: {e}", row.id)))?;
            let accounts = mint_links(svc, db, row.id, &payload).await?;
            if accounts.is_empty() {
                // "Forgot Login" for an address nobody uses: the request was answered like
                // any other, and nothing is sent.
                return Ok(Prepared::Done(Outcome::Skipped {
                    reason: "NO_ACCOUNT",
                }));
            }
            Ok(email(
                row,
                to,
                templates::forgot_login(association, &accounts),
            ))
        }
        kind::PASSWORD_CHANGED => {
            let payload: ChangedPayload = serde_json::from_value(row.payload.clone())
                .map_err(|e| AppError::internal(format!("queue row {}: {e}", row.id)))?;
            Ok(email(
                row,
                to,
                templates::password_changed(association, &payload.login, payload.changed_at),
            ))
        }
        other => Ok(Prepared::Done(Outcome::Failed {
            error: format!("unknown message kind {other:?}"),
        })),
    }
}

/// Mints one token per profile still on record and returns the accounts to list.
async fn mint_links(
    svc: &Services,
    db: &impl ConnectionTrait,
    outbound_id: i64,
    payload: &LinksPayload,
) -> AppResult<Vec<AccountLink>> {
    let ids: Vec<ProfileId> = payload
        .profiles
        .iter()
        .copied()
        .map(ProfileId::from_db)
        .collect();
    let profiles = store::profiles::get_many(db, &ids).await?;
    let credentials = store::credentials::for_profiles(db, &ids).await?;
    let now = svc.clock.now();
    let expires_at = now + Duration::seconds(payload.ttl_seconds);
    let mut accounts = Vec::new();
    for id in ids {
        let Some(profile) = profiles.get(&id) else {
            continue;
        };
        let login = credentials
            .get(&id)
            .and_then(|c| c.username.clone())
            .or_else(|| profile.email.clone());
        let Some(login) = login else { continue };
        let token = Token::generate().map_err(AppError::internal)?;
        store::tokens::mint(
            db,
            NewToken {
                hash: &token.hash(),
                purpose: &payload.purpose,
                profile_id: id,
                issued_by: payload.issued_by.map(StaffUserId::from_db),
                expires_at,
                outbound_email_id: Some(outbound_id),
            },
            now,
        )
        .await?;
        accounts.push(AccountLink {
            profile_name: profile.display_name(),
            login,
            link: set_password_link(svc, &token),
            expires_at,
        });
    }
    Ok(accounts)
}

//! Turns claimed queue rows into the messages to send. Rendering reads and holds no write
//! lock; the set-password tokens the messages carry are then stored in one write transaction
//! before any of them is sent, so no message goes out without a live token, and a token is
//! never stored for a row that is not held for sending.

use super::DeliveryResult;
use crate::domain::OutboundId;
use crate::domain::{
    AddressKeys, OutboundMessage, ProfileId, SetPasswordLinks, SkipReason, StaffUserId,
    SuppressionReason, Token, TokenPurpose, search_key,
};
use crate::mail::OutgoingEmail;
use crate::mail::links::{set_password_link, staff_password_link};
use crate::mail::templates::{self, AccountLink, Rendered};
use crate::store::{
    self, Conn,
    links::{LinkOwner, NewLink},
    outbound::Claimed,
    outbound::Outcome,
};

use super::mass::MassBatch;
use super::{Context, Prepared};

fn email(row: &Claimed, to: &str, r: Rendered) -> Prepared {
    Prepared::Send(OutgoingEmail {
        to: to.to_owned(),
        subject: r.subject,
        html: r.html,
        text: r.text,
        outbound_id: row.id,
        unsubscribe: None,
        sender: None,
    })
}

/// A claimed batch, rendered without holding the write lock. Most messages are ready; the
/// ones whose links are minted from what is stored at that moment ("Forgot Login", a staff
/// user's link) wait for the write transaction.
pub struct Drafts<'a> {
    rows: &'a [Claimed],
    drafts: Vec<Draft<'a>>,
    mass: MassBatch,
}

enum Draft<'a> {
    Ready(Prepared),
    Links(&'a SetPasswordLinks),
    StaffLink {
        staff_user: StaffUserId,
        ttl: chrono::Duration,
        issued_by: Option<StaffUserId>,
    },
}

/// Reads what a claimed batch needs and renders it. Mass rows share their communication's
/// parsed template and have their recipients' profiles loaded together; their links are
/// drawn now and stored by `Drafts::complete`.
pub async fn draft_all<'a>(ctx: &Context, rows: &'a [Claimed]) -> DeliveryResult<Drafts<'a>> {
    let mut mass = MassBatch::load(&ctx.db, rows).await?;
    let suppressed = suppressed_in(ctx, rows).await?;
    let mut drafts = Vec::with_capacity(rows.len());
    for row in rows {
        let message = match &row.message {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(outbound_id = row.id.get(), %error, "a queued message cannot be read; it is marked failed");
                drafts.push(Draft::Ready(Prepared::Done(Outcome::Failed {
                    error: format!("unreadable message: {error}"),
                })));
                continue;
            }
        };
        if let Some(reason) = row
            .to_address
            .as_deref()
            .and_then(|a| suppressed.get(&search_key(a)))
            && stops(message, *reason)
        {
            drafts.push(Draft::Ready(Prepared::Done(Outcome::Skipped {
                reason: SkipReason::Suppressed,
            })));
            continue;
        }
        drafts.push(match message {
            OutboundMessage::Mass { .. } | OutboundMessage::MassTest { .. } => {
                Draft::Ready(mass.prepare(ctx, row, message)?)
            }
            OutboundMessage::SetPasswordLinks(links) => Draft::Links(links),
            OutboundMessage::StaffPasswordLink {
                staff_user,
                ttl,
                issued_by,
            } => Draft::StaffLink {
                staff_user: *staff_user,
                ttl: *ttl,
                issued_by: *issued_by,
            },
            OutboundMessage::PasswordChanged { login, changed_at } => {
                Draft::Ready(match &row.to_address {
                    None => Prepared::no_address(),
                    Some(to) => email(
                        row,
                        to,
                        templates::password_changed(
                            &ctx.config.association_name,
                            ctx.config.time_zone,
                            login,
                            *changed_at,
                        ),
                    ),
                })
            }
        });
    }
    Ok(Drafts { rows, drafts, mass })
}

impl Drafts<'_> {
    /// Mints the batch's links in the write transaction `txn`: the mass links drawn while
    /// rendering, and those of single messages, which are read and minted here. Returns what
    /// to do with each row, in order.
    pub async fn complete(self, ctx: &Context, txn: &impl Conn) -> DeliveryResult<Vec<Prepared>> {
        let Drafts {
            rows,
            drafts,
            mut mass,
        } = self;
        let mut out = Vec::with_capacity(drafts.len());
        for (row, draft) in rows.iter().zip(drafts) {
            out.push(match draft {
                Draft::Ready(prepared) => prepared,
                Draft::Links(links) => prepare_links(ctx, txn, row, links).await?,
                Draft::StaffLink {
                    staff_user,
                    ttl,
                    issued_by,
                } => prepare_staff_link(ctx, txn, row, staff_user, ttl, issued_by).await?,
            });
        }
        mass.store_tokens(txn, ctx.clock.now()).await?;
        Ok(out)
    }
}

/// The suppressed addresses among the batch's, in one query.
async fn suppressed_in(
    ctx: &Context,
    rows: &[Claimed],
) -> DeliveryResult<std::collections::HashMap<String, SuppressionReason>> {
    let mut addresses: Vec<String> = rows
        .iter()
        .filter_map(|r| r.to_address.as_deref().map(search_key))
        .collect();
    addresses.sort_unstable();
    addresses.dedup();
    let keys: Vec<AddressKeys> = addresses
        .iter()
        .map(|a| AddressKeys::new(a, &ctx.pseudonyms))
        .collect();
    Ok(store::suppressions::among(&ctx.db, &keys).await?)
}

/// Whether a suppression stops this message. Mass mail skips every suppressed address (it
/// was skipped when the communication was sent too, unless the report arrived since). Account
/// mail stops only for a hard bounce: someone who complained about a newsletter still gets
/// the password reset they asked for. A staff member's test copy goes to their own address.
fn stops(message: &OutboundMessage, reason: SuppressionReason) -> bool {
    match message {
        OutboundMessage::Mass { .. } => true,
        OutboundMessage::MassTest { .. } => false,
        OutboundMessage::SetPasswordLinks(_)
        | OutboundMessage::PasswordChanged { .. }
        | OutboundMessage::StaffPasswordLink { .. } => reason == SuppressionReason::Bounce,
    }
}

async fn prepare_links(
    ctx: &Context,
    db: &impl Conn,
    row: &Claimed,
    links: &SetPasswordLinks,
) -> DeliveryResult<Prepared> {
    let Some(to) = row.to_address.as_deref() else {
        return Ok(Prepared::no_address());
    };
    let accounts = mint_links(ctx, db, row.id, links).await?;
    if accounts.is_empty() {
        // "Forgot Login" for an address nobody uses: the request was answered like any
        // other, and nothing is sent.
        return Ok(Prepared::Done(Outcome::Skipped {
            reason: SkipReason::NoAccount,
        }));
    }
    Ok(email(
        row,
        to,
        templates::forgot_login(
            &ctx.config.association_name,
            ctx.config.time_zone,
            &accounts,
        ),
    ))
}

/// A staff user's link, minted now. Nothing goes out when the user was deactivated or their
/// address changed after it was queued: the link is for the account and the address the
/// administrator saw.
async fn prepare_staff_link(
    ctx: &Context,
    db: &impl Conn,
    row: &Claimed,
    staff_user: StaffUserId,
    ttl: chrono::Duration,
    issued_by: Option<StaffUserId>,
) -> DeliveryResult<Prepared> {
    let Some(to) = row.to_address.as_deref() else {
        return Ok(Prepared::no_address());
    };
    let user = store::staff::get(db, staff_user).await?;
    let Some(user) = user.filter(|u| {
        u.active
            && u.email
                .as_deref()
                .is_some_and(|e| search_key(e) == search_key(to))
    }) else {
        return Ok(Prepared::Done(Outcome::Skipped {
            reason: SkipReason::NoAccount,
        }));
    };
    let now = ctx.clock.now();
    let expires_at = now + ttl;
    let token = Token::generate()?;
    store::links::mint(
        db,
        NewLink {
            hash: &token.hash(),
            purpose: TokenPurpose::StaffPassword,
            owner: LinkOwner::Staff(staff_user),
            issued_by,
            expires_at,
            outbound_email_id: Some(row.id),
        },
        now,
    )
    .await?;
    Ok(email(
        row,
        to,
        templates::staff_password_link(
            &ctx.config.association_name,
            ctx.config.time_zone,
            &user.username,
            &staff_password_link(&ctx.config, &token),
            expires_at,
        ),
    ))
}

/// Mints one token per profile still on record and returns the accounts to list.
async fn mint_links(
    ctx: &Context,
    db: &impl Conn,
    outbound_id: OutboundId,
    links: &SetPasswordLinks,
) -> DeliveryResult<Vec<AccountLink>> {
    let ids: &[ProfileId] = &links.profiles;
    let profiles = store::profiles::get_many(db, ids).await?;
    let usernames = store::credentials::usernames(db, ids).await?;
    let now = ctx.clock.now();
    let expires_at = now + links.ttl;
    let mut accounts = Vec::new();
    for id in ids {
        let Some(profile) = profiles.get(id) else {
            continue;
        };
        let login = usernames.get(id).cloned().or_else(|| profile.email.clone());
        let Some(login) = login else { continue };
        let token = Token::generate()?;
        store::links::mint(
            db,
            NewLink {
                hash: &token.hash(),
                purpose: links.purpose,
                owner: LinkOwner::Member(*id),
                issued_by: links.issued_by,
                expires_at,
                outbound_email_id: Some(outbound_id),
            },
            now,
        )
        .await?;
        accounts.push(AccountLink {
            profile_name: profile.display_name(),
            login,
            link: set_password_link(&ctx.config, &token),
            expires_at,
        });
    }
    Ok(accounts)
}

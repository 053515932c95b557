//! The Mass Communicator: compose a personalised HTML email, preview it, send a test copy,
//! send it to hundreds or tens of thousands of members, follow its progress, cancel it, and
//! retry failed deliveries.
//!
//! Opt-out: a member who opted out of email gets no mass communication, whether or not it
//! carries the Portal Login Credentials Link. Their delivery is listed as skipped with the
//! reason `OPTED_OUT`, so staff can reach them one by one with `sendPasswordResetEmail`,
//! which is an account message and ignores the opt-out.
//!
//! `drafts` (below) checks and saves what staff write; `reading` shows a communication, its
//! deliveries and previews; `sending` queues it, its test copy, a cancel and a retry.

mod reading;
mod schedule;
mod sending;

/// A rendered preview (subject, HTML, text), as the API shows it.
pub use crate::mail::templates::Rendered as Preview;
pub use reading::{
    MassPage, count_matching, deliveries, link_counts, list, preview, recipient_count, select,
    view, with_counts,
};
pub use schedule::{schedule, start_due};
pub use sending::{SendPlan, cancel, resume, retry_failed, send, send_plan, send_test};

use std::collections::HashSet;

use chrono::Duration;
use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{
    AuditAction, DeliveryCounts, MailSender, MassCommunication, MassCommunicationId, MassPurpose,
    MassStatus, MassTransition, MergeField, ProfileId, Recipients, Right, SearchTerm,
    reject_control_chars,
};
use crate::error::{AppError, AppResult};
use crate::mail::mass::{MassTemplate, sanitize};
use crate::store::{self, mass::MassContent};

/// Longest subject and body staff may save.
const MAX_SUBJECT_CHARS: usize = 300;
const MAX_HTML_BYTES: usize = 512 * 1024;
/// Most profiles one communication may name directly.
pub const MAX_PROFILE_IDS: usize = 100_000;

/// What staff write. On update, `None` keeps a part.
#[derive(Debug, Default)]
pub struct MassInput {
    pub subject: Option<String>,
    pub html: Option<String>,
    pub recipients: Option<Recipients>,
    pub link_validity_hours: Option<i64>,
    pub purpose: Option<MassPurpose>,
    /// The ID of one of `senders`: `DEFAULT_SENDER` or an allowed sender's reply address.
    pub sender: Option<String>,
}

/// The ID that names the default sender (`MEMBERKEY_MAIL_FROM`, `MEMBERKEY_MAIL_REPLY_TO`).
pub const DEFAULT_SENDER: &str = "default";

/// The sender an ID names: `None` for the default one. Only the senders the settings allow
/// can be named, so staff can put no other name on the association's mail.
fn chosen_sender(svc: &Services, id: &str) -> AppResult<Option<MailSender>> {
    if id == DEFAULT_SENDER {
        return Ok(None);
    }
    svc.config
        .mail
        .senders
        .iter()
        .find(|s| s.reply_to.as_str().eq_ignore_ascii_case(id.trim()))
        .cloned()
        .map(Some)
        .ok_or_else(|| {
            bad(
                "input.sender",
                format!(
                    "is not one of the senders the settings allow (MEMBERKEY_MAIL_SENDERS); choose one from mailSenders, or \"{DEFAULT_SENDER}\""
                ),
            )
        })
}

/// Whether a stored sender is still allowed: the settings may have dropped it since the draft
/// was saved, and mail must never go out under a name nobody allows any more.
pub(super) fn sender_still_allowed(svc: &Services, comm: &MassCommunication) -> AppResult<()> {
    match &comm.sender {
        Some(s) if !svc.config.mail.senders.contains(s) => Err(AppError::conflict(format!(
            "the sender \"{}\" <{}> is no longer allowed by the settings (MEMBERKEY_MAIL_SENDERS): choose another sender for this draft, then send it",
            s.name, s.reply_to
        ))),
        _ => Ok(()),
    }
}

/// Every sender staff may choose: the default first, then the allowed ones. The default's
/// name is `MEMBERKEY_MAIL_FROM`'s display name (or its address), its reply address
/// `MEMBERKEY_MAIL_REPLY_TO`, if any.
pub fn senders(svc: &Services) -> Vec<SenderChoice> {
    let mut all = vec![default_sender(svc)];
    all.extend(svc.config.mail.senders.iter().map(SenderChoice::from));
    all
}

/// The sender a communication goes out under, as staff see it.
pub fn sender_of(svc: &Services, comm: &MassCommunication) -> SenderChoice {
    match &comm.sender {
        None => default_sender(svc),
        Some(s) => s.into(),
    }
}

fn default_sender(svc: &Services) -> SenderChoice {
    let from = &svc.config.mail.from;
    let name = from
        .split_once('<')
        .map(|(name, _)| name.trim().trim_matches('"').trim())
        .filter(|n| !n.is_empty())
        .unwrap_or(from.trim());
    SenderChoice {
        id: DEFAULT_SENDER.into(),
        name: name.to_owned(),
        reply_to: svc.config.mail.reply_to.clone(),
    }
}

/// A sender as the console offers it.
#[derive(Debug, Clone)]
pub struct SenderChoice {
    /// `DEFAULT_SENDER`, or the reply address that identifies an allowed sender.
    pub id: String,
    /// The display name on From.
    pub name: String,
    /// Where replies go; `None` when the default sender sets no Reply-To.
    pub reply_to: Option<String>,
}

impl From<&MailSender> for SenderChoice {
    /// An allowed sender, named by its reply address.
    fn from(s: &MailSender) -> Self {
        SenderChoice {
            id: s.reply_to.to_string(),
            name: s.name.clone(),
            reply_to: Some(s.reply_to.to_string()),
        }
    }
}

/// A communication with its delivery counts and the status they add up to.
#[derive(Debug, Clone)]
pub struct MassView {
    pub communication: MassCommunication,
    pub counts: DeliveryCounts,
    pub status: MassStatus,
}

impl MassView {
    /// The view, with the status its counts add up to.
    fn new(communication: MassCommunication, counts: DeliveryCounts) -> Self {
        let status = counts.progress(communication.status);
        Self {
            communication,
            counts,
            status,
        }
    }
}

fn bad(field: &str, message: impl Into<String>) -> AppError {
    AppError::BadUserInput {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks and cleans what staff wrote; returns subject and sanitised HTML.
fn validate(subject: &str, html: &str, purpose: MassPurpose) -> AppResult<(String, String)> {
    let subject = subject.trim();
    if subject.is_empty() {
        return Err(bad("input.subject", "must not be empty"));
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(bad(
            "input.subject",
            format!("must be at most {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    reject_control_chars(subject).map_err(|e| AppError::bad_input("input.subject", e))?;
    if html.len() > MAX_HTML_BYTES {
        return Err(bad(
            "input.html",
            format!("must be at most {} KiB", MAX_HTML_BYTES / 1024),
        ));
    }
    // Errors point into what staff wrote, so the original is parsed first.
    MassTemplate::parse(subject, html)
        .map_err(|(field, e)| AppError::bad_input(format!("input.{field}"), e))?;
    let clean = sanitize(html);
    let template = MassTemplate::parse(subject, &clean)
        .map_err(|(field, e)| AppError::bad_input(format!("input.{field}"), e))?;
    check_purpose(&template, purpose)?;
    Ok((subject.to_owned(), clean))
}

/// NEWS must let each recipient leave and may not hand out credentials; SERVICE is for
/// everyone, so it has nothing to leave.
fn check_purpose(template: &MassTemplate, purpose: MassPurpose) -> AppResult<()> {
    let unsubscribe = MergeField::UnsubscribeLink.token();
    match purpose {
        MassPurpose::News if !template.uses(MergeField::UnsubscribeLink) => Err(bad(
            "input.html",
            format!(
                "a NEWS communication must contain {{{{{unsubscribe}}}}} (the Unsubscribe Link), so each recipient can stop receiving news"
            ),
        )),
        MassPurpose::News
            if template.uses_credentials() || template.uses(MergeField::LinkExpires) =>
        {
            Err(bad(
                "input.html",
                "a NEWS communication may not carry the Portal Login Credentials Link: send credentials as a SERVICE communication, which every member gets",
            ))
        }
        MassPurpose::Service if template.uses(MergeField::UnsubscribeLink) => Err(bad(
            "input.html",
            format!(
                "a SERVICE communication goes to every member and cannot be unsubscribed from: remove {{{{{unsubscribe}}}}}, or make it NEWS"
            ),
        )),
        _ => Ok(()),
    }
}

fn link_validity(svc: &Services, hours: Option<i64>) -> AppResult<Duration> {
    match hours {
        None => Ok(svc.config.mail.mass_link_ttl),
        Some(h) if (1..=24 * 90).contains(&h) => Ok(Duration::hours(h)),
        Some(_) => Err(bad(
            "input.linkValidity",
            "must be between 1 and 2160 hours (90 days)",
        )),
    }
}

async fn check_recipients(svc: &Services, r: &Recipients) -> AppResult<()> {
    match r {
        Recipients::ProfileIds(ids) => {
            if ids.is_empty() {
                return Err(bad(
                    "input.recipients.profileIds",
                    "must name at least one profile",
                ));
            }
            if ids.len() > MAX_PROFILE_IDS {
                return Err(bad(
                    "input.recipients.profileIds",
                    format!("may name at most {MAX_PROFILE_IDS} profiles; use a filter for more"),
                ));
            }
            let mut seen = HashSet::new();
            let unique: Vec<ProfileId> = ids.iter().copied().filter(|i| seen.insert(*i)).collect();
            for chunk in unique.chunks(1000) {
                let found = store::profiles::get_many(&svc.db, chunk).await?;
                if let Some(missing) = chunk.iter().find(|id| !found.contains_key(id)) {
                    return Err(AppError::not_found("profile", missing));
                }
            }
            Ok(())
        }
        Recipients::Filter(f) => {
            if let Some(s) = &f.search {
                SearchTerm::parse(s)
                    .map_err(|e| AppError::bad_input("input.recipients.filter.search", e))?;
            }
            if let Some(u) = &f.from_communication
                && store::mass::get(&svc.db, u.communication).await?.is_none()
            {
                return Err(AppError::not_found("mass communication", u.communication));
            }
            Ok(())
        }
    }
}

pub async fn create(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    input: MassInput,
) -> AppResult<MassCommunication> {
    let staff = principal.require(Right::SendMassCommunications)?;
    let subject = input
        .subject
        .ok_or_else(|| bad("input.subject", "is required"))?;
    let html = input.html.ok_or_else(|| bad("input.html", "is required"))?;
    let recipients = input
        .recipients
        .ok_or_else(|| bad("input.recipients", "is required"))?;
    let purpose = input.purpose.unwrap_or(MassPurpose::Service);
    let sender = match input.sender.as_deref() {
        Some(id) => chosen_sender(svc, id)?,
        None => None,
    };
    let (subject, html) = validate(&subject, &html, purpose)?;
    let validity = link_validity(svc, input.link_validity_hours)?;
    check_recipients(svc, &recipients).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let comm = store::mass::insert(
        &txn,
        MassContent {
            subject: &subject,
            html: &html,
            purpose,
            sender: sender.as_ref(),
            recipients: &recipients,
            link_validity: validity,
        },
        Some(staff.user.id.get()),
        now,
    )
    .await?;
    audit::record(
        &txn,
        svc.clock.now(),
        principal
            .audit_event(AuditAction::MassCommunicationCreated, meta)
            .detail(json!({ "massCommunicationId": comm.id.get() })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(comm)
}

/// A recipient filter's quick-search term, parsed as the quick search parses it.
pub(super) fn recipient_search(recipients: &Recipients) -> AppResult<Option<SearchTerm>> {
    match recipients {
        Recipients::Filter(crate::domain::RecipientFilter {
            search: Some(s), ..
        }) => SearchTerm::parse(s).map_err(|e| AppError::bad_input("recipients.filter.search", e)),
        _ => Ok(None),
    }
}

pub(super) async fn load(svc: &Services, id: MassCommunicationId) -> AppResult<MassCommunication> {
    store::mass::get(&svc.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("mass communication", id))
}

pub async fn update(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
    input: MassInput,
) -> AppResult<MassCommunication> {
    principal.require(Right::SendMassCommunications)?;
    let current = load(svc, id).await?;
    if current.status != MassStatus::Draft {
        return Err(AppError::conflict(format!(
            "only drafts can be changed; this one is {}. Create a new communication for different content",
            current.status.as_db()
        )));
    }
    let subject = input.subject.unwrap_or(current.subject);
    let html = input.html.unwrap_or(current.html);
    let recipients = input.recipients.unwrap_or(current.recipients);
    let purpose = input.purpose.unwrap_or(current.purpose);
    let sender = match input.sender.as_deref() {
        Some(id) => chosen_sender(svc, id)?,
        None => current.sender,
    };
    let validity = match input.link_validity_hours {
        Some(h) => link_validity(svc, Some(h))?,
        None => current.link_validity,
    };
    let (subject, html) = validate(&subject, &html, purpose)?;
    check_recipients(svc, &recipients).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    // Re-checked inside the transaction: a send may have won the race.
    if !store::mass::transition(&txn, id, MassTransition::Edit, now).await? {
        return Err(AppError::conflict(
            "only drafts can be changed; this one was just sent. Create a new communication for different content",
        ));
    }
    let comm = store::mass::update_content(
        &txn,
        id,
        MassContent {
            subject: &subject,
            html: &html,
            purpose,
            sender: sender.as_ref(),
            recipients: &recipients,
            link_validity: validity,
        },
        now,
    )
    .await?;
    audit::record(
        &txn,
        svc.clock.now(),
        principal
            .audit_event(AuditAction::MassCommunicationUpdated, meta)
            .detail(json!({ "massCommunicationId": id.get() })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(comm)
}

/// A new draft with the content, recipients and link lifetime of any communication, sent or
/// not: the start of a reminder or a new edition.
pub async fn duplicate(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
) -> AppResult<MassCommunication> {
    let staff = principal.require(Right::SendMassCommunications)?;
    let source = load(svc, id).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let copy = store::mass::insert(
        &txn,
        MassContent {
            subject: &source.subject,
            html: &source.html,
            purpose: source.purpose,
            sender: source.sender.as_ref(),
            recipients: &source.recipients,
            link_validity: source.link_validity,
        },
        Some(staff.user.id.get()),
        now,
    )
    .await?;
    let detail = json!({ "massCommunicationId": copy.id.get(), "duplicateOf": id.get() });
    let event = principal.audit_event(AuditAction::MassCommunicationCreated, meta);
    audit::record(&txn, svc.clock.now(), event.detail(detail)).await?;
    store::commit(txn).await?;
    Ok(copy)
}

/// Deletes a draft. A communication that was sent is a record of who got what, so deleting
/// one is refused with CONFLICT.
pub async fn delete(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: MassCommunicationId,
) -> AppResult<()> {
    principal.require(Right::SendMassCommunications)?;
    let current = load(svc, id).await?;
    let txn = store::begin_write(&svc.db).await?;
    if !store::mass::delete_draft(&txn, id).await? {
        return Err(AppError::conflict(format!(
            "only drafts can be deleted; this one is {}. A sent communication stays as the record of who got what",
            current.status.as_db()
        )));
    }
    let detail = json!({ "massCommunicationId": id.get(), "subject": current.subject });
    let event = principal.audit_event(AuditAction::MassCommunicationDeleted, meta);
    audit::record(&txn, svc.clock.now(), event.detail(detail)).await?;
    store::commit(txn).await?;
    Ok(())
}

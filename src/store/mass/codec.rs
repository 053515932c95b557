//! The `recipients` column's JSON, and a stored row read back as a domain record.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};

use crate::domain::{
    FollowUp, MailSender, MassCommunication, MassCommunicationId, ProfileId, RecipientFilter,
    Recipients,
};
use crate::entities::mass_communication;
use crate::store::stored;

/// How recipients are kept in the `recipients` column. Unknown keys are refused: a filter
/// part written by a newer version must not be dropped, or the filter would widen.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RecipientsJson {
    profile_ids: Option<Vec<i64>>,
    kind: Option<String>,
    member_status: Option<String>,
    search: Option<String>,
    #[serde(default)]
    include_related_profiles: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    has_credentials: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    has_password: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_in: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_in_since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    member_statuses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_communication: Option<FollowUpJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FollowUpJson {
    id: i64,
    #[serde(default)]
    link_states: Vec<String>,
    #[serde(default)]
    delivery_statuses: Vec<String>,
}

/// Parses a list of stored spellings, refusing any this version does not know.
pub(super) fn stored_all<T>(column: &'static str, raw: Vec<String>) -> StoreResult<Vec<T>>
where
    T: std::str::FromStr<Err = String>,
{
    raw.iter().map(|s| stored(column, s)).collect()
}

pub(super) fn spellings<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

pub(super) fn recipients_to_json(r: &Recipients) -> String {
    let json = match r {
        Recipients::ProfileIds(ids) => RecipientsJson {
            profile_ids: Some(ids.iter().map(|i| i.get()).collect()),
            ..Default::default()
        },
        Recipients::Filter(f) => RecipientsJson {
            profile_ids: None,
            kind: f.kind.map(|k| k.as_db().to_owned()),
            member_status: f.member_status.map(|s| s.as_db().to_owned()),
            search: f.search.clone(),
            include_related_profiles: f.include_related_profiles,
            has_credentials: f.has_credentials,
            has_password: f.has_password,
            signed_in: f.signed_in,
            signed_in_since: f.signed_in_since,
            member_statuses: spellings(&f.member_statuses),
            from_communication: f.from_communication.as_ref().map(|u| FollowUpJson {
                id: u.communication.get(),
                link_states: spellings(&u.link_states),
                delivery_statuses: spellings(&u.delivery_statuses),
            }),
        },
    };
    serde_json::to_string(&json).unwrap_or_default()
}

pub(super) fn recipients_from_json(raw: &str) -> StoreResult<Recipients> {
    let j: RecipientsJson =
        serde_json::from_str(raw).map_err(|e| DbErr::Custom(format!("recipients: {e}")))?;
    if let Some(ids) = j.profile_ids {
        return Ok(Recipients::ProfileIds(
            ids.into_iter().map(ProfileId::from_db).collect(),
        ));
    }
    Ok(Recipients::Filter(RecipientFilter {
        // A part this version cannot read fails the whole filter: dropping it would widen
        // who receives the communication.
        kind: j
            .kind
            .map(|k| stored("mass_communications.recipients.kind", &k))
            .transpose()?,
        member_status: j
            .member_status
            .map(|s| stored("mass_communications.recipients.memberStatus", &s))
            .transpose()?,
        search: j.search,
        include_related_profiles: j.include_related_profiles,
        has_credentials: j.has_credentials,
        has_password: j.has_password,
        signed_in: j.signed_in,
        signed_in_since: j.signed_in_since,
        member_statuses: stored_all(
            "mass_communications.recipients.memberStatuses",
            j.member_statuses,
        )?,
        from_communication: j
            .from_communication
            .map(|u| {
                Ok::<_, crate::store::StoreError>(FollowUp {
                    communication: MassCommunicationId::from_db(u.id),
                    link_states: stored_all(
                        "mass_communications.recipients.fromCommunication.linkStates",
                        u.link_states,
                    )?,
                    delivery_statuses: stored_all(
                        "mass_communications.recipients.fromCommunication.deliveryStatuses",
                        u.delivery_statuses,
                    )?,
                })
            })
            .transpose()?,
    }))
}

pub(super) fn to_record(m: mass_communication::Model) -> StoreResult<MassCommunication> {
    Ok(MassCommunication {
        id: MassCommunicationId::from_db(m.id),
        subject: m.subject,
        html: m.html,
        purpose: stored("mass_communications.purpose", &m.purpose)?,
        sender: sender_from_columns(m.sender_name, m.sender_reply_to)?,
        recipients: recipients_from_json(&m.recipients)?,
        link_validity: chrono::Duration::seconds(m.link_validity_seconds),
        status: stored("mass_communications.status", &m.status)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        queued_at: m.queued_at,
        finished_at: m.finished_at,
        pause_reason: m.pause_reason,
        send_at: m.send_at,
        schedule_problem: m.schedule_problem,
    })
}

/// Both columns set is a chosen sender; both empty, the default one.
fn sender_from_columns(
    name: Option<String>,
    reply_to: Option<String>,
) -> StoreResult<Option<MailSender>> {
    match (name, reply_to) {
        (Some(name), Some(reply_to)) => {
            let reply_to = crate::domain::EmailAddress::parse(&reply_to).map_err(|e| {
                crate::store::StoreError(DbErr::Type(format!(
                    "mass_communications.sender_reply_to: {e}"
                )))
            })?;
            Ok(Some(MailSender { name, reply_to }))
        }
        _ => Ok(None),
    }
}

//! Erasing a person at their request (GDPR art. 17). The profile goes, and with it the
//! credential, sessions, links, codes and the grants of connected sites, so the person can
//! never sign in again. What must stay for the record stays without naming them:
//! - delivery rows keep their status, so a communication's counts do not change, but lose the
//!   address, the message and the provider's words; a message still queued is skipped;
//! - audit rows keep their action, time and actor, but lose every name, username and
//!   address in their detail, and the person's own client IPs;
//! - a suppressed address stays suppressed under a keyed hash (see `domain::Pseudonyms`),
//!   so mail is never again sent to an address that bounced or complained.

use serde_json::{Map, Value, json};

use super::{Principal, RequestMeta, Services, audit, lockout, staff::step_up, suppressions};
use crate::domain::{AuditAction, Profile, ProfileId, Right, search_key};
use crate::error::{AppError, AppResult};
use crate::store::{self, Conn};

/// Detail fields whose text never names a person, kept in an erased person's audit rows.
/// Every other text field is dropped; numbers and flags stay.
const NEUTRAL_TEXT: &[&str] = &[
    "reason",
    "clientId",
    "via",
    "by",
    "source",
    "scope",
    "lock",
    "secondFactor",
    "kid",
];

/// Erases a profile and, for an organisation when `include_people` is set, every person
/// related to it. Needs MANAGE_PERSONAL_DATA and a fresh step-up: it cannot be undone.
/// Returns the IDs erased, people first. Audited as PERSONAL_DATA_ERASED, without the data.
pub async fn erase(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: ProfileId,
    include_people: bool,
) -> AppResult<Vec<ProfileId>> {
    let staff = principal.require(Right::ManagePersonalData)?;
    step_up::require(svc, staff)?;
    let txn = store::begin_write(&svc.db).await?;
    let profile = store::profiles::get(&txn, id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", id))?;
    let people = store::profiles::children_of(&txn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    if !people.is_empty() && !include_people {
        return Err(AppError::conflict(format!(
            "{} still has {} related {}. Erase them first, or erase them together with it (includePeople: true)",
            profile.display_name(),
            people.len(),
            if people.len() == 1 {
                "person"
            } else {
                "people"
            },
        )));
    }
    let mut erased = Vec::with_capacity(people.len() + 1);
    for person in people.iter().chain(std::iter::once(&profile)) {
        erase_one(svc, &txn, person).await?;
        erased.push(person.id);
    }
    let event = principal
        .audit_event(AuditAction::PersonalDataErased, meta)
        .profile(id)
        .detail(json!({
            "profilesErased": erased.len(),
            "peopleIncluded": erased.len() - 1,
        }));
    audit::record(&txn, svc.clock.now(), event).await?;
    store::commit(txn).await?;
    tracing::info!(
        profile = id.get(),
        count = erased.len(),
        "personal data erased"
    );
    Ok(erased)
}

async fn erase_one(svc: &Services, txn: &impl Conn, profile: &Profile) -> AppResult<()> {
    let id = profile.id;
    let username = store::credentials::get(txn, id)
        .await?
        .and_then(|c| c.username);
    let mentions: Vec<String> = [profile.email.clone(), username]
        .into_iter()
        .flatten()
        .collect();
    store::erasure::erase_deliveries_of(txn, id).await?;
    for row in store::erasure::audit_about(txn, id, &mentions).await? {
        let detail = row.detail.as_deref().map(|d| scrub(d, &mentions));
        store::erasure::rewrite_audit(txn, row.id, detail, row.by_staff).await?;
    }
    let address_key = profile.email.as_deref().map(search_key);
    if let Some(address) = &profile.email {
        store::suppressions::pseudonymise(txn, &suppressions::keys(svc, address)).await?;
    }
    lockout::forget(txn, id, address_key.as_deref()).await?;
    // The credential first, so the search index forgets its username before the profile goes.
    store::credentials::remove(txn, id).await?;
    store::links::delete_for(txn, store::links::LinkOwner::Member(id)).await?;
    store::profiles::delete(txn, id).await?;
    Ok(())
}

/// An audit detail without anything that could name the person: only numbers, flags and
/// the text of [`NEUTRAL_TEXT`] fields that mention none of `mentions`, marked as erased.
fn scrub(detail: &str, mentions: &[String]) -> String {
    let lowered: Vec<String> = mentions.iter().map(|m| m.to_lowercase()).collect();
    let names_someone = |text: &str| {
        let text = text.to_lowercase();
        lowered.iter().any(|m| text.contains(m.as_str()))
    };
    let mut kept = Map::new();
    if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(detail) {
        for (key, value) in fields {
            let keep = match &value {
                Value::Bool(_) | Value::Number(_) | Value::Null => true,
                Value::String(text) => NEUTRAL_TEXT.contains(&key.as_str()) && !names_someone(text),
                Value::Array(_) | Value::Object(_) => false,
            };
            if keep {
                kept.insert(key, value);
            }
        }
    }
    kept.insert("personalDataErased".into(), Value::Bool(true));
    Value::Object(kept).to_string()
}

#[cfg(test)]
mod tests {
    use super::scrub;
    use serde_json::{Value, json};

    #[test]
    fn scrubbing_keeps_only_what_names_nobody() {
        let mentions = vec!["Maria@Harbour.example".to_owned(), "mariaj".to_owned()];
        let detail = json!({
            "address": "maria@harbour.example",
            "reason": "BOUNCE",
            "detail": "550 5.1.1 <maria@harbour.example>: no such user",
            "usernameChanged": true,
            "massCommunicationId": 7,
            "name": "Maria Jensen",
            "by": "MARIAJ",
            "clients": ["203.0.113.9"],
        });
        let out: Value = serde_json::from_str(&scrub(&detail.to_string(), &mentions)).unwrap();
        assert_eq!(
            out,
            json!({
                "reason": "BOUNCE",
                "usernameChanged": true,
                "massCommunicationId": 7,
                "personalDataErased": true,
            })
        );
        let not_json: Value = serde_json::from_str(&scrub("maria", &mentions)).unwrap();
        assert_eq!(not_json, json!({ "personalDataErased": true }));
    }
}

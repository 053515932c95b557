//! A person's data, for the member's request to see it (GDPR art. 15): one JSON document
//! with the profile and its relations, credential facts, sessions, every message sent to
//! them with its link's state, their suppression entry and the audit rows about them. Never
//! a password hash, a sealed password, a token or a second-factor secret.

use serde_json::{Value, json};

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{
    AuditAction, AuditActor, AuditFilter, NewAuditEvent, Profile, ProfileId, Right,
};
use crate::error::{AppError, AppResult};
use crate::store;

/// The document's format, so a reader can tell later versions apart.
pub const FORMAT: &str = "memberkey.profile-export.v1";
/// Rows read per query while the document is assembled.
const PAGE: u64 = 1000;

/// The export for a staff user with MANAGE_PERSONAL_DATA; audited on the profile.
pub async fn export(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
) -> AppResult<Value> {
    principal.require(Right::ManagePersonalData)?;
    let document = document(svc, profile_id).await?;
    let event = principal
        .audit_event(AuditAction::PersonalDataExported, meta)
        .profile(profile_id);
    audit::record(&svc.db, svc.clock.now(), event).await?;
    Ok(document)
}

/// The export for the operator on the server (`memberkey profiles export`); audited as the
/// system's.
pub async fn export_by_operator(svc: &Services, profile_id: ProfileId) -> AppResult<Value> {
    let document = document(svc, profile_id).await?;
    let event = NewAuditEvent::new(AuditAction::PersonalDataExported, AuditActor::System, None)
        .profile(profile_id)
        .detail(json!({ "via": "COMMAND_LINE" }));
    audit::record(&svc.db, svc.clock.now(), event).await?;
    Ok(document)
}

async fn document(svc: &Services, id: ProfileId) -> AppResult<Value> {
    let now = svc.clock.now();
    let profile = store::profiles::get(&svc.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", id))?;
    let organisation = match profile.parent_id {
        Some(parent) => store::profiles::get(&svc.db, parent).await?,
        None => None,
    };
    let related = store::profiles::children_of(&svc.db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let credential = store::credentials::get(&svc.db, id).await?;
    let sessions = store::sessions::of_member(&svc.db, id).await?;
    let sites = store::oidc::grants::sites_of_member(&svc.db, id).await?;
    let mut deliveries = Vec::new();
    let mut after = None;
    loop {
        let page = store::mass::deliveries_to_profile(&svc.db, id, after, PAGE, now).await?;
        after = page.last().map(|d| d.id.get());
        let done = (page.len() as u64) < PAGE;
        deliveries.extend(page);
        if done {
            break;
        }
    }
    let suppression = match &profile.email {
        Some(address) => {
            store::suppressions::get(&svc.db, &super::suppressions::keys(svc, address)).await?
        }
        None => None,
    };
    let filter = AuditFilter {
        profile: Some(id),
        action: None,
        since: None,
        until: None,
    };
    let mut events = Vec::new();
    let mut before = None;
    loop {
        let page = store::audit::page(&svc.db, &filter, before, PAGE).await?;
        before = page.last().map(|e| e.id);
        let done = (page.len() as u64) < PAGE;
        events.extend(page);
        if done {
            break;
        }
    }
    let mut staff: Vec<i64> = events.iter().filter_map(|e| e.actor_staff_id).collect();
    staff.sort_unstable();
    staff.dedup();
    let names = store::staff::usernames(&svc.db, &staff).await?;

    Ok(json!({
        "format": FORMAT,
        "exportedAt": now,
        "profile": profile_json(&profile),
        "organisation": organisation.as_ref().map(|o| json!({ "id": o.id.get(), "name": o.display_name() })),
        "relatedPeople": related.iter().map(|p| json!({ "id": p.id.get(), "name": p.display_name() })).collect::<Vec<_>>(),
        "portalCredential": credential.map(|c| json!({
            "username": c.username,
            "passwordIsSet": c.password_is_set,
            "passwordSetBy": c.password_set_by.map(|b| b.as_db()),
            "passwordChangedAt": c.password_changed_at,
            "mustChangePassword": c.must_change_password,
            "lastSignInAt": c.last_login_at,
            "failedSignIns": c.failed_login_count,
            "lockedUntil": c.locked_until,
            "switchedOffAt": c.disabled_at,
        })),
        "sessions": sessions.iter().map(|s| json!({
            "startedAt": s.created_at,
            "lastUsedAt": s.last_seen_at,
            "endsAt": s.expires_at,
            "staffView": s.staff_view,
        })).collect::<Vec<_>>(),
        "sitesSignedInTo": sites.iter().map(|s| json!({
            "site": s.name,
            "clientId": s.client_id,
            "since": s.since,
            "lastSignInAt": s.last,
        })).collect::<Vec<_>>(),
        "messages": deliveries.iter().map(|d| json!({
            "address": d.to_address,
            "status": d.status.as_db(),
            "skipReason": d.skip_reason.map(|r| r.as_db()),
            "error": d.last_error,
            "sentAt": d.sent_at,
            "linkState": d.link_state.map(|l| l.as_db()),
        })).collect::<Vec<_>>(),
        "suppression": suppression.map(|s| json!({
            "address": s.address,
            "reason": s.reason.as_db(),
            "detail": s.detail,
            "since": s.created_at,
        })),
        "auditEvents": events.iter().map(|e| json!({
            "at": e.occurred_at,
            "action": e.action.as_db(),
            "by": e.actor_kind,
            "staffUser": e.actor_staff_id.and_then(|i| names.get(&i).cloned()),
            "clientIp": e.client_ip,
            "detail": e.detail.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
        })).collect::<Vec<_>>(),
    }))
}

fn profile_json(p: &Profile) -> Value {
    json!({
        "id": p.id.get(),
        "kind": p.kind.as_db(),
        "firstName": p.first_name,
        "lastName": p.last_name,
        "organizationName": p.organization_name,
        "email": p.email,
        "memberStatus": p.member_status.as_db(),
        "emailOptOut": p.email_opt_out,
        "emailOptOutAt": p.email_opt_out_at,
        "emailOptOutVia": p.email_opt_out_via.map(|v| v.as_db()),
        "externalId": p.external_id,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
    })
}

//! "View Profile's Portal": a staff user with IMPERSONATE_MEMBERS opens a read-only member
//! session for one profile, at most 15 minutes long, to see what the member sees. Start and
//! end are audited on the profile, and the member sees the visits in `me { recentAccess }`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{AuditAction, AuditFilter, NewAuditEvent, Profile, ProfileId, Right, Token};
use crate::error::{AppError, AppResult};
use crate::store;

/// The longest a view as the member lasts; shorter when member sessions are shorter.
pub const MAX_LIFETIME: Duration = Duration::minutes(15);
/// How many visits `me { recentAccess }` lists.
const RECENT: u64 = 20;

/// A started view as the member.
pub struct Impersonation {
    /// The member session's bearer token, shown once.
    pub token: Token,
    pub profile: Profile,
    pub expires_at: DateTime<Utc>,
}

/// Starts a read-only member session for `profile_id`. A member session (even one that is
/// itself a view) is refused: only staff hold the right.
pub async fn start(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    profile_id: ProfileId,
) -> AppResult<Impersonation> {
    let staff = principal.require(Right::ImpersonateMembers)?;
    let now = svc.clock.now();
    let ttl = MAX_LIFETIME.min(svc.config.member_session_ttl);
    let token = Token::generate().map_err(AppError::internal)?;
    let txn = store::begin_write(&svc.db).await?;
    let profile = store::profiles::get(&txn, profile_id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", profile_id))?;
    store::sessions::create_impersonation(
        &txn,
        &token.hash(),
        profile_id,
        (staff.user.id, staff.session_id),
        now,
        ttl,
    )
    .await?;
    let expires_at = now + ttl;
    let event = NewAuditEvent::new(
        AuditAction::PortalImpersonationStarted,
        principal.audit_actor(),
        meta.client_ip.as_deref(),
    )
    .profile(profile_id)
    .detail(json!({ "expiresAt": expires_at }));
    audit::record(&txn, now, event).await?;
    store::commit(txn).await?;
    Ok(Impersonation {
        token,
        profile,
        expires_at,
    })
}

/// Audits the end of a view as the member, when the session signing out is one.
pub async fn record_end(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
) -> AppResult<()> {
    let member = principal.member()?;
    let Some(staff) = &member.impersonated_by else {
        return Ok(());
    };
    let event = NewAuditEvent::new(
        AuditAction::PortalImpersonationEnded,
        crate::domain::AuditActor::Staff(staff.id.get()),
        meta.client_ip.as_deref(),
    )
    .profile(member.profile_id);
    audit::record(&svc.db, svc.clock.now(), event).await
}

/// A staff user's view of the member's portal, as the member sees it in their account.
pub struct Visit {
    pub at: DateTime<Utc>,
    /// The staff user's username, if they still exist.
    pub staff_username: Option<String>,
}

/// The latest views of the signed-in member's portal by staff, newest first.
pub async fn recent_visits(svc: &Services, principal: &Principal) -> AppResult<Vec<Visit>> {
    let member = principal.member()?;
    let filter = AuditFilter {
        profile: Some(member.profile_id),
        action: Some(AuditAction::PortalImpersonationStarted),
        since: None,
        until: None,
    };
    let events = store::audit::page(&svc.db, &filter, None, RECENT).await?;
    let mut staff: Vec<i64> = events.iter().filter_map(|e| e.actor_staff_id).collect();
    staff.sort_unstable();
    staff.dedup();
    let names = store::staff::usernames(&svc.db, &staff).await?;
    Ok(events
        .into_iter()
        .map(|e| Visit {
            at: e.occurred_at,
            staff_username: e.actor_staff_id.and_then(|id| names.get(&id).cloned()),
        })
        .collect())
}

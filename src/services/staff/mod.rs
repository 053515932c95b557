//! Staff users and their rights. There is always at least one active holder of MANAGE_STAFF.
//! The staff account's own rules live beside: its password, set-password links, second
//! factor, sessions and step-up.

pub mod links;
pub mod password;
pub mod second_factor;
pub mod sessions;
pub mod step_up;

use serde_json::json;

use crate::domain::{AuditAction, AuditActor, NewAuditEvent};
use crate::domain::{EmailAddress, PasswordContext, Right, StaffUser, StaffUserId, Username};
use crate::error::{AppError, AppResult};
use crate::services::{Principal, RequestMeta, Services, audit};
use crate::store;

pub async fn list(svc: &Services, principal: &Principal, limit: u64) -> AppResult<Vec<StaffUser>> {
    principal.require(Right::ManageStaff)?;
    Ok(store::staff::list(&svc.db, limit).await?)
}

/// Creates a staff user. `actor` is `None` only for the command line, which runs with the
/// operator's authority.
pub async fn create(
    svc: &Services,
    principal: Option<&Principal>,
    meta: &RequestMeta,
    username: &str,
    email: Option<&str>,
    password: &str,
    rights: &[Right],
) -> AppResult<StaffUser> {
    if let Some(p) = principal {
        p.require(Right::ManageStaff)?;
    }
    let actor = principal.map_or(AuditActor::System, Principal::audit_actor);
    let username =
        Username::parse(username).map_err(|e| AppError::bad_input("input.username", e))?;
    let email = parse_email(email, "input.email")?;
    // Staff passwords guard every member's account: the same policy as members', with the
    // username and the association's name refused inside them.
    let password = crate::services::credentials::judge_password(
        svc,
        password,
        PasswordContext {
            username: Some(username.as_str()),
            ..PasswordContext::default()
        },
    )?;
    if store::staff::username_taken(&svc.db, &username).await? {
        return Err(AppError::UsernameTaken {
            username: username.to_string(),
        });
    }
    let hash = svc.hasher.hash(&password).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    // Checked again inside the transaction: the unique index is the final word, but a clear
    // USERNAME_TAKEN beats a constraint error.
    if store::staff::username_taken(&txn, &username).await? {
        return Err(AppError::UsernameTaken {
            username: username.to_string(),
        });
    }
    let user = store::staff::insert(&txn, &username, email.as_ref(), hash, rights, now).await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(
            AuditAction::StaffUserCreated,
            actor,
            meta.client_ip.as_deref(),
        )
        .staff(user.id)
        .detail(json!({ "rights": names(rights) })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(user)
}

/// An optional address as a client sent it: blank means none.
fn parse_email(raw: Option<&str>, field: &str) -> AppResult<Option<EmailAddress>> {
    raw.map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| EmailAddress::parse(e).map_err(|err| AppError::bad_input(field, err)))
        .transpose()
}

/// Records, changes or (with `None` or blank) removes the address a staff user's
/// set-password link goes to. A link already sent to the old address stops working. The
/// address is how the account is recovered, so this needs step-up.
pub async fn set_email(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: StaffUserId,
    raw: Option<&str>,
) -> AppResult<StaffUser> {
    let admin = principal.require(Right::ManageStaff)?;
    step_up::require(svc, admin)?;
    let email = parse_email(raw, "email")?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let target = existing(&txn, id).await?;
    let new = email.as_ref().map(|e| e.as_str().to_owned());
    if target.email != new {
        store::staff::set_email(&txn, id, email.as_ref(), now).await?;
        store::links::invalidate_for(&txn, store::links::LinkOwner::Staff(id), now).await?;
        audit::record(
            &txn,
            now,
            principal
                .audit_event(AuditAction::StaffEmailChanged, meta)
                .staff(id)
                .detail(json!({ "from": target.email, "to": new })),
        )
        .await?;
    }
    let updated = existing(&txn, id).await?;
    store::commit(txn).await?;
    Ok(updated)
}

/// Replaces a staff user's rights.
pub async fn set_rights(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: StaffUserId,
    rights: &[Right],
) -> AppResult<StaffUser> {
    principal.require(Right::ManageStaff)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let target = existing(&txn, id).await?;
    if target.active && target.has(Right::ManageStaff) && !rights.contains(&Right::ManageStaff) {
        ensure_not_last_admin(&txn, id).await?;
    }
    store::staff::replace_rights(&txn, id, rights).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffRightsChanged, meta)
            .staff(id)
            .detail(json!({
                "from": names(&target.rights),
                "to": names(rights),
            })),
    )
    .await?;
    let updated = existing(&txn, id).await?;
    store::commit(txn).await?;
    Ok(updated)
}

/// Deactivates a staff user: every session and set-password link of theirs ends at once,
/// and the last active holder of MANAGE_STAFF cannot leave.
pub async fn deactivate(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: StaffUserId,
) -> AppResult<StaffUser> {
    set_active(svc, principal, meta, id, false).await
}

/// Makes a deactivated staff user active again: they sign in with their old password (or
/// an operator sets a new one). Their rights are as they were.
pub async fn reactivate(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: StaffUserId,
) -> AppResult<StaffUser> {
    set_active(svc, principal, meta, id, true).await
}

/// Moves a staff user to `active`; audited when it changes anything, and a user already
/// there is answered as they stand.
async fn set_active(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: StaffUserId,
    active: bool,
) -> AppResult<StaffUser> {
    principal.require(Right::ManageStaff)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let target = existing(&txn, id).await?;
    if target.active != active {
        if !active {
            if target.has(Right::ManageStaff) {
                ensure_not_last_admin(&txn, id).await?;
            }
            store::sessions::delete_all(&txn, id, None).await?;
            store::links::invalidate_for(&txn, store::links::LinkOwner::Staff(id), now).await?;
        }
        store::staff::set_active(&txn, id, active, now).await?;
        let action = if active {
            AuditAction::StaffUserReactivated
        } else {
            AuditAction::StaffUserDeactivated
        };
        audit::record(&txn, now, principal.audit_event(action, meta).staff(id)).await?;
    }
    let updated = existing(&txn, id).await?;
    store::commit(txn).await?;
    Ok(updated)
}

/// Clears a staff user's failed sign-ins from every client, so a lock ends at once. With no
/// principal it runs with the operator's authority (`memberkey staff unlock`).
pub async fn unlock(
    svc: &Services,
    principal: Option<&Principal>,
    meta: &RequestMeta,
    id: StaffUserId,
) -> AppResult<StaffUser> {
    if let Some(p) = principal {
        p.require(Right::ManageStaff)?;
    }
    let actor = principal.map_or(AuditActor::System, Principal::audit_actor);
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let target = existing(&txn, id).await?;
    let cleared =
        crate::services::lockout::lift(&txn, now, &crate::services::lockout::Account::Staff(id))
            .await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(
            AuditAction::StaffUserUnlocked,
            actor,
            meta.client_ip.as_deref(),
        )
        .staff(id)
        .detail(json!({ "clients": cleared })),
    )
    .await?;
    store::commit(txn).await?;
    Ok(target)
}

/// One staff user as stored now.
pub async fn get(svc: &Services, id: StaffUserId) -> AppResult<StaffUser> {
    existing(&svc.db, id).await
}

/// Finds a staff user by name, for the command line.
pub async fn find_by_username(svc: &Services, username: &str) -> AppResult<StaffUser> {
    let parsed =
        Username::parse_for_lookup(username).map_err(|e| AppError::bad_input("username", e))?;
    store::staff::find_for_login(&svc.db, &parsed)
        .await?
        .map(|l| l.user)
        .ok_or_else(|| AppError::BadUserInput {
            field: "username".into(),
            message: format!("no staff user is named \"{username}\""),
        })
}

/// The staff user `id`, or NOT_FOUND: the one answer for an id that names nobody.
pub(super) async fn existing(db: &impl store::Conn, id: StaffUserId) -> AppResult<StaffUser> {
    store::staff::get(db, id)
        .await?
        .ok_or_else(|| AppError::not_found("staff user", id))
}

async fn ensure_not_last_admin(db: &impl store::Conn, leaving: StaffUserId) -> AppResult<()> {
    let holders = store::staff::lock_active_holders(db, Right::ManageStaff).await?;
    if holders.iter().all(|h| *h == leaving) {
        return Err(AppError::conflict(
            "this is the last active staff user with MANAGE_STAFF; grant it to someone else first",
        ));
    }
    Ok(())
}

fn names(rights: &[Right]) -> Vec<&'static str> {
    rights.iter().map(|r| r.as_str()).collect()
}

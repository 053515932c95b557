//! The staff second factor: an authenticator app's time-based codes (RFC 6238: SHA-1, six
//! digits, 30-second steps, one step of clock drift either way) and ten single-use recovery
//! codes. The secret is sealed with the sealing key; recovery codes are stored as SHA-256.
//! A code is accepted once: the newest accepted step is kept, and older or equal steps fail.
//! Wrong codes count toward the lockout per client and per account (`super::lockout`), and a
//! sign-in challenge dies at its first successful use. Changing the factor needs step-up.

use chrono::{DateTime, Duration, Utc};
use totp_rs::{Algorithm, TOTP};

use super::sessions::open as open_staff_session;
use super::step_up;
use crate::domain::{
    AuditAction, AuditActor, NewAuditEvent, RecoveryCode, Right, StaffUser, StaffUserId, Token,
};
use crate::error::{AppError, AppResult};
use crate::services::RequestMeta;
use crate::services::lockout::{self, Account};
use crate::services::{Principal, Services, audit, rate_limit};
use crate::store;

const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
const RECOVERY_CODES: usize = 10;
/// How long the challenge from a right password waits for its code.
const CHALLENGE_TTL: Duration = Duration::minutes(5);
const CHALLENGE_CONTEXT: &[u8] = b"memberkey staff sign-in challenge";

/// What enrolment shows: the URI an authenticator app reads (as a QR code), and the same
/// secret as text for apps that cannot scan.
pub struct Enrollment {
    pub otpauth_uri: String,
    pub secret: String,
}

fn secret_context(staff: StaffUserId) -> Vec<u8> {
    format!("memberkey staff totp {}", staff.get()).into_bytes()
}

fn totp(svc: &Services, secret: Vec<u8>, username: &str) -> AppResult<TOTP> {
    // The otpauth label may not contain ':'; the association's name is the issuer the app
    // shows next to the username.
    let issuer = svc.config.association_name.replace(':', " ");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        secret,
        Some(issuer),
        username.replace(':', " "),
    )
    .map_err(|e| AppError::internal(format!("TOTP parameters: {e}")))
}

/// The time step `code` is valid for at `now`, allowing one step of drift either way.
fn matching_step(totp: &TOTP, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = u64::try_from(now.timestamp()).ok()? / STEP_SECONDS;
    let mut found = None;
    // Every candidate is computed and compared, so timing says nothing about which matched.
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = totp.generate(step * STEP_SECONDS);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same && found.is_none() {
            found = i64::try_from(step).ok();
        }
    }
    found
}

fn open_secret(svc: &Services, staff: StaffUserId, sealed: &str) -> AppResult<Vec<u8>> {
    svc.vault
        .open_bytes(sealed, &secret_context(staff))
        .ok_or_else(|| AppError::internal("a staff TOTP secret does not open with the sealing key"))
}

/// Starts (or restarts) enrolment for the signed-in staff user: a new secret waits until a
/// code from it confirms it. A second factor already in force stays until then.
pub async fn enroll(svc: &Services, principal: &Principal) -> AppResult<Enrollment> {
    let staff = principal.staff()?;
    step_up::require(svc, staff)?;
    let mut secret = vec![0u8; 20];
    getrandom::fill(&mut secret).map_err(AppError::internal)?;
    let sealed = svc
        .vault
        .seal_bytes(&secret, &secret_context(staff.user.id))?;
    store::second_factor::set_pending(&svc.db, staff.user.id, &sealed, svc.clock.now()).await?;
    let totp = totp(svc, secret, &staff.user.username)?;
    Ok(Enrollment {
        otpauth_uri: totp.get_url(),
        secret: totp.get_secret_base32(),
    })
}

/// Confirms enrolment with a code from the app, and returns the ten recovery codes, shown
/// this once. Audited.
pub async fn confirm(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    code: &str,
) -> AppResult<Vec<String>> {
    let staff = principal.staff()?;
    let id = staff.user.id;
    let pending = store::second_factor::get(&svc.db, id)
        .await?
        .and_then(|r| r.pending_secret)
        .ok_or_else(|| {
            AppError::conflict(
                "there is no enrolment to confirm; start one with enrollStaffSecondFactor",
            )
        })?;
    let secret = open_secret(svc, id, &pending)?;
    let now = svc.clock.now();
    let Some(step) = matching_step(&totp(svc, secret, &staff.user.username)?, code, now) else {
        return Err(AppError::BadUserInput {
            field: "code".into(),
            message: "this is not the app's current 6-digit code. Check that the phone's clock is right, then type the code it shows now".into(),
        });
    };
    let (codes, hashes) = new_recovery_codes()?;
    let txn = store::begin_write(&svc.db).await?;
    store::second_factor::confirm(&txn, id, &pending, step, &hashes, now).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffSecondFactorEnrolled, meta)
            .staff(id),
    )
    .await?;
    store::commit(txn).await?;
    Ok(codes.iter().map(ToString::to_string).collect())
}

/// Ten fresh recovery codes and their hashes.
fn new_recovery_codes() -> AppResult<(Vec<RecoveryCode>, Vec<String>)> {
    let codes = (0..RECOVERY_CODES)
        .map(|_| RecoveryCode::generate().map_err(AppError::internal))
        .collect::<AppResult<Vec<_>>>()?;
    let hashes = codes.iter().map(|c| c.hash().as_str().to_owned()).collect();
    Ok((codes, hashes))
}

/// Replaces the caller's recovery codes (used up, or seen by someone else) with ten new ones,
/// shown this once. Needs step-up (which proved the second factor). A `code` from the app,
/// if one is still sent, must be right too: it is spent like a sign-in code and a wrong one
/// counts toward the second factor's lockout. Audited.
pub async fn regenerate_recovery_codes(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    code: Option<&str>,
) -> AppResult<Vec<String>> {
    let staff = principal.staff()?;
    let id = staff.user.id;
    if store::second_factor::get(&svc.db, id)
        .await?
        .and_then(|r| r.secret)
        .is_none()
    {
        return Err(AppError::conflict(
            "this account has no second factor yet; set one up with enrollStaffSecondFactor and confirmStaffSecondFactor, which give the first recovery codes",
        ));
    }
    step_up::require(svc, staff)?;
    let now = svc.clock.now();
    if let Some(code) = code.filter(|c| !c.trim().is_empty()) {
        rate_limit::check(svc, meta, rate_limit::Limit::StaffLoginFromIp).await?;
        if guarded_code(svc, meta, &staff.user, code).await?.is_none() {
            return Err(AppError::BadUserInput {
                field: "code".into(),
                message: "this is not the app's current 6-digit code, or it was used already. Wait for the next code and type it".into(),
            });
        }
    }
    let (codes, hashes) = new_recovery_codes()?;
    let txn = store::begin_write(&svc.db).await?;
    store::second_factor::replace_recovery_codes(&txn, id, &hashes, now).await?;
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffRecoveryCodesRegenerated, meta)
            .staff(id),
    )
    .await?;
    store::commit(txn).await?;
    Ok(codes.iter().map(ToString::to_string).collect())
}

/// The challenge a right password earns: the staff user, a deadline and the challenge's
/// number, sealed, so it cannot be forged or stretched. Once one is used, it and every
/// earlier one of that user are dead.
pub(crate) async fn challenge(
    svc: &Services,
    staff: StaffUserId,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let serial = store::second_factor::next_challenge(&svc.db, staff).await?;
    let mut plain = staff.get().to_be_bytes().to_vec();
    plain.extend((now + CHALLENGE_TTL).timestamp().to_be_bytes());
    plain.extend(serial.to_be_bytes());
    svc.vault.seal_bytes(&plain, CHALLENGE_CONTEXT)
}

/// The staff user and number of a challenge that has not expired.
fn open_challenge(svc: &Services, raw: &str, now: DateTime<Utc>) -> AppResult<(StaffUserId, i64)> {
    let plain = svc
        .vault
        .open_bytes(raw.trim(), CHALLENGE_CONTEXT)
        .filter(|p| p.len() == 24)
        .ok_or(AppError::InvalidToken)?;
    let number = |i: usize| -> AppResult<i64> {
        let bytes: [u8; 8] = plain[i * 8..(i + 1) * 8]
            .try_into()
            .map_err(AppError::internal)?;
        Ok(i64::from_be_bytes(bytes))
    };
    if now.timestamp() >= number(1)? {
        return Err(AppError::TokenExpired);
    }
    Ok((StaffUserId::from_db(number(0)?), number(2)?))
}

/// Checks a code for `user` under the lockout rules: refused without a look while this client
/// or the account is locked; a wrong one is counted and audited. Which kind of code was
/// accepted, or `None`.
pub(super) async fn guarded_code(
    svc: &Services,
    meta: &RequestMeta,
    user: &StaffUser,
    code: &str,
) -> AppResult<Option<&'static str>> {
    let account = Account::SecondFactor(user.id);
    let now = svc.clock.now();
    let locked = lockout::check(svc, meta, &account).await?.is_some();
    let used = if locked {
        None
    } else {
        check_code(svc, user, code, now).await?
    };
    match used {
        Some(_) => lockout::succeeded(svc, meta, &account).await?,
        None => {
            if !locked {
                lockout::fail(svc, meta, &account).await?;
            }
            audit::record(
                &svc.db,
                now,
                NewAuditEvent::new(
                    AuditAction::StaffSecondFactorFailed,
                    AuditActor::Anonymous,
                    meta.client_ip.as_deref(),
                )
                .staff(user.id)
                .detail(serde_json::json!({ "locked": locked })),
            )
            .await?;
        }
    }
    Ok(used)
}

/// Finishes a sign-in that answered `SECOND_FACTOR_REQUIRED`: the challenge and either the
/// app's current code or an unused recovery code. A wrong, replayed or used code counts
/// toward the staff lockout like a wrong password, and answers `INVALID_LOGIN`.
pub async fn verify_login(
    svc: &Services,
    meta: &RequestMeta,
    challenge: &str,
    code: &str,
) -> AppResult<(Token, StaffUser)> {
    rate_limit::check(svc, meta, rate_limit::Limit::StaffLoginFromIp).await?;
    let now = svc.clock.now();
    let (id, serial) = open_challenge(svc, challenge, now)?;
    let user = store::staff::get(&svc.db, id)
        .await?
        .filter(|u| u.active && u.second_factor)
        .ok_or(AppError::InvalidLogin)?;
    let Some(how) = guarded_code(svc, meta, &user, code).await? else {
        return Err(AppError::InvalidLogin);
    };
    // The challenge dies now: a second use (even with another right code) fails.
    if !store::second_factor::spend_challenge(&svc.db, id, serial).await? {
        return Err(AppError::InvalidToken);
    }
    lockout::succeeded(svc, meta, &Account::Staff(id)).await?;
    if how == "recovery_code" {
        let left = store::second_factor::recovery_codes_left(&svc.db, id).await?;
        audit::record(
            &svc.db,
            now,
            NewAuditEvent::new(
                AuditAction::StaffRecoveryCodeUsed,
                AuditActor::Staff(id.get()),
                meta.client_ip.as_deref(),
            )
            .staff(id)
            .detail(serde_json::json!({ "recoveryCodesLeft": left })),
        )
        .await?;
    }
    let token = open_staff_session(svc, meta, &user, Some(how)).await?;
    Ok((token, user))
}

/// Which kind of code was accepted, or `None`.
async fn check_code(
    svc: &Services,
    user: &StaffUser,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<&'static str>> {
    if let Some(recovery) = RecoveryCode::parse(code).filter(|_| code.trim().len() > DIGITS) {
        let hash = recovery.hash();
        let ok =
            store::second_factor::use_recovery_code(&svc.db, user.id, hash.as_str(), now).await?;
        return Ok(ok.then_some("recovery_code"));
    }
    let Some(sealed) = store::second_factor::get(&svc.db, user.id)
        .await?
        .and_then(|r| r.secret)
    else {
        return Ok(None);
    };
    let secret = open_secret(svc, user.id, &sealed)?;
    let Some(step) = matching_step(&totp(svc, secret, &user.username)?, code, now) else {
        return Ok(None);
    };
    // Only a step newer than the last accepted one counts: a code seen once is spent.
    let fresh = store::second_factor::advance_step(&svc.db, user.id, step, now).await?;
    Ok(fresh.then_some("totp"))
}

/// Removes another staff user's second factor (a lost phone), so they sign in with their
/// password and can enrol again. Needs MANAGE_STAFF and step-up; audited. Nobody resets
/// their own this way: a session alone must never be able to drop the factor that guards
/// it. The operator's `memberkey staff` commands on the server are the way back for the last
/// administrator.
pub async fn reset(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    target: StaffUserId,
) -> AppResult<StaffUser> {
    let staff = principal.require(Right::ManageStaff)?;
    if staff.user.id == target {
        return Err(AppError::conflict(
            "you cannot remove your own second factor here. Another administrator can (resetStaffSecondFactor), or the operator on the server with `memberkey staff reset-second-factor`",
        ));
    }
    step_up::require(svc, staff)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if store::staff::get(&txn, target).await?.is_none() {
        return Err(AppError::not_found("staff user", target.get()));
    }
    if !store::second_factor::remove(&txn, target).await? {
        return Err(AppError::conflict(
            "this staff user has no second factor to reset",
        ));
    }
    audit::record(
        &txn,
        now,
        principal
            .audit_event(AuditAction::StaffSecondFactorReset, meta)
            .staff(target),
    )
    .await?;
    store::commit(txn).await?;
    store::staff::get(&svc.db, target)
        .await?
        .ok_or_else(|| AppError::not_found("staff user", target.get()))
}

/// Removes a staff user's second factor with the operator's authority (`memberkey staff
/// reset-second-factor`): the break-glass path for an administrator who lost their phone and
/// their recovery codes, since nobody may remove their own through the API. Every session
/// of theirs ends. Audited with the system as the actor.
pub async fn reset_by_operator(svc: &Services, username: &str) -> AppResult<StaffUser> {
    let user = super::find_by_username(svc, username).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if !store::second_factor::remove(&txn, user.id).await? {
        return Err(AppError::conflict(format!(
            "staff user \"{}\" has no second factor to reset",
            user.username
        )));
    }
    store::sessions::delete_all(&txn, user.id, None).await?;
    audit::record(
        &txn,
        now,
        NewAuditEvent::new(
            AuditAction::StaffSecondFactorReset,
            AuditActor::System,
            None,
        )
        .staff(user.id),
    )
    .await?;
    store::commit(txn).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app_totp() -> TOTP {
        TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            1,
            STEP_SECONDS,
            b"12345678901234567890".to_vec(),
            None,
            "a".into(),
        )
        .unwrap()
    }

    #[test]
    fn rfc_6238_vector_and_drift() {
        let t = app_totp();
        // RFC 6238 appendix B, SHA-1, T = 59: 94287082 (8 digits); the last 6 are ours.
        let at = DateTime::from_timestamp(59, 0).unwrap();
        assert_eq!(matching_step(&t, "287082", at), Some(1));
        // One step early or late is accepted for clock drift; two is not.
        let later = DateTime::from_timestamp(59 + 30, 0).unwrap();
        assert_eq!(matching_step(&t, "287082", later), Some(1));
        let much_later = DateTime::from_timestamp(59 + 60, 0).unwrap();
        assert_eq!(matching_step(&t, "287082", much_later), None);
        assert_eq!(matching_step(&t, "287 082", at), Some(1));
        assert_eq!(matching_step(&t, "28708", at), None);
        assert_eq!(matching_step(&t, "28708a", at), None);
    }
}

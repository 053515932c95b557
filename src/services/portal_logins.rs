//! "Create Portal Logins": every profile a recipient filter selects that has no credentials
//! gets a username made from its name, and no password. Staff then send the Portal Login
//! Credentials Link to the same people, and each member sets a password with their link.
//! Profiles that already have a username or a password are left as they are.

use std::collections::HashSet;

use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{
    AuditAction, Profile, ProfileKind, RecipientFilter, Recipients, Right, Username,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, credentials::CredentialChange};

/// How many examples the answer lists.
const EXAMPLES: usize = 20;
/// Profiles handled per write transaction, so a big run never holds the writer for long.
const CHUNK: usize = 500;
/// The most numbers tried after a name before giving up on it.
const MAX_SUFFIX: u32 = 10_000;

/// One login made (or, in a dry run, that would be made).
pub struct NewLogin {
    pub profile: Profile,
    pub username: String,
}

/// What a run did or would do.
pub struct Outcome {
    /// Profiles that got a username (or would get one).
    pub created: u64,
    /// Profiles the filter selected that already had credentials, left untouched.
    pub skipped: u64,
    /// The first few new logins, in the order made.
    pub examples: Vec<NewLogin>,
}

/// Gives every selected profile without credentials a unique username. A dry run writes
/// nothing and answers what a real run would do now.
pub async fn create(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    filter: RecipientFilter,
    dry_run: bool,
) -> AppResult<Outcome> {
    let staff = principal.require(Right::ManagePortalCredentials)?;
    let ids = super::mass::select(svc, &Recipients::Filter(filter)).await?;
    let mut outcome = Outcome {
        created: 0,
        skipped: 0,
        examples: Vec::new(),
    };
    // Keys given out in this run: in a dry run nothing is stored to clash with.
    let mut given = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let now = svc.clock.now();
        let credentials = store::credentials::for_profiles(&svc.db, chunk).await?;
        let mut profiles = store::profiles::get_many(&svc.db, chunk).await?;
        let txn = store::begin_write(&svc.db).await?;
        for id in chunk {
            let has = credentials
                .get(id)
                .is_some_and(|c| c.username.is_some() || c.password_is_set);
            // A profile deleted since it was selected is simply not there any more.
            let Some(profile) = profiles.remove(id) else {
                continue;
            };
            if has {
                outcome.skipped += 1;
                continue;
            }
            let username = unique_username(&txn, &profile, &mut given).await?;
            if !dry_run {
                let change = CredentialChange {
                    username: Some((username.as_str().to_owned(), username.key().to_owned())),
                    password: None,
                    must_change_password: None,
                };
                store::credentials::upsert(&txn, *id, change, now).await?;
                let event = principal
                    .audit_event(AuditAction::CredentialsSet, meta)
                    .profile(*id)
                    .detail(json!({
                        "usernameChanged": true,
                        "passwordChanged": false,
                        "by": staff.user.username,
                        "via": "CREATE_PORTAL_LOGINS",
                    }));
                audit::record(&txn, now, event).await?;
            }
            outcome.created += 1;
            if outcome.examples.len() < EXAMPLES {
                outcome.examples.push(NewLogin {
                    profile,
                    username: username.to_string(),
                });
            }
        }
        if dry_run {
            store::rollback(txn).await?;
        } else {
            store::commit(txn).await?;
        }
    }
    if !dry_run {
        let event = principal
            .audit_event(AuditAction::PortalLoginsCreated, meta)
            .detail(json!({ "created": outcome.created, "skipped": outcome.skipped }));
        audit::record(&svc.db, svc.clock.now(), event).await?;
    }
    Ok(outcome)
}

/// The first free username for the profile's name: `maria.jensen`, else `maria.jensen2`,
/// `maria.jensen3`… A name with nothing that folds to ASCII becomes `member.<id>`.
async fn unique_username(
    db: &store::Txn,
    profile: &Profile,
    given: &mut HashSet<String>,
) -> AppResult<Username> {
    let id = profile.id.get().to_string();
    let words: Vec<&str> = match profile.kind {
        ProfileKind::Organization => profile
            .organization_name
            .iter()
            .map(String::as_str)
            .collect(),
        ProfileKind::Individual => [&profile.first_name, &profile.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect(),
    };
    let fallback = ["member", id.as_str()];
    let words: &[&str] = if Username::from_name(&words, Some(1)).is_some() {
        &words
    } else {
        &fallback
    };
    for suffix in std::iter::once(None).chain((2..MAX_SUFFIX).map(Some)) {
        let Some(candidate) = Username::from_name(words, suffix) else {
            continue;
        };
        if given.contains(candidate.key()) {
            continue;
        }
        if store::credentials::username_owner(db, candidate.key())
            .await?
            .is_none()
        {
            given.insert(candidate.key().to_owned());
            return Ok(candidate);
        }
    }
    Err(AppError::conflict(format!(
        "No free username is left for profile {} ({}): give it one by hand",
        profile.id,
        profile.display_name()
    )))
}

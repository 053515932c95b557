//! Portal credential rows. Only metadata leaves this module; hashes stay inside.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::{CredentialInfo, PasswordSetBy, ProfileId};
use crate::entities::portal_credential;

pub(crate) fn to_info(m: portal_credential::Model) -> CredentialInfo {
    CredentialInfo {
        profile_id: ProfileId::from_db(m.profile_id),
        username: m.username,
        password_is_set: m.password_hash.is_some(),
        password_set_by: m
            .password_set_by
            .as_deref()
            .and_then(PasswordSetBy::from_db),
        password_changed_at: m.password_changed_at,
        must_change_password: m.must_change_password,
        last_login_at: m.last_login_at,
        failed_login_count: m.failed_login_count,
        locked_until: m.locked_until,
    }
}

/// Credential metadata for each profile that has a credential row.
pub async fn for_profiles(
    db: &impl ConnectionTrait,
    ids: &[ProfileId],
) -> Result<HashMap<ProfileId, CredentialInfo>, DbErr> {
    let rows = portal_credential::Entity::find()
        .filter(portal_credential::Column::ProfileId.is_in(ids.iter().map(|i| i.get())))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(to_info)
        .map(|c| (c.profile_id, c))
        .collect())
}

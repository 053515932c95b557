//! Leaving news: the unsubscribe page a NEWS mail links to and the one-click unsubscribe of
//! its headers (RFC 8058). The signed token in the link is the only authority: it names one
//! member and can do nothing but opt them out of news (SERVICE mail, resets and Forgot Login
//! still come). A guessed or altered token changes nothing.

use serde_json::json;

use super::{RequestMeta, Services, audit};
use crate::domain::{AuditAction, AuditActor, NewAuditEvent, OptOutVia, Profile};
use crate::error::AppResult;
use crate::store;

/// The member a token names, if it is genuine and the profile still exists.
pub async fn member(svc: &Services, token: &str) -> AppResult<Option<Profile>> {
    let Some(id) = svc.vault.pseudonyms().unsubscribe_profile(token) else {
        return Ok(None);
    };
    Ok(store::profiles::get(&svc.db, id).await?)
}

/// Opts the member a token names out of news, at once and without sign-in. Returns the
/// member, or `None` for a token that names nobody; opting out twice changes nothing more.
/// Audited (`MASS_MAIL_OPTED_OUT`, with how) when it changed something.
pub async fn opt_out(
    svc: &Services,
    meta: &RequestMeta,
    token: &str,
    via: OptOutVia,
) -> AppResult<Option<Profile>> {
    let Some(id) = svc.vault.pseudonyms().unsubscribe_profile(token) else {
        return Ok(None);
    };
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let Some(profile) = store::profiles::get(&txn, id).await? else {
        store::commit(txn).await?;
        return Ok(None);
    };
    if store::profiles::opt_out(&txn, id, via, now).await? {
        let event = NewAuditEvent::new(
            AuditAction::MassMailOptedOut,
            AuditActor::Anonymous,
            meta.client_ip.as_deref(),
        )
        .profile(id)
        .detail(json!({ "via": via.as_db() }));
        audit::record(&txn, now, event).await?;
    }
    store::commit(txn).await?;
    Ok(Some(profile))
}

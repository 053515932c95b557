//! Connected sites, as staff with MANAGE_CONNECTED_SITES register and change them. A
//! confidential site's secret is shown once, when made, and kept only as a digest.

use serde_json::json;

use super::super::{Principal, RequestMeta, Services, audit};
use crate::domain::{
    AuditAction, ConnectedSite, InvalidInput, MemberStatus, RedirectUri, Right, Token,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, oidc::sites::SiteFields};

/// A site's settings as staff give them, unchecked.
pub struct SiteInput {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub allowed_member_statuses: Option<Vec<MemberStatus>>,
}

/// The settings, checked.
struct Checked {
    name: String,
    redirect_uris: Vec<RedirectUri>,
    post_logout_redirect_uris: Vec<RedirectUri>,
    allowed_member_statuses: Option<Vec<MemberStatus>>,
}

impl Checked {
    fn fields(&self) -> SiteFields<'_> {
        SiteFields {
            name: &self.name,
            redirect_uris: &self.redirect_uris,
            post_logout_redirect_uris: &self.post_logout_redirect_uris,
            allowed_member_statuses: self.allowed_member_statuses.as_deref(),
        }
    }
}

fn uris(raw: &[String], field: &str) -> AppResult<Vec<RedirectUri>> {
    raw.iter()
        .map(|u| RedirectUri::parse(u).map_err(|e| AppError::bad_input(field, e)))
        .collect()
}

fn check(input: SiteInput) -> AppResult<Checked> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_input(
            "name",
            InvalidInput::new(
                "give the site a name of 1 to 100 characters; members see it when they sign in",
            ),
        ));
    }
    let redirect_uris = uris(&input.redirect_uris, "redirectUris")?;
    if redirect_uris.is_empty() {
        return Err(AppError::bad_input(
            "redirectUris",
            InvalidInput::new(
                "give at least one address the site receives sign-ins at (its plugin's \"redirect URI\" or \"callback URL\")",
            ),
        ));
    }
    if let Some(statuses) = &input.allowed_member_statuses
        && statuses.is_empty()
    {
        return Err(AppError::bad_input(
            "allowedMemberStatuses",
            InvalidInput::new(
                "allow at least one membership status, or leave the list out to admit every status that may sign in",
            ),
        ));
    }
    Ok(Checked {
        name,
        redirect_uris,
        post_logout_redirect_uris: uris(
            &input.post_logout_redirect_uris,
            "postLogoutRedirectUris",
        )?,
        allowed_member_statuses: input.allowed_member_statuses,
    })
}

/// A new secret: shown once, stored as its digest.
fn new_secret() -> AppResult<Token> {
    Token::generate().map_err(AppError::internal)
}

/// Every connected site.
pub async fn list(svc: &Services, principal: &Principal) -> AppResult<Vec<ConnectedSite>> {
    principal.require(Right::ManageConnectedSites)?;
    Ok(store::oidc::sites::list(&svc.db).await?)
}

async fn get(svc: &Services, client_id: &str) -> AppResult<ConnectedSite> {
    store::oidc::sites::get(&svc.db, client_id)
        .await?
        .map(|r| r.site)
        .ok_or_else(|| AppError::not_found("connected site", client_id))
}

/// Registers a site; a confidential one gets a secret, returned here and never again.
pub async fn create(
    svc: &Services,
    principal: Option<&Principal>,
    meta: &RequestMeta,
    input: SiteInput,
    confidential: bool,
) -> AppResult<(ConnectedSite, Option<String>)> {
    if let Some(p) = principal {
        p.require(Right::ManageConnectedSites)?;
    }
    let checked = check(input)?;
    let client_id = uuid::Uuid::new_v4().simple().to_string();
    let secret = confidential.then(new_secret).transpose()?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let digest = secret.as_ref().map(Token::hash);
    store::oidc::sites::create(&txn, &client_id, &checked.fields(), digest.as_ref(), now).await?;
    let event = match principal {
        Some(p) => p.audit_event(AuditAction::ConnectedSiteCreated, meta),
        None => crate::domain::NewAuditEvent::new(
            AuditAction::ConnectedSiteCreated,
            crate::domain::AuditActor::System,
            None,
        ),
    }
    .detail(json!({ "clientId": client_id, "name": checked.name, "confidential": confidential }));
    audit::record(&txn, now, event).await?;
    store::commit(txn).await?;
    let site = get(svc, &client_id).await?;
    Ok((site, secret.map(|s| s.expose().to_owned())))
}

/// Changes a site's name, addresses and admitted statuses.
pub async fn update(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    client_id: &str,
    input: SiteInput,
) -> AppResult<ConnectedSite> {
    principal.require(Right::ManageConnectedSites)?;
    let checked = check(input)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    if !store::oidc::sites::update(&txn, client_id, &checked.fields(), now).await? {
        return Err(AppError::not_found("connected site", client_id));
    }
    let event = principal
        .audit_event(AuditAction::ConnectedSiteUpdated, meta)
        .detail(json!({ "clientId": client_id, "name": checked.name }));
    audit::record(&txn, now, event).await?;
    store::commit(txn).await?;
    get(svc, client_id).await
}

/// Gives a confidential site a new secret; the old one stops working at once.
pub async fn rotate_secret(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    client_id: &str,
) -> AppResult<(ConnectedSite, String)> {
    principal.require(Right::ManageConnectedSites)?;
    let site = get(svc, client_id).await?;
    if !site.confidential {
        return Err(AppError::Conflict {
            message: format!(
                "{} is a public site: it has no secret and proves itself with PKCE alone",
                site.name
            ),
        });
    }
    let secret = new_secret()?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    store::oidc::sites::set_secret(&txn, client_id, &secret.hash(), now).await?;
    let event = principal
        .audit_event(AuditAction::ConnectedSiteSecretRotated, meta)
        .detail(json!({ "clientId": client_id }));
    audit::record(&txn, now, event).await?;
    store::commit(txn).await?;
    Ok((get(svc, client_id).await?, secret.expose().to_owned()))
}

/// Removes a site; every member's sign-in there ends with it.
pub async fn delete(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    client_id: &str,
) -> AppResult<String> {
    principal.require(Right::ManageConnectedSites)?;
    let site = get(svc, client_id).await?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    store::oidc::sites::delete(&txn, client_id).await?;
    let event = principal
        .audit_event(AuditAction::ConnectedSiteDeleted, meta)
        .detail(json!({ "clientId": client_id, "name": site.name }));
    audit::record(&txn, now, event).await?;
    store::commit(txn).await?;
    Ok(client_id.to_owned())
}

/// A site by its client ID, for the member pages (no right needed: they show only its name
/// and check its addresses).
pub async fn find(svc: &Services, client_id: &str) -> AppResult<Option<ConnectedSite>> {
    Ok(store::oidc::sites::get(&svc.db, client_id)
        .await?
        .map(|r| r.site))
}

/// The sites a member has signed in to and still holds access at, by name.
pub async fn held_by(
    svc: &Services,
    member: crate::domain::ProfileId,
) -> AppResult<Vec<store::oidc::grants::SiteHeld>> {
    Ok(store::oidc::grants::sites_of_member(&svc.db, member).await?)
}

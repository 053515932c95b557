//! Reading, searching, creating and updating profiles.

use serde_json::json;

use super::{Principal, RequestMeta, Services, audit};
use crate::domain::{AuditAction, NewAuditEvent, OptOutVia, SearchCursor};
use crate::domain::{
    EmailAddress, MemberStatus, OrganizationName, PersonName, Profile, ProfileFilter, ProfileId,
    ProfileKind, Right, SearchTerm, search_key,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, profiles::ProfileFields};

/// The most profiles one page may ask for.
pub const MAX_PAGE: u64 = 100;
pub const DEFAULT_PAGE: u64 = 20;

/// A change to one nullable field: leave it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    fn apply_to(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(v) => Some(v),
        }
    }
}

/// What a client asked to change: text fields still unparsed, the parent's ID already typed.
/// `create` starts from an empty profile.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub kind: Option<ProfileKind>,
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub organization_name: Patch<String>,
    pub email: Patch<String>,
    pub member_status: Option<MemberStatus>,
    pub parent_id: Patch<ProfileId>,
    pub email_opt_out: Option<bool>,
}

fn parse_patch<T>(
    patch: Patch<String>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, crate::domain::InvalidInput>,
) -> AppResult<Patch<T>> {
    Ok(match patch {
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
        // An empty string from a form means "no value".
        Patch::Set(s) if s.trim().is_empty() => Patch::Clear,
        Patch::Set(s) => Patch::Set(parse(&s).map_err(|e| AppError::bad_input(field, e))?),
    })
}

/// Parses every changed field and applies it over `base`.
fn merge(
    base: ProfileFields,
    changes: ProfileChanges,
) -> AppResult<(ProfileFields, Patch<ProfileId>)> {
    let first = parse_patch(changes.first_name, "input.firstName", |s| {
        PersonName::parse(s).map(|n| n.as_str().to_owned())
    })?;
    let last = parse_patch(changes.last_name, "input.lastName", |s| {
        PersonName::parse(s).map(|n| n.as_str().to_owned())
    })?;
    let org = parse_patch(changes.organization_name, "input.organizationName", |s| {
        OrganizationName::parse(s).map(|n| n.as_str().to_owned())
    })?;
    let email = parse_patch(changes.email, "input.email", |s| {
        EmailAddress::parse(s).map(|e| e.to_string())
    })?;
    let parent = changes.parent_id;
    let fields = ProfileFields {
        kind: changes.kind.unwrap_or(base.kind),
        first_name: first.apply_to(base.first_name),
        last_name: last.apply_to(base.last_name),
        organization_name: org.apply_to(base.organization_name),
        email: email.apply_to(base.email),
        member_status: changes.member_status.unwrap_or(base.member_status),
        parent_id: parent.clone().apply_to(base.parent_id),
        email_opt_out: changes.email_opt_out.unwrap_or(base.email_opt_out),
    };
    match fields.kind {
        ProfileKind::Organization if fields.organization_name.is_none() => {
            return Err(AppError::BadUserInput {
                field: "input.organizationName".into(),
                message: "an organisation needs an organisation name".into(),
            });
        }
        ProfileKind::Individual if fields.first_name.is_none() && fields.last_name.is_none() => {
            return Err(AppError::BadUserInput {
                field: "input.lastName".into(),
                message: "a person needs a first or last name".into(),
            });
        }
        _ => {}
    }
    Ok((fields, parent))
}

/// Related people hang under an organisation, one level deep, so the tree can never loop.
async fn check_parent(
    db: &impl store::Conn,
    me: Option<&Profile>,
    fields: &ProfileFields,
) -> AppResult<()> {
    let bad = |message: String| AppError::BadUserInput {
        field: "input.parentId".into(),
        message,
    };
    if let Some(parent_id) = fields.parent_id {
        if me.is_some_and(|p| p.id == parent_id) {
            return Err(bad("a profile cannot be its own parent".into()));
        }
        let parent = store::profiles::get(db, parent_id)
            .await?
            .ok_or_else(|| bad(format!("no profile with ID {parent_id} exists")))?;
        if parent.kind != ProfileKind::Organization {
            return Err(bad(format!(
                "profile {parent_id} is a person; related profiles belong to an organisation"
            )));
        }
        if parent.parent_id.is_some() {
            return Err(bad(format!(
                "profile {parent_id} is itself related to another profile"
            )));
        }
        if let Some(me) = me
            && store::profiles::has_children(db, me.id).await?
        {
            return Err(bad(
                "this profile has related profiles of its own, so it cannot be related to another"
                    .into(),
            ));
        }
    }
    if let Some(me) = me
        && fields.kind != ProfileKind::Organization
        && store::profiles::has_children(db, me.id).await?
    {
        return Err(AppError::conflict(
            "this organisation has related profiles; move them to another organisation first",
        ));
    }
    Ok(())
}

pub async fn get(svc: &Services, principal: &Principal, id: ProfileId) -> AppResult<Profile> {
    principal.staff()?;
    store::profiles::get(&svc.db, id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", id))
}

pub async fn create(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    changes: ProfileChanges,
) -> AppResult<Profile> {
    principal.require(Right::ManageProfiles)?;
    let kind = changes.kind.ok_or_else(|| AppError::BadUserInput {
        field: "input.kind".into(),
        message: "is required".into(),
    })?;
    let base = ProfileFields {
        kind,
        first_name: None,
        last_name: None,
        organization_name: None,
        email: None,
        member_status: MemberStatus::Active,
        parent_id: None,
        email_opt_out: false,
    };
    let (fields, _) = merge(base, changes)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    check_parent(&txn, None, &fields).await?;
    let mut profile = store::profiles::insert(&txn, &fields, now).await?;
    if profile.email_opt_out {
        profile = store::profiles::record_opt_out(&txn, profile.id, OptOutVia::Staff, now).await?;
    }
    let actor = principal.audit_actor();
    let event = NewAuditEvent::new(
        AuditAction::ProfileCreated,
        actor,
        meta.client_ip.as_deref(),
    );
    audit::record(
        &txn,
        svc.clock.now(),
        event.profile(profile.id).detail(json!({})),
    )
    .await?;
    store::commit(txn).await?;
    Ok(profile)
}

pub async fn update(
    svc: &Services,
    principal: &Principal,
    meta: &RequestMeta,
    id: ProfileId,
    changes: ProfileChanges,
) -> AppResult<Profile> {
    principal.require(Right::ManageProfiles)?;
    let now = svc.clock.now();
    let txn = store::begin_write(&svc.db).await?;
    let current = store::profiles::get(&txn, id)
        .await?
        .ok_or_else(|| AppError::not_found("profile", id))?;
    let (fields, _) = merge(ProfileFields::from_record(&current), changes)?;
    check_parent(&txn, Some(&current), &fields).await?;
    let mut profile = store::profiles::update(&txn, id, &fields, now).await?;
    let actor = principal.audit_actor();
    let ip = meta.client_ip.as_deref();
    // Staff opt a member out (or back in) at the member's request: when and how are kept.
    let detail = if current.email_opt_out == profile.email_opt_out {
        json!({})
    } else {
        if profile.email_opt_out {
            profile = store::profiles::record_opt_out(&txn, id, OptOutVia::Staff, now).await?;
        }
        json!({ "emailOptOut": profile.email_opt_out })
    };
    let event = NewAuditEvent::new(AuditAction::ProfileUpdated, actor, ip).profile(id);
    audit::record(&txn, svc.clock.now(), event.detail(detail)).await?;
    if profile.member_status != current.member_status
        && !svc.config.may_sign_in(profile.member_status)
    {
        // A status that may not sign in (MEMBERKEY_SIGN_IN_STATUSES) ends open sessions too.
        store::sessions::delete_all(&txn, id, None).await?;
    }
    let email_changed =
        current.email.as_deref().map(search_key) != profile.email.as_deref().map(search_key);
    if email_changed {
        // A link mailed to the old address must not outlive the change (SECURITY-TESTS T5).
        let retired =
            store::links::invalidate_for(&txn, store::links::LinkOwner::Member(id), now).await?;
        let detail = json!({ "reason": "EMAIL_CHANGED", "links": retired });
        let event = NewAuditEvent::new(AuditAction::SetPasswordLinksRetired, actor, ip);
        audit::record(&txn, svc.clock.now(), event.profile(id).detail(detail)).await?;
    }
    store::commit(txn).await?;
    Ok(profile)
}

/// The page of `first` profiles (in ID order) after the profile `after`, and whether more
/// follow.
pub fn page_after(profiles: Vec<Profile>, after: Option<i64>, first: u64) -> (Vec<Profile>, bool) {
    let first = first as usize;
    let mut page: Vec<Profile> = profiles
        .into_iter()
        .filter(|p| after.is_none_or(|a| p.id.get() > a))
        .take(first + 1)
        .collect();
    let has_next_page = page.len() > first;
    page.truncate(first);
    (page, has_next_page)
}

/// One page of a profile list or search.
pub struct ProfilePage {
    pub items: Vec<(SearchCursor, Profile)>,
    pub has_next_page: bool,
}

/// A parsed list request, kept by the connection so `totalCount` can be asked lazily.
#[derive(Debug, Clone)]
pub struct ProfileQuery {
    pub term: Option<SearchTerm>,
    pub filter: ProfileFilter,
}

pub fn parse_query(search: Option<&str>, filter: ProfileFilter) -> AppResult<ProfileQuery> {
    let term = match search {
        Some(s) => SearchTerm::parse(s).map_err(|e| AppError::bad_input("search", e))?,
        None => None,
    };
    Ok(ProfileQuery { term, filter })
}

pub fn check_page_size(first: Option<i32>) -> AppResult<u64> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 => Err(AppError::BadUserInput {
            field: "first".into(),
            message: "must not be negative".into(),
        }),
        Some(n) if n as u64 > MAX_PAGE => Err(AppError::BadUserInput {
            field: "first".into(),
            message: format!("must be at most {MAX_PAGE}"),
        }),
        Some(n) => Ok(n as u64),
    }
}

/// Lists or searches profiles. Any signed-in staff user may read profiles.
pub async fn page(
    svc: &Services,
    principal: &Principal,
    query: &ProfileQuery,
    after: Option<SearchCursor>,
    first: u64,
) -> AppResult<ProfilePage> {
    principal.staff()?;
    let mut items: Vec<(SearchCursor, Profile)> = match &query.term {
        Some(term) => store::search::search(&svc.db, term, &query.filter, after, first + 1)
            .await?
            .into_iter()
            .map(|h| {
                (
                    SearchCursor {
                        tier: h.tier,
                        id: h.profile.id.get(),
                    },
                    h.profile,
                )
            })
            .collect(),
        None => store::profiles::list(&svc.db, &query.filter, after.map(|c| c.id), first + 1)
            .await?
            .into_iter()
            .map(|p| {
                (
                    SearchCursor {
                        tier: 0,
                        id: p.id.get(),
                    },
                    p,
                )
            })
            .collect(),
    };
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(ProfilePage {
        items,
        has_next_page,
    })
}

pub async fn total_count(
    svc: &Services,
    principal: &Principal,
    query: &ProfileQuery,
) -> AppResult<u64> {
    principal.staff()?;
    Ok(match &query.term {
        Some(term) => store::search::count(&svc.db, term, &query.filter).await?,
        None => store::profiles::count(&svc.db, &query.filter).await?,
    })
}

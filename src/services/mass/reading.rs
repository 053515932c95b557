//! Reading a communication: its counts and status, its deliveries, and previews.

use crate::domain::{
    Delivery, DeliveryStatus, LinkCounts, LinkState, MassCommunication, MassCommunicationId,
    MassListFilter, MassStatus, ProfileId, Recipients, Right, SearchTerm,
};
use crate::error::{AppError, AppResult};
use crate::mail::links::{recipient_values, sample_mailed_link, sample_values};
use crate::mail::mass::MassTemplate;
use crate::mail::templates::Rendered;
use crate::services::{Principal, Services};
use crate::store::{self};

use super::{MassView, load, recipient_search};

/// A communication with its counts, and the status they add up to. A read never writes:
/// the delivery worker records a finished send.
pub async fn view(
    svc: &Services,
    principal: &Principal,
    id: MassCommunicationId,
) -> AppResult<MassView> {
    principal.require(Right::SendMassCommunications)?;
    let communication = load(svc, id).await?;
    with_counts(svc, communication).await
}

/// The view of a communication a use case just returned, without reading it again: only its
/// delivery counts are read.
pub async fn with_counts(svc: &Services, communication: MassCommunication) -> AppResult<MassView> {
    let counts = store::mass::counts(&svc.db, communication.id).await?;
    Ok(MassView::new(communication, counts))
}

/// How many profiles it goes to: for a draft, those its recipients select right now
/// (including any that will be skipped for having no address or having opted out); once
/// sent, its deliveries.
pub async fn recipient_count(
    svc: &Services,
    principal: &Principal,
    id: MassCommunicationId,
) -> AppResult<u64> {
    principal.require(Right::SendMassCommunications)?;
    let comm = load(svc, id).await?;
    if comm.status != MassStatus::Draft {
        return Ok(store::mass::counts(&svc.db, id).await?.total.max(0) as u64);
    }
    Ok(select(svc, &comm.recipients).await?.len() as u64)
}

/// How many profiles a recipient filter selects right now: the live count while staff build
/// one, before any draft is saved.
pub async fn count_matching(
    svc: &Services,
    principal: &Principal,
    filter: crate::domain::RecipientFilter,
) -> AppResult<u64> {
    principal.require(Right::SendMassCommunications)?;
    // Named after this use's argument, not a draft's `recipients`.
    let search = match &filter.search {
        Some(s) => SearchTerm::parse(s).map_err(|e| AppError::bad_input("filter.search", e))?,
        None => None,
    };
    let now = svc.clock.now();
    // Asked at every change of the form: one COUNT where the filter allows it.
    if let Some(n) = store::mass::count_selected(&svc.db, &filter, search.as_ref(), now).await? {
        return Ok(n);
    }
    Ok(select(svc, &Recipients::Filter(filter)).await?.len() as u64)
}

/// Every profile `recipients` select right now, each once, in a stable order.
pub async fn select(svc: &Services, recipients: &Recipients) -> AppResult<Vec<ProfileId>> {
    let search = recipient_search(recipients)?;
    let now = svc.clock.now();
    Ok(store::mass::resolve_recipients(&svc.db, recipients, search.as_ref(), now).await?)
}

/// One page of deliveries, optionally only those of one status and one link state.
pub async fn deliveries(
    svc: &Services,
    principal: &Principal,
    id: MassCommunicationId,
    only: Option<DeliveryStatus>,
    link: Option<LinkState>,
    after: Option<i64>,
    first: u64,
) -> AppResult<Vec<Delivery>> {
    principal.require(Right::SendMassCommunications)?;
    let now = svc.clock.now();
    Ok(store::mass::deliveries(&svc.db, id, only, link, after, first, now).await?)
}

/// How the communication's links fared: how many recipients set a password with theirs.
pub async fn link_counts(
    svc: &Services,
    principal: &Principal,
    id: MassCommunicationId,
) -> AppResult<LinkCounts> {
    principal.require(Right::SendMassCommunications)?;
    Ok(store::mass::link_counts(&svc.db, id, svc.clock.now()).await?)
}

/// A page of communications, newest first.
pub struct MassPage {
    pub items: Vec<MassView>,
    pub has_next_page: bool,
    pub total: u64,
}

/// Drafts and sent communications, newest first, after the communication `after`.
pub async fn list(
    svc: &Services,
    principal: &Principal,
    filter: &MassListFilter,
    after: Option<i64>,
    first: u64,
) -> AppResult<MassPage> {
    principal.require(Right::SendMassCommunications)?;
    let mut found = store::mass::list(&svc.db, filter, after, first + 1).await?;
    let has_next_page = found.len() as u64 > first;
    found.truncate(first as usize);
    let ids: Vec<MassCommunicationId> = found.iter().map(|c| c.id).collect();
    let mut counts = store::mass::counts_many(&svc.db, &ids).await?;
    let items = found
        .into_iter()
        .map(|c| {
            let n = counts.remove(&c.id).unwrap_or_default();
            MassView::new(c, n)
        })
        .collect();
    let total = store::mass::count(&svc.db, filter).await?;
    Ok(MassPage {
        items,
        has_next_page,
        total,
    })
}

/// Exactly what `profile_id` would get, with a link that grants nothing.
pub async fn preview(
    svc: &Services,
    principal: &Principal,
    id: MassCommunicationId,
    profile_id: Option<ProfileId>,
) -> AppResult<Rendered> {
    principal.require(Right::SendMassCommunications)?;
    let comm = load(svc, id).await?;
    let template = MassTemplate::parse(&comm.subject, &comm.html)
        .map_err(|(_, e)| AppError::internal(format!("stored template: {}", e.message)))?;
    // The sample link expires when a real one sent now would.
    let expires_at = svc.clock.now() + comm.link_validity;
    let values = match profile_id {
        None => sample_values(&svc.config, expires_at),
        Some(pid) => {
            let profile = store::profiles::get(&svc.db, pid)
                .await?
                .ok_or_else(|| AppError::not_found("profile", pid))?;
            let username = store::credentials::get(&svc.db, pid)
                .await?
                .and_then(|c| c.username);
            let parent = match profile.parent_id {
                Some(p) => store::profiles::get(&svc.db, p).await?,
                None => None,
            };
            recipient_values(
                &svc.config,
                &profile,
                username.as_deref(),
                parent.as_ref(),
                Some(sample_mailed_link(&svc.config, expires_at)),
            )
        }
    };
    Ok(template.render(&values))
}

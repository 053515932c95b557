//! Reading a communication: its counts and status, its deliveries, and previews.

use crate::domain::{Delivery, DeliveryStatus, ProfileId, Right};
use crate::error::{AppError, AppResult};
use crate::mail::links::{recipient_values, sample_link, sample_values};
use crate::mail::mass::MassTemplate;
use crate::mail::templates::Rendered;
use crate::services::{Principal, Services};
use crate::store::{self};

use super::{MassView, load};

/// A communication with its counts, and the status they add up to. A read never writes:
/// the delivery worker records a finished send.
pub async fn view(svc: &Services, principal: &Principal, id: i64) -> AppResult<MassView> {
    principal.require(Right::SendMassCommunications)?;
    let communication = load(svc, id).await?;
    let counts = store::mass::counts(&svc.db, id).await?;
    let status = counts.progress(communication.status);
    Ok(MassView {
        communication,
        counts,
        status,
    })
}

pub async fn deliveries(
    svc: &Services,
    principal: &Principal,
    id: i64,
    only: Option<DeliveryStatus>,
    after: Option<i64>,
    first: u64,
) -> AppResult<Vec<Delivery>> {
    principal.require(Right::SendMassCommunications)?;
    Ok(store::mass::deliveries(&svc.db, id, only, after, first, svc.clock.now()).await?)
}

/// Exactly what `profile_id` would get, with a link that grants nothing.
pub async fn preview(
    svc: &Services,
    principal: &Principal,
    id: i64,
    profile_id: Option<ProfileId>,
) -> AppResult<Rendered> {
    principal.require(Right::SendMassCommunications)?;
    let comm = load(svc, id).await?;
    let template = MassTemplate::parse(&comm.subject, &comm.html)
        .map_err(|(_, e)| AppError::internal(format!("stored template: {}", e.message)))?;
    let values = match profile_id {
        None => sample_values(&svc.config),
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
                &profile,
                username.as_deref(),
                parent.as_ref(),
                sample_link(&svc.config),
            )
        }
    };
    Ok(template.render(&values))
}

//! Progress pushed over a subscription while a communication sends.

use async_graphql::{Context, ID, Result, SimpleObject, Subscription};
use futures_util::Stream;

use super::types::{DeliveryCounts, MassCommunicationStatus, wants_links};
use crate::domain::{self, Right};
use crate::graphql::{Require, parts};
use crate::services::mass;

/// A progress report pushed while a communication is sending.
#[derive(SimpleObject, Clone, PartialEq, Eq)]
pub(super) struct MassCommunicationProgress {
    /// The communication's ID.
    id: ID,
    /// Where it stands.
    status: MassCommunicationStatus,
    /// How its deliveries stand.
    counts: DeliveryCounts,
}

#[derive(Default)]
pub(crate) struct MassSubscription;

#[Subscription]
impl MassSubscription {
    /// Pushes the delivery counts whenever they change, until the communication is sent,
    /// failed or cancelled. Needs the SEND_MASS_COMMUNICATIONS right (send the staff token as
    /// `Authorization` in the connection's init payload).
    #[graphql(guard = "Require::Right(Right::SendMassCommunications)")]
    async fn mass_communication_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The communication to follow.")] id: ID,
    ) -> Result<impl Stream<Item = Result<MassCommunicationProgress>> + use<>> {
        let (svc, principal, _) = parts(ctx)?;
        let (svc, principal) = (svc.clone(), principal.clone());
        let id = crate::graphql::ids::mass_communication_id(&id)?;
        let links = wants_links(ctx.look_ahead().field("counts"));
        // Fails now, not inside the stream, for an unknown communication.
        mass::view(&svc, &principal, id).await?;
        let poll = svc
            .config
            .mail
            .poll
            .max(std::time::Duration::from_millis(200));
        let state = (svc, principal, None::<MassCommunicationProgress>, false);
        Ok(futures_util::stream::unfold(
            state,
            move |(svc, principal, last, done)| async move {
                if done {
                    return None;
                }
                loop {
                    let read = async {
                        let view = mass::view(&svc, &principal, id).await?;
                        let link_counts = match links {
                            true => Some(mass::link_counts(&svc, &principal, id).await?),
                            false => None,
                        };
                        Ok::<_, crate::error::AppError>((view, link_counts))
                    };
                    let (view, link_counts) = match read.await {
                        Ok(v) => v,
                        Err(e) => return Some((Err(e.into()), (svc, principal, last, true))),
                    };
                    let now = MassCommunicationProgress {
                        id: ID(id.to_string()),
                        status: view.status.into(),
                        counts: DeliveryCounts::new(view.counts, link_counts),
                    };
                    let finished = !matches!(
                        view.status,
                        domain::MassStatus::Queued
                            | domain::MassStatus::Sending
                            | domain::MassStatus::Paused
                    );
                    if last.as_ref() != Some(&now) {
                        return Some((Ok(now.clone()), (svc, principal, Some(now), finished)));
                    }
                    if finished {
                        return None;
                    }
                    tokio::time::sleep(poll).await;
                }
            },
        ))
    }
}

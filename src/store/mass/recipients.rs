//! Who a communication goes to: the filter resolved to profiles, and their delivery rows.

use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::domain::{
    MassCommunicationId, OutboundKind, ProfileId, RecipientFilter, Recipients, SearchCursor,
    SearchTerm, SkipReason,
};
use crate::entities::outbound_email;
use crate::store::outbound::{RowParts, new_row};

/// A delivery row to create when the communication is sent.
pub struct NewDelivery {
    pub profile_id: ProfileId,
    pub to_address: Option<String>,
    pub skip_reason: Option<SkipReason>,
}

/// Inserts every recipient's row, in chunks that stay under both databases' parameter limits.
pub async fn insert_deliveries(
    db: &impl ConnectionTrait,
    mass_id: MassCommunicationId,
    rows: Vec<NewDelivery>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<outbound_email::ActiveModel> = rows
            .by_ref()
            .take(500)
            .map(|r| {
                let parts = RowParts {
                    kind: OutboundKind::Mass,
                    mass_communication_id: Some(mass_id),
                    profile_id: Some(r.profile_id),
                    to_address: r.to_address,
                    payload: None,
                    skip_reason: r.skip_reason,
                };
                new_row(parts, now)
            })
            .collect();
        outbound_email::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Every profile the recipients name right now, each once, in a stable order. A filter is
/// read in pages of 1,000, so 100,000 recipients never sit in one result set.
pub async fn resolve_recipients(
    db: &impl ConnectionTrait,
    recipients: &Recipients,
    search: Option<&SearchTerm>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<ProfileId>> {
    const PAGE: u64 = 1000;
    let f = match recipients {
        Recipients::ProfileIds(ids) => return Ok(dedupe(ids.iter().copied())),
        Recipients::Filter(f) => f,
    };
    let filter = f.profile_filter(now);
    let mut out = Vec::new();
    match search {
        Some(term) => {
            let mut cursor = None;
            loop {
                let hits = crate::store::search::search(db, term, &filter, cursor, PAGE).await?;
                let done = (hits.len() as u64) < PAGE;
                cursor = hits.last().map(|h| SearchCursor {
                    tier: h.tier,
                    id: h.profile.id.get(),
                });
                out.extend(hits.into_iter().map(|h| h.profile.id));
                if done {
                    break;
                }
            }
        }
        None => {
            let mut after = None;
            loop {
                let page = crate::store::profiles::list(db, &filter, after, PAGE).await?;
                let done = (page.len() as u64) < PAGE;
                after = page.last().map(|p| p.id.get());
                out.extend(page.into_iter().map(|p| p.id));
                if done {
                    break;
                }
            }
        }
    }
    if f.include_related_profiles {
        let mut related = Vec::new();
        for chunk in out.chunks(PAGE as usize) {
            let children = crate::store::profiles::children_of(db, chunk).await?;
            for id in chunk {
                if let Some(c) = children.get(id) {
                    related.extend(c.iter().map(|p| p.id));
                }
            }
        }
        out.extend(related);
    }
    Ok(dedupe(out))
}

/// How many profiles `f` selects, in one COUNT, or `None` when it adds the people related to
/// each match (then the matches are needed first, as `resolve_recipients` finds them).
pub async fn count_selected(
    db: &impl ConnectionTrait,
    f: &RecipientFilter,
    search: Option<&SearchTerm>,
    now: DateTime<Utc>,
) -> StoreResult<Option<u64>> {
    if f.include_related_profiles {
        return Ok(None);
    }
    let filter = f.profile_filter(now);
    Ok(Some(match search {
        Some(term) => crate::store::search::count(db, term, &filter).await?,
        None => crate::store::profiles::count(db, &filter).await?,
    }))
}

/// Keeps the first of each ID, in order.
pub(super) fn dedupe(ids: impl IntoIterator<Item = ProfileId>) -> Vec<ProfileId> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|i| seen.insert(*i)).collect()
}

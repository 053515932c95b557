//! A link's state as SQL, for the queries that filter on it (a communication's deliveries,
//! a follow-up's recipients). It sits apart so that neither of those modules needs the
//! other.

use chrono::{DateTime, Utc};

use crate::domain::LinkState;
use crate::store::sql::Sql;

/// The SQL condition on token `t` for one link state; the same rule as `LinkState::of`.
pub(crate) fn condition(sql: &mut Sql, state: LinkState, now: DateTime<Utc>) {
    match state {
        LinkState::Used => {
            sql.push("t.used_at IS NOT NULL");
        }
        LinkState::Replaced => {
            sql.push("t.used_at IS NULL AND t.invalidated_at IS NOT NULL");
        }
        LinkState::Expired => {
            sql.push("t.used_at IS NULL AND t.invalidated_at IS NULL AND t.expires_at <= ")
                .param(now);
        }
        LinkState::Unused => {
            sql.push("t.used_at IS NULL AND t.invalidated_at IS NULL AND t.expires_at > ")
                .param(now);
        }
    }
}

//! The one place an ID arriving from GraphQL becomes its domain type, with the code a client
//! needs: a malformed profile ID gets INVALID_PROFILE_ID naming the value; any other ID gets
//! BAD_USER_INPUT naming the argument it came in.

use async_graphql::ID;

use crate::domain::{MassCommunicationId, ProfileId, StaffUserId};
use crate::error::AppError;

/// A profile ID (`INVALID_PROFILE_ID` when malformed).
pub(crate) fn profile_id(raw: &str) -> Result<ProfileId, AppError> {
    ProfileId::parse(raw.trim()).map_err(|_| AppError::InvalidProfileId {
        value: raw.to_owned(),
    })
}

/// A staff user ID, sent as the argument `field`.
pub(crate) fn staff_user_id(raw: &str, field: &str) -> Result<StaffUserId, AppError> {
    StaffUserId::parse(raw.trim()).map_err(|e| AppError::bad_input(field, e))
}

/// A mass communication ID, sent as the argument `id`.
pub(crate) fn mass_communication_id(raw: &ID) -> Result<MassCommunicationId, AppError> {
    MassCommunicationId::parse(raw.trim()).map_err(|_| AppError::BadUserInput {
        field: "id".into(),
        message: format!(
            "\"{}\" is not a mass communication ID (a positive whole number)",
            raw.as_str()
        ),
    })
}

/// A staff session's ID from `staffSessions`, sent as the argument `id`.
pub(crate) fn staff_session_id(raw: &ID) -> Result<i64, AppError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::BadUserInput {
            field: "id".into(),
            message: "a session ID is a whole number from staffSessions".into(),
        })
}

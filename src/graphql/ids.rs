//! The one place an ID arriving from GraphQL becomes its domain type, with the code a client
//! needs: a malformed profile ID gets INVALID_PROFILE_ID naming the value; any other ID gets
//! BAD_USER_INPUT naming the argument it came in.

use async_graphql::ID;

use crate::domain::{MassCommunicationId, ProfileId, StaffUserId};
use crate::error::AppError;

/// A profile ID (`INVALID_PROFILE_ID` when malformed).
pub(crate) fn profile_id(raw: &str) -> Result<ProfileId, AppError> {
    crate::services::profiles::parse_profile_id(raw)
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

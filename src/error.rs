//! The one application error. Every failure a client can see maps to a code from a closed
//! set, placed in `extensions.code` by `graphql::errors`; internal causes are logged under a
//! correlation id and never sent. Nothing here knows GraphQL: the transport's own refusals
//! (parse, validation, limits) are coded in `graphql/` and never pass through `AppError`.

use std::fmt;

use crate::domain::{InvalidInput, Right};

/// The closed set of error codes clients can rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The HTTP request is not a GraphQL request (media type, JSON, batch, missing `query`).
    /// Used by the transport only, never by a resolver.
    BadRequest,
    BadUserInput,
    InvalidProfileId,
    NotFound,
    NoEmailAddress,
    AddressSuppressed,
    UsernameTaken,
    WeakPassword,
    InvalidLogin,
    AmbiguousLogin,
    InvalidToken,
    TokenExpired,
    Unauthenticated,
    Forbidden,
    PasswordChangeRequired,
    SecondFactorRequired,
    SecondFactorSetupRequired,
    StepUpRequired,
    ReadOnlySession,
    RateLimited,
    Conflict,
    QueryTooComplex,
    GraphqlParseFailed,
    GraphqlValidationFailed,
    InternalServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::InvalidProfileId => "INVALID_PROFILE_ID",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::NoEmailAddress => "NO_EMAIL_ADDRESS",
            ErrorCode::AddressSuppressed => "ADDRESS_SUPPRESSED",
            ErrorCode::UsernameTaken => "USERNAME_TAKEN",
            ErrorCode::WeakPassword => "WEAK_PASSWORD",
            ErrorCode::InvalidLogin => "INVALID_LOGIN",
            ErrorCode::AmbiguousLogin => "AMBIGUOUS_LOGIN",
            ErrorCode::InvalidToken => "INVALID_TOKEN",
            ErrorCode::TokenExpired => "TOKEN_EXPIRED",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            ErrorCode::SecondFactorRequired => "SECOND_FACTOR_REQUIRED",
            ErrorCode::SecondFactorSetupRequired => "SECOND_FACTOR_SETUP_REQUIRED",
            ErrorCode::StepUpRequired => "STEP_UP_REQUIRED",
            ErrorCode::ReadOnlySession => "READ_ONLY_SESSION",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// A cause that must stay on the server.
pub type InternalCause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The application error. It deliberately has no `Display`: async-graphql converts any
/// `Display` type into an error without a code, and this keeps every conversion going
/// through the coded one below.
#[derive(Debug)]
pub enum AppError {
    BadUserInput {
        field: String,
        message: String,
    },
    InvalidProfileId {
        value: String,
    },
    NotFound {
        what: &'static str,
        id: String,
    },
    NoEmailAddress,
    /// Mail to the address bounced for good, so the provider would only bounce it again.
    AddressSuppressed {
        address: String,
        since: chrono::DateTime<chrono::Utc>,
        detail: Option<String>,
    },
    UsernameTaken {
        username: String,
    },
    WeakPassword {
        /// One or two whole sentences a member understands.
        reason: String,
    },
    InvalidLogin,
    AmbiguousLogin,
    InvalidToken,
    TokenExpired,
    Unauthenticated,
    Forbidden {
        right: Option<Right>,
    },
    /// The member must choose a new password before doing anything else.
    PasswordChangeRequired,
    /// The password was right; now a code from the staff user's authenticator app is
    /// needed. `challenge` goes with the code to `staffVerifySecondFactor`.
    SecondFactorRequired {
        challenge: String,
    },
    /// `MEMBERKEY_STAFF_REQUIRE_SECOND_FACTOR` is on and this staff user has none yet.
    SecondFactorSetupRequired,
    /// The action changes how an account is proven or recovered, and this session has not
    /// proved its user again recently (`confirmStaffIdentity`).
    StepUpRequired,
    /// A staff user's read-only view of the portal as a member tried to change something.
    ReadOnlySession,
    RateLimited,
    /// The record is not in a state that allows this (a sent communication cannot be edited,
    /// the last administrator cannot leave). The message says what state it is in.
    Conflict {
        message: String,
    },
    Internal(InternalCause),
}

fn forbidden_message(right: Option<Right>) -> String {
    match right {
        Some(r) => format!(
            "You do not have the {} right needed for this. Ask a staff administrator to grant it.",
            r.as_str()
        ),
        None => "You are not allowed to do this.".to_owned(),
    }
}

impl AppError {
    /// The message shown to the client: what happened and what to do next.
    pub fn message(&self) -> String {
        match self {
            AppError::BadUserInput { field, message } => format!("Invalid value for {field}: {message}."),
            AppError::InvalidProfileId { value } => format!(
                "Invalid profile ID \"{value}\": a profile ID is a positive whole number, such as 42. Use the quick search to find a profile by name or email."
            ),
            AppError::NotFound { what, id } => {
                format!("No {what} with ID {id} exists. It may have been removed; search again to find the current record.")
            }
            AppError::NoEmailAddress => {
                "This profile has no email address. Add one to the profile first, then send the email.".into()
            }
            AppError::AddressSuppressed { address, since, detail } => format!(
                "Mail to {address} bounced for good on {} ({}), so it is on the suppression list and this email was not sent. Correct the profile's email address, or, if the mailbox works again, clear the suppression (clearEmailSuppression) and send again.",
                since.format("%Y-%m-%d"),
                detail.as_deref().unwrap_or("no diagnostic")
            ),
            AppError::UsernameTaken { username } => {
                format!("The username \"{username}\" is already in use. Choose a different username.")
            }
            AppError::WeakPassword { reason } => reason.clone(),
            AppError::InvalidLogin => "The username or password is incorrect, or the account is not available.".into(),
            AppError::AmbiguousLogin => {
                "Several profiles share this email address and password. Sign in with your username instead.".into()
            }
            AppError::InvalidToken => "This link is invalid or has already been used. Request a new one.".into(),
            AppError::TokenExpired => "This link has expired. Request a new one.".into(),
            AppError::Unauthenticated => {
                "Sign in first: this operation needs a valid session token in the Authorization header.".into()
            }
            AppError::Forbidden { right } => forbidden_message(*right),
            AppError::PasswordChangeRequired => {
                "Choose a new password first: call changePassword with your current password and a new one. Until then this session can only read me and sign out.".into()
            }
            AppError::SecondFactorRequired { .. } => {
                "Enter the 6-digit code from your authenticator app, or one of your recovery codes, to finish signing in (staffVerifySecondFactor with extensions.challenge). The challenge works for 5 minutes.".into()
            }
            AppError::SecondFactorSetupRequired => {
                "This association requires a second factor for staff. Set one up first (enrollStaffSecondFactor, then confirmStaffSecondFactor with a code from your authenticator app); until then this session can only do that and sign out.".into()
            }
            AppError::StepUpRequired => {
                "This changes how an account signs in or is recovered, so confirm it is you first: call confirmStaffIdentity with your password (and your authenticator code, if you use one), then repeat this within a few minutes.".into()
            }
            AppError::ReadOnlySession => {
                "This is a staff user's read-only view of the portal as this member: it cannot change passwords, credentials or the email address. The member makes such changes themselves, or staff do it from the staff screens.".into()
            }
            AppError::RateLimited => "Too many requests. Wait a moment and try again.".into(),
            AppError::Conflict { message } => format!("{message}."),
            AppError::Internal(_) => "Something went wrong on the server.".into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::BadUserInput { .. } => ErrorCode::BadUserInput,
            AppError::InvalidProfileId { .. } => ErrorCode::InvalidProfileId,
            AppError::NotFound { .. } => ErrorCode::NotFound,
            AppError::NoEmailAddress => ErrorCode::NoEmailAddress,
            AppError::AddressSuppressed { .. } => ErrorCode::AddressSuppressed,
            AppError::UsernameTaken { .. } => ErrorCode::UsernameTaken,
            AppError::WeakPassword { .. } => ErrorCode::WeakPassword,
            AppError::InvalidLogin => ErrorCode::InvalidLogin,
            AppError::AmbiguousLogin => ErrorCode::AmbiguousLogin,
            AppError::InvalidToken => ErrorCode::InvalidToken,
            AppError::TokenExpired => ErrorCode::TokenExpired,
            AppError::Unauthenticated => ErrorCode::Unauthenticated,
            AppError::Forbidden { .. } => ErrorCode::Forbidden,
            AppError::PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            AppError::SecondFactorRequired { .. } => ErrorCode::SecondFactorRequired,
            AppError::SecondFactorSetupRequired => ErrorCode::SecondFactorSetupRequired,
            AppError::StepUpRequired => ErrorCode::StepUpRequired,
            AppError::ReadOnlySession => ErrorCode::ReadOnlySession,
            AppError::RateLimited => ErrorCode::RateLimited,
            AppError::Conflict { .. } => ErrorCode::Conflict,
            AppError::Internal(_) => ErrorCode::InternalServerError,
        }
    }

    /// The text for a server log: the internal cause itself, else the client message.
    pub fn log_text(&self) -> String {
        match self {
            AppError::Internal(cause) => cause.to_string(),
            other => other.message(),
        }
    }

    /// Wraps any server-side failure; its text is logged, never shown.
    pub fn internal(cause: impl Into<InternalCause>) -> Self {
        AppError::Internal(cause.into())
    }

    /// A refused input value, naming the argument or input field it came from.
    pub fn bad_input(field: impl Into<String>, invalid: InvalidInput) -> Self {
        AppError::BadUserInput {
            field: field.into(),
            message: invalid.message,
        }
    }

    /// The record's state forbids the change; `message` says why and what to do instead.
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str, id: impl fmt::Display) -> Self {
        AppError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

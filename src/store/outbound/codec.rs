//! What a queued message is as stored: the `kind` column and a JSON payload, and back. The
//! only place the queue's contract (`domain::OutboundMessage`) becomes stored text.

use crate::domain::{
    MassCommunicationId, OutboundKind, OutboundMessage, ProfileId, SetPasswordLinks, StaffUserId,
    TokenPurpose,
};

/// How each message kind's payload is stored. These shapes are the stored format: changing
/// one needs a migration of the rows already queued.
mod payload {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Links {
        pub profiles: Vec<i64>,
        pub ttl_seconds: i64,
        pub purpose: String,
        pub issued_by: Option<i64>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct Changed {
        pub login: String,
        pub changed_at: chrono::DateTime<chrono::Utc>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct MassTest {
        pub mass_id: i64,
        pub profile_id: Option<i64>,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct StaffLink {
        pub staff_user_id: i64,
        pub ttl_seconds: i64,
        pub issued_by: Option<i64>,
    }
}

/// The stored payload of a message; `None` for a mass copy, whose communication is a column.
pub(super) fn payload_of(message: &OutboundMessage) -> Option<String> {
    // Through a `Value`, as the previous version wrote them: its keys come out sorted.
    let json = match message {
        OutboundMessage::SetPasswordLinks(l) => serde_json::to_value(payload::Links {
            profiles: l.profiles.iter().map(|p| p.get()).collect(),
            ttl_seconds: l.ttl.num_seconds(),
            purpose: l.purpose.as_db().to_owned(),
            issued_by: l.issued_by.map(|s| s.get()),
        }),
        OutboundMessage::PasswordChanged { login, changed_at } => {
            serde_json::to_value(payload::Changed {
                login: login.clone(),
                changed_at: *changed_at,
            })
        }
        OutboundMessage::Mass { .. } => return None,
        OutboundMessage::MassTest {
            communication,
            sample,
        } => serde_json::to_value(payload::MassTest {
            mass_id: communication.get(),
            profile_id: sample.map(|p| p.get()),
        }),
        OutboundMessage::StaffPasswordLink {
            staff_user,
            ttl,
            issued_by,
        } => serde_json::to_value(payload::StaffLink {
            staff_user_id: staff_user.get(),
            ttl_seconds: ttl.num_seconds(),
            issued_by: issued_by.map(|s| s.get()),
        }),
    };
    // Serialising these plain structs cannot fail.
    json.ok().map(|v| v.to_string())
}

/// Reads a claimed row's message back. An unknown kind or a payload that does not parse is an
/// error the worker logs and records on the row; it never stops the rest of the queue.
pub(super) fn message_of(
    kind: &str,
    payload: Option<&str>,
    mass_communication_id: Option<MassCommunicationId>,
) -> Result<OutboundMessage, String> {
    fn parse<T: serde::de::DeserializeOwned>(payload: Option<&str>) -> Result<T, String> {
        serde_json::from_str(payload.unwrap_or("null")).map_err(|e| format!("payload: {e}"))
    }
    Ok(match kind.parse::<OutboundKind>()? {
        OutboundKind::SetPasswordLinks => {
            let l: payload::Links = parse(payload)?;
            OutboundMessage::SetPasswordLinks(SetPasswordLinks {
                profiles: l.profiles.into_iter().map(ProfileId::from_db).collect(),
                ttl: chrono::Duration::seconds(l.ttl_seconds),
                purpose: l.purpose.parse::<TokenPurpose>()?,
                issued_by: l.issued_by.map(StaffUserId::from_db),
            })
        }
        OutboundKind::PasswordChanged => {
            let c: payload::Changed = parse(payload)?;
            OutboundMessage::PasswordChanged {
                login: c.login,
                changed_at: c.changed_at,
            }
        }
        OutboundKind::Mass => OutboundMessage::Mass {
            communication: mass_communication_id.ok_or("a mass copy without its communication")?,
        },
        OutboundKind::MassTest => {
            let t: payload::MassTest = parse(payload)?;
            OutboundMessage::MassTest {
                communication: MassCommunicationId::from_db(t.mass_id),
                sample: t.profile_id.map(ProfileId::from_db),
            }
        }
        OutboundKind::StaffPasswordLink => {
            let l: payload::StaffLink = parse(payload)?;
            OutboundMessage::StaffPasswordLink {
                staff_user: StaffUserId::from_db(l.staff_user_id),
                ttl: chrono::Duration::seconds(l.ttl_seconds),
                issued_by: l.issued_by.map(StaffUserId::from_db),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn payloads_keep_the_stored_format_and_read_back() {
        let links = OutboundMessage::SetPasswordLinks(SetPasswordLinks {
            profiles: vec![ProfileId::from_db(7)],
            ttl: chrono::Duration::seconds(3600),
            purpose: TokenPurpose::StaffReset,
            issued_by: Some(StaffUserId::from_db(2)),
        });
        // Byte for byte what the previous version queued (keys sorted), so rows queued
        // before an upgrade are read by the new version and the other way round.
        let stored = payload_of(&links).unwrap();
        assert_eq!(
            stored,
            r#"{"issuedBy":2,"profiles":[7],"purpose":"STAFF_RESET","ttlSeconds":3600}"#
        );
        assert_eq!(
            message_of("SET_PASSWORD_LINKS", Some(&stored), None),
            Ok(links)
        );
        let changed_at = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let changed = OutboundMessage::PasswordChanged {
            login: "lea".into(),
            changed_at,
        };
        let stored = payload_of(&changed).unwrap();
        assert_eq!(
            stored,
            r#"{"changedAt":"2026-11-30T10:00:00Z","login":"lea"}"#
        );
        assert_eq!(
            message_of("PASSWORD_CHANGED", Some(&stored), None),
            Ok(changed)
        );
        assert_eq!(
            message_of("MASS_TEST", Some(r#"{"massId":5,"profileId":null}"#), None),
            Ok(OutboundMessage::MassTest {
                communication: MassCommunicationId::from_db(5),
                sample: None
            })
        );
        assert_eq!(
            message_of("MASS", None, Some(MassCommunicationId::from_db(9))),
            Ok(OutboundMessage::Mass {
                communication: MassCommunicationId::from_db(9)
            })
        );
        assert_eq!(
            payload_of(&OutboundMessage::Mass {
                communication: MassCommunicationId::from_db(9)
            }),
            None
        );
        let staff = OutboundMessage::StaffPasswordLink {
            staff_user: StaffUserId::from_db(4),
            ttl: chrono::Duration::seconds(86_400),
            issued_by: Some(StaffUserId::from_db(1)),
        };
        let stored = payload_of(&staff).unwrap();
        assert_eq!(
            stored,
            r#"{"issuedBy":1,"staffUserId":4,"ttlSeconds":86400}"#
        );
        assert_eq!(
            message_of("STAFF_PASSWORD_LINK", Some(&stored), None),
            Ok(staff)
        );
    }

    #[test]
    fn an_unreadable_row_is_an_error_for_that_row() {
        assert!(message_of("FAX", None, None).unwrap_err().contains("FAX"));
        assert!(message_of("MASS", None, None).is_err());
        assert!(message_of("SET_PASSWORD_LINKS", Some("{}"), None).is_err());
        let bad_purpose = r#"{"issuedBy":null,"profiles":[1],"purpose":"WHIM","ttlSeconds":60}"#;
        assert!(
            message_of("SET_PASSWORD_LINKS", Some(bad_purpose), None)
                .unwrap_err()
                .contains("WHIM")
        );
    }
}

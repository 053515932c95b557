//! One opaque cursor scheme for every connection. A cursor is base64url (no padding) of
//! `v1:<list>:<key>:<key>…`: the list it belongs to and the position's keys. Clients treat it
//! as opaque; the server refuses, with `BAD_USER_INPUT` on `after`, any cursor that it did not
//! make for that list, so a cursor cannot be carried from one list into another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::SearchCursor;
use crate::error::AppError;

const VERSION: &str = "v1";

/// A position in one kind of list.
pub(super) trait Cursor: Sized {
    /// The list's name inside the cursor.
    const LIST: &'static str;
    /// The keys that fix the position.
    fn keys(&self) -> Vec<i64>;
    /// The position from its keys; `None` when they cannot be one.
    fn from_keys(keys: &[i64]) -> Option<Self>;
}

pub(super) fn encode<C: Cursor>(cursor: &C) -> String {
    let mut text = format!("{VERSION}:{}", C::LIST);
    for key in cursor.keys() {
        text.push(':');
        text.push_str(&key.to_string());
    }
    URL_SAFE_NO_PAD.encode(text)
}

/// Reads an `after` argument: absent or empty is the start; anything but a cursor this server
/// made for this list is `BAD_USER_INPUT`.
pub(super) fn parse_after<C: Cursor>(after: Option<&str>) -> Result<Option<C>, AppError> {
    match after {
        None | Some("") => Ok(None),
        Some(raw) => decode(raw).map(Some).ok_or_else(|| AppError::BadUserInput {
            field: "after".into(),
            message: "is not a cursor from this list; start again without `after`".into(),
        }),
    }
}

fn decode<C: Cursor>(raw: &str) -> Option<C> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let mut parts = text.split(':');
    if parts.next()? != VERSION || parts.next()? != C::LIST {
        return None;
    }
    let keys: Vec<i64> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    C::from_keys(&keys)
}

/// Profiles, in search rank then ID order (related profiles use rank 0).
impl Cursor for SearchCursor {
    const LIST: &'static str = "profile";
    fn keys(&self) -> Vec<i64> {
        vec![i64::from(self.tier), self.id]
    }
    fn from_keys(keys: &[i64]) -> Option<Self> {
        match *keys {
            [tier, id] => Some(SearchCursor {
                tier: u8::try_from(tier).ok().filter(|t| *t <= 3)?,
                id,
            }),
            _ => None,
        }
    }
}

/// A row of a list ordered by its ID alone.
macro_rules! id_cursor {
    ($(#[$doc:meta])* $name:ident, $list:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) struct $name(pub(crate) i64);

        impl Cursor for $name {
            const LIST: &'static str = $list;
            fn keys(&self) -> Vec<i64> {
                vec![self.0]
            }
            fn from_keys(keys: &[i64]) -> Option<Self> {
                match *keys {
                    [id] => Some($name(id)),
                    _ => None,
                }
            }
        }
    };
}

id_cursor!(
    /// A delivery of a mass communication, in queue order.
    DeliveryCursor,
    "delivery"
);
id_cursor!(
    /// An audit event, newest first.
    AuditCursor,
    "audit"
);
id_cursor!(
    /// A mass communication, newest first.
    MassCursor,
    "mass"
);
id_cursor!(
    /// An address on the suppression list, newest first.
    SuppressionCursor,
    "suppression"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_only_in_its_own_list() {
        let c = encode(&AuditCursor(42));
        assert_eq!(
            parse_after::<AuditCursor>(Some(&c)).unwrap(),
            Some(AuditCursor(42))
        );
        assert!(parse_after::<DeliveryCursor>(Some(&c)).is_err());
        assert!(parse_after::<SearchCursor>(Some(&c)).is_err());
        let p = encode(&SearchCursor { tier: 2, id: 7 });
        let back = parse_after::<SearchCursor>(Some(&p)).unwrap().unwrap();
        assert_eq!((back.tier, back.id), (2, 7));
    }

    #[test]
    fn anything_else_is_refused_and_empty_is_the_start() {
        assert_eq!(parse_after::<AuditCursor>(None).unwrap(), None);
        assert_eq!(parse_after::<AuditCursor>(Some("")).unwrap(), None);
        for bad in [
            "42",
            "d:42",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("v1:audit:x"),
        ] {
            assert!(parse_after::<AuditCursor>(Some(bad)).is_err(), "{bad}");
        }
        let wrong_tier = URL_SAFE_NO_PAD.encode("v1:profile:9:1");
        assert!(parse_after::<SearchCursor>(Some(&wrong_tier)).is_err());
    }
}

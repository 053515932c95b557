//! The OpenID Connect provider's vocabulary: a connected site's redirect addresses and the
//! scopes a site may ask for.

use std::fmt;

use chrono::{DateTime, Utc};

use super::{InvalidInput, MemberStatus};

/// A site of the association that signs members in through memberkey: an OpenID Connect
/// client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedSite {
    /// The public identifier the site sends as `client_id`.
    pub client_id: String,
    /// The name members see on the sign-in page ("Sign in to continue to …").
    pub name: String,
    /// Whether the site keeps a secret (a server); a public one (a browser or phone app)
    /// must prove itself with PKCE alone.
    pub confidential: bool,
    /// Where a sign-in may return to, exactly as registered.
    pub redirect_uris: Vec<RedirectUri>,
    /// Where signing out may return to, exactly as registered.
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The membership statuses this site admits; `None`: every status that may sign in.
    pub allowed_member_statuses: Option<Vec<MemberStatus>>,
    /// When staff registered it.
    pub created_at: DateTime<Utc>,
    /// When staff last changed it.
    pub updated_at: DateTime<Utc>,
}

impl ConnectedSite {
    /// Whether a member with `status` may use this site (the portal's own sign-in rule is
    /// checked separately).
    pub fn admits(&self, status: MemberStatus) -> bool {
        Self::admits_in(self.allowed_member_statuses.as_deref(), status)
    }

    /// The same rule on a site's allowed statuses alone (`None`: every status).
    pub fn admits_in(allowed: Option<&[MemberStatus]>, status: MemberStatus) -> bool {
        allowed.is_none_or(|allowed| allowed.contains(&status))
    }

    /// The registered redirect address equal to `raw`, byte for byte.
    pub fn redirect(&self, raw: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|r| r.as_str() == raw)
    }
}

/// A redirect address registered for a connected site. Matched against what a site sends
/// as an exact string: no prefix, no wildcard, no normalisation. Only `https`, except
/// `http://127.0.0.1`, `http://[::1]` and `http://localhost` for development; never a
/// fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Checks a redirect address as staff register it.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let raw = raw.trim();
        let url = url::Url::parse(raw)
            .map_err(|e| InvalidInput::new(format!("{raw:?} is not an address: {e}")))?;
        if url.fragment().is_some() {
            return Err(InvalidInput::new(format!(
                "{raw:?} has a #fragment, which a redirect may not carry"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidInput::new(format!(
                "{raw:?} carries a user name, which a redirect may not carry"
            )));
        }
        let local = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        match url.scheme() {
            "https" if url.host_str().is_some() => Ok(Self(raw.to_owned())),
            "http" if local => Ok(Self(raw.to_owned())),
            "http" => Err(InvalidInput::new(format!(
                "{raw:?} is plain http: a site's address must be https (http only for 127.0.0.1 or localhost)"
            ))),
            _ => Err(InvalidInput::new(format!(
                "{raw:?} must start with https://"
            ))),
        }
    }

    /// The address as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One scope a site may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Required: the request is an OpenID Connect sign-in.
    OpenId,
    /// `name`, `given_name`, `family_name`, `preferred_username`.
    Profile,
    /// `email`, `email_verified`.
    Email,
    /// `member_status` and `organization` (the parent organisation's name).
    Membership,
    /// A refresh token (issued in any case; accepted so sites that ask are not refused).
    OfflineAccess,
}

impl Scope {
    /// Every scope, as published in the discovery document.
    pub const ALL: [Scope; 5] = [
        Scope::OpenId,
        Scope::Profile,
        Scope::Email,
        Scope::Membership,
        Scope::OfflineAccess,
    ];

    /// The scope's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::Membership => "membership",
            Scope::OfflineAccess => "offline_access",
        }
    }
}

/// The scopes granted: those asked for that the provider knows. Unknown ones are left out,
/// as OpenID Connect Core allows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// The known scopes in a space-separated `scope` parameter; `None` without `openid`.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut found: Vec<Scope> = raw
            .split(' ')
            .filter_map(|s| Scope::ALL.into_iter().find(|k| k.as_str() == s))
            .collect();
        found.sort();
        found.dedup();
        found.contains(&Scope::OpenId).then_some(Self(found))
    }

    /// Whether `scope` was granted.
    pub fn has(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_addresses_are_https_or_local() {
        for good in [
            "https://www.example.org/wp-admin/admin-ajax.php?action=openid-connect-authorize",
            "https://forum.example.org/auth/oidc/callback",
            "http://127.0.0.1:9000/callback",
            "http://localhost/cb",
        ] {
            assert_eq!(RedirectUri::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "http://forum.example.org/cb",
            "https://forum.example.org/cb#frag",
            "https://good@evil.example/cb",
            "javascript:alert(1)",
            "ftp://example.org/",
            "/relative",
            "http://127.0.0.1.evil.example/cb",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_need_openid_and_drop_unknown_ones() {
        assert!(Scopes::parse("profile email").is_none());
        let s = Scopes::parse("email openid openid unknown membership").unwrap();
        assert_eq!(s.to_string(), "openid email membership");
        assert!(s.has(Scope::Membership) && !s.has(Scope::Profile));
    }
}
